"""Trust under attack: spoilers, the rating gate, server boundaries, forged ids, bad input.

Each test is an attack a hostile member (or an unlucky file) can make through the
real bot; it asserts what the user sees and what is stored.
"""

from __future__ import annotations

import re

import pytest

from bot.story import ParsedStory, Rating, RatingLevel, Section
from tests.support import execute, make_story, outside_spoiler, query, shelve

SPOILER_PAIR = re.compile(r"(?<!\\)\|\|")
# Emphasis marks, links and mentions that would format or ping if not escaped.
LIVE_MASKED_LINK = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(")
LIVE_MENTION = re.compile(r"@(everyone|here)|<@&?\d+>")


def forge(env, message, label: str, custom_id: str) -> None:
    """Rewrite a button's custom id on a stored message, as a modified client could send."""
    stored = env.backend.get_message(message.channel.id, message.id)
    for row in stored.components:
        for component in row.get("components", []):
            if component.get("label") == label:
                component["custom_id"] = custom_id
                return
    raise AssertionError(f"no button {label!r}")


def unescaped_bars(text: str) -> int:
    return len(SPOILER_PAIR.findall(text))


def _hostile_sections(count: int = 5) -> list[tuple[str, str]]:
    # Untitled sections are named by their first sentence; these carry markup.
    return [
        (
            f"||leak {n}|| [click](https://evil.example) **bold** @everyone <@123> `code`",
            f"The needle {n} is here. " + "Filler words go on. " * 40,
        )
        for n in range(count)
    ]


async def test_search_results_never_cut_inside_a_spoiler(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    for n in range(5):
        shelve(
            settings,
            guild.id,
            make_story(
                f"A very long title number {n} " + "that goes on and on " * 3,
                sections=_hostile_sections(1),
            ),
        )

    result = await reader.slash(general, "search", query="needle")

    content = result.response.content
    assert len(content) <= 2000
    assert unescaped_bars(content) % 2 == 0
    for line in outside_spoiler(content).splitlines():
        assert not LIVE_MASKED_LINK.search(line)
        assert not LIVE_MENTION.search(line)
    # Every hit shown has its read button, and only those.
    buttons = [c["label"] for row in result.response.components for c in row.get("components", [])]
    shown = len(re.findall(r"\*\*\d+\.\*\*", content))
    assert buttons == [f"Read {n}" for n in range(1, shown + 1)]


async def test_feedback_of_explicit_story_is_refused_in_an_ordinary_channel(
    reading_world, settings
):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("After Hours", level=RatingLevel.EXPLICIT))

    refused = await reader.slash(general, "feedback", title="After Hours")
    assert refused.ephemeral
    assert "age-restricted" in refused.response.content
    assert general.last_message is None

    choices = await reader.autocomplete(general, "feedback", "title", "After")
    assert choices == []
    sections = await reader.autocomplete(general, "read", "section", "", title="After Hours")
    assert sections == []


async def test_card_of_gated_story_shows_no_summary_or_sections(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(
        settings,
        guild.id,
        make_story(
            "After Hours",
            level=RatingLevel.EXPLICIT,
            metadata={"summary": "SECRET SUMMARY"},
            sections=[("Secret first sentence", "Secret text.")],
        ),
    )

    card = await reader.slash(general, "story", title="After Hours")

    assert card.ephemeral
    embed = card.response.embeds[0]
    shown = str(embed.to_dict())
    assert "SECRET" not in shown and "Secret" not in shown
    assert "age-restricted" in shown


async def test_commands_are_server_only_at_sync_level(simcord_env):
    env = simcord_env
    synced = [r for r in env.http_requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert synced
    for command in synced[-1].json:
        assert command.get("contexts") == [0], command["name"]


async def test_story_ids_are_never_reused_so_old_buttons_do_not_open_new_stories(
    reading_world, settings
):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("First"))
    doomed = shelve(settings, guild.id, make_story("Doomed"))
    posted = await reader.slash(general, "read", title="Doomed")
    execute(settings, "DELETE FROM stories WHERE id = ?", doomed.id)

    newer = shelve(settings, guild.id, make_story("Newer"))
    assert newer.id > doomed.id

    pressed = await reader.click(posted.response.message, label="Next section ⏭")
    assert pressed.ephemeral
    assert "no longer on this server's shelf" in pressed.response.content
    assert "Newer" not in str(pressed.response.content)


@pytest.mark.parametrize(
    "custom_id",
    [
        "storyshelf:section:99999999999999999999:1",
        "storyshelf:section:9223372036854775808:1",
        "storyshelf:page:0:1:1",
        "storyshelf:shelf:0:zz:",
    ],
)
async def test_forged_button_ids_get_a_polite_answer(reading_world, settings, custom_id):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Tea at Five"))
    posted = await reader.slash(general, "read", title="Tea at Five")
    forge(env, posted.response.message, "Next section ⏭", custom_id)

    pressed = await reader.click(posted.response.message, label="Next section ⏭")

    assert pressed.ephemeral
    text = pressed.response.content
    assert "went wrong" not in text
    assert "no longer" in text or "not one of" in text


async def test_a_button_of_another_server_opens_nothing(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    other_guild = env.create_guild(name="Elsewhere")
    elsewhere = other_guild.create_text_channel("general")
    other_reader = other_guild.add_member(env.create_user("stranger"))
    secret = shelve(settings, guild.id, make_story("Home Only"))
    shelve(settings, other_guild.id, make_story("Theirs"))
    posted = await other_reader.slash(elsewhere, "read", title="Theirs")
    forge(env, posted.response.message, "Next section ⏭", f"storyshelf:section:{secret.id}:1")

    pressed = await other_reader.click(posted.response.message, label="Next section ⏭")

    assert pressed.ephemeral
    assert "no longer on this server's shelf" in pressed.response.content


async def test_a_title_is_always_a_title(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Tea at Five"))
    shelve(settings, guild.id, make_story("#1", sections=[("Hash", "A story named hash one.")]))

    by_title = await reader.slash(general, "read", title="#1")
    assert "A story named hash one." in by_title.response.content

    huge = await reader.slash(general, "read", title="#9999999999999999999999")
    assert huge.ephemeral
    assert "no story called" in huge.response.content


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Cafe\u0301 Nights", "Café Nights"),
        ("Tea at Five", "Tea\u200b at Five"),
        ("Tea at Five", "Ｔｅａ ａｔ Ｆｉｖｅ"),
    ],
)
async def test_look_alike_titles_are_the_same_title(reading_world, settings, stored, typed):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story(stored))

    found = await reader.slash(general, "read", title=typed)
    assert not found.ephemeral

    with pytest.raises(ValueError, match="already on this server's shelf"):
        shelve(settings, guild.id, make_story(typed))


async def test_huge_rating_label_and_fields_stay_within_discord_limits(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    label = "R " + "(very long reason) " * 160
    big = "x" * 5000
    shelve(
        settings,
        guild.id,
        ParsedStory(
            title="T" * 200,
            author="A" * 200,
            rating=Rating(label, RatingLevel.MATURE),
            sections=tuple(Section("S" * 200, "Text.") for _ in range(60)),
            metadata={k: big for k in ("summary", "fandom", "warnings", "tags", "notes")},
        ),
    )

    refused = await reader.slash(general, "read", title="T" * 200)
    assert refused.ephemeral and len(refused.response.content) <= 2000
    card = await reader.slash(lounge, "story", title="T" * 200)
    assert len(card.response.embeds[0]) <= 6000
    shelf_list = await reader.slash(general, "stories")
    assert len(shelf_list.response.embeds[0]) <= 6000
    read = await reader.slash(lounge, "read", title="T" * 200)
    assert len(read.response.content) <= 2000


async def test_unknown_title_echo_pings_nobody_and_shows_no_raw_mention(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    result = await reader.slash(general, "read", title="@everyone <@&42> ||x||")
    text = result.response.content
    assert result.ephemeral
    assert not LIVE_MENTION.search(text)
    assert unescaped_bars(text) == 0
    rows = query(settings, "SELECT count(*) FROM excerpt_posts")
    assert rows == [(0,)]


CALLBACK = "/interactions/*/*/callback"


@pytest.mark.discord_faults
@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (503, 0, "Discord had a problem"),
        (403, 50013, "missing the"),
    ],
)
async def test_a_failed_page_turn_explains_and_leaves_the_post(
    reading_world, settings, status, code, expected
):
    env, guild, general, lounge, reader = reading_world
    long_text = "\n\n".join(f"Paragraph {n}. " + "Words go by. " * 60 for n in range(20))
    shelve(settings, guild.id, make_story("Paged", sections=[("One", long_text)]))
    post = (await reader.slash(general, "read", title="Paged")).response.message
    before = env.backend.get_message(general.id, post.id).content
    env.inject_error("POST", CALLBACK, status=status, code=code, message="nope")

    pressed = await reader.click(post, label="Next page ▶")

    reply = pressed.followups[-1] if pressed.followups else pressed.response
    assert expected in reply.content
    assert "page was not turned" in reply.content
    assert "went wrong on our side" not in reply.content
    assert env.backend.get_message(general.id, post.id).content == before


def _library_world(env):
    import discord

    guild = env.create_guild(name="Book Club")
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_messages=True))
    channel = guild.create_text_channel("general")
    mod = guild.add_member(env.create_user("mod"), roles=[mods])
    return guild, channel, mod


