"""Reactions given while the bot was away, fetched from Discord and made to agree.

After a shard becomes ready (start-up, or a reconnect that missed events) or
resumes, the excerpts posted in that shard's servers within the last
`RECONCILE_DAYS` are looked up, one message at a time in a background task
(one request in flight leaves room for every command). Each message's reactions
replace what is stored for it, through the feedback writer, so they are ordered
with the live events around them (see `FeedbackRecorder.sync`).

Discord-free: fetching a message's reactions is a function the bot passes in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bot.db import feedback as feedback_db

if TYPE_CHECKING:
    import aiosqlite

    from bot.feedback import FeedbackRecorder

__all__ = ("FetchFailed", "MessageGone", "ReactionFetcher", "Reconciler")

log = logging.getLogger(__name__)


class MessageGone(Exception):
    """The message (or its channel) no longer exists: what readers gave stays counted."""


class FetchFailed(Exception):
    """Discord did not answer usefully this time; the message is left as stored."""


# (message id, guild id, channel id) → {emoji key: [user ids]}, bots left out.
ReactionFetcher = Callable[[int, int, int], Awaitable[dict[str, list[int]]]]


class Reconciler:
    def __init__(
        self,
        db: aiosqlite.Connection,
        recorder: FeedbackRecorder,
        *,
        days: float,
        fetch: ReactionFetcher,
        shard_count: Callable[[], int],
    ) -> None:
        self.db = db
        self.recorder = recorder
        self.days = days
        self._fetch = fetch
        self._shard_count = shard_count
        self._running: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()
        self.messages_checked = 0

    def schedule(self, shard_id: int) -> None:
        """Reconcile a shard's recent excerpts soon; a run already going runs once more."""
        task = self._running.get(shard_id)
        if task is not None and not task.done():
            self._again.add(shard_id)
            return
        self._running[shard_id] = asyncio.get_running_loop().create_task(
            self._run(shard_id), name=f"storyshelf-reconcile-{shard_id}"
        )

    async def wait(self) -> None:
        """Until every scheduled run has finished."""
        while any(not task.done() for task in self._running.values()):
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def stop(self) -> None:
        for task in self._running.values():
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        self._running.clear()

    async def _run(self, shard_id: int) -> None:
        while True:
            self._again.discard(shard_id)
            try:
                await self.reconcile_shard(shard_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reconciling reactions for shard %s failed", shard_id)
            if shard_id not in self._again:
                return

    async def reconcile_shard(self, shard_id: int) -> int:
        """Bring the stored reactions of a shard's recent excerpts in line; return how many."""
        since = datetime.now(UTC) - timedelta(days=self.days)
        posts = await feedback_db.recent_posts(self.db, since=since.strftime("%Y-%m-%dT%H:%M:%SZ"))
        count = self._shard_count() or 1
        mine = [post for post in posts if (post[1] >> 22) % count == shard_id]
        checked = 0
        for message_id, guild_id, channel_id in mine:
            if await self.reconcile_message(message_id, guild_id, channel_id):
                checked += 1
        if mine:
            log.info("reconciled reactions on %d of %d recent excerpts", checked, len(mine))
        return checked

    async def reconcile_message(self, message_id: int, guild_id: int, channel_id: int) -> bool:
        recorder = self.recorder
        if not await _is_excerpt(recorder, message_id):
            return False  # its story was removed
        recorder.watch(message_id)
        try:
            reactions = await self._fetch(message_id, guild_id, channel_id)
        except (MessageGone, FetchFailed):
            recorder.unwatch(message_id)
            return False
        except BaseException:
            recorder.unwatch(message_id)
            raise
        recorder.sync(message_id, reactions)
        self.messages_checked += 1
        return True


async def _is_excerpt(recorder: FeedbackRecorder, message_id: int) -> bool:
    return await recorder.is_excerpt(message_id)
