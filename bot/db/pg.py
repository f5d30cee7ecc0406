"""PostgreSQL through asyncpg: the shared store for processes on several machines.

`PgDatabase` offers the part of aiosqlite's connection the query modules in `bot.db`
use (`execute`, `execute_fetchall`, `executemany`, results that are awaited or used
with `async with`), over an asyncpg pool, so one query function serves both
backends where the SQL is the same. Where the dialects differ, the module keeps
both statements side by side and asks `is_postgres(db)`.

Statements are written with SQLite's placeholders (`?`, `?1`); they become
PostgreSQL's (`$1`) once per distinct statement. A transaction (see
`bot.db.connection.transaction`) holds one pooled connection; every statement the
same task runs inside it uses that connection (a context variable), while other
tasks go on through the pool.

Migrations are numbered like SQLite's (`migrations_pg/V{n}__name.sql`, the same
numbers), applied in one transaction under an advisory lock, so processes starting
together apply them once. The schema's version is kept in `storyshelf_schema`.

Other processes' changes are seen through the V8 counters (`bot.db.versions`),
read at each use: see there why not LISTEN/NOTIFY.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import asyncpg

__all__ = (
    "PgDatabase",
    "is_postgres",
    "migrate_pg",
    "open_pg",
    "to_pg",
)

log = logging.getLogger(__name__)

# Any number that is the same in every process: the migration's advisory lock.
_MIGRATION_LOCK = 0x5707_5E1F
_PLACEHOLDER = re.compile(r"\?(\d*)")


@lru_cache(maxsize=4096)
def to_pg(sql: str) -> str:
    """SQLite placeholders as PostgreSQL's: `?` numbered in order, `?N` as `$N`."""
    counter = 0

    def number(match: re.Match[str]) -> str:
        nonlocal counter
        if match[1]:
            return "$" + match[1]
        counter += 1
        return f"${counter}"

    return _PLACEHOLDER.sub(number, sql)


def is_postgres(db: object) -> bool:
    return isinstance(db, PgDatabase)


def _rowcount(status: str) -> int:
    # "UPDATE 3", "DELETE 0", "INSERT 0 1"
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PgCursor:
    """A finished statement's rows and count, shaped like aiosqlite's cursor."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[asyncpg.Record], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    async def fetchone(self) -> asyncpg.Record | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return self._rows

    async def close(self) -> None:
        pass

    def __aiter__(self) -> AsyncIterator[asyncpg.Record]:
        async def rows() -> AsyncIterator[asyncpg.Record]:
            for row in self._rows:
                yield row

        return rows()


class _Statement:
    """`await db.execute(...)` or `async with db.execute(...) as cursor`."""

    __slots__ = ("_run",)

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self) -> Any:
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        cursor: PgCursor = await self._run
        return cursor

    async def __aexit__(self, *exc: object) -> None:
        pass


def _returns_rows(sql: str) -> bool:
    head = sql.lstrip()[:7].upper()
    return head.startswith(("SELECT", "WITH", "VALUES", "SHOW")) or " RETURNING " in sql.upper()


class PgDatabase:
    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = url
        self._tx: ContextVar[asyncpg.Connection | None] = ContextVar(
            f"storyshelf_pg_tx_{id(self)}", default=None
        )

    # ------------------------------------------------------------ statements

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        current = self._tx.get()
        if current is not None:
            yield current
            return
        async with self.pool.acquire() as conn:
            yield conn

    async def _run(self, sql: str, params: Sequence[Any]) -> PgCursor:
        statement = to_pg(sql)
        async with self._connection() as conn:
            if _returns_rows(sql):
                rows = await conn.fetch(statement, *params)
                return PgCursor(rows, len(rows))
            status = await conn.execute(statement, *params)
        return PgCursor([], _rowcount(status))

    def execute(self, sql: str, parameters: Iterable[Any] = ()) -> _Statement:
        return _Statement(self._run(sql, tuple(parameters)))

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
        async with self._connection() as conn:
            return list(await conn.fetch(to_pg(sql), *tuple(parameters)))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(row) for row in rows]
        if not rows:
            return
        async with self._connection() as conn:
            await conn.executemany(to_pg(sql), rows)

    # ------------------------------------------------------------ transactions

    @property
    def in_transaction(self) -> bool:
        return self._tx.get() is not None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgDatabase]:
        """One transaction on one pooled connection for this task's statements inside it."""
        if self._tx.get() is not None:
            yield self  # already inside one: a single unit of work
            return
        async with self.pool.acquire() as conn:
            token = self._tx.set(conn)
            try:
                async with conn.transaction():
                    yield self
            finally:
                self._tx.reset(token)

    async def close(self) -> None:
        await self.pool.close()


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Statements never wait on another transaction's row locks for long: a moment
    # past it, the command answers "busy, try again" and the feedback writer retries.
    await conn.execute("SET lock_timeout = '5s'")
    # asyncpg prepares every statement; after five runs PostgreSQL may switch a
    # prepared statement to a generic plan, blind to the searched words: /search went
    # from 8 ms to 46-57 ms at 10,000 stories on its sixth run (bench/commands_bench.py).
    await conn.execute("SET plan_cache_mode = force_custom_plan")


