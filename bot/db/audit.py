"""The audit log: who changed what on a shelf. One statement, for every kind of connection."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import aiosqlite

if TYPE_CHECKING:
    from bot.db.pg import PgDatabase

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
    db: aiosqlite.Connection | PgDatabase,
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
