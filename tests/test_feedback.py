"""Readers' reactions on excerpts become feedback; /feedback shows it."""

from __future__ import annotations

import sqlite3

import pytest

from bot.db.connection import connect_sync
from tests.support import make_story, query, restart, shelve

HEART, LAUGH, FIRE, WAVE = "❤️", "😂", "🔥", "👋"


@pytest.fixture
def world(simcord_env, settings):
    env = simcord_env
    guild = env.create_guild(name="Book Club")
    channel = guild.create_text_channel("general")
    alice = guild.add_member(env.create_user("alice"))
    bob = guild.add_member(env.create_user("bob"))
    shelve(settings, guild.id, make_story("Tea at Five"))
    return env, guild, channel, alice, bob


def _stored(settings) -> list[tuple]:
    return query(settings, "SELECT emoji, user_id FROM reactions ORDER BY emoji, user_id")


def _field_values(result) -> dict[str, str]:
    return {f.name: f.value for f in result.response.embeds[0].fields}


async def test_reactions_counted_once_per_reader_per_emoji(world, settings):
    env, guild, channel, alice, bob = world
    first = await alice.slash(channel, "read", title="Tea at Five")
    excerpt = first.response.message
    await alice.click(excerpt, label="Next section ⏭")
    second = channel.last_message

    await alice.react(excerpt, HEART)
    await bob.react(excerpt, HEART)
    await bob.react(excerpt, LAUGH)
    await alice.react(excerpt, WAVE)  # an emoji that is not in the default set counts too
    await alice.unreact(excerpt, WAVE)
    await alice.react(excerpt, HEART)  # reacting twice counts once
    await bob.react(second, FIRE)

    result = await alice.slash(channel, "feedback", title="Tea at Five")

    embed = result.response.embeds[0]
    assert f"{HEART} 2" in embed.description and f"{LAUGH} 1" in embed.description
    assert f"{FIRE} 1" in embed.description and WAVE not in embed.description
    assert "4 reactions from 2 readers" in embed.description
    assert "Most reacted:** 1 · The kettle" in embed.description
    fields = _field_values(result)
    assert fields["★ 1 · The kettle"] == f"{HEART} 2 · {LAUGH} 1 (2 readers)"
    assert fields["2 · The cups"] == f"{FIRE} 1 (1 reader)"
    # The bot's own reactions (it adds the default set to every excerpt) are not counted.
    assert all(user != env.bot.user.id for _, user in _stored(settings))
    assert result.response.attachments[0].filename == "feedback.png"


async def test_reactions_on_other_messages_are_ignored_without_queueing(world, settings):
    env, guild, channel, alice, bob = world
    other_bot = guild.add_member(env.create_user("otherbot", bot=True))
    ordinary = await alice.send(channel, "hello everyone")
    from_bot = await other_bot.send(channel, "beep")
    excerpt = (await alice.slash(channel, "read", title="Tea at Five")).response.message

    await bob.react(ordinary, HEART)
    await bob.react(from_bot, HEART)
    await other_bot.react(excerpt, HEART)  # a bot's reaction on an excerpt

    assert env.bot.feedback.pending == 0
    await env.bot.feedback.flush()
    assert _stored(settings) == []


async def test_counts_survive_restart_and_old_reactions_can_be_removed(world, settings):
    env, guild, channel, alice, bob = world
    excerpt = (await alice.slash(channel, "read", title="Tea at Five")).response.message
    await alice.react(excerpt, HEART)
    await bob.react(excerpt, HEART)

    await restart(env, settings)  # pending feedback is flushed on the way down
    assert _stored(settings) == [(HEART, alice.id), (HEART, bob.id)]

    await bob.unreact(excerpt, HEART)
    result = await alice.slash(channel, "feedback", title="Tea at Five")

    assert _field_values(result)["★ 1 · The kettle"] == f"{HEART} 1 (1 reader)"


async def test_clear_all_and_clear_one_emoji(world, settings):
    env, guild, channel, alice, bob = world
    one = (await alice.slash(channel, "read", title="Tea at Five")).response.message
    await alice.click(one, label="Next section ⏭")
    two = channel.last_message
    for message in (one, two):
        await alice.react(message, HEART)
        await bob.react(message, LAUGH)

    # A moderator clears reactions in Discord's UI; SimCord's backend emits the same events.
    env.backend.clear_reactions(channel.id, one.id)
    env.backend.clear_reaction(channel.id, two.id, LAUGH)
    await env.settle()

    result = await alice.slash(channel, "feedback", title="Tea at Five")
    assert _field_values(result) == {"★ 2 · The cups": f"{HEART} 1 (1 reader)"}


async def test_feedback_of_one_server_is_invisible_from_another(world, settings):
    env, guild, channel, alice, bob = world
    excerpt = (await alice.slash(channel, "read", title="Tea at Five")).response.message
    await alice.react(excerpt, HEART)
    other = env.create_guild(name="Other")
    elsewhere = other.create_text_channel("general")
    carol = other.add_member(env.create_user("carol"))
    shelve(settings, other.id, make_story("Tea at Five"))  # same title, different shelf

    theirs = await carol.slash(elsewhere, "feedback", title="Tea at Five")
    ours = await alice.slash(channel, "feedback", title="Tea at Five")

    assert "No reactions yet" in theirs.response.embeds[0].description
    assert f"{HEART} 1" in ours.response.embeds[0].description


async def test_feedback_follows_the_story_not_the_channel(world, settings):
    env, guild, channel, alice, bob = world
    side = guild.create_text_channel("side")
    in_general = (await alice.slash(channel, "read", title="Tea at Five")).response.message
    in_side = (await bob.slash(side, "read", title="Tea at Five")).response.message
    await alice.react(in_general, HEART)
    await bob.react(in_side, HEART)

    result = await alice.slash(side, "feedback", title="Tea at Five")

    assert _field_values(result)["★ 1 · The kettle"] == f"{HEART} 2 (2 readers)"


async def test_story_card_shows_feedback_totals(world, settings):
    env, guild, channel, alice, bob = world
    excerpt = (await alice.slash(channel, "read", title="Tea at Five")).response.message
    await alice.react(excerpt, FIRE)
    await bob.react(excerpt, FIRE)
    await env.bot.feedback.flush()

    card = await alice.slash(channel, "story", title="Tea at Five")

    assert _field_values(card)["Feedback"] == f"{FIRE} 2 — 2 reactions from 2 readers"


@pytest.mark.sqlite_only  # holds SQLite's write lock
async def test_failed_flush_loses_nothing(world, settings):
    env, guild, channel, alice, bob = world
    excerpt = (await alice.slash(channel, "read", title="Tea at Five")).response.message
    recorder = env.bot.feedback
    async with env.bot.db.execute("PRAGMA busy_timeout = 50"):
        pass
    blocker = connect_sync(settings.database_path)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock

    await alice.react(excerpt, HEART)
    await bob.react(excerpt, LAUGH)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await recorder.flush()
    assert recorder.pending == 2

    blocker.execute("ROLLBACK")
    blocker.close()
    assert await recorder.flush() == 2
    assert _stored(settings) == [(HEART, alice.id), (LAUGH, bob.id)]


async def test_writer_flushes_on_its_own_within_a_second(world, settings):
    env, guild, channel, alice, bob = world
    excerpt = (await alice.slash(channel, "read", title="Tea at Five")).response.message

    await alice.react(excerpt, HEART)
    await env.advance_time(1.1)

    assert _stored(settings) == [(HEART, alice.id)]
