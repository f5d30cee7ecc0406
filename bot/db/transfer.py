"""`python -m bot migrate`: copy a SQLite shelf into PostgreSQL, losslessly and verified.

The SQLite file is opened read-only (never migrated, never modified) and read in one
read transaction, so the copy is one consistent snapshot even while a bot runs on it.
The PostgreSQL database is migrated first (`open_pg`), then every table is copied in
one transaction: rows in batches through COPY (`copy_records_to_table`), ids kept,
the CJK search rows computed as the bot computes them, the id sequences and the story
id high-water mark moved past what was copied. Before the commit every table is read
back and compared with the source, by count and by an order-independent checksum;
any difference rolls everything back. So the target holds either the whole shelf,
verified, or nothing of it.

Tables of the bot's own bookkeeping are merged rather than appended when the target
already has rows: `bot_meta` takes the source's values, `guild_versions` keeps every
counter at least as high as either side had it (a running process notices the
change), and `story_id_high_water` never goes down (ids are never reused).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import cjk
from bot.db.connection import DatabaseError, check_database, latest_version
from bot.db.pg import describe_url, scrub
from bot.settings import Settings

__all__ = (
    "TABLES",
    "TableReport",
    "TransferReport",
    "add_migrate_command",
    "cmd_migrate",
    "copy_shelf",
)

# Every table of the shelf, in an order foreign keys accept. The full-text tables of
# SQLite (section_fts, story_title_fts, section_cjk_fts) are not copied: PostgreSQL
# computes `sections.search` itself, and `section_cjk` is filled from the text.
TABLES: tuple[str, ...] = (
    "guild_settings",
    "stories",
    "sections",
    "excerpt_posts",
    "reactions",
    "audit_log",
    "bot_meta",
    "reading_progress",
    "reading_clubs",
    "club_posts",
    "story_id_high_water",
    "guild_versions",
)
# Merged into what the target already holds instead of appended (see the module's doc).
_MERGED = frozenset({"bot_meta", "story_id_high_water", "guild_versions"})
# Primary keys, for reading in a stable order (and `stories` in id order: PostgreSQL's
# trigger accepts only ids above the high-water mark, which each insert raises).
_ORDER = {
    "guild_settings": "guild_id",
    "stories": "id",
    "sections": "id",
    "excerpt_posts": "message_id",
    "reactions": "message_id, emoji, user_id",
    "audit_log": "id",
    "bot_meta": "key",
    "reading_progress": "guild_id, user_id, story_id",
    "reading_clubs": "id",
    "club_posts": "club_id, section",
    "story_id_high_water": "last",
    "guild_versions": "guild_id",
}
# BIGSERIAL ids: their sequences must issue ids above the copied ones.
_SERIAL_TABLES = ("sections", "audit_log", "reading_clubs")
# What makes a target "not empty": rows an operator would lose track of by mixing shelves.
_CONTENT = (
    ("stories", "stories"),
    ("excerpt_posts", "excerpt posts"),
    ("guild_settings", "server settings"),
    ("audit_log", "audit log rows"),
    ("reading_progress", "reading bookmarks"),
    ("reading_clubs", "reading clubs"),
)
_MODULUS = 1 << 256
_CONNECT_TIMEOUT_S = 30.0


# ----------------------------------------------------------------------------- report


@dataclass(slots=True)
class TableReport:
    table: str
    source_rows: int
    copied: int
    target_rows: int
    checksum: str  # the source's, as hex (a prefix is shown)
    verified: bool = False
    note: str = ""


@dataclass(slots=True)
class TransferReport:
    source: Path
    target: str  # host:port/database, never the password
    tables: list[TableReport] = field(default_factory=list)
    cjk_rows: int = 0
    into_nonempty: bool = False

    def table(self, name: str) -> TableReport:
        return next(t for t in self.tables if t.table == name)

    @property
    def counts(self) -> dict[str, int]:
        return {t.table: t.copied for t in self.tables}

    @property
    def verified(self) -> bool:
        return bool(self.tables) and all(t.verified for t in self.tables)

    def lines(self) -> list[str]:
        width = max((len(t.table) for t in self.tables), default=10)
        out = [f"from {self.source} to {self.target}"]
        for t in self.tables:
            status = "checksum ok" if t.verified else "NOT VERIFIED"
            line = f"  {t.table:<{width}}  {t.copied:>9,} rows copied  {status} ({t.checksum[:12]})"
            if t.note:
                line += f"; {t.note}"
            out.append(line)
        out.append(f"  {'section_cjk':<{width}}  {self.cjk_rows:>9,} rows computed (CJK search)")
        return out

    def summary(self) -> str:
        c = self.counts
        state = "verified" if self.verified else "NOT verified"
        return (
            f"copied {c.get('stories', 0):,} stories, {c.get('sections', 0):,} sections,"
            f" {c.get('excerpt_posts', 0):,} excerpt posts, {c.get('reactions', 0):,} reactions"
            f" and {c.get('audit_log', 0):,} audit rows to {self.target}: {state}"
        )


# ----------------------------------------------------------------------------- checksums


def _row_hash(row: Sequence[Any]) -> int:
    values = tuple(_normal(value) for value in row)
    digest = hashlib.sha256(repr(values).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest, "big")


def _normal(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


@dataclass(slots=True)
class _Digest:
    """An order-independent digest of a multiset of rows: the sum of their hashes."""

    rows: int = 0
    total: int = 0

    def add(self, row: Sequence[Any]) -> None:
        self.rows += 1
        self.total = (self.total + _row_hash(row)) % _MODULUS

    def plus(self, other: _Digest) -> _Digest:
        return _Digest(self.rows + other.rows, (self.total + other.total) % _MODULUS)

    @property
    def hex(self) -> str:
        return f"{self.total:064x}"

    @classmethod
    def of(cls, rows: Iterable[Sequence[Any]]) -> _Digest:
        digest = cls()
        for row in rows:
            digest.add(row)
        return digest


# ----------------------------------------------------------------------------- the source


def _open_source(source: Path) -> sqlite3.Connection:
    """The SQLite shelf, read-only, checked to be a Storyshelf database at the latest schema."""
    try:
        if not source.exists():
            raise DatabaseError(f"there is no SQLite shelf at {source} (check --from)")
        if source.is_dir():
            raise DatabaseError(f"{source} is a directory, not a SQLite shelf (check --from)")
        if source.stat().st_size == 0:
            raise DatabaseError(f"{source} is empty: it is not a Storyshelf database")
    except OSError as error:
        raise DatabaseError(f"cannot read {source}: {error.strerror or error}") from None
    check_database(source, thorough=False)  # "not a SQLite database", without touching it
    try:
        conn = sqlite3.connect(
            source.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None, timeout=5.0
        )
    except sqlite3.Error as error:
        raise DatabaseError(f"cannot open {source} read-only: {_one_line(error)}") from None
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        }
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error as error:
        conn.close()
        raise DatabaseError(f"cannot read {source}: {_one_line(error)}") from None
    if "stories" not in tables or "sections" not in tables or version == 0:
        conn.close()
        raise DatabaseError(f"{source} is a SQLite database but not a Storyshelf shelf")
    latest = latest_version()
    if version < latest:
        conn.close()
        raise DatabaseError(
            f"{source} is at schema version {version}, older than this bot's ({latest}): "
            "start the bot once on it (DATABASE_PATH) so it upgrades the file, "
            "stop it, then run migrate again"
        )
    if version > latest:
        conn.close()
        raise DatabaseError(
            f"{source} is at schema version {version}, newer than this bot knows "
            f"({latest}); upgrade the bot, then run migrate again"
        )
    missing = [name for name in TABLES if name not in tables]
    if missing:
        conn.close()
        raise DatabaseError(f"{source} lacks the tables {', '.join(missing)}: is it damaged?")
    unknown = sorted(tables - set(TABLES) - _search_tables(conn))
    if unknown:
        conn.close()
        raise DatabaseError(
            f"{source} has tables this tool does not know ({', '.join(unknown)}); "
            "nothing was copied"
        )
    return conn


def _search_tables(conn: sqlite3.Connection) -> set[str]:
    """FTS5 tables and their shadow tables: rebuilt on PostgreSQL, not copied."""
    virtual = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
        )
    ]
    names = set(virtual)
    for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'"):
        if any(row[0].startswith(v + "_") for v in virtual):
            names.add(row[0])
    names.update(("sqlite_sequence", "sqlite_stat1", "sqlite_stat4"))
    return names


def _sqlite_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _one_line(error: BaseException | str) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:299] + "…"


# ----------------------------------------------------------------------------- the target


@asynccontextmanager
async def _target(url: str) -> AsyncIterator[Any]:
    """One connection to the migrated target database."""

    from bot.db.pg import open_pg

    if not url.startswith(("postgresql://", "postgres://")):
        raise DatabaseError("--to must be a PostgreSQL URL (postgresql://user@host:port/database)")
    try:
        db = await asyncio.wait_for(open_pg(url, min_size=1, max_size=1), _CONNECT_TIMEOUT_S)
    except TimeoutError:
        where = describe_url(url)
        raise DatabaseError(f"cannot reach PostgreSQL at {where}: no answer in time") from None
    try:
        async with db.pool.acquire() as conn:
            yield conn
    finally:
        await db.close()


async def _pg_columns(conn: Any, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'"
        " ORDER BY ordinal_position",
        table,
    )
    return [row[0] for row in rows]


async def _contents(conn: Any) -> list[str]:
    found = []
    for table, what in _CONTENT:
        count = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        if count:
            found.append(f"{count:,} {what}")
    return found


async def _digest_pg(conn: Any, table: str, columns: Sequence[str]) -> _Digest:
    digest = _Digest()
    sql = f"SELECT {', '.join(columns)} FROM {table}"
    async for row in conn.cursor(sql, prefetch=500):
        digest.add(tuple(row))
    return digest


def _digest_sqlite(conn: sqlite3.Connection, table: str, columns: Sequence[str]) -> _Digest:
    digest = _Digest()
    cursor = conn.execute(f"SELECT {', '.join(columns)} FROM {table}")
    while rows := cursor.fetchmany(1000):
        for row in rows:
            digest.add(row)
    cursor.close()
    return digest


async def _rows_pg(conn: Any, table: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.fetch(f"SELECT {', '.join(columns)} FROM {table}")]


# ----------------------------------------------------------------------------- the copy


async def copy_shelf(
    source: Path,
    target_url: str,
    *,
    allow_nonempty: bool = False,
    batch: int = 1000,
) -> TransferReport:
    """Copy the SQLite shelf at `source` into the PostgreSQL database at `target_url`.

    One PostgreSQL transaction: the target ends with the whole shelf, verified table
    by table against the source, or exactly as it was. Raises DatabaseError (one line,
    no password) for what an operator can fix.
    """
    source = Path(source)
    batch = max(1, int(batch))
    report = TransferReport(source, describe_url(target_url), into_nonempty=allow_nonempty)
    conn_sqlite = _open_source(source)
    try:
        conn_sqlite.execute("BEGIN")  # one snapshot of the whole shelf
        async with _target(target_url) as conn:
            await _check_columns(conn_sqlite, conn)
            try:
                async with conn.transaction():
                    await _copy_all(conn_sqlite, conn, report, allow_nonempty, batch)
            except (DatabaseError, sqlite3.Error):
                raise
            except Exception as error:
                raise _copy_failure(error, target_url) from error
    except sqlite3.Error as error:
        raise DatabaseError(
            f"cannot read {source}: {_one_line(error)}; nothing was copied"
        ) from None
    finally:
        conn_sqlite.close()
    return report


async def _check_columns(source: sqlite3.Connection, conn: Any) -> None:
    for table in TABLES:
        theirs = await _pg_columns(conn, table)
        ours = _sqlite_columns(source, table)
        if set(theirs) != set(ours):
            raise DatabaseError(
                f"table {table} has columns {sorted(ours)} on SQLite but {sorted(theirs)}"
                " on PostgreSQL: this bot's two schemas disagree; nothing was copied"
            )


def _copy_failure(error: BaseException, url: str) -> DatabaseError:
    import asyncpg

    where = describe_url(url)
    table = getattr(error, "table_name", None)
    if isinstance(error, _TableError):
        table, error = error.table, error.error
    detail = getattr(error, "detail", None)
    if isinstance(error, asyncpg.UniqueViolationError):
        return DatabaseError(
            f"{table or 'a table'} in {where} already holds a row with the same key"
            f" ({scrub(_one_line(detail or error), url)}); nothing was copied, the target is"
            " unchanged"
        )
    if isinstance(error, asyncpg.LockNotAvailableError):
        return DatabaseError(
            f"{where} is busy (another process holds its tables); nothing was copied, try again"
            " with the bots on it stopped"
        )
    if isinstance(error, asyncpg.PostgresConnectionError | OSError | asyncpg.InterfaceError):
        return DatabaseError(
            f"lost the connection to {where} ({scrub(_one_line(error), url)});"
            " nothing was copied, the target is unchanged"
        )
    reason = scrub(_one_line(error), url)
    if detail:
        reason += f" ({scrub(_one_line(detail), url)})"
    at = f" table {table} of" if table else ""
    return DatabaseError(
        f"copying into{at} {where} failed: {reason}; nothing was copied, the target is unchanged"
    )


class _TableError(Exception):
    def __init__(self, table: str, error: BaseException) -> None:
        super().__init__(f"{table}: {error}")
        self.table = table
        self.error = error


async def _copy_all(
    source: sqlite3.Connection, conn: Any, report: TransferReport, allow_nonempty: bool, batch: int
) -> None:
    # Writers wait until the commit; readers go on. A bot running on the target cannot
    # slip a row in between the look at what is there and the verification.
    await conn.execute(f"LOCK TABLE {', '.join(TABLES)}, section_cjk IN SHARE ROW EXCLUSIVE MODE")
    present = await _contents(conn)
    if present and not allow_nonempty:
        raise DatabaseError(
            f"{report.target} is not empty (it holds {', '.join(present)}); nothing was copied."
            " To add this shelf to it anyway, run again with --into-nonempty"
            " (rows whose ids clash make the whole copy fail, leaving it unchanged)"
        )
    columns = {table: _sqlite_columns(source, table) for table in TABLES}
    before: dict[str, _Digest] = {}
    for table in TABLES:
        count = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        before[table] = await _digest_pg(conn, table, columns[table]) if count else _Digest()
    cjk_before = int(await conn.fetchval("SELECT count(*) FROM section_cjk"))
    merged_before = {
        table: await _rows_pg(conn, table, columns[table]) for table in sorted(_MERGED)
    }
    streamed_digests: dict[str, _Digest] = {}

    # Appended tables, in foreign-key order.
    high_water_before = int(
        await conn.fetchval("SELECT coalesce(max(last), 0) FROM story_id_high_water")
    )
    if not await conn.fetchval("SELECT count(*) FROM story_id_high_water"):
        await conn.execute("INSERT INTO story_id_high_water (last) VALUES (0)")
    # Story ids are checked against the high-water mark, which every insert raises: copy
    # them in id order from below; the mark is set for good afterwards.
    await conn.execute("UPDATE story_id_high_water SET last = 0")
    cjk_rows = 0
    for table in TABLES:
        if table in _MERGED:
            continue
        streamed = _Digest()
        cols = columns[table]
        cursor = source.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {_ORDER[table]}")
        while rows := cursor.fetchmany(batch):
            for row in rows:
                streamed.add(row)
            try:
                await conn.copy_records_to_table(table, records=rows, columns=cols)
                if table == "sections":
                    cjk_rows += await _copy_cjk(conn, cols, rows)
            except Exception as error:
                raise _TableError(table, error) from error
        cursor.close()
        streamed_digests[table] = streamed

    # Merged tables.
    source_meta = source.execute("SELECT key, value FROM bot_meta").fetchall()
    await conn.executemany(
        "INSERT INTO bot_meta (key, value) VALUES ($1, $2)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        source_meta,
    )
    meta = dict(merged_before["bot_meta"])
    meta.update(dict(source_meta))

    source_high = source.execute("SELECT last FROM story_id_high_water").fetchall()
    copied_max = await conn.fetchval("SELECT coalesce(max(id), 0) FROM stories")
    high = max([high_water_before, int(copied_max), *(int(r[0]) for r in source_high)])
    await conn.execute("UPDATE story_id_high_water SET last = $1", high)

    version_cols = columns["guild_versions"]
    source_versions = source.execute(
        f"SELECT {', '.join(version_cols)} FROM guild_versions"
    ).fetchall()
    versions = _merge_versions(
        version_cols,
        await _rows_pg(conn, "guild_versions", version_cols),  # with the triggers' bumps
        source_versions,
    )
    await conn.execute("DELETE FROM guild_versions")
    await conn.copy_records_to_table("guild_versions", records=versions, columns=version_cols)

    # Verification: both sides read back (the source in the same snapshot, the target in
    # this transaction), before the commit.
    source_digests = {table: _digest_sqlite(source, table, columns[table]) for table in TABLES}
    for table, streamed in streamed_digests.items():
        if (streamed.rows, streamed.total) != (
            source_digests[table].rows,
            source_digests[table].total,
        ):
            raise DatabaseError(
                f"{table} read differently twice from the source; nothing was copied"
            )
    expected: dict[str, _Digest] = {
        table: before[table].plus(source_digests[table]) for table in TABLES if table not in _MERGED
    }
    expected["bot_meta"] = _Digest.of(sorted(meta.items()))
    expected["story_id_high_water"] = _Digest.of([(high,)])
    expected["guild_versions"] = _Digest.of(versions)
    failures = []
    for table in TABLES:
        src = source_digests[table]
        after = await _digest_pg(conn, table, columns[table])
        ok = after.rows == expected[table].rows and after.total == expected[table].total
        note = ""
        if table in _MERGED and (after.rows != src.rows or after.total != src.total):
            note = "merged with the target's own rows"
        report.tables.append(TableReport(table, src.rows, src.rows, after.rows, src.hex, ok, note))
        if not ok:
            failures.append(
                f"{table} (expected {expected[table].rows} rows, found {after.rows}"
                f"{'' if after.rows != expected[table].rows else ', contents differ'})"
            )
    cjk_after = int(await conn.fetchval("SELECT count(*) FROM section_cjk"))
    report.cjk_rows = cjk_rows
    if cjk_after != cjk_before + cjk_rows:
        failures.append(f"section_cjk (expected {cjk_before + cjk_rows} rows, found {cjk_after})")
    if failures:
        raise DatabaseError(
            f"verification failed for {', '.join(failures)}; nothing was copied (rolled back)"
        )
    # Last, once nothing can fail any more: a sequence's setval is not undone by a rollback.
    for table in _SERIAL_TABLES:
        await _advance_sequence(conn, table)


async def _copy_cjk(conn: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """section_cjk rows for the sections of one batch that hold CJK text."""
    at_id, at_body = columns.index("id"), columns.index("body")
    ids, grams = [], []
    for row in rows:
        body = row[at_body]
        if isinstance(body, str) and cjk.has_cjk(body):
            ids.append(row[at_id])
            grams.append(cjk.grams(body))
    if ids:
        await conn.execute(
            "INSERT INTO section_cjk (section_id, grams)"
            " SELECT g.id, to_tsvector('simple', g.grams)"
            " FROM unnest($1::bigint[], $2::text[]) AS g (id, grams)",
            ids,
            grams,
        )
    return len(ids)


def _merge_versions(
    columns: Sequence[str], target: Sequence[Sequence[Any]], source: Sequence[Sequence[Any]]
) -> list[tuple[Any, ...]]:
    """Per server, each counter at least as high as either side has it.

    `target` already holds the triggers' bumps for the copied stories and settings, so
    a server both sides know ends above what a running process remembers of it.
    """
    key = columns.index("guild_id")
    merged: dict[int, list[Any]] = {}
    for row in (*target, *source):
        current = merged.get(row[key])
        if current is None:
            merged[row[key]] = list(row)
            continue
        for i, value in enumerate(row):
            if i != key:
                current[i] = max(int(current[i]), int(value))
    return [tuple(merged[guild]) for guild in sorted(merged)]


async def _advance_sequence(conn: Any, table: str) -> None:
    sequence = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
    if sequence is None:
        return
    state = await conn.fetchrow(f"SELECT last_value, is_called FROM {sequence}")
    issued = int(state["last_value"]) if state["is_called"] else 0
    highest = await conn.fetchval(f"SELECT max(id) FROM {table}")
    if highest is not None and int(highest) > issued:
        await conn.execute("SELECT setval($1, $2)", sequence, int(highest))


# ----------------------------------------------------------------------------- the command


def add_migrate_command(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "migrate",
        help="copy a SQLite shelf into a PostgreSQL database (verified, all or nothing)",
        description=(
            "Copy every table of a SQLite shelf into PostgreSQL in one transaction, then "
            "verify each table by count and checksum before committing. The SQLite file "
            "is only read."
        ),
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        type=Path,
        help="the SQLite shelf (default: DATABASE_PATH)",
    )
    parser.add_argument(
        "--to",
        dest="target",
        metavar="URL",
        help="the PostgreSQL database, postgresql://user:password@host:port/db"
        " (default: DATABASE_URL)",
    )
    parser.add_argument(
        "--into-nonempty",
        dest="into_nonempty",
        action="store_true",
        help="copy even if the target already holds stories, posts, settings or audit rows",
    )
    return parser


def _fail(message: str, status: int = 2) -> int:
    print(f"storyshelf: {' '.join(message.split())}", file=sys.stderr)
    return status


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    source = Path(args.source) if getattr(args, "source", None) else settings.database_path
    target = getattr(args, "target", None) or settings.database_url
    if not target:
        return _fail("say where to copy the shelf: --to postgresql://… (or set DATABASE_URL)")
    try:
        report = asyncio.run(
            copy_shelf(source, target, allow_nonempty=bool(getattr(args, "into_nonempty", False)))
        )
    except DatabaseError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted: nothing was copied (the transaction was rolled back)", 130)
    for line in report.lines():
        print(line)
    print(report.summary())
    return 0
