"""Readers' reactions on excerpts, kept as feedback.

Reaction events arrive as plain values (the feedback cog turns Discord's
payloads into ids and emoji keys, and leaves out bots). They are filtered in
memory (most reactions are on ordinary messages and must cost nothing),
queued, and written by one task in batches: one transaction at least every
second, sooner when many are waiting. Events are applied in order and
idempotently, so a repeated add or a remove of something never added changes
nothing. A failed flush keeps its events and tries again; nothing is dropped.

Which messages are excerpts: the database is the source of truth. In memory
are only the most recent excerpt ids, the most recent messages known not to
be one, and the oldest excerpt's id: message ids are snowflakes, which grow
with time, so a message older than every excerpt is rejected by one
comparison. Any other message is looked up in the database once, in a batch
with the others met meanwhile, and its events wait (in order) for the answer.

At shutdown the writer retries within its budget; whatever another process's
lock still keeps out is written to a journal beside the database and replayed
at the next start, before any new event is taken (see bot.db.journal).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from bot.db import excerpts as excerpts_db
from bot.db import feedback as feedback_db
from bot.db.connection import is_busy
from bot.db.excerpts import ExcerptPost
from bot.db.journal import Journal, JournalEvent

if TYPE_CHECKING:
    import aiosqlite

__all__ = ("EmojiKey", "FeedbackEvent", "FeedbackRecorder")

log = logging.getLogger(__name__)

Op = Literal["add", "remove", "clear", "clear_emoji", "sync"]

# Discord's epoch (2015-01-01) in Unix milliseconds: a snowflake's top bits count from it.
_DISCORD_EPOCH_MS = 1_420_070_400_000
# Clocks of processes sharing a database may disagree a little.
_CLOCK_SLACK_S = 60.0


def _event(op: str, message_id: int, emoji: str, user_id: int, snapshot: str) -> FeedbackEvent:
    """A journaled event back as an event (its op was written by `as_journal`)."""
    if op not in ("add", "remove", "clear", "clear_emoji", "sync"):
        raise ValueError(f"not a feedback event: {op!r}")
    return FeedbackEvent(cast(Op, op), message_id, emoji, user_id, snapshot)


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    op: Op
    message_id: int
    emoji: str = ""
    user_id: int = 0
    # For "sync": the message's reactions as Discord has them, JSON [[emoji, user id], ...].
    snapshot: str = ""

    def as_journal(self) -> JournalEvent:
        return (self.op, self.message_id, self.emoji, self.user_id, self.snapshot)


# One stable key per emoji: the character(s) for unicode, `<:e:id>` / `<a:e:id>` for
# custom emoji (the cog converts Discord's emoji objects).
EmojiKey = str


def _snowflake_at(seconds: float) -> int:
    """The smallest message id Discord could give a message created at `seconds` (Unix time)."""
    return max(0, int(seconds * 1000) - _DISCORD_EPOCH_MS) << 22


class FeedbackRecorder:
    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        flush_interval: float | None = 1.0,
        batch_size: int = 5_000,
        shutdown_budget: float = 5.0,
        recent_excerpts: int = 50_000,
        recent_non_excerpts: int = 50_000,
        database_path: Path | None = None,
    ) -> None:
        """`flush_interval`: seconds between the writer's own heartbeats; None when the
        owner calls `tick` on its own timer instead. `shutdown_budget`: seconds `stop`
        keeps retrying a write that another process's lock holds up, before it keeps the
        rest in a journal (a service manager's stop timeout is often 10 s).
        `database_path`: where the journal goes beside; by default the connection's file."""
        self.db = db
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self.shutdown_budget = shutdown_budget
        self._recent_cap = recent_excerpts
        self._non_excerpt_cap = recent_non_excerpts
        self._database_path = database_path
        self._journal: Journal | None = None
        # Most recently used last; both bounded.
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._not_excerpts: OrderedDict[int, None] = OrderedDict()
        # Messages with ids below this are older than every excerpt.
        self._oldest = 0
        # Messages being looked up, with their events in arrival order.
        self._unresolved: dict[int, list[FeedbackEvent]] = {}
        self._resolve_lock = asyncio.Lock()
        self._resolver: asyncio.Task[None] | None = None
        self._pending: list[FeedbackEvent] = []
        self._posts: list[ExcerptPost] = []
        # Journal files whose contents are at the front of _posts/_pending.
        self._replaying: list[Path] = []
        # Messages being reconciled: the live events seen for each since its fetch began.
        self._watched: dict[int, list[FeedbackEvent]] = {}
        self._write_lock = asyncio.Lock()
        self._urgent: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        # Writes under way, which their callers' cancellation does not stop.
        self._writes: set[asyncio.Task[int]] = set()
        self.failed_flushes = 0
        self.stopped = False

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Load the recent excerpt ids and write any journal kept at the last shutdown.

        Returns once the journal is in the database, or, if another process's lock
        keeps it out, with its contents first in line for the writer.
        """
        newest = await excerpts_db.newest_excerpt_ids(self.db, self._recent_cap)
        for message_id in reversed(newest):
            self._recent[message_id] = None
        oldest = await excerpts_db.oldest_excerpt_id(self.db)
        # Excerpts another process posts from now on have newer ids than this.
        floor = _snowflake_at(time.time() - _CLOCK_SLACK_S)
        self._oldest = floor if oldest is None else min(oldest, floor)
        self._journal = await self._find_journal()
        if self._journal is not None:
            await self._replay(self._journal)
        if self.flush_interval is not None:
            self._ticker = asyncio.get_running_loop().create_task(
                self._tick_forever(self.flush_interval)
            )

    async def stop(self) -> None:
        """Stop the writer and write what is pending, retrying within the shutdown budget.

        What another process's lock still keeps out when the budget is spent is kept
        in a journal beside the database, and written at the next start.
        """
        self.stopped = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.shutdown_budget
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._ticker
        for task in (self._urgent, self._resolver):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        # A write those tasks started goes on: what it fails to write is pending again.
        while self._writes:
            await asyncio.wait(set(self._writes))
        # Unknown messages' events go to the writer as they are: its statements
        # only touch messages that are excerpts in the database.
        self._release_unresolved()
        why = await self._write_within(deadline)
        if self._pending or self._posts:
            self._keep_in_journal(why)

    async def _write_within(self, deadline: float) -> str:
        """Write what is pending, retrying while another process holds the lock, until
        `deadline`; why it could not, if it could not.

        Each attempt waits for the lock no longer than the budget has left (SQLite's
        busy timeout, lowered for the attempt), so shutdown stays within its budget.
        """
        if not (self._pending or self._posts):
            return ""
        loop = asyncio.get_running_loop()
        configured = await self._busy_timeout()
        try:
            while self._pending or self._posts:
                left = deadline - loop.time()
                if left <= 0:
                    return (
                        "the database stayed locked by another process through the"
                        f" {self.shutdown_budget:g} s shutdown budget"
                    )
                if configured is not None:
                    await self._busy_timeout(max(1, min(configured, int(left * 1000))))
                try:
                    await self.flush()
                except Exception as error:
                    self.failed_flushes += 1
                    if not is_busy(error):
                        return f"writing them failed ({' '.join(str(error).split())})"
                    # Some busy answers come at once (a snapshot gone stale): pause a little.
                    await asyncio.sleep(min(0.01, max(0.0, deadline - loop.time())))
            return ""
        finally:
            if configured is not None:
                await self._busy_timeout(configured)

    async def _busy_timeout(self, milliseconds: int | None = None) -> int | None:
        """Read (or set) the connection's busy timeout; None if the connection cannot say."""
        sql = (
            "PRAGMA busy_timeout"
            if milliseconds is None
            else f"PRAGMA busy_timeout = {int(milliseconds)}"
        )
        try:
            async with self.db.execute(sql) as cursor:
                row = await cursor.fetchone()
        except Exception:
            return None
        return None if row is None else int(row[0])

    # ----------------------------------------------------------------- intake

    async def is_excerpt(self, message_id: int) -> bool:
        """Whether a message shows an excerpt (asks the database when memory cannot tell)."""
        known = self._known(message_id)
        if known is not None:
            return known
        if any(post.message_id == message_id for post in self._posts):
            return True
        found = message_id in await excerpts_db.existing_excerpts(self.db, [message_id])
        self._learn(message_id, found)
        return found

    def excerpt_posted(self, post: ExcerptPost) -> None:
        """A post Discord accepted: its reactions count from now on, and its row is
        written ahead of them, in the next flush, which starts right away."""
        message_id = post.message_id
        self._not_excerpts.pop(message_id, None)
        self._remember(message_id)
        self._oldest = min(self._oldest, message_id)
        self._posts.append(post)
        # Reactions that beat the post's own bookkeeping here keep their order.
        for event in self._unresolved.pop(message_id, ()):
            self.submit(event)
        self._flush_soon()

    def excerpts_removed(self, message_ids: Iterable[int]) -> None:
        for message_id in message_ids:
            self._recent.pop(message_id, None)
            self._learn(message_id, False)

    # Called for every reaction the bot sees (bots already left out by the cog), so
    # the common case (not an excerpt) returns after a comparison and a dict look-up.

    def reaction_added(self, message_id: int, user_id: int, emoji: EmojiKey) -> None:
        if self._known(message_id) is not False:
            self._take(FeedbackEvent("add", message_id, emoji, user_id))

    def reaction_removed(self, message_id: int, user_id: int, emoji: EmojiKey) -> None:
        if self._known(message_id) is not False:
            self._take(FeedbackEvent("remove", message_id, emoji, user_id))

    def reactions_cleared(self, message_id: int) -> None:
        if self._known(message_id) is not False:
            self._take(FeedbackEvent("clear", message_id))

    def emoji_cleared(self, message_id: int, emoji: EmojiKey) -> None:
        if self._known(message_id) is not False:
            self._take(FeedbackEvent("clear_emoji", message_id, emoji))

    def submit(self, event: FeedbackEvent) -> None:
        """Queue an event for a message known to be an excerpt."""
        watched = self._watched.get(event.message_id)
        if watched is not None:
            watched.append(event)
        self._pending.append(event)
        if len(self._pending) >= self.batch_size:
            self._flush_soon()

    def _known(self, message_id: int) -> bool | None:
        """True: an excerpt; False: not one; None: the database must say."""
        if message_id in self._recent:
            self._recent.move_to_end(message_id)
            return True
        if message_id < self._oldest or message_id in self._not_excerpts:
            return False
        return None

    def _take(self, event: FeedbackEvent) -> None:
        message_id = event.message_id
        if message_id in self._recent:
            self.submit(event)
            return
        waiting = self._unresolved.get(message_id)
        if waiting is None:
            self._unresolved[message_id] = [event]
            self._resolve_soon()
        else:
            waiting.append(event)

    def _remember(self, message_id: int) -> None:
        self._recent[message_id] = None
        self._recent.move_to_end(message_id)
        if len(self._recent) > self._recent_cap:
            self._recent.popitem(last=False)

    def _learn(self, message_id: int, is_excerpt: bool) -> None:
        if is_excerpt:
            self._remember(message_id)
            return
        self._not_excerpts[message_id] = None
        self._not_excerpts.move_to_end(message_id)
        if len(self._not_excerpts) > self._non_excerpt_cap:
            self._not_excerpts.popitem(last=False)

    # ----------------------------------------------------------------- look-ups

    def _resolve_soon(self) -> None:
        if self._resolver is None or self._resolver.done():
            self._resolver = asyncio.get_running_loop().create_task(self._resolve_all())

    async def _resolve_all(self) -> None:
        while self._unresolved:
            await self._resolve()

    async def _resolve(self) -> None:
        """Ask the database, in one query, about every message met since the last time."""
        async with self._resolve_lock:
            asked = list(self._unresolved)
            if not asked:
                return
            try:
                found = await excerpts_db.existing_excerpts(self.db, asked)
            except Exception:
                # Unsure: let the writer decide, whose statements only touch excerpts.
                log.warning("feedback: could not look up %d messages", len(asked), exc_info=True)
                for message_id in asked:
                    for event in self._unresolved.pop(message_id, ()):
                        self.submit(event)
                return
            posting = {post.message_id for post in self._posts}
            for message_id in asked:
                events = self._unresolved.pop(message_id, None)
                if events is None:
                    continue  # posted meanwhile: excerpt_posted queued them
                excerpt = message_id in found or message_id in posting
                self._learn(message_id, excerpt)
                if excerpt:
                    for event in events:
                        self.submit(event)

    def _release_unresolved(self) -> None:
        for message_id in list(self._unresolved):
            for event in self._unresolved.pop(message_id, ()):
                self.submit(event)

    # Reconciliation: a message's reactions fetched from Discord replace the stored
    # ones. Live events that arrived while the fetch was under way are applied
    # again after the snapshot; adds and removes are idempotent, so one the
    # snapshot already reflects changes nothing, and one it missed still counts.

    def watch(self, message_id: int) -> None:
        """Start remembering live events for a message whose reactions are being fetched."""
        self._watched[message_id] = []

    def unwatch(self, message_id: int) -> None:
        self._watched.pop(message_id, None)

    def sync(self, message_id: int, reactions: dict[EmojiKey, list[int]]) -> None:
        """Queue Discord's current reactions for a message, then what happened meanwhile."""
        since = self._watched.pop(message_id, [])
        pairs = [[emoji, user] for emoji, users in reactions.items() for user in users]
        self.submit(FeedbackEvent("sync", message_id, snapshot=json.dumps(pairs)))
        for event in since:
            self.submit(event)

    @property
    def pending(self) -> int:
        """Reaction events and excerpt posts waiting to be written (or looked up)."""
        waiting = sum(len(events) for events in self._unresolved.values())
        return len(self._pending) + len(self._posts) + waiting

    # ----------------------------------------------------------------- writing

    async def _tick_forever(self, interval: float) -> None:
        # The writer's heartbeat, which also retries a failed flush.
        while True:
            await asyncio.sleep(interval)
            await self.tick()

    async def tick(self) -> bool:
        """The writer's heartbeat: flush what is pending; False if that failed (it all
        stays pending, and the next tick tries again). Never raises."""
        if not (self._pending or self._posts or self._unresolved):
            return True
        try:
            await self.flush()
        except Exception:
            # The events stay pending; the next tick tries again.
            self.failed_flushes += 1
            log.warning(
                "feedback: flush of %d events and %d posts failed; will retry",
                len(self._pending),
                len(self._posts),
                exc_info=True,
            )
            return False
        return True

    async def _drain(self) -> None:
        # New posts and a full batch are written now, including any that
        # arrive while a flush is running; a failure waits for the ticker.
        while (self._posts or len(self._pending) >= self.batch_size) and not self.stopped:
            if not await self.tick():
                return

    _tick = tick  # the name the bot's heartbeat used before `tick` was public

    def _flush_soon(self) -> None:
        if self.stopped:
            return
        if self._urgent is None or self._urgent.done():
            self._urgent = asyncio.get_running_loop().create_task(self._drain())

    async def flush(self) -> int:
        """Write everything received so far in one transaction; on failure it all stays pending.

        The write runs as its own task, which a cancelled caller does not stop: it
        ends committed (the events are written) or rolled back (they are pending
        again), never half-way, so no event is written twice or out of order.
        """
        await self._resolve()
        write = asyncio.get_running_loop().create_task(self._write())
        self._writes.add(write)
        write.add_done_callback(self._written)
        return await asyncio.shield(write)

    def _written(self, write: asyncio.Task[int]) -> None:
        self._writes.discard(write)
        # A write whose caller was cancelled: its failure is seen by whoever retries.
        if not write.cancelled():
            write.exception()

    async def _write(self) -> int:
        async with self._write_lock:
            batch, posts = self._pending, self._posts
            if not (batch or posts):
                return 0
            self._pending, self._posts = [], []
            try:
                await feedback_db.apply_events(self.db, _steps(batch), posts)
            except BaseException:
                # Put the batch back in front of anything that arrived meanwhile.
                self._pending = batch + self._pending
                self._posts = posts + self._posts
                raise
            if self._replaying:
                # The journal's contents led this batch: they are in the database now.
                files, self._replaying = self._replaying, []
                Journal.remove(files)
            return len(batch)

    # ----------------------------------------------------------------- journal

    async def _find_journal(self) -> Journal | None:
        path = self._database_path
        if path is None:
            async with self.db.execute("PRAGMA database_list") as cursor:
                main = next((row[2] for row in await cursor.fetchall() if row[1] == "main"), "")
            path = Path(main) if main else None
        return None if path is None else Journal(path)

    async def _replay(self, journal: Journal) -> None:
        kept = journal.read()
        if not kept.files:
            return
        self._posts = kept.posts + self._posts
        self._pending = [_event(*event) for event in kept.events] + self._pending
        for post in kept.posts:
            self._remember(post.message_id)
            self._oldest = min(self._oldest, post.message_id)
        self._replaying = kept.files
        what = _describe(len(kept.posts), len(kept.events))
        names = ", ".join(str(path) for path in kept.files)
        try:
            await self.flush()
        except Exception as error:
            self.failed_flushes += 1
            log.warning(
                "feedback: %s kept in %s could not be written yet (%s); they are written"
                " before any new event, and the file is removed once they are",
                what,
                names,
                error,
            )
            return
        log.info("feedback: wrote %s kept in %s at the last shutdown", what, names)

    def _keep_in_journal(self, why: str) -> None:
        posts, events = self._posts, self._pending
        what = _describe(len(posts), len(events))
        if self._journal is None:
            log.error("feedback: %s: %s are lost (an in-memory database)", why, what)
            return
        try:
            path = self._journal.write(posts, [event.as_journal() for event in events])
        except OSError as error:
            log.error("feedback: %s, and keeping them failed (%s): %s are lost", why, error, what)
            return
        # The new journal holds the old ones' contents too (they led the queue).
        if self._replaying:
            files, self._replaying = self._replaying, []
            Journal.remove(files)
        self._posts, self._pending = [], []
        log.warning(
            "feedback: %s: kept %s in %s; they will be written at the next start", why, what, path
        )


def _describe(posts: int, events: int) -> str:
    return (
        f"{posts:,} excerpt post{'' if posts == 1 else 's'} and "
        f"{events:,} reaction event{'' if events == 1 else 's'}"
    )


def _steps(events: list[FeedbackEvent]) -> list[tuple[Op, list[tuple[object, ...]]]]:
    """Consecutive events of one kind become one executemany, preserving order."""
    steps: list[tuple[Op, list[tuple[object, ...]]]] = []
    for event in events:
        if event.op == "sync":
            # Never merged with a neighbour: each snapshot is applied on its own.
            steps.append(("sync", [(event.message_id, event.snapshot)]))
            continue
        if event.op in ("add", "remove"):
            row: tuple[object, ...] = (event.message_id, event.emoji, event.user_id)
        elif event.op == "clear_emoji":
            row = (event.message_id, event.emoji)
        else:
            row = (event.message_id,)
        if steps and steps[-1][0] == event.op:
            steps[-1][1].append(row)
        else:
            steps.append((event.op, [row]))
    return steps
