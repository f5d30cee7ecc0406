"""Small reads without the hop to aiosqlite's thread.

Every await on aiosqlite is a round trip to its one worker thread, queued behind
whatever else that connection is doing (the feedback writer's batches); for a point
read through an index (a section page, a title, autocomplete) the hop costs several
times the query. A `QuickReader` runs such queries synchronously on the event loop
on a connection of its own that never writes, so it never waits on this process's
writers (WAL: readers and the writer do not block each other). It offers the one
method the read functions in `bot.db` use, `execute_fetchall`, so the same query
functions run on either connection.

Only bounded queries belong here: point reads through an index, and full-text search
(at most `SEARCH_CANDIDATES` ranked, snippets for the five shown; a few milliseconds
at 10,000 stories, measured by bench/commands_bench.py, against an event-loop stall
budget of 50 ms). Aggregates over reactions and listing whole shelves stay on the
aiosqlite thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

__all__ = ("QuickReader",)

# A read that meets a lock (only during WAL recovery or a checkpoint truncating the
# log) gives up quickly instead of stalling the event loop; the caller sees "busy".
QUICK_BUSY_TIMEOUT_MS = 50


class QuickReader:
    def __init__(self, path: Path) -> None:
        # Autocommit: each statement sees the latest committed data of every process.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute(f"PRAGMA busy_timeout = {QUICK_BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA query_only = ON")
        self.queries = 0

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[object] = ()
    ) -> list[sqlite3.Row]:
        self.queries += 1
        return self._conn.execute(sql, tuple(parameters)).fetchall()

    def close(self) -> None:
        self._conn.close()
