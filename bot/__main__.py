"""Entry point: `python -m bot` runs the bot; `import` and `inspect` work offline."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sqlite3
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.settings import DEFAULT_DATABASE_PATH, Settings, SettingsError

if TYPE_CHECKING:
    from bot.client import Storyshelf

log = logging.getLogger("bot")

NO_TOKEN = (
    "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications "
    "(Bot > Reset Token), then put DISCORD_TOKEN=<token> in .env (see .env.example)."
)
BAD_TOKEN = (
    "Discord rejected DISCORD_TOKEN: copy a fresh token from the Developer Portal "
    "(Bot > Reset Token) into .env."
)


def _fail(message: str, status: int = 2) -> int:
    print(f"storyshelf: {message}", file=sys.stderr)
    return status


def run_bot(settings: Settings) -> int:
    import discord

    from bot.client import create_bot
    from bot.db.connection import DatabaseError, connect_sync

    if not settings.token:
        return _fail(NO_TOKEN)
    discord.utils.setup_logging(level=getattr(logging, settings.log_level, logging.INFO))
    try:
        # Before logging in: a wrong DATABASE_PATH costs no Discord session, and
        # the file it names is left exactly as it was.
        connect_sync(settings.database_path, busy_timeout_ms=settings.busy_timeout_ms).close()
    except DatabaseError as error:
        return _fail(str(error))

    async def runner() -> None:
        bot = create_bot(settings)
        await serve(bot, bot.start(settings.token or ""))

    try:
        asyncio.run(runner())
    except discord.LoginFailure:
        return _fail(BAD_TOKEN)
    except discord.PrivilegedIntentsRequired:
        return _fail("Discord refused the bot's intents; this bot needs no privileged intents.")
    except DatabaseError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        pass  # a second Ctrl-C while closing: the operator wants out now
    return 0


async def serve(bot: Storyshelf, session: Awaitable[None]) -> None:
    """Run `session` (the bot's `start`) until it ends or SIGTERM/SIGINT arrives; then close.

    Closing is the one way down, signal or not: the cogs unload, the feedback
    writer flushes what it holds, and the database closes.
    """
    task = asyncio.current_task()
    assert task is not None
    stop = StopOnSignals(task)
    stop.install()
    try:
        await session
    except asyncio.CancelledError:
        if stop.received is None:
            raise
        task.uncancel()
    finally:
        stop.remove()
        await bot.close()


class StopOnSignals:
    """SIGTERM and SIGINT (Ctrl-C) cancel the task running the bot, the way asyncio
    itself treats Ctrl-C, so whatever it is doing (even still connecting) ends and
    `serve` closes the bot.

    The first signal removes the handlers: a second one gets the default
    behaviour back, for an operator who wants out at once. Where the event loop
    cannot handle signals (Windows), Ctrl-C still reaches `serve` as a
    cancellation from `asyncio.run`.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.received: signal.Signals | None = None
        self._loop = task.get_loop()
        self._installed: list[signal.Signals] = []

    def install(self) -> None:
        for sig in self.SIGNALS:
            try:
                self._loop.add_signal_handler(sig, self._on_signal, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # no signal support here (Windows, or not the main thread)
            self._installed.append(sig)

    def remove(self) -> None:
        while self._installed:
            self._loop.remove_signal_handler(self._installed.pop())

    def _on_signal(self, sig: signal.Signals) -> None:
        self.received = sig
        self.remove()
        log.info("%s received: closing (flushing feedback, closing the database)", sig.name)
        self.task.cancel()


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.connection import DatabaseError, connect_sync, is_busy
    from bot.db.library import DuplicateTitleError, insert_story
    from bot.importer import read_story_file
    from bot.story import StoryFileError

    db_path = args.db or settings.database_path
    try:
        conn = connect_sync(db_path, busy_timeout_ms=settings.busy_timeout_ms)
    except DatabaseError as error:
        return _fail(str(error))
    failures = 0
    name = ""
    try:
        for name in args.files:
            path = Path(name)
            try:
                parsed = read_story_file(path, max_bytes=settings.max_upload_bytes)
                stored = insert_story(conn, args.guild, parsed)
            except (StoryFileError, DuplicateTitleError) as error:
                failures += 1
                print(f"✗ {path.name}: {error}")
                continue
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
                failures += 1
                print(
                    f"✗ {path.name}: the database is busy (another process is writing to it);"
                    " nothing was stored, try again"
                )
                continue
            print(
                f"✓ {path.name}: “{stored.title}” · {stored.rating.level.display}"
                f" ({stored.rating.label}) · {stored.sections} sections · {stored.words:,} words"
            )
    except sqlite3.DatabaseError as error:
        # insert_story rolled back: the file in progress left nothing behind.
        return _fail(
            f"cannot write to the database at {db_path} ({' '.join(str(error).split())});"
            f" {Path(name).name} was not stored"
        )
    except KeyboardInterrupt:
        return _fail(f"interrupted: {Path(name).name} was not stored", 130)
    finally:
        conn.close()
    return 1 if failures else 0


def cmd_inspect(args: argparse.Namespace, settings: Settings) -> int:
    from bot.importer import read_story_file
    from bot.story import StoryFileError

    try:
        parsed = read_story_file(Path(args.file), max_bytes=settings.max_upload_bytes)
    except StoryFileError as error:
        return _fail(str(error), 1)
    if args.json:
        json.dump(parsed.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    print(f"Title:    {parsed.title}")
    print(f"Author:   {parsed.author or '(unknown)'}")
    print(f"Rating:   {parsed.rating.label} → {parsed.rating.level.display}")
    for key, value in parsed.metadata.items():
        print(f"{key.capitalize() + ':':<9} {value}")
    print(f"Words:    {parsed.words:,}")
    print(f"Sections: {len(parsed.sections)}")
    for number, section in enumerate(parsed.sections, start=1):
        print(f"  {number:>3}. {section.title}  ({section.words:,} words)")
    for warning in parsed.warnings:
        print(f"warning: {warning}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Storyshelf: run the bot, or import/inspect stories."
    )
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import", help="store story files on a server's shelf, without Discord")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--guild", type=int, required=True, metavar="ID", help="the server's id")
    imp.add_argument(
        "--db", type=Path, default=None, help=f"database file (default {DEFAULT_DATABASE_PATH})"
    )
    ins = sub.add_parser("inspect", help="parse a story file and show what was found")
    ins.add_argument("file", metavar="FILE")
    ins.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return _fail(str(error))
    if args.command == "import":
        return cmd_import(args, settings)
    if args.command == "inspect":
        return cmd_inspect(args, settings)
    return run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())
