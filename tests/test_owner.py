"""The server owner's paths: command sync per application, `sync`, `backup` and `restore`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from simcord import Env

import bot.client
from bot import create_bot
from bot.__main__ import main
from bot.command_sync import guild_copies, sync_commands
from bot.db.backup import BackupError, backup_database, restore_database
from bot.db.connection import connect_sync, latest_version
from bot.settings import ENV_FILE_VARIABLE, Settings
from tests.support import make_story, query, restart, shelve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_project_env(tmp_path, monkeypatch):
    """The developer's own `.env` and environment must not leak into these tests."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(empty))
    for name in ("DISCORD_TOKEN", "DATABASE_PATH", "DEV_GUILD_ID", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


def _command_puts(env: Env, guild_id: int | None = None) -> list:
    if guild_id is None:
        return [
            e
            for e in env.http_requests
            if e.method == "PUT" and e.path.endswith("/commands") and "/guilds/" not in e.path
        ]
    return [
        e
        for e in env.http_requests
        if e.method == "PUT" and e.path.endswith(f"/guilds/{guild_id}/commands")
    ]


async def _sync(bot, *, dev_guild_id: int | None, force: bool = False) -> bool:
    return await sync_commands(
        bot.tree, bot.db, application_id=bot.application_id, dev_guild_id=dev_guild_id, force=force
    )


async def _reader_help(env: Env) -> str:
    guild = env.create_guild()
    channel = guild.create_text_channel("general")
    reader = guild.add_member(env.create_user("reader"))
    # strict_sync (SimCord's default): a command Discord never received fails here.
    result = await reader.slash(channel, "help")
    return result.response.embeds[0].title


# --- command sync ------------------------------------------------------------------


async def test_commands_sync_when_unchanged_only_on_force(simcord_env):
    env = simcord_env
    await _sync(env.bot, dev_guild_id=None)
    sent = len(_command_puts(env))

    assert await _sync(env.bot, dev_guild_id=None) is False
    assert len(_command_puts(env)) == sent

    assert await _sync(env.bot, dev_guild_id=None, force=True) is True
    puts = _command_puts(env)
    assert len(puts) == sent + 1
    assert f"/applications/{env.bot.application_id}/commands" in puts[-1].path
    assert {c["name"] for c in puts[-1].json} >= {"help", "read", "library"}


async def test_same_database_with_another_application_syncs_its_commands(settings):
    first = Env(create_bot(settings))
    await first.start()
    await _sync(first.bot, dev_guild_id=None)
    first_application = first.bot.application_id
    await first.shutdown()
    await first.bot.close_resources()

    # A fresh SimCord backend (no commands yet) as another application; same database file.
    env = Env(create_bot(settings))
    env.backend.application_id = first_application + 1
    await env.start()
    try:
        assert env.bot.application_id != first_application
        await _sync(env.bot, dev_guild_id=None)

        assert _command_puts(env)
        assert await _reader_help(env) == "Storyshelf"
    finally:
        await env.shutdown()
        await env.bot.close_resources()


@pytest.mark.skipif(
    not hasattr(bot.client, "sync_commands"),
    reason="bot/client.py does not call bot.command_sync.sync_commands yet",
)
async def test_bot_start_syncs_for_a_new_application_by_itself(settings):
    for application_id in (7001, 7002):  # two applications, one database; no manual sync
        env = Env(create_bot(settings))
        env.backend.application_id = application_id
        await env.start()
        try:
            assert await _reader_help(env) == "Storyshelf"
        finally:
            await env.shutdown()
            await env.bot.close_resources()


async def test_turning_dev_guild_off_clears_that_servers_copy(simcord_env, settings):
    env = simcord_env
    dev = env.create_guild(name="Test server")
    await _sync(env.bot, dev_guild_id=dev.id)
    assert {c["name"] for c in env.backend.commands[dev.id].values()} >= {"help", "read"}

    # The next start has DEV_GUILD_ID unset: a new bot, a new tree, the same database.
    await restart(env, settings)
    await _sync(env.bot, dev_guild_id=None)

    assert not env.backend.commands.get(dev.id)  # the server's second copy is gone
    assert _command_puts(env, dev.id)[-1].json == []
    assert {c["name"] for c in env.backend.commands[None].values()} >= {"help", "read"}
    assert await guild_copies(env.bot.db, env.bot.application_id) == set()

    # Cleared once: later starts send nothing more to that server.
    sent = len(_command_puts(env, dev.id))
    await restart(env, settings)
    await _sync(env.bot, dev_guild_id=None)
    assert len(_command_puts(env, dev.id)) == sent


async def test_moving_dev_guild_clears_the_old_one(simcord_env, settings):
    env = simcord_env
    old, new = env.create_guild(name="Old"), env.create_guild(name="New")
    await _sync(env.bot, dev_guild_id=old.id)

    await restart(env, settings)
    await _sync(env.bot, dev_guild_id=new.id)

    assert not env.backend.commands.get(old.id)
    assert env.backend.commands.get(new.id)
    assert await guild_copies(env.bot.db, env.bot.application_id) == {new.id}


# --- `python -m bot sync` against a stand-in Discord over HTTP ----------------------


class FakeDiscord(BaseHTTPRequestHandler):
    """Just enough of Discord's REST API for a login and a command sync."""

    def _reply(self, payload: object, status: int = 200) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        server = self.server
        user = {"id": "500", "username": "storyshelf", "discriminator": "0", "avatar": None}
        if self.path.endswith("/users/@me"):
            self._reply({**user, "bot": True})
        elif self.path.endswith("/oauth2/applications/@me"):
            self._reply(
                {
                    "id": str(server.application_id),  # type: ignore[attr-defined]
                    "name": "Storyshelf",
                    "description": "",
                    "icon": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": user,
                    "verify_key": "0" * 64,
                    "flags": 0,
                }
            )
        else:
            self._reply({"message": "404: Not Found", "code": 0}, 404)

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        commands = json.loads(self.rfile.read(length) or b"[]")
        self.server.puts.append(self.path)  # type: ignore[attr-defined]
        app = self.path.split("/applications/")[1].split("/")[0]
        self._reply(
            [
                {**c, "id": str(900 + n), "application_id": app, "version": "1"}
                for n, c in enumerate(commands)
            ]
        )

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_discord():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeDiscord)
    server.application_id = 7001  # type: ignore[attr-defined]
    server.puts = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _cli(args: list[str], fake: ThreadingHTTPServer, env_extra: dict[str, str]):
    script = textwrap.dedent(
        f"""
        import sys, discord.http
        discord.http.Route.BASE = "http://127.0.0.1:{fake.server_port}/api/v10"
        from bot.__main__ import main
        sys.exit(main({args!r}))
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "DATABASE_PATH"}}
    env.update(env_extra, PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING")
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )


def test_sync_command_logs_in_over_http_and_syncs_per_application(tmp_path, fake_discord):
    env = {"DISCORD_TOKEN": "fake.token.value", "DATABASE_PATH": str(tmp_path / "shelf.db")}
    puts = fake_discord.puts  # type: ignore[attr-defined]

    first = _cli(["sync"], fake_discord, env)
    assert first.returncode == 0, first.stderr
    assert "/api/v10/applications/7001/commands" in puts
    sent = len(puts)

    again = _cli(["sync"], fake_discord, env)
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout and len(puts) == sent

    forced = _cli(["sync", "--force"], fake_discord, env)
    assert forced.returncode == 0 and "synced" in forced.stdout
    assert len(puts) == sent + 1

    fake_discord.application_id = 7002  # type: ignore[attr-defined]
    other = _cli(["sync"], fake_discord, env)
    assert other.returncode == 0, other.stderr
    assert puts[-1] == "/api/v10/applications/7002/commands"

    guild = _cli(["sync", "--guild", "123"], fake_discord, env)
    assert guild.returncode == 0 and "server 123" in guild.stdout
    assert puts[-1] == "/api/v10/applications/7002/guilds/123/commands"
    assert "Traceback" not in first.stderr + again.stderr + forced.stderr + other.stderr


def test_sync_without_token_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "shelf.db"))

    assert main(["sync"]) == 2
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err


# --- backup and restore ------------------------------------------------------------


def _database(path: Path) -> Settings:
    settings = Settings(database_path=path)
    connect_sync(path).close()
    return settings


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_backup_while_a_writer_commits_holds_every_committed_row(tmp_path):
    live = tmp_path / "live.db"
    _database(live)
    committed = 0
    stop = threading.Event()
    enough = threading.Event()

    def writer() -> None:
        nonlocal committed
        conn = connect_sync(live, apply_migrations=False)
        try:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO bot_meta (key, value) VALUES (?, ?)",
                    (f"row:{committed:06d}", "x" * 200),
                )  # autocommit: committed when execute returns
                committed += 1
                if committed >= 300:
                    enough.set()
        finally:
            conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert enough.wait(30)
        before = committed  # every row up to here was committed before the backup began
        info = backup_database(live, tmp_path / "copy.db")
        during = committed
    finally:
        stop.set()
        thread.join()

    copy = tmp_path / "copy.db"
    assert _integrity(copy) == "ok"
    conn = sqlite3.connect(copy)
    keys = [
        r[0] for r in conn.execute("SELECT key FROM bot_meta WHERE key LIKE 'row:%' ORDER BY key")
    ]
    conn.close()
    assert len(keys) >= before
    # One consistent moment: the rows committed up to some point, none missing in between.
    assert keys == [f"row:{n:06d}" for n in range(len(keys))]
    assert len(keys) <= during
    assert info.schema_version == latest_version()
    assert not Path(f"{copy}-wal").exists()  # one self-contained file


def test_backup_refuses_to_overwrite_unless_forced(tmp_path, capsys):
    live = tmp_path / "live.db"
    settings = _database(live)
    shelve(settings, 1, make_story("Tea at Five"))
    target = tmp_path / "backups" / "shelf.db"

    assert main(["backup", str(target), "--db", str(live)]) == 0
    out = capsys.readouterr().out
    assert "1 stories" in out and str(target) in out

    target.write_bytes(b"precious")
    assert main(["backup", str(target), "--db", str(live)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert target.read_bytes() == b"precious"

    assert main(["backup", str(target), "--db", str(live), "--force"]) == 0
    assert _integrity(target) == "ok"

    assert main(["backup", str(tmp_path / "b.db"), "--db", str(tmp_path / "none.db")]) == 2
    assert "there is no Storyshelf database at" in capsys.readouterr().err
    assert not (tmp_path / "b.db").exists()


def test_restore_round_trips_and_keeps_what_it_replaced(tmp_path, capsys):
    live = tmp_path / "live.db"
    settings = _database(live)
    shelve(settings, 1, make_story("Tea at Five"))
    backup = tmp_path / "backup.db"
    assert main(["backup", str(backup), "--db", str(live)]) == 0
    shelve(settings, 1, make_story("Added After"))

    assert main(["restore", str(backup), "--db", str(live)]) == 0

    out = capsys.readouterr().out
    assert query(settings, "SELECT title FROM stories") == [("Tea at Five",)]
    kept = sorted(tmp_path.glob("live.db.before-restore-*"))
    assert len(kept) == 1 and str(kept[0]) in out
    conn = sqlite3.connect(kept[0])
    assert {r[0] for r in conn.execute("SELECT title FROM stories")} == {
        "Tea at Five",
        "Added After",
    }
    conn.close()
    # The restored file is a working shelf: migrations and the integrity check pass.
    connect_sync(live).close()
    assert _integrity(live) == "ok"

    # Onto a new machine: no database there yet, nothing to keep aside.
    fresh = tmp_path / "new-home" / "storyshelf.db"
    assert main(["restore", str(backup), "--db", str(fresh)]) == 0
    assert "replaced was kept" not in capsys.readouterr().out
    assert query(Settings(database_path=fresh), "SELECT title FROM stories") == [("Tea at Five",)]


@pytest.mark.sqlite_only  # backup/restore copy the SQLite file
async def test_restore_refuses_while_the_bot_has_the_database_open(simcord_env, settings, tmp_path):
    shelve(settings, 1, make_story("Tea at Five"))
    backup = tmp_path / "backup.db"
    backup_database(settings.database_path, backup)
    shelve(settings, 1, make_story("Added After"))

    with pytest.raises(BackupError, match="open in another process"):
        restore_database(backup, settings.database_path)

    titles = {r[0] for r in query(settings, "SELECT title FROM stories")}
    assert titles == {"Tea at Five", "Added After"}
    assert await _reader_help(simcord_env) == "Storyshelf"  # the bot kept working


def test_restore_refuses_while_another_process_holds_the_database(tmp_path, capsys):
    live = tmp_path / "live.db"
    settings = _database(live)
    shelve(settings, 1, make_story("Tea at Five"))
    backup = tmp_path / "backup.db"
    backup_database(live, backup)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(live)!r})\n"
            "c.execute('SELECT count(*) FROM stories').fetchone()\n"
            "print('open', flush=True)\n"
            "sys.stdin.readline()\n"
            "print(c.execute('SELECT count(*) FROM stories').fetchone()[0], flush=True)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        assert main(["restore", str(backup), "--db", str(live)]) == 2
        err = capsys.readouterr().err
        assert "open in another process" in err and str(live) in err
        # Its connection still works: restore took no lock away from it.
        out, _ = holder.communicate("\n", timeout=30)
        assert out.strip() == "1"
    finally:
        holder.kill()
        holder.wait()


def test_restore_refuses_a_file_that_is_not_a_good_backup(tmp_path, capsys):
    live = tmp_path / "live.db"
    settings = _database(live)
    shelve(settings, 1, make_story("Tea at Five"))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    newer = tmp_path / "newer.db"
    backup_database(live, newer)
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {latest_version() + 1}")
    conn.close()

    assert main(["restore", str(junk), "--db", str(live)]) == 2
    assert "not a SQLite database" in capsys.readouterr().err
    assert main(["restore", str(newer), "--db", str(live)]) == 2
    assert "newer Storyshelf" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "missing.db"), "--db", str(live)]) == 2
    assert query(settings, "SELECT title FROM stories") == [("Tea at Five",)]
