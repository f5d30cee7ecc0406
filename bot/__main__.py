"""Entry point: `python -m bot` runs the bot; `import` and `inspect` work offline."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from bot.settings import DEFAULT_DATABASE_PATH, Settings, SettingsError

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
    from bot.db.connection import DatabaseError

    if not settings.token:
        return _fail(NO_TOKEN)
    discord.utils.setup_logging(level=getattr(logging, settings.log_level, logging.INFO))

    async def runner() -> None:
        bot = create_bot(settings)
        async with bot:
            await bot.start(settings.token or "")

    try:
        asyncio.run(runner())
    except discord.LoginFailure:
        return _fail(BAD_TOKEN)
    except discord.PrivilegedIntentsRequired:
        return _fail("Discord refused the bot's intents; this bot needs no privileged intents.")
    except DatabaseError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.connection import DatabaseError, connect_sync
    from bot.db.library import DuplicateTitleError, insert_story
    from bot.importer import read_story_file
    from bot.story import StoryFileError

    try:
        conn = connect_sync(args.db or settings.database_path)
    except DatabaseError as error:
        return _fail(str(error))
    failures = 0
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
            print(
                f"✓ {path.name}: “{stored.title}” · {stored.rating.level.display}"
                f" ({stored.rating.label}) · {stored.sections} sections · {stored.words:,} words"
            )
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
