"""Feedback: readers' reactions on excerpt posts, counted per story, section and emoji."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

__all__ = ("EmojiCount", "StoryTotals", "story_totals")


@dataclass(frozen=True, slots=True)
class EmojiCount:
    emoji: str
    count: int


@dataclass(frozen=True, slots=True)
class StoryTotals:
    per_emoji: tuple[EmojiCount, ...]
    readers: int

    @property
    def total(self) -> int:
        return sum(item.count for item in self.per_emoji)


async def story_totals(db: aiosqlite.Connection, story_id: int) -> StoryTotals:
    """Reactions per emoji over all of a story's excerpts, and how many readers gave any."""
    async with db.execute(
        "SELECT r.emoji, count(*), NULL FROM reactions r"
        " JOIN excerpt_posts p ON p.message_id = r.message_id"
        " WHERE p.story_id = ? GROUP BY r.emoji"
        " UNION ALL"
        " SELECT NULL, NULL, count(DISTINCT r.user_id) FROM reactions r"
        " JOIN excerpt_posts p ON p.message_id = r.message_id WHERE p.story_id = ?"
        " ORDER BY 2 DESC",
        (story_id, story_id),
    ) as cursor:
        rows = await cursor.fetchall()
    per_emoji = tuple(EmojiCount(r[0], r[1]) for r in rows if r[0] is not None)
    readers = next((r[2] for r in rows if r[0] is None), 0) or 0
    return StoryTotals(per_emoji, readers)
