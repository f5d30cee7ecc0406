"""The database server going away while the bot runs (PostgreSQL pass).

A connection the server drops is replaced on the next use: commands meanwhile answer
"busy, try again" rather than failing, the feedback writer keeps every reaction and
writes it once the server answers, and what it still cannot write when the bot
stops is kept in its journal and written at the next start.
"""

from __future__ import annotations

import dataclasses

import pytest

from bot import create_bot
from tests import pg
from tests.support import make_story, query, shelve

pytestmark = pytest.mark.skipif(not pg.enabled(), reason="needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def settings(settings):
    # A short shutdown budget: the last flush gives up quickly while the server refuses.
    return dataclasses.replace(settings, shutdown_budget=0.3)


def _database(settings) -> str:
    return settings.database_url.rsplit("/", 1)[1]


def _drop_connections(settings) -> int:
    """The server ends every session on the test's database (as a restart or failover does)."""
    rows = pg.query(
        pg.TEST_DATABASE_URL or "",
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ?",
        (_database(settings),),
    )
    return int(rows[0][0])


def _refuse_connections(settings, refuse: bool) -> None:
    pg.query(
        pg.TEST_DATABASE_URL or "",
        f'ALTER DATABASE "{_database(settings)}" ALLOW_CONNECTIONS {str(not refuse).lower()}',
        (),
    )


async def test_dropped_connections_lose_no_reaction(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story())
    post = await reader.slash(general, "read", title="Tea at Five")
    readers = [guild.add_member(env.create_user(f"r{n}")) for n in range(4)]

    assert _drop_connections(settings) >= 1
    for person in readers:
        await person.react(post.response.message, "🔥")
    for _ in range(5):  # each tick retries what is pending, on fresh connections
        if await env.bot.feedback.tick():
            break
    assert query(settings, "SELECT count(*) FROM reactions WHERE emoji = '🔥'") == [(4,)]

    _drop_connections(settings)
    answer = await reader.slash(general, "read", title="Tea at Five")
    if answer.ephemeral:  # the dropped connection met: said, not crashed
        assert "try again" in answer.response.content
        answer = await reader.slash(general, "read", title="Tea at Five")
    assert "The kettle sang" in answer.response.content


async def test_reactions_the_server_refused_are_written_at_the_next_start(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story())
    post = await reader.slash(general, "read", title="Tea at Five")
    await env.bot.feedback.tick()
    readers = [guild.add_member(env.create_user(f"r{n}")) for n in range(3)]

    _refuse_connections(settings, True)
    try:
        _drop_connections(settings)
        for person in readers:
            await person.react(post.response.message, "😢")
        assert await env.bot.feedback.tick() is False  # kept pending, not dropped
        await env.bot.close_resources()  # the last flush fails too: into the journal
        journal = list(settings.database_path.parent.glob("*journal*"))
        assert journal, "nothing was kept"
    finally:
        _refuse_connections(settings, False)
    assert query(settings, "SELECT count(*) FROM reactions WHERE emoji = '😢'") == [(0,)]

    await env.restart_bot(create_bot(settings))
    assert query(settings, "SELECT count(*) FROM reactions WHERE emoji = '😢'") == [(3,)]
