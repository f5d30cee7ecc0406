"""Feedback: readers' reactions on excerpt posts, counted per story, section and emoji."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.db.connection import transaction
from bot.db.excerpts import ExcerptPost, insert_posts
from bot.db.pg import is_postgres

__all__ = (
    "EmojiCount",
    "SectionFeedback",
    "StoryTotals",
    "apply_events",
    "recent_posts",
    "section_feedback",
    "story_totals",
)

# Each step of a flush, by operation: statements run in order over the step's rows.
# Adds only land on messages that are still excerpts (a story removed meanwhile
# takes its posts with it).
_STEP_SQL: dict[str, tuple[str, ...]] = {
    "add": (
        "INSERT OR IGNORE INTO reactions (message_id, emoji, user_id)"
        " SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM excerpt_posts WHERE message_id = ?1)",
    ),
    "remove": ("DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",),
    "clear_emoji": ("DELETE FROM reactions WHERE message_id = ? AND emoji = ?",),
    "clear": ("DELETE FROM reactions WHERE message_id = ?",),
    # A message's reactions as Discord has them: ?2 is a JSON list of [emoji, user id].
    "sync": (
        "DELETE FROM reactions WHERE message_id = ?1 AND (emoji, user_id) NOT IN"
        " (SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')"
        " FROM json_each(?2) AS j)",
        "INSERT OR IGNORE INTO reactions (message_id, emoji, user_id)"
        " SELECT ?1, json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]')"
        " FROM json_each(?2) AS j"
        " WHERE EXISTS (SELECT 1 FROM excerpt_posts WHERE message_id = ?1)",
    ),
}
# The same on PostgreSQL: ON CONFLICT DO NOTHING for SQLite's OR IGNORE, parameters typed
# where only a select list shows them, and the JSON list read with jsonb_array_elements.
_STEP_SQL_PG: dict[str, tuple[str, ...]] = {
    **_STEP_SQL,
    "add": (
        "INSERT INTO reactions (message_id, emoji, user_id)"
        " SELECT ?1::bigint, ?2::text, ?3::bigint"
        " WHERE EXISTS (SELECT 1 FROM excerpt_posts WHERE message_id = ?1) ON CONFLICT DO NOTHING",
    ),
    "sync": (
        "DELETE FROM reactions WHERE message_id = ?1 AND (emoji, user_id) NOT IN"
        " (SELECT j.value ->> 0, (j.value ->> 1)::bigint"
        " FROM jsonb_array_elements(?2::jsonb) AS j)",
        "INSERT INTO reactions (message_id, emoji, user_id)"
        " SELECT ?1::bigint, j.value ->> 0, (j.value ->> 1)::bigint"
        " FROM jsonb_array_elements(?2::jsonb) AS j"
        " WHERE EXISTS (SELECT 1 FROM excerpt_posts WHERE message_id = ?1) ON CONFLICT DO NOTHING",
    ),
}


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
    # Ties in code-point order of the emoji, in Python: the database's own text order
    # depends on its collation (PostgreSQL's locale), and both backends must agree.
    per_emoji = tuple(
        sorted(
            (EmojiCount(r[0], r[1]) for r in rows if r[0] is not None),
            key=lambda item: (-item.count, item.emoji),
        )
    )
    readers = next((r[2] for r in rows if r[0] is None), 0) or 0
    return StoryTotals(per_emoji, readers)


async def recent_posts(db: aiosqlite.Connection, *, since: str) -> list[tuple[int, int, int]]:
    """(message id, guild id, channel id) of excerpts posted at or after `since`, oldest first."""
    return [
        (r[0], r[1], r[2])
        for r in await db.execute_fetchall(
            "SELECT message_id, guild_id, channel_id FROM excerpt_posts"
            " WHERE posted_at >= ? ORDER BY posted_at, message_id",
            (since,),
        )
    ]


async def apply_events(
    db: aiosqlite.Connection,
    steps: Sequence[tuple[str, Sequence[tuple[object, ...]]]],
    posts: Sequence[ExcerptPost] = (),
) -> None:
    """Record new excerpt posts, then apply reaction changes in order, in one transaction."""
    async with transaction(db):
        await insert_posts(db, posts)
        statements = _STEP_SQL_PG if is_postgres(db) else _STEP_SQL
        for op, rows in steps:
            for sql in statements[op]:
                await db.executemany(sql, rows)


@dataclass(frozen=True, slots=True)
class SectionFeedback:
    position: int
    per_emoji: tuple[EmojiCount, ...]
    readers: int

    @property
    def total(self) -> int:
        return sum(item.count for item in self.per_emoji)


async def section_feedback(db: aiosqlite.Connection, story_id: int) -> list[SectionFeedback]:
    """Per section (by position) and per emoji, with unique readers per section."""
    async with db.execute(
        "SELECT p.section_position, r.emoji, count(*) FROM reactions r"
        " JOIN excerpt_posts p ON p.message_id = r.message_id"
        " WHERE p.story_id = ? GROUP BY p.section_position, r.emoji"
        " ORDER BY p.section_position, count(*) DESC, r.emoji",
        (story_id,),
    ) as cursor:
        counts = await cursor.fetchall()
    async with db.execute(
        "SELECT p.section_position, count(DISTINCT r.user_id) FROM reactions r"
        " JOIN excerpt_posts p ON p.message_id = r.message_id"
        " WHERE p.story_id = ? GROUP BY p.section_position",
        (story_id,),
    ) as cursor:
        readers: dict[int, int] = {row[0]: row[1] for row in await cursor.fetchall()}
    by_section: dict[int, list[EmojiCount]] = {}
    for position, emoji, count in counts:
        by_section.setdefault(position, []).append(EmojiCount(emoji, count))
    return [
        SectionFeedback(
            position,
            tuple(sorted(items, key=lambda item: (-item.count, item.emoji))),
            readers.get(position, 0),
        )
        for position, items in sorted(by_section.items())
    ]


async def export_rows(db: aiosqlite.Connection, story_id: int) -> list[tuple[int, str, str, int]]:
    """(section, section title, emoji, readers) for the export, sections gone included."""
    rows = await db.execute_fetchall(
        "SELECT p.section_position, coalesce(c.title, ''), r.emoji, count(DISTINCT r.user_id),"
        " count(*)"
        " FROM reactions r JOIN excerpt_posts p ON p.message_id = r.message_id"
        " LEFT JOIN sections c ON c.story_id = p.story_id AND c.position = p.section_position"
        " WHERE p.story_id = ? GROUP BY p.section_position, c.title, r.emoji",
        (story_id,),
    )
    # By section, then most reactions first, ties in code-point order of the emoji
    # (sorted here: see story_totals).
    ordered = sorted(rows, key=lambda r: (int(r[0]), -int(r[4]), str(r[2])))
    return [(int(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in ordered]
