"""The bot's own key/value bookkeeping (e.g. the hash of the last command sync)."""

from __future__ import annotations

import aiosqlite

from bot.db.connection import transaction

__all__ = ("delete", "get", "put")


async def get(db: aiosqlite.Connection, key: str) -> str | None:
    async with db.execute("SELECT value FROM bot_meta WHERE key = ?", (key,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def put(db: aiosqlite.Connection, key: str, value: str) -> None:
    async with transaction(db):
        await db.execute(
            "INSERT INTO bot_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


async def delete(db: aiosqlite.Connection, key: str) -> None:
    async with transaction(db):
        await db.execute("DELETE FROM bot_meta WHERE key = ?", (key,))
