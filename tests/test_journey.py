"""A reader's evening: jump anywhere, continue where they stopped, read privately,
press someone else's buttons, find a story despite a typo."""

from __future__ import annotations

import dataclasses

import pytest

from bot.parsing import parse_story
from bot.story import Rating, RatingLevel
from tests.conftest import corpus_file
from tests.support import make_story, outside_spoiler, query, restart, shelve, spoiler_text


def _stored_components(env, message) -> list[dict]:
    return env.backend.get_message(message.channel.id, message.id).components


def _menu_options(env, message) -> list[dict]:
    options = []
    for row in _stored_components(env, message):
        for component in row.get("components", []):
            options.extend(component.get("options") or [])
    return options


async def choose(env, actor, message, label: str):
    """Pick the menu option whose label starts with `label`, as a reader would."""
    options = _menu_options(env, message)
    matching = [o for o in options if o["label"].startswith(label)]
    assert matching, f"no option {label!r} in {[o['label'] for o in options]}"
    return await actor.select(message, [matching[0]["value"]])


def _general(story):
    return dataclasses.replace(story, rating=Rating("General", RatingLevel.GENERAL))


@pytest.fixture
def les_miserables(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    path = corpus_file("les_miserables.txt")
    story = _general(parse_story(path.read_bytes(), path.name))
    stored = shelve(settings, guild.id, story)
    assert stored.sections >= 200
    return story


async def test_section_200_of_a_long_novel_in_at_most_three_choices(reading_world, les_miserables):
    env, guild, general, lounge, reader = reading_world
    first = await reader.slash(general, "read", title=les_miserables.title)
    post = first.response.message

    choices = 0
    while not any(o["label"].startswith("200 ·") for o in _menu_options(env, post)):
        holding = next(
            o
            for o in _menu_options(env, post)
            if o["value"].startswith("r:")
            and int(o["value"].split(":")[1]) <= 200 <= int(o["value"].split(":")[2])
        )
        await reader.select(post, [holding["value"]])
        choices += 1
        assert choices < 3
    await choose(env, reader, post, "200 ·")
    choices += 1

    assert choices <= 3
    shown = general.last_message.content
    assert "Section 200/" in outside_spoiler(shown)
    assert spoiler_text(shown).strip()


async def test_continue_after_sections_one_to_three_also_after_a_restart(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    long_text = "\n\n".join(f"Paragraph {n}. " + "Words go by. " * 60 for n in range(30))
    shelve(
        settings,
        guild.id,
        make_story(
            "Three Doors",
            sections=[("One", long_text), ("Two", long_text), ("Three", long_text)],
        ),
    )
    post = (await reader.slash(general, "read", title="Three Doors")).response.message
    await reader.click(post, label="Next section ⏭")
    second = general.last_message
    await reader.click(second, label="Next section ⏭")
    third = general.last_message
    await reader.click(third, label="Next page ▶")
    page_two = spoiler_text(general.last_message.content)

    again = await reader.slash(general, "continue")
    content = again.response.content
    assert "Section 3/3" in outside_spoiler(content) and "Page 2/" in outside_spoiler(content)
    assert spoiler_text(content) == page_two

    await restart(env, settings)
    after = await reader.slash(general, "continue", title="Three Doors")
    assert "Section 3/3" in outside_spoiler(after.response.content)
    assert "Page 2/" in outside_spoiler(after.response.content)

    listed = await reader.slash(general, "progress list")
    assert "section 3 of 3 · 100%" in listed.response.embeds[0].description


async def test_another_members_press_gives_a_private_copy_and_leaves_the_post(
    reading_world, settings
):
    env, guild, general, lounge, reader = reading_world
    other = guild.add_member(env.create_user("other"))
    long_text = "\n\n".join(f"Paragraph {n}. " + "Words go by. " * 60 for n in range(30))
    shelve(settings, guild.id, make_story("Shared", sections=[("One", long_text), ("Two", "x")]))
    post = (await reader.slash(general, "read", title="Shared")).response.message
    before = general.last_message.content

    pressed = await other.click(post, label="Next page ▶")

    assert pressed.ephemeral
    assert "Page 2/" in outside_spoiler(pressed.response.content)
    assert env.backend.get_message(general.id, post.id).content == before
    # The owner still turns their own post.
    await reader.click(post, label="Next page ▶")
    assert "Page 2/" in env.backend.get_message(general.id, post.id).content


async def test_private_reading_posts_nothing_public_but_remembers(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Quiet"))

    result = await reader.slash(general, "read", title="Quiet", private=True)

    assert result.ephemeral
    assert "The kettle sang" in spoiler_text(result.response.content)
    assert general.last_message is None
    assert query(settings, "SELECT count(*) FROM excerpt_posts") == [(0,)]
    await env.bot.progress.flush()
    assert query(settings, "SELECT section_position FROM reading_progress") == [(1,)]


async def test_progress_forget_leaves_no_rows(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Tea at Five"))
    await reader.slash(general, "read", title="Tea at Five")
    await env.bot.progress.flush()
    assert query(settings, "SELECT count(*) FROM reading_progress") == [(1,)]

    result = await reader.slash(general, "progress forget")

    assert result.ephemeral and "Erased" in result.response.content
    await env.bot.progress.flush()
    assert query(settings, "SELECT count(*) FROM reading_progress") == [(0,)]


async def test_removing_a_story_removes_its_progress(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Gone Soon"))
    await reader.slash(general, "read", title="Gone Soon")
    await env.bot.progress.flush()
    conn_rows = query(settings, "SELECT count(*) FROM reading_progress")
    assert conn_rows == [(1,)]

    await env.bot.librarian.remove(guild.id, 1, reader.id)

    assert query(settings, "SELECT count(*) FROM reading_progress") == [(0,)]


async def test_a_typo_offers_the_closest_titles(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Alice's Adventures in Wonderland"))
    shelve(settings, guild.id, make_story("Tea at Five"))

    result = await reader.slash(general, "read", title="Alice in Wonderlnd")

    assert result.ephemeral
    labels = [c["label"] for row in result.response.components for c in row.get("components", [])]
    assert "Alice's Adventures in Wonderland" in labels
    assert "Tea at Five" not in labels
    card = await reader.click(result.response.message, label="Alice's Adventures in Wonderland")
    assert card.ephemeral
    assert card.response.embeds[0].title == "Alice's Adventures in Wonderland"


async def test_a_gated_title_says_where_it_can_be_read(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Late Night", level=RatingLevel.EXPLICIT))

    result = await reader.slash(general, "read", title="Late Night")

    assert result.ephemeral
    assert lounge.mention in result.response.content


async def test_section_autocomplete_matches_words_anywhere_in_a_long_story(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    sections = [(f"Chapter {n}", f"Text {n}.") for n in range(1, 300)]
    sections[249] = ("The barricade at night", "Text 250.")
    shelve(settings, guild.id, make_story("Long", sections=sections))

    by_words = await reader.autocomplete(general, "read", "section", "barricade", title="Long")
    by_number = await reader.autocomplete(general, "read", "section", "250", title="Long")

    assert [c["value"] for c in by_words] == [250]
    assert by_number[0]["value"] == 250


async def test_chapter_notes_come_first_inside_the_spoiler(reading_world, settings):
    from bot.story import ParsedStory, Section

    env, guild, general, lounge, reader = reading_world
    story = ParsedStory(
        title="Noted",
        author="A",
        rating=Rating("General", RatingLevel.GENERAL),
        sections=(Section("One", "The chapter itself.", "Summary: Who meets whom."),),
    )
    stored = shelve(settings, guild.id, story)
    assert stored.words == 3  # notes are not the chapter's words

    content = (await reader.slash(general, "read", title="Noted")).response.content

    inside = spoiler_text(content)
    assert inside.index("Who meets whom") < inside.index("The chapter itself.")
    assert "Who meets whom" not in outside_spoiler(content)


async def test_the_card_starts_and_continues_reading(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    long_text = "\n\n".join(f"Paragraph {n}. " + "Words go by. " * 60 for n in range(30))
    shelve(
        settings,
        guild.id,
        make_story("Two Rooms", sections=[("First room", long_text), ("Second room", "Bye.")]),
    )
    card = (await reader.slash(general, "story", title="Two Rooms")).response.message

    started = await reader.click(card, label="Start reading")
    assert "Section 1/2" in outside_spoiler(started.response.content)
    await reader.click(started.response.message, label="Next page ▶")

    continued = await reader.click(card, label="Continue")
    assert "Section 1/2" in outside_spoiler(continued.response.content)
    assert "Page 2/" in outside_spoiler(continued.response.content)

    await choose(env, reader, card, "2 ·")
    assert "Section 2/2" in outside_spoiler(general.last_message.content)


async def test_continue_without_history_says_how_to_start(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Tea at Five"))

    result = await reader.slash(general, "continue")

    assert result.ephemeral
    assert "/read" in result.response.content


async def test_summaries_and_snippets_show_the_storys_own_emphasis(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(
        settings,
        guild.id,
        make_story(
            "Stubborn",
            label="Mature",
            level=RatingLevel.GENERAL,
            metadata={"summary": "She *refuses*, and _he_ waits. ||No spoilers|| here."},
            sections=[("One", "She *refuses* the kettle, and _he_ waits by the door.")],
        ),
    )

    card = await reader.slash(general, "story", title="Stubborn")
    summary = card.response.embeds[0].description
    assert "*refuses*" in summary and "\\*refuses" not in summary
    assert "\\|\\|No spoilers\\|\\|" in summary  # bars still cannot make a spoiler
    assert "General (Mature)" in str(card.response.embeds[0].to_dict())

    found = await reader.slash(general, "search", query="kettle")
    snippet = found.response.content
    assert "refuses" in snippet and "\\*refuses" not in snippet and "*refuses*" not in snippet
