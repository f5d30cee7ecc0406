"""/stories, /story, /excerpt and /search as a reader sees them; shelves stay per server."""

from __future__ import annotations

import pytest

from bot.story import RatingLevel
from tests.conftest import corpus_file
from tests.support import make_story, outside_spoiler, query, shelve, spoiler_text

SAMPLE_TITLE = "A Week in the Life"


async def test_stories_lists_the_shelf_and_marks_what_cannot_be_read_here(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Apple Pie"))
    shelve(settings, guild.id, make_story("Burning", level=RatingLevel.EXPLICIT, label="E"))

    result = await reader.slash(general, "stories")

    embed = result.response.embeds[0]
    lines = embed.description.splitlines()
    assert lines[0].startswith("**Apple Pie** by Tester · General · 2 sections")
    assert "age-restricted channels only" not in lines[0]
    assert lines[1].startswith("**Burning**") and "age-restricted channels only" in lines[1]


async def test_stories_pages_with_buttons(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    for n in range(23):
        shelve(settings, guild.id, make_story(f"Story {n:02d}"))

    result = await reader.slash(general, "stories")
    first = result.response.embeds[0].description
    assert "Story 00" in first and "Story 10" not in first

    await reader.click(result.response.message, label="Next ▶")
    second = general.last_message.embeds[0].description
    assert "Story 10" in second and "Story 00" not in second
    assert "page 2/3" in general.last_message.embeds[0].footer.text


async def test_stories_query_and_rating_filter(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Winter Tales"))
    shelve(settings, guild.id, make_story("Summer Song", level=RatingLevel.TEEN))

    by_word = await reader.slash(general, "stories", query="winter")
    assert "Winter Tales" in by_word.response.embeds[0].description
    assert "Summer" not in by_word.response.embeds[0].description

    by_rating = await reader.slash(general, "stories", rating="teen")
    assert "Summer Song" in by_rating.response.embeds[0].description
    assert "Winter" not in by_rating.response.embeds[0].description


async def test_story_card_shows_metadata_sections_and_feedback(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, corpus_file("a_week_in_the_life.txt"))

    result = await reader.slash(lounge, "story", title=SAMPLE_TITLE)

    embed = result.response.embeds[0]
    fields = {f.name: f.value for f in embed.fields}
    assert embed.title == SAMPLE_TITLE
    assert "Six days in the relationship" in embed.description
    assert fields["Rating"] == "Mature (R (language))"
    assert "Jack/Ianto" in fields["Pairing"]
    assert "Don’t own" in fields["Disclaimer"]
    assert fields["Sections"].splitlines()[0].startswith("1. On Monday, there was a single kiss.")
    assert len(fields["Sections"].splitlines()) == 7
    assert "No reactions yet" in fields["Feedback"]


async def test_excerpt_posts_a_short_spoilered_passage_with_read_button(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, corpus_file("a_week_in_the_life.txt"))
    shelve(settings, guild.id, make_story("Gentle", sections=[("One", "A soft morning.")]))

    result = await reader.slash(general, "excerpt")  # only Gentle is allowed here

    content = result.response.content
    assert spoiler_text(content).strip() == "A soft morning."
    assert "Gentle" in outside_spoiler(content)
    await reader.click(result.response.message, label="Read the whole section")
    assert "Section 1/1" in outside_spoiler(general.last_message.content)

    mature = await reader.slash(lounge, "excerpt", title=SAMPLE_TITLE)
    passage = spoiler_text(mature.response.content)
    assert 0 < len(passage) <= 1100
    posts = query(settings, "SELECT count(*) FROM excerpt_posts")
    assert posts == [(3,)]


async def test_excerpt_with_nothing_allowed_here_says_so(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Hot", level=RatingLevel.EXPLICIT))

    result = await reader.slash(general, "excerpt")

    assert result.ephemeral
    assert "can be posted in this channel" in result.response.content


async def test_search_finds_myfanwy_in_the_monday_section(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, corpus_file("a_week_in_the_life.txt"))

    result = await reader.slash(lounge, "search", query="Myfanwy")

    assert result.ephemeral
    content = result.response.content
    assert "1 · On Monday, there was a single kiss." in content
    assert "||" in content and "Myfanwy" in spoiler_text(content)
    await reader.click(result.response.message, label="Read 1")
    assert spoiler_text(lounge.last_message.content).lstrip().startswith("On Monday")


@pytest.mark.parametrize(
    "text",
    ['"', '"unbalanced', "*", "NEAR(", "a -b", "(", ")", "AND", "OR NOT", "^", "col:x", "'", "+-"],
)
async def test_search_with_fts_syntax_never_errors(reading_world, settings, text):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story(sections=[("One", "Tea AND biscuits, near the door.")]))

    result = await reader.slash(general, "search", query=text)

    assert result.ephemeral
    content = result.response.content
    assert (
        "Nothing found" in content or "Search for at least one word" in content or "||" in content
    )
    assert "went wrong" not in content


async def test_a_second_server_sees_nothing_of_the_first(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Secret Garden"))
    other = env.create_guild(name="Other")
    elsewhere = other.create_text_channel("general")
    stranger = other.add_member(env.create_user("stranger"))

    assert await stranger.autocomplete(elsewhere, "read", "title", "sec") == []
    shelf = await stranger.slash(elsewhere, "stories")
    assert "Secret Garden" not in (shelf.response.embeds[0].description or "")
    for command in ("story", "read"):
        result = await stranger.slash(elsewhere, command, title="Secret Garden")
        assert result.ephemeral and "no story called" in result.response.content
    search = await stranger.slash(elsewhere, "search", query="kettle")
    assert "Nothing found" in search.response.content
    excerpt = await stranger.slash(elsewhere, "excerpt")
    assert excerpt.ephemeral
    posted = [m.content for m in elsewhere.history()]
    assert not any("||" in content or "Secret Garden" in content for content in posted)
    assert query(settings, "SELECT count(*) FROM excerpt_posts") == [(0,)]


async def test_private_results_leave_no_timers_and_their_buttons_keep_working(
    reading_world, settings
):
    """Search results are private replies; their Read buttons are answered by custom id,
    so nothing waits behind each reply (discord.py would give every private reply's
    view a 15-minute timer task), and a button still works after those 15 minutes."""
    import asyncio

    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, corpus_file("a_week_in_the_life.txt"))
    before = len(asyncio.all_tasks())

    results = []
    for _ in range(4):
        results.append(await reader.slash(lounge, "search", query="Myfanwy"))
        await env.advance_time(3)

    assert all("Myfanwy" in spoiler_text(r.response.content) for r in results)
    assert len(asyncio.all_tasks()) <= before
    await env.advance_time(20 * 60)
    await reader.click(results[0].response.message, label="Read 1")
    assert spoiler_text(lounge.last_message.content).lstrip().startswith("On Monday")
