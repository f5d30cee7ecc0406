"""Excerpt posts: which Discord message shows which story section."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass

import aiosqlite

__all__ = ("ExcerptPost", "insert_posts")

# A post whose story was removed before the row was written is skipped: the
# story's posts went with it, and a foreign-key failure would stall the writer.
_INSERT_SQL = (
    "INSERT OR IGNORE INTO excerpt_posts"
    " (message_id, guild_id, channel_id, story_id, section_position, posted_by)"
    " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM stories WHERE id = ?4)"
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
        await db.executemany(_INSERT_SQL, [astuple(post) for post in posts])
