"""Excerpt posts: which Discord message shows which story section."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass

import aiosqlite

from bot.db.pg import is_postgres

__all__ = (
    "ExcerptPost",
    "existing_excerpts",
    "insert_posts",
    "newest_excerpt_ids",
    "oldest_excerpt_id",
)

# A post whose story was removed before the row was written is skipped: the
# story's posts went with it, and a foreign-key failure would stall the writer.
# (PostgreSQL needs the types of parameters that only appear in a select list.)
_INSERT_SQL = (
    "INSERT OR IGNORE INTO excerpt_posts"
    " (message_id, guild_id, channel_id, story_id, section_position, posted_by)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM stories WHERE id = ?4)"
)
_INSERT_SQL_PG = (
    "INSERT INTO excerpt_posts"
    " (message_id, guild_id, channel_id, story_id, section_position, posted_by)"
    " SELECT ?1::bigint, ?2::bigint, ?3::bigint, ?4::bigint, ?5::int, ?6::bigint"
    " WHERE EXISTS (SELECT 1 FROM stories WHERE id = ?4) ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class ExcerptPost:
    message_id: int
    guild_id: int
    channel_id: int
    story_id: int
    section_position: int
    posted_by: int | None


async def insert_posts(db: aiosqlite.Connection, posts: Sequence[ExcerptPost]) -> None:
    """Record posts Discord accepted; call inside a transaction."""
    if posts:
        sql = _INSERT_SQL_PG if is_postgres(db) else _INSERT_SQL
        await db.executemany(sql, [astuple(post) for post in posts])


async def newest_excerpt_ids(db: aiosqlite.Connection, limit: int) -> list[int]:
    """The ids of the `limit` most recent excerpts, newest first.

    Message ids are snowflakes, which grow with time: the primary key's order is
    the posting order, so this reads the end of the index and nothing else.
    """
    async with db.execute(
        "SELECT message_id FROM excerpt_posts ORDER BY message_id DESC LIMIT ?", (limit,)
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def oldest_excerpt_id(db: aiosqlite.Connection) -> int | None:
    async with db.execute("SELECT min(message_id) FROM excerpt_posts") as cursor:
        row = await cursor.fetchone()
    return None if row is None else row[0]


async def existing_excerpts(db: aiosqlite.Connection, message_ids: Iterable[int]) -> set[int]:
    """Which of these messages are excerpts: one query for any number of ids."""
    ids = list(message_ids)
    if not ids:
        return set()
    param: object
    if is_postgres(db):
        sql, param = "SELECT message_id FROM excerpt_posts WHERE message_id = ANY(?)", ids
    else:
        sql = (
            "SELECT message_id FROM excerpt_posts"
            " WHERE message_id IN (SELECT value FROM json_each(?))"
        )
        param = json.dumps(ids)
    async with db.execute(sql, (param,)) as cursor:
        return {row[0] for row in await cursor.fetchall()}
