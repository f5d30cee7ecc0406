"""Backing up and restoring the shelf with SQLite's online backup API.

The database runs in WAL mode: recent writes can live in `storyshelf.db-wal`
until a checkpoint, so copying the `.db` file alone can miss them (or catch a
page half-written). The backup API reads through SQLite, inside one read
transaction, so the copy is one consistent moment of the database, and in
WAL mode that read never blocks the running bot's writes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.db.connection import DatabaseError, latest_version

__all__ = (
    "BackupError",
    "BackupInfo",
    "backup_database",
    "describe_database",
    "restore_database",
    "verify_backup",
)

# How long restore waits for other connections to let go before refusing.
RESTORE_LOCK_TIMEOUT_S = 0.5
# How long the backup's read waits for a writer's lock (a checkpoint, a migration).
_BUSY_TIMEOUT_S = 5.0


class BackupError(DatabaseError):
    """A backup or restore was refused or failed; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    schema_version: int
    stories: int
    bytes: int


def backup_database(source: Path, target: Path, *, overwrite: bool = False) -> BackupInfo:
    """Copy the live database at `source` to `target`, safe while the bot runs.

    Refuses an existing `target` unless `overwrite`; even then the old file is
    replaced only once the new copy is complete and checked.
    """
    if not _is_sqlite(source):
        raise BackupError(f"there is no Storyshelf database at {source} (check DATABASE_PATH)")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another name or pass --force")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give the backup a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".partial", dir=target.parent
        )
        os.close(handle)
    except OSError as error:
        raise BackupError(f"cannot write in {target.parent}: {_reason(error)}") from None
    partial = Path(temporary)
    try:
        with _closing(_connect(source)) as src, _closing(_connect(partial)) as dst:
            # pages=-1: the whole database in one step, one read transaction, so
            # the copy is a single consistent moment even while the bot writes.
            src.backup(dst, pages=-1)
            # One self-contained file: no -wal to forget when moving the backup around.
            dst.execute("PRAGMA journal_mode = DELETE")
        info = verify_backup(partial)
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise BackupError(f"the backup of {source} failed: {_reason(error)}") from None
    except OSError as error:
        raise BackupError(f"cannot write the backup to {target}: {_reason(error)}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(target, info.schema_version, info.stories, target.stat().st_size)


def verify_backup(path: Path) -> BackupInfo:
    """Check that `path` is a whole, undamaged Storyshelf database this bot can use."""
    if not _is_sqlite(path):
        raise BackupError(f"{path} is not a SQLite database")
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        with _closing(sqlite3.connect(uri, uri=True)) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check(1)")]
            if problems != ["ok"]:
                raise BackupError(f"{path} is damaged: {_reason(problems[0] if problems else '?')}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            stories = (
                conn.execute("SELECT count(*) FROM stories").fetchone()[0]
                if "stories" in tables
                else 0
            )
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read as a database: {_reason(error)}") from None
    if version < 1 or "stories" not in tables:
        raise BackupError(f"{path} is a SQLite file but not a Storyshelf database")
    if version > latest_version():
        raise BackupError(
            f"{path} was made by a newer Storyshelf (schema version {version}, this bot knows "
            f"{latest_version()}); upgrade the bot first"
        )
    return BackupInfo(path, version, stories, path.stat().st_size)


def describe_database(path: Path) -> BackupInfo | None:
    """What is at `path` now, or None when nothing (or no Storyshelf database) is there."""
    try:
        return verify_backup(path)
    except BackupError:
        return None


@dataclass(frozen=True, slots=True)
class RestoreResult:
    restored: BackupInfo
    # Where the database that was replaced went (None: there was none).
    previous: Path | None


def restore_database(
    backup: Path, target: Path, *, lock_timeout_s: float = RESTORE_LOCK_TIMEOUT_S
) -> RestoreResult:
    """Replace the database at `target` with `backup`; refused while anything has it open.

    The database that was there is first saved beside it
    (`storyshelf.db.before-restore-<time>`), so a restore by mistake loses nothing.
    """
    info = verify_backup(backup)
    if target.exists() and target.resolve() == backup.resolve():
        raise BackupError(f"{backup} is the database itself; name a backup file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot create the folder {target.parent}: {_reason(error)}") from None
    previous: Path | None = None
    try:
        with _exclusive(target, lock_timeout_s) as dst:
            if _has_tables(dst):
                previous = _unused(target, datetime.now(UTC).strftime("%Y%m%d-%H%M%S"))
                with _closing(sqlite3.connect(previous)) as keep:
                    dst.backup(keep)
            with _closing(_connect(backup)) as src:
                src.backup(dst)
            problems = [row[0] for row in dst.execute("PRAGMA integrity_check(1)")]
            if problems != ["ok"]:
                raise BackupError(f"the restored database failed its check: {problems[0]}")
    except sqlite3.Error as error:
        raise BackupError(f"restoring {backup} into {target} failed: {_reason(error)}") from None
    return RestoreResult(
        BackupInfo(target, info.schema_version, info.stories, info.bytes), previous
    )


@contextlib.contextmanager
def _exclusive(path: Path, timeout_s: float) -> Iterator[sqlite3.Connection]:
    """A connection that is the only one on the database, or BackupError.

    Leaving WAL mode needs every other connection gone: an open connection
    anywhere (the bot, a shell) holds a shared lock on the WAL index, so the
    switch fails with "database is locked" after `timeout_s`. Locks are taken
    through SQLite only; opening the file with Python's `open()` and closing
    it would drop another process's POSIX locks on it.
    """
    conn = sqlite3.connect(path, isolation_level=None, timeout=timeout_s)
    try:
        try:
            conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            # The exclusive lock is taken by the first write and kept until close.
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                raise BackupError(
                    f"the database at {path} is open in another process (is the bot running?); "
                    "stop it, then restore"
                ) from None
            raise
        if str(mode).lower() != "delete":
            raise BackupError(f"the database at {path} is open in another process; stop it first")
        yield conn
        # Back to the mode the bot runs in, while still the only connection.
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0


def _unused(target: Path, stamp: str) -> Path:
    candidate = target.with_name(f"{target.name}.before-restore-{stamp}")
    number = 1
    while candidate.exists():
        number += 1
        candidate = target.with_name(f"{target.name}.before-restore-{stamp}-{number}")
    return candidate


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, timeout=_BUSY_TIMEOUT_S)


def _is_sqlite(path: Path) -> bool:
    """Asked of SQLite, read-only: never with Python's `open()`, whose close would
    drop this process's SQLite locks on a database the bot has open here."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    try:
        with _closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as conn:
            conn.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError:
        return False
    return True


@contextlib.contextmanager
def _closing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    # sqlite3.Connection's own context manager commits; it does not close.
    try:
        yield conn
    finally:
        conn.close()


def _reason(error: BaseException | str) -> str:
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return " ".join(str(text).split())[:200]
