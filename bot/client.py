"""The Storyshelf bot class and its factory."""

from __future__ import annotations

import hashlib
import json
import logging
import pkgutil
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from bot.db import meta
from bot.db.connection import close_database, open_database
from bot.db.guild_settings import GuildSettingsStore
from bot.feedback import FeedbackRecorder
from bot.library import Librarian
from bot.reading import Reader
from bot.reconcile import Reconciler
from bot.settings import Settings
from bot.tree import StoryshelfTree
from bot.views import DYNAMIC_ITEMS

if TYPE_CHECKING:
    import aiosqlite

__all__ = ("Storyshelf", "create_bot", "extension_names")

log = logging.getLogger(__name__)


def extension_names() -> list[str]:
    """Every extension module in the `cogs` package."""
    import cogs

    return sorted(
        f"cogs.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


def _intents() -> discord.Intents:
    # No privileged intents: slash commands need no message content or members.
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_reactions = True
    intents.emojis_and_stickers = True
    return intents


class Storyshelf(commands.AutoShardedBot):
    tree: StoryshelfTree

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=_intents(),
            tree_cls=StoryshelfTree,
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) if settings.shard_ids else None,
        )
        self.settings = settings
        self._db: aiosqlite.Connection | None = None
        self.synced_commands = False
        self.feedback: FeedbackRecorder | None = None  # type: ignore[assignment]
        self.reader: Reader | None = None  # type: ignore[assignment]
        self.reconciler: Reconciler | None = None  # type: ignore[assignment]

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the database is not open yet (setup_hook has not run)")
        return self._db

    async def setup_hook(self) -> None:
        self._db = await open_database(
            self.settings.database_path, busy_timeout_ms=self.settings.busy_timeout_ms
        )
        self.guild_settings = GuildSettingsStore(self._db)
        self.reader = Reader(self)
        self.librarian = Librarian(self)
        self.feedback = FeedbackRecorder(
            self._db, flush_interval=self.settings.feedback_flush_interval
        )
        await self.feedback.start()
        self.reconciler = Reconciler(self, days=self.settings.reconcile_days)
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        for name in extension_names():
            await self.load_extension(name)
        await self.sync_commands_if_changed()

    def _command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, object]]:
        commands_ = self.tree.get_commands(guild=guild)
        return sorted((c.to_dict(self.tree) for c in commands_), key=lambda d: str(d["name"]))

    async def sync_commands_if_changed(self) -> bool:
        """Sync application commands only when their definitions changed."""
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = json.dumps(self._command_payload(guild), sort_keys=True, default=str)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        key = f"command_hash:{guild.id if guild else 'global'}"
        if await meta.get(self.db, key) == digest:
            log.info("application commands unchanged; not syncing")
            return False
        await self.tree.sync(guild=guild)
        await meta.put(self.db, key, digest)
        self.synced_commands = True
        log.info("application commands synced (%s)", "guild" if guild else "global")
        return True

    async def close_resources(self) -> None:
        """Unload the cogs (they flush what they hold) and close the database."""
        if self.reader is not None:
            await self.reader.close()
        for name in list(self.extensions):
            await self.unload_extension(name)
        if self.reconciler is not None:
            await self.reconciler.stop()
        if self.feedback is not None:
            await self.feedback.stop()
        if self._db is not None:
            db, self._db = self._db, None
            await close_database(db)

    async def close(self) -> None:
        if self.reader is not None:
            await self.reader.close()  # emoji still being added need the HTTP session
        try:
            await super().close()  # unloads extensions first, so pending writes flush
        finally:
            await self.close_resources()


def create_bot(settings: Settings) -> Storyshelf:
    """Build the bot with everything it needs; tests build it exactly the same way."""
    return Storyshelf(settings)
