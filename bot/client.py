"""The Storyshelf bot class and its factory: where the services meet Discord.

`setup_hook` opens the database, builds the services with their collaborators
passed in (database, settings store, each other's callbacks), starts the
feedback writer, loads the cogs and syncs commands if they changed. The cogs
reach the services through the bot's attributes.
"""

from __future__ import annotations

import gc
import logging
import pkgutil
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.command_sync import sync_commands
from bot.db.backend import Backend, open_backend
from bot.db.guild_settings import GuildSettingsStore
from bot.db.pg import PgDatabase
from bot.db.versions import GuildVersions
from bot.emoji import emoji_key
from bot.feedback import FeedbackRecorder
from bot.services.clubs import ClubService
from bot.services.librarian import Librarian
from bot.services.progress import ProgressBook
from bot.services.reading import Reader
from bot.services.reconcile import FetchFailed, MessageGone, Reconciler
from bot.settings import Settings
from bot.tree import StoryshelfTree

if TYPE_CHECKING:
    import aiosqlite

__all__ = ("Storyshelf", "create_bot", "extension_names")

log = logging.getLogger(__name__)

T = TypeVar("T")


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


class NotReady(RuntimeError):
    """A service was used before `setup_hook` built it."""


class Storyshelf(commands.AutoShardedBot):
    tree: StoryshelfTree

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=_intents(),
            tree_cls=StoryshelfTree,
            # Nothing the bot sends pings anyone, unless a mention is the point.
            allowed_mentions=discord.AllowedMentions.none(),
            # Every command works in servers only, declared at sync level.
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=False, private_channel=False
            ),
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) if settings.shard_ids else None,  # type: ignore[arg-type]  # discord.py accepts None (all shards); its stub says list
        )
        self.settings = settings
        self.synced_commands = False
        self._db: aiosqlite.Connection | PgDatabase | None = None
        self._guild_settings: GuildSettingsStore | None = None
        self._feedback: FeedbackRecorder | None = None
        self._reader: Reader | None = None
        self._librarian: Librarian | None = None
        self._progress: ProgressBook | None = None
        self._backend: Backend | None = None
        self._clubs: ClubService | None = None
        self._reconciler: Reconciler | None = None

    # The services, built in setup_hook. A property each, so a use before start-up
    # says so plainly instead of failing on None somewhere deeper.

    @property
    def db(self) -> Any:  # aiosqlite.Connection or PgDatabase (bot.db.pg)
        return _ready(self._db, "the database")

    @property
    def guild_settings(self) -> GuildSettingsStore:
        return _ready(self._guild_settings, "server settings")

    @property
    def feedback(self) -> FeedbackRecorder:
        return _ready(self._feedback, "the feedback writer")

    @property
    def reader(self) -> Reader:
        return _ready(self._reader, "reading")

    @property
    def librarian(self) -> Librarian:
        return _ready(self._librarian, "the library")

    @property
    def progress(self) -> ProgressBook:
        return _ready(self._progress, "reading progress")

    @property
    def clubs(self) -> ClubService:
        return _ready(self._clubs, "reading clubs")

    @property
    def reconciler(self) -> Reconciler:
        return _ready(self._reconciler, "reconciliation")

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    async def setup_hook(self) -> None:
        settings = self.settings
        backend = self._backend = await open_backend(settings)
        db = self._db = backend.db
        quick = backend.quick
        # What this process remembers of a server (settings, title choices) is checked
        # against the server's counters, so another process's change is seen at once.
        versions = GuildVersions(quick)
        store = self._guild_settings = GuildSettingsStore(db, versions=versions)
        # The bot drives the writer's heartbeat (below), so the recorder runs no timer.
        recorder = self._feedback = FeedbackRecorder(
            db,
            flush_interval=None,
            shutdown_budget=settings.shutdown_budget,
            # Events that could not be written are kept in a journal file: beside the
            # SQLite file, or at DATABASE_PATH's place when the shelf is on a server.
            database_path=settings.database_path if settings.database_url else None,
        )
        await recorder.start()
        self._heartbeat.change_interval(seconds=settings.feedback_flush_interval)
        self._heartbeat.start()
        reader = self._reader = Reader(db, store, quick=quick, versions=versions)
        progress = self._progress = ProgressBook(db)
        self._clubs = ClubService(db, reader)

        def story_changed(story_id: int) -> None:
            reader.forget_story(story_id)
            progress.forget_story(story_id)
            # Cogs that keep their own view of stories (reading clubs) look again.
            self.dispatch("storyshelf_story_changed", story_id)

        self._librarian = Librarian(
            db,
            store,
            database_path=settings.database_path,
            busy_timeout_ms=settings.busy_timeout_ms,
            max_upload_bytes=settings.max_upload_bytes,
            on_story_changed=story_changed,
            on_excerpts_removed=recorder.excerpts_removed,
        )
        self._reconciler = Reconciler(
            db,
            recorder,
            days=settings.reconcile_days,
            fetch=self.fetch_reactions,
            shard_count=lambda: self.shard_count or 1,
        )
        for name in extension_names():
            await self.load_extension(name)
        if settings.sync_commands_on_start:
            await self.sync_commands_if_changed()
        # Everything built so far lives as long as the bot: keep it out of the garbage
        # collector's full passes, which otherwise stall the event loop (measured in
        # bench/load_bench.py: 170 ms passes over a large heap).
        gc.freeze()

    async def on_ready(self) -> None:
        # discord.py has now cached every server the gateway sent at start (channels,
        # roles, emoji: hundreds of objects a server), which live as long as the
        # connection. Out of the collector's full passes with the rest: a bot in many
        # servers would otherwise scan them all on the event loop at each pass.
        gc.freeze()

    async def sync_commands_if_changed(self, *, force: bool = False) -> bool:
        """Sync application commands only when their definitions changed."""
        assert self.application_id is not None, "login fetches the application id"
        synced = await sync_commands(
            self.tree,
            self.db,
            application_id=self.application_id,
            dev_guild_id=self.settings.dev_guild_id,
            force=force,
        )
        self.synced_commands = self.synced_commands or synced
        return synced

    async def fetch_reactions(
        self, message_id: int, guild_id: int, channel_id: int
    ) -> dict[str, list[int]]:
        """A message's reactions as Discord has them now, bots left out (for reconciling)."""
        channel = self.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            message = await channel.fetch_message(message_id)
            found: dict[str, list[int]] = {}
            for reaction in message.reactions:
                if reaction.count <= (1 if reaction.me else 0):
                    continue  # only the bot's own: nothing to fetch
                users = [
                    user.id
                    async for user in reaction.users(limit=None)
                    if user.id != self.user_id and not user.bot
                ]
                if users:
                    found[emoji_key(reaction.emoji)] = users
            return found
        except discord.NotFound:
            raise MessageGone(message_id) from None
        except discord.HTTPException as error:
            log.warning(
                "could not fetch reactions of excerpt %s in channel %s: %s %s",
                message_id,
                channel_id,
                error.status,
                error.text,
            )
            raise FetchFailed(message_id) from None

    @tasks.loop(seconds=1.0)
    async def _heartbeat(self) -> None:
        # The feedback writer's heartbeat (which also retries a failed flush), run as a
        # discord.ext.tasks loop so the service itself needs no Discord library.
        if self._feedback is not None:
            await self._feedback.tick()
        if self._progress is not None:
            try:
                await self._progress.flush()
            except Exception:
                log.warning("reading progress could not be written; will retry", exc_info=True)

    async def close_resources(self) -> None:
        """Stop reconciling, flush pending feedback and close the database (idempotent)."""
        self._heartbeat.cancel()
        if self._reconciler is not None:
            await self._reconciler.stop()
        if self._feedback is not None:
            await self._feedback.stop()
        if self._progress is not None and self._db is not None:
            try:
                await self._progress.flush()
            except Exception:
                log.exception(
                    "reading progress of %d readers was not written", self._progress.pending
                )
        self._db = None
        if self._backend is not None:
            backend, self._backend = self._backend, None
            await backend.close()

    async def close(self) -> None:
        # Cogs unload first, while Discord's HTTP session is open: the reading cog
        # lets the feedback emoji it is still adding finish.
        for name in list(self.extensions):
            try:
                await self.unload_extension(name)
            except commands.ExtensionError:
                log.exception("unloading %s failed", name)
        try:
            await super().close()
        finally:
            await self.close_resources()


def _ready(service: T | None, what: str) -> T:
    if service is None:
        raise NotReady(f"{what} is not available yet (setup_hook has not run)")
    return service


def create_bot(settings: Settings) -> Storyshelf:
    """Build the bot with everything it needs; tests build it exactly the same way."""
    return Storyshelf(settings)
