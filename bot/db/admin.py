"""Moderator changes on the shared connection: edit, remove, settings audit, export reads."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.db.connection import transaction
from bot.db.library import DuplicateTitleError, title_key
from bot.story import Rating

__all__ = (
    "RemovalCounts",
    "edit_story",
    "feedback_rows",
    "removal_counts",
    "remove_story",
)


@dataclass(frozen=True, slots=True)
class RemovalCounts:
    sections: int
    posts: int
    reactions: int


async def insert_audit(
    db: aiosqlite.Connection,
    guild_id: int,
    user_id: int | None,
    action: str,
    story_id: int | None,
    story_title: str | None,
    detail: str | None = None,
) -> None:
    await db.execute(
        "INSERT INTO audit_log (guild_id, user_id, action, story_id, story_title, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, user_id, action, story_id, story_title, detail),
    )


async def edit_story(
    db: aiosqlite.Connection,
    guild_id: int,
    story_id: int,
    *,
    title: str,
    author: str | None,
    rating: Rating,
    summary: str | None,
    notes: str | None,
    user_id: int,
) -> None:
    """Change a story's details in place; raises DuplicateTitleError or LookupError."""
    async with transaction(db):
        async with db.execute(
            "SELECT 1 FROM stories WHERE guild_id = ? AND title_key = ? AND id != ?",
            (guild_id, title_key(title), story_id),
        ) as cursor:
            if await cursor.fetchone():
                raise DuplicateTitleError(title)
        cursor = await db.execute(
            "UPDATE stories SET title = ?, title_key = ?, author = ?, rating_label = ?,"
            " rating_level = ?, summary = ?, notes = ?,"
            " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
            " WHERE id = ? AND guild_id = ?",
            (
                title,
                title_key(title),
                author,
                rating.label,
                rating.level.value,
                summary,
                notes,
                story_id,
                guild_id,
            ),
        )
        if cursor.rowcount != 1:
            raise LookupError(story_id)
        await insert_audit(db, guild_id, user_id, "edit", story_id, title)


async def removal_counts(db: aiosqlite.Connection, story_id: int) -> RemovalCounts:
    async with db.execute(
        "SELECT (SELECT count(*) FROM sections WHERE story_id = ?1),"
        " (SELECT count(*) FROM excerpt_posts WHERE story_id = ?1),"
        " (SELECT count(*) FROM reactions r JOIN excerpt_posts p ON p.message_id = r.message_id"
        "  WHERE p.story_id = ?1)",
        (story_id,),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return RemovalCounts(*row)


async def remove_story(
    db: aiosqlite.Connection, guild_id: int, story_id: int, *, user_id: int
) -> list[int]:
    """Delete a story with its sections, index rows, posts and feedback, in one transaction.

    Returns the message ids of its excerpt posts, which stop being excerpts.
    """
    async with transaction(db):
        async with db.execute(
            "SELECT title FROM stories WHERE id = ? AND guild_id = ?", (story_id, guild_id)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise LookupError(story_id)
        async with db.execute(
            "SELECT message_id FROM excerpt_posts WHERE story_id = ?", (story_id,)
        ) as cursor:
            message_ids = [r[0] for r in await cursor.fetchall()]
        # Cascades: sections (and, by trigger, their search rows), posts, reactions.
        await db.execute("DELETE FROM stories WHERE id = ?", (story_id,))
        await insert_audit(db, guild_id, user_id, "remove", story_id, row[0])
    return message_ids


async def feedback_rows(db: aiosqlite.Connection, story_id: int) -> list[tuple[int, str, str, int]]:
    """(section, section title, emoji, readers) for the export, sections gone included."""
    async with db.execute(
        "SELECT p.section_position, coalesce(c.title, ''), r.emoji, count(DISTINCT r.user_id)"
        " FROM reactions r JOIN excerpt_posts p ON p.message_id = r.message_id"
        " LEFT JOIN sections c ON c.story_id = p.story_id AND c.position = p.section_position"
        " WHERE p.story_id = ? GROUP BY p.section_position, r.emoji"
        " ORDER BY p.section_position, count(*) DESC, r.emoji",
        (story_id,),
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]  # type: ignore[misc]
