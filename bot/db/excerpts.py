"""Excerpt posts: which Discord message shows which story section."""

from __future__ import annotations

import aiosqlite

from bot.db.connection import transaction

__all__ = ("record_excerpt_post",)


async def record_excerpt_post(
    db: aiosqlite.Connection,
    *,
    message_id: int,
    guild_id: int,
    channel_id: int,
    story_id: int,
    section_position: int,
    posted_by: int | None,
) -> None:
    async with transaction(db):
        await db.execute(
            "INSERT OR IGNORE INTO excerpt_posts"
            " (message_id, guild_id, channel_id, story_id, section_position, posted_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (message_id, guild_id, channel_id, story_id, section_position, posted_by),
        )
