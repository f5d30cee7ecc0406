"""What one process remembers about a server follows changes made by any other.

Each "other process" here is a connection of its own on the same SQLite file, as
another shard group or the command line would have: the bot is never told.
"""

from __future__ import annotations

import sqlite3

from bot.db.connection import connect_sync
from bot.db.quick import QuickReader
from bot.db.versions import GuildVersion, GuildVersions
from bot.story import RatingLevel
from tests.support import make_story, shelve, spoiler_text


def _other_process(settings) -> sqlite3.Connection:
    return connect_sync(settings.database_path)


def _versions(conn: sqlite3.Connection, guild_id: int) -> tuple[int, int]:
    row = conn.execute(
        "SELECT shelf, settings FROM guild_versions WHERE guild_id = ?", (guild_id,)
    ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


def test_every_change_a_cache_depends_on_bumps_its_counter(settings):
    conn = _other_process(settings)
    try:
        stored = shelve(settings, 5, make_story("Tea at Five"))
        assert _versions(conn, 5) == (1, 0)
        conn.execute("UPDATE stories SET title = 'Tea at Six' WHERE id = ?", (stored.id,))
        assert _versions(conn, 5) == (2, 0)
        conn.execute("UPDATE stories SET rating_level = 'mature' WHERE id = ?", (stored.id,))
        assert _versions(conn, 5) == (3, 0)
        # What no cache holds (a summary) leaves the counter alone.
        conn.execute("UPDATE stories SET summary = 'new' WHERE id = ?", (stored.id,))
        assert _versions(conn, 5) == (3, 0)
        conn.execute("UPDATE stories SET guild_id = 6 WHERE id = ?", (stored.id,))
        assert _versions(conn, 5) == (4, 0) and _versions(conn, 6) == (1, 0)
        conn.execute("DELETE FROM stories WHERE id = ?", (stored.id,))
        assert _versions(conn, 6) == (2, 0)
        conn.execute("INSERT INTO guild_settings (guild_id, max_rating) VALUES (5, 'general')")
        conn.execute("UPDATE guild_settings SET moderator_notes = 'hi' WHERE guild_id = 5")
        assert _versions(conn, 5) == (4, 2)
        conn.execute("DELETE FROM guild_settings WHERE guild_id = 5")
        assert _versions(conn, 5) == (4, 3)
        assert _versions(conn, 7) == (0, 0)  # a server never changed has no row
    finally:
        conn.close()


async def test_a_quiet_database_is_not_read_again(settings):
    shelve(settings, 5, make_story())
    reader = QuickReader(settings.database_path)
    versions = GuildVersions(reader)
    try:
        assert await versions.get(5) == GuildVersion(shelf=1, settings=0)
        assert await versions.get(5) == GuildVersion(shelf=1, settings=0)
        assert versions.reads == 1  # nothing committed since: the row is not read again
        shelve(settings, 5, make_story("Another"))
        assert await versions.get(5) == GuildVersion(shelf=2, settings=0)
        assert versions.reads == 2
    finally:
        reader.close()


async def test_a_rating_lowered_in_another_process_is_enforced_at_once(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Grown Up", level=RatingLevel.MATURE))
    await env.bot.guild_settings.update(guild.id, max_rating=RatingLevel.MATURE)
    allowed = await reader.slash(general, "read", title="Grown Up")
    assert "The kettle sang" in spoiler_text(allowed.response.content)

    conn = _other_process(settings)
    try:
        conn.execute(
            "UPDATE guild_settings SET max_rating = 'teen' WHERE guild_id = ?", (guild.id,)
        )
    finally:
        conn.close()

    refused = await reader.slash(general, "read", title="Grown Up")
    assert refused.ephemeral
    assert "This server posts stories up to Teen outside age-restricted channels" in (
        refused.response.content
    )
    assert "The kettle sang" not in refused.response.content


async def test_title_autocomplete_follows_another_process(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    first = shelve(settings, guild.id, make_story("Tea at Five"))

    async def titles(typed: str) -> list[str]:
        result = await reader.autocomplete(general, "read", "title", typed)
        return [choice["name"] for choice in result]

    assert await titles("tea") == ["Tea at Five"]
    assert await titles("tea") == ["Tea at Five"]  # kept: the shelf did not change

    shelve(settings, guild.id, make_story("Tea for Two"))
    assert await titles("tea") == ["Tea at Five", "Tea for Two"]

    conn = _other_process(settings)
    try:
        conn.execute(
            "UPDATE stories SET title = 'Coffee at Five', title_key = 'coffee at five'"
            " WHERE id = ?",
            (first.id,),
        )
        assert await titles("tea") == ["Tea for Two"]
        conn.execute("UPDATE stories SET rating_level = 'explicit' WHERE title = 'Tea for Two'")
        assert await titles("tea") == []  # no longer shown in an ordinary channel
        assert await titles("co") == ["Coffee at Five"]
        conn.execute("DELETE FROM stories WHERE id = ?", (first.id,))
        assert await titles("co") == []
    finally:
        conn.close()
