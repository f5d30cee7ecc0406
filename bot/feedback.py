"""Readers' reactions on excerpts, kept as feedback.

Reaction events are filtered in memory (most reactions are on ordinary
messages and must cost nothing), queued, and written by one task in batches:
one transaction at least every second, sooner when many are waiting. Events
are applied in order and idempotently, so a repeated add or a remove of
something never added changes nothing. A failed flush keeps its events and
tries again; nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import discord
from discord.ext import tasks

from bot.db import feedback as feedback_db
from bot.db.excerpts import ExcerptPost

if TYPE_CHECKING:
    import aiosqlite

__all__ = ("EmojiKey", "FeedbackEvent", "FeedbackRecorder", "emoji_key")

log = logging.getLogger(__name__)

Op = Literal["add", "remove", "clear", "clear_emoji", "sync"]


@dataclass(frozen=True, slots=True)
class FeedbackEvent:
    op: Op
    message_id: int
    emoji: str = ""
    user_id: int = 0
    # For "sync": the message's reactions as Discord has them, JSON [[emoji, user id], ...].
    snapshot: str = ""


EmojiKey = str


def emoji_key(emoji: discord.PartialEmoji | discord.Emoji | str) -> EmojiKey:
    """One stable key per emoji: the character(s) for unicode, the id for custom emoji.

    A custom emoji's name can change; its id cannot. The stored form still
    renders in Discord (`<:e:123>`), since clients draw custom emoji by id.
    """
    if isinstance(emoji, str):
        return emoji
    if emoji.id is None:
        return emoji.name or ""
    return f"<{'a' if emoji.animated else ''}:e:{emoji.id}>"


class FeedbackRecorder:
    def __init__(
        self,
        db: aiosqlite.Connection,
        *,
        flush_interval: float = 1.0,
        batch_size: int = 5_000,
    ) -> None:
        self.db = db
        self.batch_size = batch_size
        self.excerpt_ids: set[int] = set()
        self._pending: list[FeedbackEvent] = []
        self._posts: list[ExcerptPost] = []
        # Messages being reconciled: the live events seen for each since its fetch began.
        self._watched: dict[int, list[FeedbackEvent]] = {}
        self._flush_lock = asyncio.Lock()
        self._urgent: asyncio.Task[None] | None = None
        # A discord.ext.tasks loop: the writer's heartbeat, which also retries a failed flush.
        self._ticker = tasks.loop(seconds=flush_interval)(self._tick)
        self.failed_flushes = 0

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self.excerpt_ids = await feedback_db.load_excerpt_ids(self.db)
        self._ticker.start()

    async def stop(self) -> None:
        """Stop the writer and flush what is pending."""
        self._ticker.cancel()
        if self._urgent is not None:
            with contextlib.suppress(Exception):
                await self._urgent
        if self._pending or self._posts:
            try:
                await self.flush()
            except Exception:
                log.exception(
                    "feedback: %d events could not be written at shutdown", len(self._pending)
                )

    # ----------------------------------------------------------------- intake

    def is_excerpt(self, message_id: int) -> bool:
        return message_id in self.excerpt_ids

    def excerpt_posted(self, post: ExcerptPost) -> None:
        """A post Discord accepted: its reactions count from now on, and its row is
        written ahead of them, in the next flush, which starts right away."""
        self.excerpt_ids.add(post.message_id)
        self._posts.append(post)
        self._flush_soon()

    def excerpts_removed(self, message_ids: Iterable[int]) -> None:
        self.excerpt_ids.difference_update(message_ids)

    # Called for every reaction the bot sees, so the common case (not an
    # excerpt) returns after a comparison and a set look-up, touching no database.

    def reaction_added(self, payload: discord.RawReactionActionEvent, me: int | None) -> None:
        author = payload.message_author_id
        if author is not None and author != me:
            return
        if payload.message_id not in self.excerpt_ids or payload.user_id == me:
            return
        member = payload.member
        if member is not None and member.bot:
            return
        self.submit(
            FeedbackEvent("add", payload.message_id, emoji_key(payload.emoji), payload.user_id)
        )

    def reaction_removed(self, payload: discord.RawReactionActionEvent, me: int | None) -> None:
        # Removal events carry no member; a bot's removal is harmless, since its
        # add was never stored and removing what is absent changes nothing.
        if payload.message_id not in self.excerpt_ids or payload.user_id == me:
            return
        self.submit(
            FeedbackEvent("remove", payload.message_id, emoji_key(payload.emoji), payload.user_id)
        )

    def reactions_cleared(self, payload: discord.RawReactionClearEvent) -> None:
        if payload.message_id in self.excerpt_ids:
            self.submit(FeedbackEvent("clear", payload.message_id))

    def emoji_cleared(self, payload: discord.RawReactionClearEmojiEvent) -> None:
        if payload.message_id in self.excerpt_ids:
            self.submit(FeedbackEvent("clear_emoji", payload.message_id, emoji_key(payload.emoji)))

    def submit(self, event: FeedbackEvent) -> None:
        watched = self._watched.get(event.message_id)
        if watched is not None:
            watched.append(event)
        self._pending.append(event)
        if len(self._pending) >= self.batch_size:
            self._flush_soon()

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
        """Reaction events and excerpt posts waiting to be written."""
        return len(self._pending) + len(self._posts)

    # ----------------------------------------------------------------- writing

    async def _tick(self) -> bool:
        """Flush what is pending; False if that failed (it all stays pending)."""
        if not (self._pending or self._posts):
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
        while self._posts or len(self._pending) >= self.batch_size:
            if not await self._tick():
                return

    def _flush_soon(self) -> None:
        if self._urgent is None or self._urgent.done():
            self._urgent = asyncio.get_running_loop().create_task(self._drain())

    async def flush(self) -> int:
        """Write everything pending in one transaction; on failure it all stays pending."""
        async with self._flush_lock:
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
            return len(batch)


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