@pytest.mark.sqlite_only  # SQLite's full-disk error
async def test_a_full_disk_during_an_upload_says_so_and_stores_nothing(
    simcord_env, settings, monkeypatch
):
    from bot.services import librarian as librarian_module

    env = simcord_env
    guild, channel, mod = _library_world(env)
    real_connect = librarian_module.connect_sync

    def tiny_disk(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        # SQLite reports SQLITE_FULL when a database may not grow any further.
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(librarian_module, "connect_sync", tiny_disk)
    body = "\n\n".join("A sentence that fills the page. " * 40 for _ in range(200))
    upload = ("big.txt", f"Title: Big\nRating: General\n\n{body}".encode())
    preview = (await mod.slash(channel, "library add", file=upload)).response

    confirmed = await mod.click(preview.message, label="Confirm")

    reply = confirmed.followups[-1] if confirmed.followups else confirmed.response
    assert "disk is full" in reply.content
    assert "Nothing was stored" in reply.content
    assert query(settings, "SELECT count(*) FROM stories") == [(0,)]


async def test_upload_without_a_rating_lets_the_moderator_pick_one(simcord_env, settings):
    env = simcord_env
    guild, channel, mod = _library_world(env)
    upload = ("plain.txt", b"Title: Plain\n\nOnce upon a time.\n\n\nThe end came.")
    preview = (await mod.slash(channel, "library add", file=upload)).response
    assert "Not Rated" in str(preview.embeds[0].to_dict())

    await mod.select(preview.message, ["teen"])
    await mod.click(preview.message, label="Confirm")

    assert query(settings, "SELECT rating_level FROM stories") == [("teen",)]


async def test_export_then_import_gives_back_exactly_the_story(simcord_env, settings):
    from bot.parsing import parse_story

    env = simcord_env
    guild, channel, mod = _library_world(env)
    tricky = make_story(
        "Tricky: A Story",
        level=RatingLevel.MATURE,
        label="R (language)",
        metadata={"summary": "Line one.\n\nLine two.", "fandom": "Originals", "odd:key": "v"},
        sections=[
            ("Prologue", "Prologue\n\nChapter 7\n\nTitle: not a header\n\n*** START OF x"),
            ("Chapter 7", "§§ Text\n\\§§ looks like a delimiter\n\n* * *\n\nAfter the break."),
            ("", "An untitled section."),
        ],
    )
    shelve(settings, guild.id, tricky)

    exported = await mod.slash(channel, "library export", title="Tricky: A Story")
    attachment = exported.response.attachments[0]
    data = await attachment.read()
    back = parse_story(data, attachment.filename)

    assert back.title == tricky.title
    assert back.author == tricky.author
    assert back.rating == tricky.rating
    assert back.metadata == tricky.metadata
    assert [(s.title, s.text) for s in back.sections] == [
        (s.title, s.text) for s in tricky.sections
    ]


async def test_moderator_notes_show_in_help_and_ping_nobody(simcord_env, settings):
    env = simcord_env
    guild, channel, mod = _library_world(env)
    reader = guild.add_member(env.create_user("reader"))

    saved = await mod.slash(
        channel, "library settings", notes="Be kind. *Spoilers* in threads. @everyone ||x||"
    )
    assert saved.ephemeral and "Saved." in saved.response.content

    shown = await reader.slash(channel, "help")
    field = next(
        f for f in shown.response.embeds[0].fields if f.name == "From this server's moderators"
    )
    assert "Be kind." in field.value
    assert not LIVE_MENTION.search(field.value)
    assert unescaped_bars(field.value) == 0
