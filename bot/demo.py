"""`python -m bot demo`: the real bot in a simulated Discord, in your browser.

No Discord application, no token, no network: the real bot (its cogs, its
services, a real SQLite database in a temporary folder) runs against SimCord,
an in-process Discord, whose preview serves an interactive page on
127.0.0.1. A sample server holds the sample story and a public-domain novel,
an ordinary and an age-restricted channel, a reader and a moderator to act as.

SimCord is a development dependency: install it with `pip install -e '.[demo]'`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from simcord import Env

__all__ = ("DEMO_STORIES", "DemoServer", "demo_server", "run_demo")

log = logging.getLogger(__name__)

# The sample story written for the project, and a public-domain novel (Project Gutenberg).
DEMO_STORIES: tuple[tuple[Path, str | None], ...] = (
    (PROJECT_ROOT / "data" / "sample_story.txt", None),
    (Path(__file__).resolve().parent / "demo_stories" / "alice_in_wonderland.txt", "General"),
)
MISSING_SIMCORD = (
    "the demo runs on SimCord, which is not installed: "
    "pip install -e '.[demo]' (or .venv/bin/pip install 'simcord[preview]>=3.2.1,<4')"
)


@dataclass(frozen=True, slots=True)
class DemoServer:
    """What the demo set up, for the page and for tests to act on."""

    env: Env
    guild: Any
    reading_room: Any
    after_dark: Any
    reader: Any
    moderator: Any
    titles: tuple[str, ...]


# What SimCord's preview page needs beyond SimCord itself (its `preview` extra).
_PREVIEW_MODULES = ("simcord", "aiohttp", "markdown_it", "linkify_it", "regex", "PIL")


def simcord_available() -> bool:
    """SimCord and its preview's runtime are installed (the `demo` extra)."""
    return all(importlib.util.find_spec(module) is not None for module in _PREVIEW_MODULES)


@contextlib.asynccontextmanager
async def demo_server(folder: Path) -> AsyncIterator[DemoServer]:
    """Start the real bot on SimCord with a sample server; close everything on exit."""
    from simcord import Env

    from bot.client import create_bot

    settings = Settings(token=None, database_path=folder / "demo.db", shard_count=1, env_file=None)
    bot = create_bot(settings)
    env = Env(bot, check_errors=False)
    env.backend.bot_user.name = "Storyshelf"  # SimCord calls every bot "TestBot"
    await env.start()
    try:
        yield _arrange(env, settings)
    finally:
        await env.shutdown()
        await bot.close_resources()


def _arrange(env: Env, settings: Settings) -> DemoServer:
    import discord

    guild = env.create_guild(name="Storyshelf demo")
    moderators = guild.create_role(
        "Moderators", permissions=discord.Permissions(manage_messages=True)
    )
    reading_room = guild.create_text_channel("reading-room")
    after_dark = guild.create_text_channel("after-dark")
    # SimCord does not model age-restricted channels: flag the bot's cached copy.
    cached = env.bot.get_channel(after_dark.id)
    assert isinstance(cached, discord.TextChannel)
    cached.nsfw = True
    reader = guild.add_member(env.create_user("reader"))
    moderator = guild.add_member(env.create_user("moderator"), roles=[moderators])
    titles = _shelve(settings, guild.id)
    return DemoServer(env, guild, reading_room, after_dark, reader, moderator, titles)


def _shelve(settings: Settings, guild_id: int) -> tuple[str, ...]:
    """The demo stories, stored through the same path as `python -m bot import`."""
    from bot.db.connection import connect_sync
    from bot.db.stories import insert_story
    from bot.importer import read_story_file
    from bot.story import parse_rating

    titles = []
    conn = connect_sync(settings.database_path)
    try:
        for path, rating in DEMO_STORIES:
            if not path.is_file():
                log.warning("demo story %s is missing; the shelf has one story less", path)
                continue
            parsed = read_story_file(path, max_bytes=settings.max_upload_bytes)
            override = parse_rating(rating)
            if override is not None:
                parsed = dataclasses.replace(parsed, rating=override)
            titles.append(insert_story(conn, guild_id, parsed).title)
    finally:
        conn.close()
    return tuple(titles)


async def serve_preview(
    server: DemoServer,
    *,
    port: int | None,
    channel: str,
    on_ready: Callable[[str], None],
) -> None:
    """Serve the page until cancelled (Ctrl-C, SIGTERM) or the page session closes."""
    shown = server.after_dark if channel == "after-dark" else server.reading_room
    preview = server.env.preview(
        shown, viewers=[server.reader, server.moderator], layout="channel", port=port
    )
    async with preview:
        on_ready(preview.url)
        await preview.wait_closed()


def run_demo(*, port: int | None = None, channel: str = "reading-room") -> int:
    """The `python -m bot demo` command: print the address, serve until Ctrl-C."""
    from bot.__main__ import StopOnSignals, _fail

    if not simcord_available():
        return _fail(MISSING_SIMCORD)

    def ready(url: str) -> None:
        print("Storyshelf demo: the real bot in a simulated Discord, on this computer only.")
        print(f"Open {url}")
        print("Act as the reader or the moderator; try /read, /search, /library add.")
        print("Ctrl-C stops it (the demo's database is thrown away).", flush=True)

    async def main() -> None:
        task = asyncio.current_task()
        assert task is not None
        stop = StopOnSignals(task)
        stop.install()
        try:
            with tempfile.TemporaryDirectory(prefix="storyshelf-demo-") as folder:
                async with demo_server(Path(folder)) as server:
                    await serve_preview(server, port=port, channel=channel, on_ready=ready)
        except asyncio.CancelledError:
            if stop.received is None:
                raise
            task.uncancel()
        finally:
            stop.remove()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
