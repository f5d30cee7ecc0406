"""Reactions given while the bot was away, fetched from Discord and made to agree.

After a shard becomes ready (start-up, or a reconnect that missed events) or
resumes, the excerpts posted in that shard's servers within the last
`RECONCILE_DAYS` are looked up on Discord, one request at a time in a
background task: discord.py's HTTP client keeps to Discord's rate limits, and
one request in flight leaves room for every command. Each message's reactions
replace what is stored for it, through the feedback writer, so they are
ordered with the live events around them (see `FeedbackRecorder.sync`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.db import feedback as feedback_db
from bot.feedback import EmojiKey, emoji_key

if TYPE_CHECKING:
    from bot.client import Storyshelf

__all__ = ("Reconciler",)

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, bot: Storyshelf, *, days: float) -> None:
        self.bot = bot
        self.days = days
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
        posts = await feedback_db.recent_posts(
            self.bot.db, since=since.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        count = self.bot.shard_count or 1
        mine = [post for post in posts if (post[1] >> 22) % count == shard_id]
        checked = 0
        for message_id, guild_id, channel_id in mine:
            if await self.reconcile_message(message_id, guild_id, channel_id):
                checked += 1
        if mine:
            log.info("reconciled reactions on %d of %d recent excerpts", checked, len(mine))
        return checked

    async def reconcile_message(self, message_id: int, guild_id: int, channel_id: int) -> bool:
        recorder = self.bot.feedback
        if not recorder.is_excerpt(message_id):
            return False  # its story was removed
        recorder.watch(message_id)
        try:
            reactions = await self._fetch(message_id, guild_id, channel_id)
        except discord.NotFound:
            # The message (or channel) is gone: what readers gave stays counted.
            recorder.unwatch(message_id)
            return False
        except discord.HTTPException as error:
            recorder.unwatch(message_id)
            log.warning(
                "could not fetch reactions of excerpt %s in channel %s: %s %s",
                message_id,
                channel_id,
                error.status,
                error.text,
            )
            return False
        except BaseException:
            recorder.unwatch(message_id)
            raise
        recorder.sync(message_id, reactions)
        self.messages_checked += 1
        return True

    async def _fetch(
        self, message_id: int, guild_id: int, channel_id: int
    ) -> dict[EmojiKey, list[int]]:
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        message = await channel.fetch_message(message_id)
        me = self.bot.user_id
        found: dict[EmojiKey, list[int]] = {}
        for reaction in message.reactions:
            if reaction.count <= (1 if reaction.me else 0):
                continue  # only the bot's own: nothing to fetch
            users = [
                user.id
                async for user in reaction.users(limit=None)
                if user.id != me and not user.bot
            ]
            if users:
                found[emoji_key(reaction.emoji)] = users
        return found
