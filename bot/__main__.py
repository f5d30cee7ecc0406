"""Entry point: `python -m bot` runs the bot; `sync` talks to Discord over HTTP only;
`import`, `inspect`, `backup` and `restore` work offline.

Every failure an operator can meet at start-up (no token, no network, a bad
token, an unusable database folder, intents) is one line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.settings import DEFAULT_DATABASE_PATH, PROJECT_ROOT, Settings, SettingsError

if TYPE_CHECKING:
    from bot.client import Storyshelf
    from bot.db.stories import StoredStory
    from bot.story import ParsedStory, Rating

log = logging.getLogger("bot")
T = TypeVar("T")

# sysexits.h: a temporary failure (the network) versus a configuration to fix.
EXIT_CONFIG = 2
EXIT_TEMPORARY = 75


def no_token(settings: Settings) -> str:
    env_file = settings.env_file or PROJECT_ROOT / ".env"
    return (
        "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications "
        f"(Bot > Reset Token), then put DISCORD_TOKEN=<token> in {env_file} "
        "(see .env.example)."
    )


BAD_TOKEN = (
    "Discord rejected DISCORD_TOKEN: copy a fresh token from the Developer Portal "
    "(Bot > Reset Token) into .env."
)


def _fail(message: str, status: int = EXIT_CONFIG) -> int:
    print(f"storyshelf: {message}", file=sys.stderr)
    return status


class _VoiceWarnings(logging.Filter):
    """discord.py warns at every start that voice needs PyNaCl and davey; this bot has
    no voice, so the warning only worries operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


def _quiet_voice_warnings() -> None:
    import discord

    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    # In case a discord.py version words or places them differently.
    logging.getLogger("discord.client").addFilter(_VoiceWarnings())


def _setup_logging(settings: Settings) -> None:
    import discord

    _quiet_voice_warnings()
    discord.utils.setup_logging(level=getattr(logging, settings.log_level, logging.INFO))


def check_database_folder(path: Path) -> None:
    """Refuse, naming the folder, a database folder that cannot be created or written.

    SQLite needs to create `-wal`/`-shm` files beside the database, so a
    writable database file in a read-only folder fails too, later and less
    clearly ("unable to open database file"). The probe is a real file
    created and removed, which also holds for root, ACLs and read-only mounts.
    """
    from bot.db.connection import DatabaseError

    if str(path) == ":memory:":
        return
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatabaseError(
            f"cannot create the database folder {folder}: {_os_reason(error)} "
            "(set DATABASE_PATH to a folder the bot may write to)"
        ) from None
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".storyshelf-probe-"):
            pass
    except OSError as error:
        raise DatabaseError(
            f"the database folder {folder} is not writable ({_os_reason(error)}): SQLite "
            "creates files beside the database; fix the folder's permissions or set DATABASE_PATH"
        ) from None


def _os_reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def _discord_failure(error: BaseException) -> tuple[str, int] | None:
    """The one line (and exit status) for a failure to reach or log in to Discord."""
    import aiohttp
    import discord

    if isinstance(error, discord.LoginFailure):
        return BAD_TOKEN, EXIT_CONFIG
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return (
            "Discord refused the bot's intents; this bot needs no privileged intents "
            "(check that the code was not changed to ask for some)",
            EXIT_CONFIG,
        )
    if isinstance(error, aiohttp.ClientConnectorError):
        # Covers DNS failures (ClientConnectorDNSError) and refused connections.
        os_error = error.os_error
        if isinstance(os_error, ConnectionRefusedError):
            reason = "connection refused"
        else:
            reason = os_error.strerror or str(os_error) or type(os_error).__name__
        return (
            f"cannot reach Discord at {error.host}:{error.port} ({reason}); "
            "check the network connection, DNS or proxy, then start again",
            EXIT_TEMPORARY,
        )
    if isinstance(error, discord.GatewayNotFound):
        return "Discord's gateway is unavailable; try again in a few minutes", EXIT_TEMPORARY
    if isinstance(error, discord.HTTPException):
        return (
            f"Discord answered {error.status} {error.response.reason or ''}".rstrip()
            + " while logging in; try again later (https://discordstatus.com)",
            EXIT_TEMPORARY,
        )
    if isinstance(error, aiohttp.ClientError | TimeoutError | ConnectionError):
        reason = " ".join(str(error).split()) or type(error).__name__
        return (
            f"lost the connection to Discord ({reason}); check the network, then start again",
            EXIT_TEMPORARY,
        )
    return None


