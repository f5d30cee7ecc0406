"""Opening the database and applying migrations."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

__all__ = (
    "BUSY_TIMEOUT_MS",
    "DatabaseError",
    "Migration",
    "connect_sync",
    "latest_version",
    "load_migrations",
    "migrate",
    "open_database",
    "transaction",
)

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
_MIGRATION_NAME = re.compile(r"^V(\d+)__([\w-]+)\.sql$")


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    folder = resources.files("bot.db").joinpath("migrations")
    migrations = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            migrations.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
    migrations.sort(key=lambda m: m.version)
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise DatabaseError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return migrations


def latest_version() -> int:
    return len(load_migrations())


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def migrate(conn: sqlite3.Connection, *, target: int | None = None) -> int:
    """Apply pending migrations in one transaction; return the resulting version."""
    migrations = load_migrations()
    target = len(migrations) if target is None else target
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > len(migrations):
        raise DatabaseError(
            f"the database is at schema version {current}, newer than this bot knows "
            f"({len(migrations)}); upgrade the bot"
        )
    pending = [m for m in migrations if current < m.version <= target]
    if not pending:
        return current
    # executescript commits anything open first, then runs our BEGIN..COMMIT as one unit.
    script = "BEGIN IMMEDIATE;\n"
    script += "\n".join(m.sql for m in pending)
    script += f"\nPRAGMA user_version = {pending[-1].version};\nCOMMIT;\n"
    try:
        conn.executescript(script)
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    log.info("database migrated from version %d to %d", current, pending[-1].version)
    return pending[-1].version


def connect_sync(path: Path | str, *, apply_migrations: bool = True) -> sqlite3.Connection:
    """A configured synchronous connection (command line, imports, start-up checks).

    Raises DatabaseError with one readable line when the file is not a usable
    SQLite database; the file is never modified in that case.
    """
    path = Path(path)
    if path.exists() and path.is_file():
        _check_header(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _configure(conn)
        if apply_migrations:
            migrate(conn)
    except sqlite3.DatabaseError as error:
        conn.close()
        raise DatabaseError(f"cannot use the database at {path}: {error}") from error
    except BaseException:
        conn.close()
        raise
    return conn


def _check_header(path: Path) -> None:
    # Opening a non-database with WAL pragmas could write a -wal/-shm beside it;
    # look at the header first so a wrong path is left exactly as it was.
    with path.open("rb") as handle:
        header = handle.read(16)
    if header and header != b"SQLite format 3\x00":
        raise DatabaseError(
            f"{path} is not a SQLite database (check DATABASE_PATH); the file was left untouched"
        )


async def open_database(
    path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> aiosqlite.Connection:
    """The bot's long-lived connection, migrated to the latest schema."""
    # Migrate on a short-lived synchronous connection: one code path for the bot
    # and the command line, and start-up errors surface before anything else runs.
    connect_sync(path).close()
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        # Pragmas that answer with a row leave a statement open until the cursor
        # closes, and an open statement makes COMMIT fail: close each one.
        for pragma in (
            f"PRAGMA busy_timeout = {busy_timeout_ms}",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
        ):
            async with conn.execute(pragma):
                pass
    except BaseException:
        await conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


_WRITE_LOCKS: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def transaction(db: aiosqlite.Connection) -> AsyncIterator[aiosqlite.Connection]:
    """One write transaction on the shared connection.

    The bot's coroutines share one connection, so writers take turns: without
    the lock, one coroutine's statement could land inside (and be rolled back
    with) another's transaction.
    """
    lock = _WRITE_LOCKS.get(db)
    if lock is None:
        lock = _WRITE_LOCKS[db] = asyncio.Lock()
    async with lock:
        async with db.execute("BEGIN IMMEDIATE"):
            pass
        try:
            yield db
            async with db.execute("COMMIT"):
                pass
        except BaseException:
            if db.in_transaction:
                async with db.execute("ROLLBACK"):
                    pass
            raise
