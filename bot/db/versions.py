"""Whether what a process remembers about a server is still true (guild_versions, V8).

Triggers bump a server's `shelf` counter on every change to its stories' titles and
ratings, and its `settings` counter on every change to its settings, whichever
process or tool made it. A cache keeps the counter it was filled at and compares it
with `GuildVersions.get` before answering.

Reading the row is a point read; most of the time even that is skipped: SQLite's
`PRAGMA data_version` on a connection that never writes changes only when another
connection commits, so while it stands still nothing anywhere has changed.

On PostgreSQL the row is read at every use (one point read on the pool, about a
tenth of a millisecond). LISTEN/NOTIFY was the other way: but a notification reaches
the listening process some time after the commit, on its own connection, so a
command arriving meanwhile would still answer from the stale memory; the read is
exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.pg import is_postgres
from bot.db.stories import Reads, fetch_all, fetch_one

__all__ = ("GuildVersion", "GuildVersions")


@dataclass(frozen=True, slots=True)
class GuildVersion:
    shelf: int = 0
    settings: int = 0


class GuildVersions:
    """A server's counters, read through `db` (the bot's read-only connection)."""

    def __init__(self, db: Reads) -> None:
        self.db = db
        self._seen_at: int | None = None  # data_version the remembered rows were read at
        self._known: dict[int, GuildVersion] = {}
        self.reads = 0  # rows read (tests: a quiet database costs none)

    async def get(self, guild_id: int) -> GuildVersion:
        if is_postgres(self.db):
            data_version = None  # nothing says "no commit since": read the row each time
        else:
            rows = await fetch_all(self.db, "PRAGMA data_version", ())
            data_version = int(rows[0][0])
        if data_version is None or data_version != self._seen_at:
            # Someone committed: every remembered row may be stale.
            self._known.clear()
            self._seen_at = data_version
        known = self._known.get(guild_id)
        if known is None:
            self.reads += 1
            row = await fetch_one(
                self.db,
                "SELECT shelf, settings FROM guild_versions WHERE guild_id = ?",
                (guild_id,),
            )
            known = GuildVersion(int(row[0]), int(row[1])) if row else GuildVersion()
            if len(self._known) >= 10_000:
                self._known.clear()
            self._known[guild_id] = known
        return known
