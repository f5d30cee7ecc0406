"""The audit log: who changed what on a shelf. One statement, for both kinds of connection."""

from __future__ import annotations

import sqlite3

import aiosqlite

__all__ = ("INSERT_AUDIT", "record", "record_sync")

INSERT_AUDIT = (
    "INSERT INTO audit_log (guild_id, user_id, action, story_id, story_title, detail)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _row(
    guild_id: int,
    user_id: int | None,
    action: str,
    story_id: int | None,
    story_title: str | None,
    detail: str | None,
) -> tuple[object, ...]:
    return (guild_id, user_id, action, story_id, story_title, detail)


async def record(
    db: aiosqlite.Connection,
    guild_id: int,
    user_id: int | None,
    action: str,
    story_id: int | None = None,
    story_title: str | None = None,
    detail: str | None = None,
) -> None:
    """Log a change inside the caller's transaction on the shared connection."""
    await db.execute(INSERT_AUDIT, _row(guild_id, user_id, action, story_id, story_title, detail))


def record_sync(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int | None,
    action: str,
    story_id: int | None = None,
    story_title: str | None = None,
    detail: str | None = None,
) -> None:
    """Log a change inside the caller's transaction on a worker thread's connection."""
    conn.execute(INSERT_AUDIT, _row(guild_id, user_id, action, story_id, story_title, detail))
