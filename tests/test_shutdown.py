"""SIGTERM and Ctrl-C close the bot the normal way: feedback flushed, database closed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.__main__ import serve
from bot.settings import Settings
from tests.support import make_story, query, restart, shelve

ROOT = Path(__file__).resolve().parents[1]


def _wal(database: Path) -> Path:
    """SQLite's write-ahead log beside a database: present while a connection is open."""
    return Path(f"{database}-wal")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The feedback writer would wait an hour: only closing can write what it holds.
    return Settings(
        database_path=tmp_path / "storyshelf.db", shard_count=1, feedback_flush_interval=3600
    )


async def test_sigterm_flushes_pending_feedback_and_closes_the_database(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    bot = env.bot
    shelve(settings, guild.id, make_story("Tea at Five"))
    excerpt = (await reader.slash(general, "read", title="Tea at Five")).response.message
    await reader.react(excerpt, "❤️")
    await reader.react(excerpt, "🔥")
    assert bot.feedback.pending > 0
    assert query(settings, "SELECT count(*) FROM reactions") == [(0,)]
    db = bot.db

    # What `python -m bot` runs, with SimCord standing in for the Discord session.
    running = asyncio.create_task(serve(bot, asyncio.Event().wait()))
    await asyncio.sleep(0)  # let it install its signal handlers
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(running, timeout=10)

    assert query(settings, "SELECT emoji, user_id FROM reactions ORDER BY emoji") == sorted(
        [("❤️", reader.id), ("🔥", reader.id)]
    )
    with pytest.raises(ValueError, match="no active connection"):
        await db.execute("SELECT 1")
    assert not _wal(settings.database_path).exists()  # closed cleanly, checkpointed
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers removed again


def _journals(database: Path) -> list[Path]:
    return sorted(database.parent.glob(f"{database.name}.*.journal"))


async def test_closing_while_another_process_holds_the_lock_keeps_feedback_for_the_next_start(
    reading_world, settings, caplog
):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Tea at Five"))
    first = (await reader.slash(general, "read", title="Tea at Five")).response.message
    await reader.react(first, "❤️")
    await env.bot.feedback.flush()
    async with env.bot.db.execute("PRAGMA busy_timeout = 50"):
        pass
    env.bot.feedback.shutdown_budget = 0.3  # the operator's budget, shortened for the test

    other = sqlite3.connect(settings.database_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process writes for longer than the budget
        # Posted while locked out: its row and its reactions cannot be written now.
        second = (
            await reader.slash(general, "read", title="Tea at Five", section=2)
        ).response.message
        await reader.react(second, "🔥")
        await reader.unreact(first, "❤️")
        with caplog.at_level(logging.WARNING, logger="bot.feedback"):
            await env.bot.close_resources()
        other.execute("ROLLBACK")
    finally:
        other.close()

    (journal,) = _journals(settings.database_path)
    assert any(
        f"kept 1 excerpt post and 2 reaction events in {journal}" in r.getMessage()
        and "they will be written at the next start" in r.getMessage()
        for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
    assert query(settings, "SELECT count(*) FROM excerpt_posts") == [(1,)]

    bot = await restart(env, settings)  # the next start writes the journal first

    assert _journals(settings.database_path) == []
    assert query(
        settings,
        "SELECT p.section_position, r.emoji, r.user_id FROM reactions r"
        " JOIN excerpt_posts p USING (message_id)",
    ) == [(2, "🔥", reader.id)]
    await reader.react(second, "😂")  # the excerpt posted during the lock counts from now on
    await bot.feedback.flush()
    assert query(settings, "SELECT count(*) FROM reactions WHERE message_id = ?", second.id) == [
        (2,)
    ]


# ---------------------------------------------------------------------- the real process


class _Discord(BaseHTTPRequestHandler):
    """Enough of Discord's REST API, on loopback, for the bot to log in and start connecting.

    The gateway it is sent to accepts the connection and never answers, so the
    bot stays up (connecting) until it is told to stop.
    """

    def _send(self, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.requests.append(f"GET {self.path}")  # type: ignore[attr-defined]
        user = {"id": "1001", "username": "storyshelf", "discriminator": "0", "avatar": None}
        if self.path.endswith("/users/@me"):
            self._send({**user, "bot": True})
        elif self.path.endswith("/oauth2/applications/@me"):
            self._send(
                {
                    "id": "1001",
                    "name": "Storyshelf",
                    "description": "",
                    "icon": None,
                    "bot_public": False,
                    "bot_require_code_grant": False,
                    "owner": user,
                    "verify_key": "0" * 64,
                    "flags": 0,
                }
            )
        elif self.path.endswith("/gateway/bot"):
            self._send(
                {
                    "url": f"ws://127.0.0.1:{self.server.gateway_port}",  # type: ignore[attr-defined]
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 1000,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        else:
            self.send_error(404)

    def do_PUT(self) -> None:
        self.server.requests.append(f"PUT {self.path}")  # type: ignore[attr-defined]
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send([])  # the synced commands

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _discord_stand_in():
    gateway = socket.create_server(("127.0.0.1", 0))  # listens, never answers
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discord)
    server.requests = []  # type: ignore[attr-defined]
    server.gateway_port = gateway.getsockname()[1]  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        gateway.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_running_bot_cleanly(tmp_path, sig):
    db = tmp_path / "storyshelf.db"
    with _discord_stand_in() as discord_api:
        script = textwrap.dedent(
            f"""
            import sys, discord.http
            discord.http.Route.BASE = "http://127.0.0.1:{discord_api.server_port}/api/v10"
            from bot.__main__ import main
            sys.exit(main([]))
            """
        )
        env = {k: v for k, v in os.environ.items() if k not in {"SHARD_COUNT", "SHARD_IDS"}}
        env.update(PYTHONPATH=str(ROOT), DISCORD_TOKEN="test-token-not-real", DATABASE_PATH=str(db))
        process = subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # Up: logged in, database open, commands synced, connecting to the gateway.
            deadline = time.monotonic() + 30
            while not any("/gateway/bot" in r for r in discord_api.requests):
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the bot never got as far as the gateway"
                time.sleep(0.02)
            assert _wal(db).exists()  # the bot holds the database open

            process.send_signal(sig)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert process.returncode == 0, err
    assert f"{sig.name} received: closing" in err
    assert "Traceback" not in err
    assert not _wal(db).exists()  # the bot's connection was closed, not abandoned
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM bot_meta").fetchone()[0] >= 1
