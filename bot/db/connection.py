"""Opening the database and applying migrations."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import sqlite3
import stat
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot import cjk
from bot.db.pg import is_postgres
from bot.settings import Settings
from bot.titles import title_key

if TYPE_CHECKING:
    from bot.db.pg import PgDatabase

__all__ = (
    "DatabaseError",
    "Migration",
    "check_database",
    "close_database",
    "connect_sync",
    "is_busy",
    "latest_version",
    "load_migrations",
    "migrate",
    "open_database",
    "transaction",
)

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^V(\d+)__([\w-]+)\.sql$")
# How long the read-only look at a file before use waits for a writer's lock.
_CHECK_TIMEOUT_S = 5.0
# The one default, for tools and tests that have no settings at hand: the
# operator's setting (BUSY_TIMEOUT_MS) is what the bot passes.
_SETTINGS_BUSY_TIMEOUT_MS: int = Settings().busy_timeout_ms


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one line for the operator."""


def is_busy(error: BaseException) -> bool:
    """Whether SQLite gave up waiting for another connection's lock (SQLITE_BUSY/LOCKED).

    Accepts the error as raised or wrapped (app_commands.CommandInvokeError).
    The statement that met the lock did not run, so nothing was written.
    """
    error = getattr(error, "original", error)
    if _pg_transient(error):
        return True
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary code in the low byte.
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return str(error).startswith(("database is locked", "database is busy", "database table is"))


def _pg_transient(error: BaseException) -> bool:
    """PostgreSQL's "try again": a lock not granted in time, a deadlock or serialization
    conflict, a connection lost or refused. The transaction was rolled back."""
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
    return isinstance(
        error,
        (
            asyncpg.LockNotAvailableError,
            asyncpg.DeadlockDetectedError,
            asyncpg.SerializationError,
            asyncpg.QueryCanceledError,
            asyncpg.PostgresConnectionError,
            asyncpg.ConnectionDoesNotExistError,
            asyncpg.CannotConnectNowError,
            asyncpg.TooManyConnectionsError,
            asyncpg.InterfaceError,
            ConnectionError,
        ),
    )


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(folder_name: str = "migrations") -> list[Migration]:
    """The numbered migrations of one backend: `migrations` (SQLite) or `migrations_pg`."""
    folder = resources.files("bot.db").joinpath(folder_name)
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


def _pragmas(busy_timeout_ms: int) -> tuple[str, ...]:
    """Every connection's settings, in one place for the synchronous and the bot's connection."""
    return (
        f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA foreign_keys = ON",
    )


