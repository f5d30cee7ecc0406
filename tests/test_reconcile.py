"""Reactions given while the bot could not hear them are found again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import make_story, query, restart, shelve

HEART, LAUGH, FIRE = "❤️", "😂", "🔥"


def _stored(settings) -> set[tuple[int, str, int]]:
    return set(query(settings, "SELECT message_id, emoji, user_id FROM reactions"))


@pytest.fixture
def world(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Tea at Five"))
    others = [guild.add_member(env.create_user(f"reader{n}")) for n in range(3)]
    return env, guild, general, reader, others


async def test_reactions_while_the_shard_was_disconnected_are_counted_after_reconnect(
    world, settings
):
    env, guild, general, reader, others = world
    first = (await reader.slash(general, "read", title="Tea at Five")).response
    second = (await reader.slash(general, "read", title="Tea at Five", section=2)).response
    await reader.react(first, HEART)
    await others[0].react(first, LAUGH)
    await env.bot.feedback.flush()
    assert _stored(settings) == {(first.id, HEART, reader.id), (first.id, LAUGH, others[0].id)}

    shard = env.bot.get_shard(0)
    await shard.disconnect()
    # While the bot is away: an add, a remove, and a reaction on another excerpt.
    await others[1].react(first, FIRE)
    await reader.unreact(first, HEART)
    await others[2].react(second, HEART)
    await env.bot.feedback.flush()
    assert env.bot.feedback.pending == 0
    assert (first.id, FIRE, others[1].id) not in _stored(settings)  # the events were dropped

    await shard.reconnect()
    await env.advance_time(2)  # the shard becomes ready, and reconciles in the background
    await env.bot.reconciler.wait()
    await env.bot.feedback.flush()

    assert _stored(settings) == {
        (first.id, LAUGH, others[0].id),
        (first.id, FIRE, others[1].id),
        (second.id, HEART, others[2].id),
    }
    # The bot's own feedback emoji are never counted as readers' reactions.
    assert not any(user == env.bot.user.id for _, _, user in _stored(settings))


async def test_start_up_reconciliation_corrects_stored_counts_after_restart(world, settings):
    env, guild, general, reader, others = world
    posted = (await reader.slash(general, "read", title="Tea at Five")).response
    await reader.react(posted, HEART)
    await others[0].react(posted, FIRE)
    await env.bot.feedback.flush()
    await env.bot.close_resources()
    # Stored counts drift from Discord: a reaction Discord never had, one it
    # has that was lost, and a reaction given while the bot was down.
    query(
        settings,
        "INSERT INTO reactions (message_id, emoji, user_id) VALUES (?, ?, ?)",
        posted.id,
        LAUGH,
        others[1].id,
    )
    query(settings, "DELETE FROM reactions WHERE user_id = ?", others[0].id)
    await others[2].react(posted, LAUGH)
    assert _stored(settings) == {(posted.id, HEART, reader.id), (posted.id, LAUGH, others[1].id)}

    bot = await restart(env, settings)
    await bot.reconciler.wait()
    await bot.feedback.flush()

    assert _stored(settings) == {
        (posted.id, HEART, reader.id),
        (posted.id, FIRE, others[0].id),
        (posted.id, LAUGH, others[2].id),
    }
    assert bot.reconciler.messages_checked == 1


async def test_only_excerpts_within_the_configured_window_are_fetched(world, settings):
    env, guild, general, reader, others = world
    older = (await reader.slash(general, "read", title="Tea at Five")).response
    recent = (await reader.slash(general, "read", title="Tea at Five", section=2)).response
    await env.bot.feedback.flush()
    await env.bot.close_resources()
    three_days_ago = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    query(
        settings,
        "UPDATE excerpt_posts SET posted_at = ? WHERE message_id = ?",
        three_days_ago,
        older.id,
    )
    await reader.react(older, HEART)
    await reader.react(recent, HEART)

    bot = await restart(env, replace(settings, reconcile_days=2))
    await bot.reconciler.wait()
    await bot.feedback.flush()

    # Only the recent excerpt was asked about. (The old bot, stopped but still
    # connected here, kept the live events it saw in its journal: nothing it saw is lost.)
    assert (recent.id, HEART, reader.id) in _stored(settings)
    assert bot.reconciler.messages_checked == 1


async def test_a_reaction_during_reconciliation_is_not_lost(world, settings):
    env, guild, general, reader, others = world
    posted = (await reader.slash(general, "read", title="Tea at Five")).response
    await env.bot.feedback.flush()
    recorder = env.bot.feedback

    # The fetch began (watch), Discord answered without the new reaction, and
    # meanwhile a live event arrived: the snapshot must not erase it.
    recorder.watch(posted.id)
    await others[0].react(posted, FIRE)
    recorder.sync(posted.id, {HEART: [reader.id]})
    await recorder.flush()

    assert _stored(settings) == {(posted.id, HEART, reader.id), (posted.id, FIRE, others[0].id)}


async def test_a_deleted_excerpt_keeps_its_feedback(world, settings):
    env, guild, general, reader, others = world
    posted = (await reader.slash(general, "read", title="Tea at Five")).response
    await reader.react(posted, HEART)
    await env.bot.feedback.flush()
    await env.bot.get_channel(general.id).get_partial_message(posted.id).delete()

    checked = await env.bot.reconciler.reconcile_shard(0)
    await env.bot.feedback.flush()

    assert checked == 0
    assert _stored(settings) == {(posted.id, HEART, reader.id)}