async def _keep(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to the pool: the bot sets nothing
    per session beyond `_init_connection`, listens to nothing, and its advisory locks
    are per transaction. (asyncpg's default reset is a round trip per statement.)"""


def describe_url(url: str) -> str:
    """host:port/database of a PostgreSQL URL, for messages: never its user's password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
    except ValueError:
        return "(an unreadable PostgreSQL URL)"
    database = parts.path.lstrip("/") or (parts.username or "postgres")
    return f"{host}:{port}/{database}"


def scrub(text: str, url: str) -> str:
    """`text` without the URL or its password (in case a driver's message quotes them)."""
    text = text.replace(url, describe_url(url))
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        text = text.replace(f":{password}@", ":***@")
        if len(password) >= 4:  # a shorter one would blot out ordinary words
            text = text.replace(password, "***")
    return text


def _connect_failure(error: BaseException, url: str) -> str:
    where = describe_url(url)
    reason = scrub(" ".join(str(error).split()) or type(error).__name__, url)
    if isinstance(
        error, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return f"cannot use the PostgreSQL database at {where}: the login was refused: {reason}"
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return (
            f"cannot use the PostgreSQL database at {where}: {reason};"
            " create the database first (createdb)"
        )
    if isinstance(error, TimeoutError):
        return f"cannot use the PostgreSQL database at {where}: no answer in time"
    if isinstance(error, OSError):
        text = scrub(error.strerror or reason, url)
        return f"cannot use the PostgreSQL database at {where}: cannot reach it: {text}"
    if isinstance(error, ValueError):
        return f"DATABASE_URL is not a usable PostgreSQL address: {reason}"
    return f"cannot use the PostgreSQL database at {where}: {reason}"


# How long start-up waits for the server to answer before saying it cannot reach it.
CONNECT_TIMEOUT_S = 10.0


async def open_pg(url: str, *, min_size: int = 1, max_size: int = 10) -> PgDatabase:
    """A pool on `url`, migrated to the latest schema.

    Raises DatabaseError with one line (without the password) when the server cannot
    be reached or refuses the connection."""
    from bot.db.connection import DatabaseError

    try:
        pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            reset=_keep,
            timeout=CONNECT_TIMEOUT_S,
        )
    except (
        OSError,
        TimeoutError,
        ValueError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    ) as error:
        raise DatabaseError(_connect_failure(error, url)) from None
    assert pool is not None
    db = PgDatabase(pool, url)
    try:
        async with pool.acquire() as conn:
            encoding = await conn.fetchval("SHOW server_encoding")
            if encoding != "UTF8":
                raise DatabaseError(
                    f"the PostgreSQL database at {describe_url(url)} uses the {encoding}"
                    " encoding; stories need UTF8 (createdb --encoding UTF8 --template template0)"
                )
            await migrate_pg(conn)
    except BaseException:
        await db.close()
        raise
    return db


async def check_server(url: str) -> None:
    """Reach the server and bring its schema up to date (start-up, before logging in)."""
    db = await open_pg(url, min_size=1, max_size=1)
    await db.close()


async def schema_version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('storyshelf_schema') IS NOT NULL")
    if not exists:
        return 0
    return int(await conn.fetchval("SELECT version FROM storyshelf_schema"))


async def migrate_pg(conn: asyncpg.Connection, *, target: int | None = None) -> int:
    """Apply pending migrations in one transaction under an advisory lock."""
    from bot.db.connection import DatabaseError, load_migrations

    migrations = load_migrations("migrations_pg")
    target = len(migrations) if target is None else target
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        current = await schema_version(conn)
        if current > len(migrations):
            raise DatabaseError(
                f"the database is at schema version {current}, newer than this bot knows "
                f"({len(migrations)}); upgrade the bot"
            )
        pending = [m for m in migrations if current < m.version <= target]
        if not pending:
            return current
        if current == 0:
            await conn.execute("CREATE TABLE storyshelf_schema (version integer NOT NULL)")
            await conn.execute("INSERT INTO storyshelf_schema VALUES (0)")
        for migration in pending:
            await conn.execute(migration.sql)
        await conn.execute("UPDATE storyshelf_schema SET version = $1", pending[-1].version)
    log.info("database migrated from version %d to %d", current, pending[-1].version)
    return pending[-1].version
