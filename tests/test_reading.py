"""Readers read: /read, its buttons, rating gates, mentions, isolation, errors."""

from __future__ import annotations

from bot.db.guild_settings import DEFAULT_FEEDBACK_EMOJI
from bot.story import RatingLevel
from tests.conftest import corpus_file
from tests.support import (
    execute,
    make_story,
    outside_spoiler,
    query,
    restart,
    set_nsfw,
    shelve,
    spoiler_text,
)

SAMPLE_TITLE = "A Week in the Life"


def _posts(settings) -> list[tuple]:
    return query(settings, "SELECT message_id, story_id, section_position FROM excerpt_posts")


async def test_read_posts_section_one_behind_spoiler_in_age_restricted_channel(
    reading_world, settings
):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, corpus_file("a_week_in_the_life.txt"))

    result = await reader.slash(lounge, "read", title=SAMPLE_TITLE)

    message = result.response
    assert not message.ephemeral
    content = message.content
    story_text = spoiler_text(content)
    assert story_text.lstrip().startswith("On Monday, there was a single kiss.")
    header = outside_spoiler(content)
    assert SAMPLE_TITLE in header
    assert "Mature" in header and "R (language)" in header
    assert "Torchwood" not in header  # story text stays inside the spoiler
    assert len(content) <= 2000
    # Feedback emoji were added, and the post was recorded for section 1.
    assert [r.emoji for r in message.message.reactions] == list(DEFAULT_FEEDBACK_EMOJI)
    assert _posts(settings) == [(message.id, 1, 1)]


async def test_mature_story_refused_in_ordinary_channel_until_server_allows_mature(
    reading_world, settings
):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, corpus_file("a_week_in_the_life.txt"))

    refused = await reader.slash(general, "read", title=SAMPLE_TITLE)

    assert refused.ephemeral
    text = refused.response.content
    assert "Mature" in text and "age-restricted" in text
    assert lounge.mention in text  # says where it can be read
    assert general.last_message is None
    assert _posts(settings) == []

    await env.bot.guild_settings.update(guild.id, max_rating=RatingLevel.MATURE)
    allowed = await reader.slash(general, "read", title=SAMPLE_TITLE)

    assert not allowed.ephemeral
    assert spoiler_text(allowed.response.content).lstrip().startswith("On Monday")


async def test_explicit_never_posted_outside_age_restricted_even_when_mature_allowed(
    reading_world, settings
):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Hot", level=RatingLevel.EXPLICIT, label="NC-17"))
    shelve(settings, guild.id, make_story("Unknown", level=RatingLevel.NOT_RATED))
    await env.bot.guild_settings.update(guild.id, max_rating=RatingLevel.MATURE)

    for title in ("Hot", "Unknown"):
        result = await reader.slash(general, "read", title=title)
        assert result.ephemeral
        assert "only posted in age-restricted channels" in result.response.content
    assert general.last_message is None
    ok = await reader.slash(lounge, "read", title="Hot")
    assert not ok.ephemeral


def _long_story(title: str = "Long Road"):
    paragraph = "The road went on and on, past fields and towns and rivers. " * 12
    body = "\n\n".join(f"{n}. {paragraph.strip()}" for n in range(1, 13))
    return make_story(
        title,
        sections=[
            ("The start", body),
            ("The middle", "Halfway there.\n\nStill walking."),
            ("The end", "Home at last."),
        ],
    )


async def test_page_and_section_buttons_work_and_survive_restart(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, _long_story())

    first = await reader.slash(general, "read", title="Long Road")
    message = first.response.message
    assert "Page 1/" in outside_spoiler(first.response.content)
    page_one = spoiler_text(first.response.content)

    await reader.click(message, label="Next page ▶")
    message = general.last_message
    assert "Page 2/" in outside_spoiler(message.content)
    page_two = spoiler_text(message.content)
    assert page_two != page_one
    assert message.id == first.response.id  # paging edits in place

    await restart(env, settings)

    await reader.click(general.last_message, label="◀ Previous page")
    assert spoiler_text(general.last_message.content) == page_one

    await reader.click(general.last_message, label="Next section ⏭")
    newest = general.last_message
    assert newest.id != first.response.id  # the next section is a new message
    assert "Section 2/3" in outside_spoiler(newest.content)
    assert "Halfway there." in spoiler_text(newest.content)
    assert [row[2] for row in _posts(settings)] == [1, 2]


async def test_mentions_in_a_story_ping_nobody(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(
        settings,
        guild.id,
        make_story(
            "Shouting", sections=[("Loud", f"@everyone look! <@{reader.id}> and @here too.")]
        ),
    )

    result = await reader.slash(general, "read", title="Shouting")

    posts = [
        entry
        for entry in env.http_requests
        if entry.method == "POST" and entry.path.startswith("/interactions/")
    ]
    assert posts, "the post went out as an interaction response"
    payload = posts[-1].json
    data = payload.get("data", payload)
    assert data["allowed_mentions"] == {"parse": []} or data["allowed_mentions"].get("parse") == []
    assert not data["allowed_mentions"].get("users")
    assert not data["allowed_mentions"].get("roles")
    content = result.response.content
    assert "@everyone" not in content and f"<@{reader.id}>" not in content
    assert result.response.message.mentions == []
    assert not result.response.message.mention_everyone


async def test_unknown_title_section_or_page_is_a_clear_private_message(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story())

    unknown = await reader.slash(general, "read", title="Nope")
    assert unknown.ephemeral and "no story called “Nope”" in unknown.response.content

    section = await reader.slash(general, "read", title="Tea at Five", section=9)
    assert section.ephemeral and "there is no section 9" in section.response.content

    page = await reader.slash(general, "read", title="Tea at Five", page=4)
    assert page.ephemeral and "there is no page 4" in page.response.content

    assert general.last_message is None
    assert _posts(settings) == []


async def test_button_for_removed_story_answers_politely(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    stored = shelve(settings, guild.id, _long_story())
    await reader.slash(general, "read", title="Long Road")
    conn_rows = query(settings, "SELECT id FROM stories")
    assert conn_rows == [(stored.id,)]
    execute(settings, "DELETE FROM stories WHERE id = ?", stored.id)

    result = await reader.click(general.last_message, label="Next page ▶")

    assert result.ephemeral
    assert "no longer on this server's shelf" in result.response.content


async def test_title_autocomplete_matches_prefix_and_words_and_respects_the_gate(
    reading_world, settings
):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("The Long Winter"))
    shelve(settings, guild.id, make_story("Winter Tales"))
    shelve(settings, guild.id, make_story("Winter Heat", level=RatingLevel.EXPLICIT))
    shelve(settings, guild.id, make_story("Summer"))

    choices = await reader.autocomplete(general, "read", "title", "wint")
    names = [c["name"] for c in choices]
    assert names == ["Winter Tales", "The Long Winter"]  # prefix first, then word matches

    nsfw = await reader.autocomplete(lounge, "read", "title", "wint")
    assert {c["name"] for c in nsfw} == {"Winter Tales", "Winter Heat", "The Long Winter"}


async def test_section_autocomplete_lists_numbered_sections(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, corpus_file("a_week_in_the_life.txt"))
    set_nsfw(env, general)

    choices = await reader.autocomplete(general, "read", "section", "", title=SAMPLE_TITLE)

    assert len(choices) == 7
    assert choices[0]["value"] == 1
    assert choices[2]["name"].startswith("3 · On Wednesday, they were almost caught")
    assert all(len(c["name"]) <= 100 for c in choices)
