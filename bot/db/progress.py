"""Reading progress: the last section and page each reader read of each story, per server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.db.stories import fetch_all, fetch_one

__all__ = ("Bookmark", "ProgressRow", "forget", "latest", "reading_list", "save")


@dataclass(frozen=True, slots=True)
class Bookmark:
    guild_id: int
    user_id: int
    story_id: int
    section: int
    page: int
    read_at: int  # milliseconds since the epoch


@dataclass(frozen=True, slots=True)
class ProgressRow:
    story_id: int
    title: str
    section: int
    page: int
    section_count: int
    read_at: int


# A bookmark of a story removed meanwhile is skipped (the story's rows went with it);
# an older bookmark never overwrites a newer one written by another process.
_SAVE = (
    "INSERT INTO reading_progress"
    " (guild_id, user_id, story_id, section_position, page, read_at)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6"
    " WHERE EXISTS (SELECT 1 FROM stories WHERE id = ?3 AND guild_id = ?1)"
    " ON CONFLICT (guild_id, user_id, story_id) DO UPDATE SET"
    " section_position = excluded.section_position, page = excluded.page,"
    " read_at = excluded.read_at WHERE excluded.read_at >= reading_progress.read_at"
)


async def save(db: aiosqlite.Connection, bookmarks: Sequence[Bookmark]) -> None:
    """Write bookmarks; call inside a transaction."""
    if bookmarks:
        await db.executemany(
            _SAVE,
            [(b.guild_id, b.user_id, b.story_id, b.section, b.page, b.read_at) for b in bookmarks],
        )


async def latest(
    db: aiosqlite.Connection, guild_id: int, user_id: int, story_id: int | None = None
) -> Bookmark | None:
    """A reader's bookmark in one story, or in the story they read last."""
    story_sql = " AND story_id = ?" if story_id is not None else ""
    params: list[object] = [guild_id, user_id]
    if story_id is not None:
        params.append(story_id)
    row = await fetch_one(
        db,
        "SELECT story_id, section_position, page, read_at FROM reading_progress"
        f" WHERE guild_id = ? AND user_id = ?{story_sql} ORDER BY read_at DESC LIMIT 1",
        params,
    )
    if row is None:
        return None
    return Bookmark(guild_id, user_id, row[0], row[1], row[2], row[3])


async def reading_list(
    db: aiosqlite.Connection, guild_id: int, user_id: int, *, limit: int = 25
) -> list[ProgressRow]:
    rows = await fetch_all(
        db,
        "SELECT p.story_id, s.title, p.section_position, p.page, s.section_count, p.read_at"
        " FROM reading_progress p JOIN stories s ON s.id = p.story_id"
        " WHERE p.guild_id = ? AND p.user_id = ? ORDER BY p.read_at DESC LIMIT ?",
        (guild_id, user_id, limit),
    )
    return [ProgressRow(*row) for row in rows]


async def forget(db: aiosqlite.Connection, guild_id: int, user_id: int) -> int:
    """Erase a reader's history on one server; call inside a transaction."""
    cursor = await db.execute(
        "DELETE FROM reading_progress WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )
    return cursor.rowcount
