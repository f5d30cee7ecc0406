"""Which database the shelf is in: the SQLite file (the default) or PostgreSQL.

`open_backend(settings)` gives the connection every query function takes (`db`)
and the one small reads take (`quick`): on SQLite, the shared aiosqlite connection
and a `QuickReader` that reads on the event loop; on PostgreSQL (DATABASE_URL), one
asyncpg pool for both, since asyncpg is natively async and has no thread hop to save.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.db.connection import close_database, open_database
from bot.db.pg import open_pg
from bot.db.quick import QuickReader

if TYPE_CHECKING:
    from bot.db.stories import Reads
    from bot.settings import Settings

__all__ = ("Backend", "open_backend")


@dataclass(slots=True)
class Backend:
    db: Any  # aiosqlite.Connection or bot.db.pg.PgDatabase
    quick: Reads
    name: str  # "sqlite" or "postgresql"

    async def close(self) -> None:
        if isinstance(self.quick, QuickReader):
            self.quick.close()
        await close_database(self.db)


async def open_backend(settings: Settings) -> Backend:
    if settings.database_url:
        db = await open_pg(settings.database_url)
        return Backend(db, db, "postgresql")
    sqlite = await open_database(settings.database_path, busy_timeout_ms=settings.busy_timeout_ms)
    return Backend(sqlite, QuickReader(settings.database_path), "sqlite")