def _run_discord(coro_factory: Callable[[], Awaitable[T]]) -> tuple[T | None, int | None]:
    """Run a session with Discord; (result, None), or (None, exit status) after one line."""
    from bot.db.connection import DatabaseError

    async def main() -> T:
        return await coro_factory()

    try:
        return asyncio.run(main()), None
    except DatabaseError as error:
        return None, _fail(str(error))
    except KeyboardInterrupt:
        return None, 0  # a second Ctrl-C while closing: the operator wants out now
    except Exception as error:
        failure = _discord_failure(error)
        if failure is None:
            raise
        return None, _fail(*failure)


def _prepare_database(settings: Settings) -> int | None:
    """Check the database before logging in: an exit status after one line, or None."""
    from bot.db.connection import DatabaseError, connect_sync

    if settings.database_url:
        return _prepare_server(settings.database_url)
    try:
        check_database_folder(settings.database_path)
        # A wrong DATABASE_PATH costs no Discord session, and the file it names
        # is left exactly as it was.
        connect_sync(settings.database_path, busy_timeout_ms=settings.busy_timeout_ms).close()
    except DatabaseError as error:
        return _fail(str(error))
    return None


def _prepare_server(url: str) -> int | None:
    """Reach the PostgreSQL server and migrate it before logging in (one line if not)."""
    from bot.db.connection import DatabaseError
    from bot.db.pg import check_server

    try:
        asyncio.run(check_server(url))
    except DatabaseError as error:
        return _fail(str(error))
    return None


def _startup_line(settings: Settings) -> str:
    source = f"settings from {settings.env_file}" if settings.env_file else "no .env found"
    scope = f"guild {settings.dev_guild_id}" if settings.dev_guild_id else "global"
    if settings.database_url:
        from bot.db.pg import describe_url

        database = f"PostgreSQL {describe_url(settings.database_url)}"
    else:
        database = f"database {settings.database_path}"
    return f"{database}; {source}; commands: {scope}"


def run_bot(settings: Settings) -> int:
    from bot.client import create_bot

    if not settings.token:
        return _fail(no_token(settings))
    _setup_logging(settings)
    status = _prepare_database(settings)
    if status is not None:
        return status
    log.info("starting Storyshelf: %s", _startup_line(settings))

    async def runner() -> None:
        bot = create_bot(settings)
        await serve(bot, bot.start(settings.token or ""))

    _, status = _run_discord(runner)
    return status or 0


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


NOT_RATED_HINT = (
    "{found}: stored as Not Rated, which is shown only in age-restricted channels; "
    "use --rating (General, Teen, Mature, Explicit) to set one"
)


def _rating_override(value: str | None) -> Rating | None:
    """`--rating` as `/library add` reads its rating option; unknown words are refused."""
    from bot.story import parse_rating

    if value is None:
        return None
    rating = parse_rating(value)
    if rating is None:
        raise argparse.ArgumentTypeError(
            f"“{value}” is not a rating I know; use General, Teen, Mature, Explicit or "
            "Not Rated (or G, PG-13, T, M, R, NC-17, MA…)"
        )
    return rating


def _with_rating(parsed: ParsedStory, rating: Rating | None) -> tuple[ParsedStory, list[str]]:
    """The story with `--rating` applied, and the warnings to print for it (as `inspect`)."""
    from bot.story import RatingLevel

    about_rating = [w for w in parsed.warnings if "rating" in w.lower()]
    warnings = [w for w in parsed.warnings if w not in about_rating]
    if rating is not None:
        # The parser's notes on the file's rating no longer apply.
        return dataclasses.replace(parsed, rating=rating), warnings
    if parsed.rating.level is RatingLevel.NOT_RATED and about_rating:
        # Missing or unknown (not an author's own "Not Rated"): say what it costs, and the cure.
        label = parsed.metadata.get("rating")
        if label:
            found = f"rating “{label}” not recognised"
        elif any("recognised" in w for w in about_rating):
            found = "the file's rating was not recognised"
        else:
            found = "no rating in the file"
        return parsed, [*warnings, NOT_RATED_HINT.format(found=found)]
    return parsed, list(parsed.warnings)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.connection import DatabaseError, connect_sync
    from bot.db.stories import insert_story

    try:
        rating = _rating_override(args.rating)
    except argparse.ArgumentTypeError as error:
        return _fail(str(error))
    if settings.database_url and args.db is None:
        return _import_to_server(args, settings, rating)
    db_path = args.db or settings.database_path
    try:
        check_database_folder(db_path)
        conn = connect_sync(db_path, busy_timeout_ms=settings.busy_timeout_ms)
    except DatabaseError as error:
        return _fail(str(error))
    importing = _Importing(args.files, settings, rating)
    try:
        return importing.run(
            lambda parsed: insert_story(conn, args.guild, parsed),
            busy="the database is busy (another process is writing to it)",
        )
    except sqlite3.DatabaseError as error:
        # insert_story rolled back: the file in progress left nothing behind.
        return _fail(
            f"cannot write to the database at {db_path} ({' '.join(str(error).split())});"
            f" {importing.name} was not stored"
        )
    except KeyboardInterrupt:
        return _fail(f"interrupted: {importing.name} was not stored", 130)
    finally:
        conn.close()


