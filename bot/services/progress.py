"""Where each reader stopped: recorded on every read without slowing it down.

`record` only updates a dictionary (the latest position per reader and story);
the bot's heartbeat writes what changed in one batched transaction every
second, and at shutdown. Reads look at the unwritten positions first, so
`/continue` right after a page turn continues from that page.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import aiosqlite

from bot.db import progress as progress_db
from bot.db.connection import transaction
from bot.db.progress import Bookmark, ProgressRow

__all__ = ("Progress", "ProgressBook")

log = logging.getLogger(__name__)

_Key = tuple[int, int, int]  # guild, user, story


@dataclass(frozen=True, slots=True)
class Progress:
    """A reading-list line: "section 12 of 366 · 3%"."""

    story_id: int
    title: str
    section: int
    page: int
    section_count: int

    @property
    def percent(self) -> int:
        if self.section_count <= 0:
            return 0
        return min(100, round(100 * self.section / self.section_count))


class ProgressBook:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self._unwritten: dict[_Key, Bookmark] = {}
        self._clock = 0

    def _now(self) -> int:
        # Milliseconds, strictly increasing within this process.
        now = max(int(time.time() * 1000), self._clock + 1)
        self._clock = now
        return now

    def record(self, guild_id: int, user_id: int, story_id: int, section: int, page: int) -> None:
        self._unwritten[(guild_id, user_id, story_id)] = Bookmark(
            guild_id, user_id, story_id, section, page, self._now()
        )

    def forget_story(self, story_id: int) -> None:
        """A removed story's unwritten positions go with it (its rows cascade)."""
        for key in [key for key in self._unwritten if key[2] == story_id]:
            del self._unwritten[key]

    @property
    def pending(self) -> int:
        return len(self._unwritten)

    async def flush(self) -> int:
        """Write every unwritten position in one transaction; kept for the next try on failure."""
        if not self._unwritten:
            return 0
        batch = dict(self._unwritten)
        async with transaction(self.db):
            await progress_db.save(self.db, list(batch.values()))
        for key, bookmark in batch.items():
            if self._unwritten.get(key) is bookmark:
                del self._unwritten[key]
        return len(batch)

    async def latest(
        self, guild_id: int, user_id: int, story_id: int | None = None
    ) -> Bookmark | None:
        """A reader's position in a story, or in whatever they read last."""
        mine = [
            bookmark
            for (guild, user, story), bookmark in self._unwritten.items()
            if guild == guild_id and user == user_id and story_id in (None, story)
        ]
        stored = await progress_db.latest(self.db, guild_id, user_id, story_id)
        candidates = [*mine, *([stored] if stored else [])]
        return max(candidates, key=lambda b: b.read_at, default=None)

    async def reading_list(self, guild_id: int, user_id: int) -> list[Progress]:
        await self.flush()
        rows: list[ProgressRow] = await progress_db.reading_list(self.db, guild_id, user_id)
        return [Progress(r.story_id, r.title, r.section, r.page, r.section_count) for r in rows]

    async def forget(self, guild_id: int, user_id: int) -> int:
        """Erase one reader's history on one server, written or not."""
        unwritten = [k for k in self._unwritten if k[0] == guild_id and k[1] == user_id]
        for key in unwritten:
            del self._unwritten[key]
        async with transaction(self.db):
            erased = await progress_db.forget(self.db, guild_id, user_id)
        return max(erased, len(unwritten))
