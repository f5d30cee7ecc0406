"""Whether what a process remembers about a server is still true (guild_versions, V8).

Triggers bump a server's `shelf` counter on every change to its stories' titles and
ratings, and its `settings` counter on every change to its settings, whichever
process or tool made it. A cache keeps the counter it was filled at and compares it
with `GuildVersions.get` before answering.

Each use reads the server's row: one point read through the primary key, on the
bot's read-only connection. It is the same statement on both backends, and as cheap
as SQLite's `PRAGMA data_version`, which this used to read first to skip the row
while no connection had committed: but any commit moves that counter (the bot's own
feedback writer commits every second), so under use it cost two statements where
one does (bench/commands_bench.py: about 0.05 ms a command on the event loop).

LISTEN/NOTIFY (PostgreSQL) was another way: but a notification reaches the
listening process some time after the commit, on its own connection, so a command
arriving meanwhile would still answer from stale memory; the read is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.stories import Reads, fetch_one

__all__ = ("GuildVersion", "GuildVersions")


@dataclass(frozen=True, slots=True)
class GuildVersion:
    shelf: int = 0
    settings: int = 0


class GuildVersions:
    """A server's counters, read through `db` (the bot's read-only connection)."""

    def __init__(self, db: Reads) -> None:
        self.db = db

    async def get(self, guild_id: int) -> GuildVersion:
        row = await fetch_one(
            self.db, "SELECT shelf, settings FROM guild_versions WHERE guild_id = ?", (guild_id,)
        )
        return GuildVersion(int(row[0]), int(row[1])) if row else GuildVersion()