class _Importing:
    """`import`'s walk over the files, whichever database `store` writes to: a line per
    file, its warnings, and a failure counted (not raised) for a bad file, a title
    already on the shelf or a busy database. `name` is the file in progress."""

    def __init__(self, files: list[str], settings: Settings, rating: Rating | None) -> None:
        self.files = files
        self.settings = settings
        self.rating = rating
        self.name = ""

    def run(self, store: Callable[[ParsedStory], StoredStory], *, busy: str) -> int:
        from bot.db.connection import is_busy
        from bot.db.stories import DuplicateTitleError
        from bot.importer import read_story_file
        from bot.story import StoryFileError

        failures = 0
        for name in self.files:
            path = Path(name)
            self.name = path.name
            try:
                parsed, warnings = _with_rating(
                    read_story_file(path, max_bytes=self.settings.max_upload_bytes), self.rating
                )
                stored = store(parsed)
            except (StoryFileError, DuplicateTitleError) as error:
                failures += 1
                print(f"✗ {path.name}: {error}")
                continue
            except Exception as error:
                if not is_busy(error):
                    raise
                failures += 1
                print(f"✗ {path.name}: {busy}; nothing was stored, try again")
                continue
            print(
                f"✓ {path.name}: “{stored.title}” · {stored.rating.level.display}"
                f" ({stored.rating.label}) · {stored.sections} sections · {stored.words:,} words"
            )
            for warning in warnings:
                print(f"  warning: {warning}")
        return 1 if failures else 0


def _import_to_server(args: argparse.Namespace, settings: Settings, rating: Rating | None) -> int:
    """`import` into PostgreSQL (DATABASE_URL): each file in a transaction of its own."""
    from bot.db.connection import DatabaseError
    from bot.db.pg import describe_url, open_pg
    from bot.db.stories import store_story_pg

    url = settings.database_url or ""
    importing = _Importing(args.files, settings, rating)
    with asyncio.Runner() as runner:
        try:
            db = runner.run(open_pg(url, min_size=1, max_size=1))
        except DatabaseError as error:
            return _fail(str(error))
        try:
            return importing.run(
                lambda parsed: runner.run(store_story_pg(db, args.guild, parsed, user_id=None)),
                busy="the database is busy or unreachable",
            )
        except KeyboardInterrupt:
            return _fail(f"interrupted: {importing.name} was not stored", 130)
        except Exception as error:
            return _fail(
                f"cannot write to the PostgreSQL database at {describe_url(url)}"
                f" ({' '.join(str(error).split())}); {importing.name} was not stored"
            )
        finally:
            runner.run(db.close())


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
    for warning in _with_rating(parsed, None)[1]:
        print(f"warning: {warning}")
    return 0


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    """Log in over HTTP only (no gateway), build the real command tree, and sync it."""
    from bot.client import create_bot
    from bot.command_sync import sync_commands

    if not settings.token:
        return _fail(no_token(settings))
    _setup_logging(settings)
    status = _prepare_database(settings)
    if status is not None:
        return status
    guild_id = args.guild or settings.dev_guild_id

    async def runner() -> bool:
        # The real bot, so the real extensions define the commands; it does not
        # sync on its own at login (setup_hook), this command does it once.
        bot = create_bot(dataclasses.replace(settings, sync_commands_on_start=False))
        try:
            await bot.login(settings.token or "")
            assert bot.application_id is not None  # login fetched the application
            return await sync_commands(
                bot.tree,
                bot.db,
                application_id=bot.application_id,
                dev_guild_id=guild_id,
                force=args.force,
                clear_stale=args.guild is None,
            )
        finally:
            await bot.close()

    synced, status = _run_discord(runner)
    if status is not None:
        return status
    scope = f"server {guild_id}" if guild_id else "every server (global)"
    if synced:
        print(f"commands synced to {scope}")
    else:
        print(f"commands unchanged for {scope}; nothing sent (use --force to send them anyway)")
    return 0