def _configure(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    deadline = time.monotonic() + busy_timeout_ms / 1000
    for pragma in _pragmas(busy_timeout_ms):
        while True:
            try:
                conn.execute(pragma).close()
                break
            except sqlite3.OperationalError as error:
                # Turning a new file to WAL needs it to itself, and SQLite answers
                # "locked" at once rather than waiting (the busy handler is not asked):
                # another process starting on the same new file may hold it briefly.
                if not is_busy(error) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
    _register_functions(conn)


# Application functions SQL may call: migrations (V4, V7) compute title keys and CJK
# search grams the way the application does.
_FUNCTIONS = (
    ("storyshelf_title_key", title_key),
    ("storyshelf_cjk_grams", cjk.grams),
    ("storyshelf_has_cjk", cjk.has_cjk),
)


def _register_functions(conn: sqlite3.Connection) -> None:
    for name, function in _FUNCTIONS:
        conn.create_function(name, 1, function, deterministic=True)


def migrate(conn: sqlite3.Connection, *, target: int | None = None) -> int:
    """Apply pending migrations in one transaction; return the resulting version.

    The version is read inside the write transaction: two processes starting on a
    new file at once would otherwise both see version 0, and the second would run
    every migration again once the first had committed ("table already exists").
    """
    migrations = load_migrations()
    target = len(migrations) if target is None else target
    current = _user_version(conn)
    if current > len(migrations):
        raise DatabaseError(
            f"the database is at schema version {current}, newer than this bot knows "
            f"({len(migrations)}); upgrade the bot"
        )
    if current >= target:
        return current
    try:
        conn.execute("BEGIN IMMEDIATE")
        current = _user_version(conn)  # now that no other process can migrate
        pending = [m for m in migrations if current < m.version <= target]
        if pending:
            # executescript would commit the open transaction first: run each
            # statement of the scripts inside this one instead.
            for migration in pending:
                for statement in _statements(migration.sql):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {pending[-1].version}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    if not pending:
        return current
    log.info("database migrated from version %d to %d", current, pending[-1].version)
    return pending[-1].version


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _statements(script: str) -> list[str]:
    """A migration script's statements, split where SQLite says one is complete
    (a trigger's body holds semicolons of its own)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    if current.strip() and not current.strip().startswith("--"):
        statements.append(current)  # SQLite reports the incomplete statement's error
    return statements


def connect_sync(
    path: Path | str,
    *,
    apply_migrations: bool = True,
    busy_timeout_ms: int = _SETTINGS_BUSY_TIMEOUT_MS,
) -> sqlite3.Connection:
    """A configured synchronous connection (command line, imports, start-up checks).

    With `apply_migrations` (start-up and the importer) the file is first
    checked through and through; without it (the bot's per-upload connections)
    only that it is a database. Raises DatabaseError with one readable line when
    the path is not a usable SQLite database; the file is never modified in that case.
    """
    path = Path(path)
    memory = str(path) == ":memory:"
    if not memory:
        check_database(path, thorough=apply_migrations)
    try:
        if not memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as error:
        raise DatabaseError(f"cannot open the database at {path}: {_reason(error)}") from None
    try:
        _configure(conn, busy_timeout_ms)
        if apply_migrations:
            migrate(conn)
    except sqlite3.DatabaseError as error:
        conn.close()
        raise DatabaseError(f"cannot use the database at {path}: {_reason(error)}") from error
    except BaseException:
        conn.close()
        raise
    return conn


def check_database(path: Path, *, thorough: bool = True) -> None:
    """Refuse, with one line and without modifying anything, a path that is not a usable database.

    A missing or empty file is a new shelf (SQLite treats an empty file as an
    empty database, and `touch` is a common way to prepare the path).

    The file is only ever looked at through SQLite, never opened by Python:
    closing any descriptor on a database file drops every POSIX lock this
    process holds on it, SQLite's included, and another process that then
    closes its connection believes it is the last one and deletes the -wal
    with our commits in it. SQLite itself keeps such descriptors open while
    its locks are held.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise DatabaseError(f"cannot read the database at {path}: {_reason(error)}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DatabaseError(f"{path} is a directory, not a database file (check DATABASE_PATH)")
    if info.st_size == 0:
        return
    _look_inside(path, thorough=thorough)


def _look_inside(path: Path, *, thorough: bool) -> None:
    """Read the file through a read-only SQLite connection: its header, or all of it.

    Read-only, so a wrong path is left exactly as it was (no -wal/-shm beside a
    text file). `immutable` (no locks, no -wal/-shm created) only when no
    -wal, -shm or hot journal is beside the file: then no connection, in this
    process or another, has it open in WAL mode, so there are no locks of ours
    for the lock-less descriptor to drop when it closes. Otherwise SQLite
    must read (or roll back) those files too, with its usual locking.
    """
    sidecars = (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal"))
    immutable = not any(sidecar.exists() for sidecar in sidecars)
    uri = path.resolve().as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")
    # Reading the schema reads page 1, whose header SQLite checks (SQLITE_NOTADB);
    # quick_check reads every page.
    sql = "PRAGMA quick_check(1)" if thorough else "SELECT count(*) FROM sqlite_schema"
    damaged = (
        f"{path} is damaged and cannot be used as the shelf; the file was left untouched "
        "(restore it from a backup, or move it away to start an empty shelf)"
    )
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=_CHECK_TIMEOUT_S)
        try:
            answer = [row[0] for row in conn.execute(sql)]
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        if is_busy(error):
            raise DatabaseError(
                f"the database at {path} is locked by another process; try again"
            ) from None
        if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
            raise DatabaseError(
                f"{path} is not a SQLite database (check DATABASE_PATH); "
                "the file was left untouched"
            ) from None
        raise DatabaseError(f"{damaged}: {_reason(error)}") from None
    if thorough and answer != ["ok"]:
        raise DatabaseError(f"{damaged}: {_reason(answer[0] if answer else 'no answer')}")


def _reason(error: BaseException | str) -> str:
    """An error as one short line: SQLite's integrity reports can span lines."""
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


async def open_database(path: Path | str, *, busy_timeout_ms: int) -> aiosqlite.Connection:
    """The bot's long-lived connection, migrated to the latest schema.

    `busy_timeout_ms` is the operator's setting (Settings.busy_timeout_ms): how
    long a write waits for another process's lock before giving up.
    """
    # Migrate on a short-lived synchronous connection: one code path for the bot
    # and the command line, and start-up errors surface before anything else runs.
    connect_sync(path, busy_timeout_ms=busy_timeout_ms).close()
    # No statement cache. Python's sqlite3 hands the same prepared statement to every
    # cursor that runs the same SQL, and a cursor resets its statement when it is freed.
    # aiosqlite runs statements on its own thread but hands the cursors to the event
    # loop, which frees them whenever it drops them (a garbage collection can do so
    # long after): the reset then lands on the statement the database thread is
    # running for the next caller, and that call fails with "bad parameter or other
    # API misuse" (seen in the feedback writer under load). Without the cache each
    # cursor owns its statement, which nobody else is running when it is freed.
    # Preparing a statement costs tens of microseconds; a hop to the thread, milliseconds.
    conn = await aiosqlite.connect(path, isolation_level=None, cached_statements=0)
    try:
        # Pragmas that answer with a row leave a statement open until the cursor
        # closes, and an open statement makes COMMIT fail: close each one.
        for pragma in _pragmas(busy_timeout_ms):
            async with conn.execute(pragma):
                pass
        for name, function in _FUNCTIONS:
            await conn.create_function(name, 1, function, deterministic=True)
    except BaseException:
        await conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


_WRITE_LOCKS: weakref.WeakKeyDictionary[aiosqlite.Connection, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def close_database(db: aiosqlite.Connection | PgDatabase) -> None:
    """Close the shared connection for real, so SQLite checkpoints and removes the -wal.

    A statement still referenced by a cursor that is only reachable through a
    reference cycle (aiosqlite's result futures can form one) makes SQLite
    close the connection as a "zombie": the file stays open and the WAL stays
    beside it. Collecting such garbage first lets every statement finalize.
    """
    if is_postgres(db):
        await db.close()
        return
    gc.collect()
    await db.close()


@asynccontextmanager
async def transaction(db: Any) -> AsyncIterator[Any]:
    """One write transaction on the shared connection.

    The bot's coroutines share one connection, so writers take turns: without
    the lock, one coroutine's statement could land inside (and be rolled back
    with) another's transaction.

    A task cancelled while its BEGIN waits for another process's lock does not
    stop the BEGIN: it runs on aiosqlite's thread and may succeed afterwards.
    So BEGIN, COMMIT and ROLLBACK are each seen through to the end before the
    cancellation goes on, the rollback runs whenever a transaction is left
    open, and a transaction found open at the start (left by a task cancelled
    outside this function) is rolled back before a new one begins. Otherwise
    every later BEGIN fails with "cannot start a transaction within a transaction".
    """
    if is_postgres(db):
        async with db.transaction():
            yield db
        return
    lock = _WRITE_LOCKS.get(db)
    if lock is None:
        lock = _WRITE_LOCKS[db] = asyncio.Lock()
    async with lock:
        if db.in_transaction:
            log.warning("rolling back a transaction left open by a cancelled writer")
            await _run_to_end(db, "ROLLBACK")
        try:
            await _run_to_end(db, "BEGIN IMMEDIATE")
            yield db
            await _run_to_end(db, "COMMIT")
        except BaseException:
            if db.in_transaction:
                await _run_to_end(db, "ROLLBACK")
            raise


async def _execute(db: aiosqlite.Connection, sql: str) -> None:
    async with db.execute(sql):
        pass


async def _run_to_end(db: aiosqlite.Connection, sql: str) -> None:
    """Run a statement; if the caller is cancelled meanwhile, wait for it before going on.

    The wait is bounded by the busy timeout: SQLite gives up on a lock by then.
    """
    statement = asyncio.ensure_future(_execute(db, sql))
    try:
        await asyncio.shield(statement)
    except asyncio.CancelledError:
        while not statement.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({statement})
        if not statement.cancelled() and statement.exception() is not None:
            log.debug("%s failed after its caller was cancelled", sql)
        raise
