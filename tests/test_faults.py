"""Discord says no: failed posts, failed reactions, and readers who go too fast."""

from __future__ import annotations

import logging

import discord
import pytest

from bot.db.guild_settings import DEFAULT_FEEDBACK_EMOJI
from tests.support import make_story, query, shelve

CALLBACK = "/interactions/*/*/callback"
REACTIONS = "/channels/*/messages/*/reactions/*"


def _posts(settings) -> list[tuple]:
    return query(settings, "SELECT message_id, section_position FROM excerpt_posts")


@pytest.fixture
def shelf(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Tea at Five"))
    return reading_world


@pytest.mark.parametrize(
    ("status", "code", "text", "expected"),
    [
        (500, 0, "Internal Server Error", ["Discord had a problem", "error 500", "try again"]),
        (503, 0, "Service Unavailable", ["Discord had a problem", "error 503", "try again"]),
        (403, 50013, "Missing Permissions", ["missing the **Send Messages** permission"]),
        (403, 50001, "Missing Access", ["don't have access", "View Channel"]),
        (404, 10003, "Unknown Channel", ["channel no longer exists"]),
    ],
)
async def test_failed_excerpt_post_tells_the_reader_and_records_nothing(
    shelf, settings, status, code, text, expected
):
    env, guild, general, lounge, reader = shelf
    env.inject_error("POST", CALLBACK, status=status, code=code, message=text)

    result = await reader.slash(general, "read", title="Tea at Five")

    reply = result.response
    assert reply.ephemeral
    for words in expected:
        assert words in reply.content
    assert "Nothing was posted" in reply.content
    assert general.last_message is None or general.last_message.ephemeral
    assert _posts(settings) == []
    assert env.bot.feedback.pending == 0


async def test_missing_permission_names_what_the_channel_denies_the_bot(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Tea at Five"))
    locked = guild.create_text_channel(
        "locked",
        overwrites={
            guild.me: discord.PermissionOverwrite(send_messages=False, add_reactions=False)
        },
    )
    env.inject_error("POST", CALLBACK, status=403, code=50013, message="Missing Permissions")

    result = await reader.slash(locked, "read", title="Tea at Five")

    content = result.response.content
    assert result.response.ephemeral
    assert locked.mention in content
    assert "**Send Messages** and **Add Reactions** permissions" in content
    assert _posts(settings) == []


async def test_excerpt_post_in_an_unharmed_channel_still_works_after_a_failure(shelf, settings):
    env, guild, general, lounge, reader = shelf
    env.inject_error("POST", CALLBACK, status=503, code=0, message="Service Unavailable")
    await reader.slash(general, "read", title="Tea at Five")

    result = await reader.slash(general, "read", title="Tea at Five")

    assert not result.response.ephemeral
    assert [post[0] for post in _posts(settings)] == [result.response.id]


async def test_reactions_refused_keeps_and_records_excerpt_and_warns_once_per_channel(
    shelf, settings, caplog
):
    env, guild, general, lounge, reader = shelf
    env.inject_error(
        "PUT", REACTIONS, status=403, code=50013, message="Missing Permissions", times=None
    )

    with caplog.at_level(logging.WARNING, logger="cogs.reading"):
        first = await reader.slash(general, "read", title="Tea at Five")
        second = await reader.slash(general, "read", title="Tea at Five", section=2)

    for result in (first, second):
        assert not result.response.ephemeral
        assert "The kettle" in result.response.content or "The cups" in result.response.content
        assert result.response.message.reactions == []
    assert sorted(_posts(settings)) == sorted([(first.response.id, 1), (second.response.id, 2)])
    warnings = [r for r in caplog.records if "cannot add feedback emoji" in r.getMessage()]
    assert len(warnings) == 1
    assert str(general.id) in warnings[0].getMessage()


async def test_reactions_on_an_excerpt_whose_emoji_failed_still_count(shelf, settings):
    env, guild, general, lounge, reader = shelf
    env.inject_error("PUT", REACTIONS, status=403, code=50013, message="Missing Permissions")
    posted = await reader.slash(general, "read", title="Tea at Five")

    await reader.react(posted.response, DEFAULT_FEEDBACK_EMOJI[0])
    await env.bot.feedback.flush()

    assert query(settings, "SELECT message_id, emoji, user_id FROM reactions") == [
        (posted.response.id, DEFAULT_FEEDBACK_EMOJI[0], reader.id)
    ]


# ---------------------------------------------------------------------- cooldowns


@pytest.mark.parametrize("command", ["read", "excerpt", "search"])
async def test_too_many_uses_get_a_friendly_wait_and_post_nothing(shelf, settings, command):
    env, guild, general, lounge, reader = shelf
    options = {"read": {"title": "Tea at Five"}, "excerpt": {}, "search": {"query": "kettle"}}
    rate, per = settings.command_cooldown
    for _ in range(rate):
        ok = await reader.slash(general, command, **options[command])
        assert "try again in" not in (ok.response.content or "")
    posts_before = _posts(settings)

    refused = await reader.slash(general, command, **options[command])

    assert refused.response.ephemeral
    assert f"/{command}" in refused.response.content
    assert "try again in" in refused.response.content
    assert "second" in refused.response.content
    assert _posts(settings) == posts_before

    # Another command, another reader: not held back; the first may go on after the wait.
    elsewhere = "search" if command != "search" else "read"
    free = await reader.slash(general, elsewhere, **options[elsewhere])
    assert "try again in" not in (free.response.content or "")
    other = guild.add_member(env.create_user("other"))
    fine = await other.slash(general, command, **options[command])
    assert "try again in" not in (fine.response.content or "")
    await env.advance_time(per + 1)
    again = await reader.slash(general, command, **options[command])
    assert "try again in" not in (again.response.content or "")