def _on_server(args: argparse.Namespace, settings: Settings, what: str) -> int | None:
    if settings.database_url and args.db is None:
        return _fail(
            f"the shelf is on PostgreSQL (DATABASE_URL): {what} copies the SQLite file;"
            " use pg_dump and pg_restore for the server, or --db for a SQLite file"
        )
    return None


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.backup import BackupError, backup_database

    refused = _on_server(args, settings, "backup")
    if refused is not None:
        return refused
    database = args.db or settings.database_path
    try:
        info = backup_database(database, args.path, overwrite=args.force)
    except BackupError as error:
        return _fail(str(error))
    print(
        f"backed up {database} to {info.path}: {info.stories} stories, "
        f"schema version {info.schema_version}, {info.bytes:,} bytes"
    )
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.backup import BackupError, restore_database
    from bot.db.connection import latest_version

    refused = _on_server(args, settings, "restore")
    if refused is not None:
        return refused
    database = args.db or settings.database_path
    try:
        result = restore_database(args.path, database)
    except BackupError as error:
        return _fail(str(error))
    print(
        f"restored {args.path} into {database}: {result.restored.stories} stories,"
        f" schema version {result.restored.schema_version}"
    )
    if result.restored.schema_version < latest_version():
        print(f"the bot upgrades it to schema version {latest_version()} when it next starts")
    if result.previous is not None:
        print(f"the database it replaced was kept as {result.previous}")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _quiet_voice_warnings()
    # SimCord builds a connection state of its own without the guilds intent, and
    # discord.py warns about it; the bot's own intents are not concerned.
    logging.getLogger("discord.state").setLevel(logging.ERROR)
    return run_demo(port=args.port, channel=args.channel)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db.transfer import cmd_migrate as migrate

    return migrate(args, settings)


def add_migrate_command(sub: Any) -> None:
    from bot.db.transfer import add_migrate_command as add

    add(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Storyshelf: run the bot, or manage its shelf and commands.",
    )
    sub = parser.add_subparsers(dest="command")
    imp = sub.add_parser("import", help="store story files on a server's shelf, without Discord")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--guild", type=int, required=True, metavar="ID", help="the server's id")
    imp.add_argument(
        "--db", type=Path, default=None, help=f"database file (default {DEFAULT_DATABASE_PATH})"
    )
    imp.add_argument(
        "--rating",
        metavar="RATING",
        help="use this rating instead of the file's (General, Teen, Mature, Explicit, Not Rated)",
    )
    ins = sub.add_parser("inspect", help="parse a story file and show what was found")
    ins.add_argument("file", metavar="FILE")
    ins.add_argument("--json", action="store_true", help="print the result as JSON")
    syn = sub.add_parser("sync", help="send the slash commands to Discord (needs the token)")
    syn.add_argument("--force", action="store_true", help="send them even if unchanged")
    syn.add_argument(
        "--guild", type=int, metavar="ID", help="to this server only (default: DEV_GUILD_ID)"
    )
    bak = sub.add_parser("backup", help="copy the database safely, even while the bot runs")
    bak.add_argument("path", type=Path, metavar="PATH")
    bak.add_argument("--force", action="store_true", help="replace PATH if it exists")
    res = sub.add_parser("restore", help="replace the database with a backup (bot stopped)")
    res.add_argument("path", type=Path, metavar="PATH")
    demo = sub.add_parser(
        "demo", help="try the bot in your browser: a simulated Discord, no token needed"
    )
    demo.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: any)")
    demo.add_argument(
        "--channel",
        choices=("reading-room", "after-dark"),
        default="reading-room",
        help="the channel the page shows (after-dark is age-restricted)",
    )
    add_migrate_command(sub)
    for command in (bak, res):
        command.add_argument(
            "--db", type=Path, default=None, help="database file (default: DATABASE_PATH)"
        )
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "import": cmd_import,
    "inspect": cmd_inspect,
    "sync": cmd_sync,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "demo": cmd_demo,
    "migrate": cmd_migrate,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return _fail(str(error))
    command = COMMANDS.get(args.command or "")
    return command(args, settings) if command else run_bot(settings)


if __name__ == "__main__":
    sys.exit(main())
