"""When the database is not ours alone, or not a database at all, or Discord drops a reply.

A busy shelf (another process holding the write lock) answers "busy, try
again" and changes nothing; a damaged or wrong DATABASE_PATH stops start-up
with one line before anything touches the file or Discord; an import killed
midway leaves the story whole or absent; an interaction reply Discord refuses
is logged and the bot keeps answering.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import discord
import pytest

from bot.db.connection import connect_sync, is_busy, latest_version
from bot.settings import Settings
from bot.tree import BUSY_REPLY, GENERIC_APOLOGY
from tests.support import UnauthorizedDiscord, make_story, query, shelve

ROOT = Path(__file__).resolve().parents[1]
CALLBACK = "/interactions/*/*/callback"
TWO_CHAPTERS = (
    b"Title: Rain at Noon\nRating: General\n\n"
    b"Chapter 1\n\nThe rain began at noon and nobody minded.\n\n"
    b"Chapter 2\n\nBy evening the gutters sang and the cat came in.\n"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # A short busy timeout: a blocked write gives up quickly, as it would in
    # production after BUSY_TIMEOUT_MS.
    return Settings(database_path=tmp_path / "storyshelf.db", shard_count=1, busy_timeout_ms=200)


@pytest.fixture
def world(simcord_env):
    env = simcord_env
    guild = env.create_guild(name="Book Club")
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_messages=True))
    channel = guild.create_text_channel("general")
    mod = guild.add_member(env.create_user("mod"), roles=[mods])
    reader = guild.add_member(env.create_user("reader"))
    return env, guild, channel, mod, reader


@contextlib.contextmanager
def another_process_writing(path: Path) -> Iterator[None]:
    """Hold the database's write lock from a second connection, as an import or backup would."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


def _shelf_state(settings: Settings) -> dict[str, list[tuple]]:
    return {
        table: query(settings, f"SELECT * FROM {table} ORDER BY 1")
        for table in ("stories", "sections", "guild_settings", "audit_log", "excerpt_posts")
    }


# ---------------------------------------------------------------------- busy


async def test_settings_while_another_process_writes_say_busy_and_change_nothing(world, settings):
    env, guild, channel, mod, reader = world
    before = _shelf_state(settings)

    with another_process_writing(settings.database_path):
        busy = await mod.slash(channel, "library settings", emoji="👍 🎉", max_rating="mature")

    assert busy.ephemeral
    assert busy.response.content == BUSY_REPLY
    assert "busy" in BUSY_REPLY and "Nothing was changed" in BUSY_REPLY
    assert _shelf_state(settings) == before
    assert [is_busy(error) for error in env.errors] == [True]

    saved = await mod.slash(channel, "library settings", emoji="👍 🎉", max_rating="mature")

    assert saved.response.content.startswith("Saved.")
    fields = {f.name: f.value for f in saved.response.embeds[0].fields}
    assert fields["Feedback emoji"] == "👍 🎉"
    assert query(settings, "SELECT max_rating FROM guild_settings") == [("mature",)]
    assert query(settings, "SELECT action FROM audit_log") == [("settings",)]


async def test_confirming_an_upload_while_another_process_writes_stores_nothing(world, settings):
    env, guild, channel, mod, reader = world
    preview = await mod.slash(channel, "library add", file=("rain.txt", TWO_CHAPTERS))
    assert "nothing is stored until you confirm" in preview.response.content

    with another_process_writing(settings.database_path):
        busy = await mod.click(preview.response.message, label="Confirm")

    assert busy.ephemeral and busy.response.content == BUSY_REPLY
    for table in ("stories", "sections", "audit_log"):
        assert query(settings, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert query(
        settings, "SELECT count(*) FROM section_fts WHERE section_fts MATCH 'gutters'"
    ) == [(0,)]

    again = await mod.slash(channel, "library add", file=("rain.txt", TWO_CHAPTERS))
    stored = await mod.click(again.response.message, label="Confirm")

    assert "Added “Rain at Noon” to the shelf: 2 sections" in stored.response.content
    assert query(settings, "SELECT title, section_count FROM stories") == [("Rain at Noon", 2)]
    assert query(settings, "SELECT count(*) FROM sections") == [(2,)]
    assert query(settings, "SELECT action FROM audit_log") == [("add",)]


async def test_removing_while_another_process_writes_keeps_the_story(world, settings):
    env, guild, channel, mod, reader = world
    shelve(settings, guild.id, make_story("Tea at Five"))
    before = _shelf_state(settings)
    asked = await mod.slash(channel, "library remove", title="Tea at Five")

    with another_process_writing(settings.database_path):
        busy = await mod.click(asked.response.message, label="Remove")

    assert busy.ephemeral and busy.response.content == BUSY_REPLY
    assert _shelf_state(settings) == before
    read = await reader.slash(channel, "read", title="Tea at Five")
    assert "The kettle" in read.response.content

    asked = await mod.slash(channel, "library remove", title="Tea at Five")
    done = await mod.click(asked.response.message, label="Remove")

    assert "Removed “Tea at Five”" in done.response.content
    assert query(settings, "SELECT count(*) FROM stories") == [(0,)]
    assert query(settings, "SELECT action FROM audit_log") == [("add",), ("remove",)]


def test_import_while_another_process_writes_says_busy_and_stores_nothing(tmp_path):
    db = tmp_path / "shelf.db"
    connect_sync(db).close()
    story = tmp_path / "rain.txt"
    story.write_bytes(TWO_CHAPTERS)

    with another_process_writing(db):
        busy = _run(
            ["import", str(story), "--guild", "1", "--db", str(db)],
            tmp_path,
            {"BUSY_TIMEOUT_MS": "200"},
        )

    assert busy.returncode == 1
    assert busy.stdout.strip() == (
        "✗ rain.txt: the database is busy (another process is writing to it);"
        " nothing was stored, try again"
    )
    assert "Traceback" not in busy.stderr
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM stories").fetchone() == (0,)


# ---------------------------------------------------------------------- damaged files


def _run(
    args: list[str],
    cwd: Path,
    env_extra: dict[str, str] | None = None,
    script: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DISCORD_TOKEN", "DATABASE_PATH", "BUSY_TIMEOUT_MS", "MAX_UPLOAD_BYTES"}
    }
    env.update(env_extra or {})
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "bot", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def _run_bot(database_path: Path, cwd: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`python -m bot` with a fake token, Discord played by a loopback stand-in."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), UnauthorizedDiscord)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script = textwrap.dedent(
        f"""
        import sys, discord.http
        discord.http.Route.BASE = "http://127.0.0.1:{server.server_port}/api/v10"
        from bot.__main__ import main
        sys.exit(main([]))
        """
    )
    try:
        result = _run(
            [],
            cwd,
            {"DISCORD_TOKEN": "test-token-not-real", "DATABASE_PATH": str(database_path)},
            script=script,
        )
    finally:
        server.shutdown()
        server.server_close()
    return result, list(server.requests)  # type: ignore[attr-defined]


def _real_database(path: Path) -> bytes:
    """A shelf as the bot leaves it (WAL mode, several stories), closed cleanly."""
    settings = Settings(database_path=path)
    for number in range(20):
        text = " ".join(f"word{number}x{i}" for i in range(3000))
        shelve(settings, 1, make_story(f"Story {number}", sections=[("One", text)]))
    return path.read_bytes()


def _damaged(kind: str, folder: Path) -> Path:
    path = folder / "storyshelf.db"
    if kind == "directory":
        path.mkdir()
        (path / "keep.txt").write_text("a folder, not a database")
        return path
    if kind == "random bytes":
        data = random.Random(7).randbytes(64 * 1024)
    elif kind == "text file":
        data = b"DISCORD_TOKEN=abc\nDATABASE_PATH=data/storyshelf.db\n" * 20
    else:
        scratch = folder / "scratch"
        scratch.mkdir()
        valid = _real_database(scratch / "real.db")
        if kind == "truncated database":
            data = valid[: len(valid) // 3]
        else:  # garbage pages: a valid header and schema page, the rest overwritten
            page = int.from_bytes(valid[16:18], "big")
            noise = random.Random(11).randbytes(len(valid) - page)
            data = valid[:page] + noise
        assert data[:16] == b"SQLite format 3\x00"
    path.write_bytes(data)
    return path


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
        if "scratch" not in p.parts
    }


DAMAGED = ["random bytes", "text file", "truncated database", "garbage pages", "directory"]
EXPLANATION = {
    "random bytes": "is not a SQLite database (check DATABASE_PATH)",
    "text file": "is not a SQLite database (check DATABASE_PATH)",
    "truncated database": "is damaged and cannot be used as the shelf",
    "garbage pages": "is damaged and cannot be used as the shelf",
    "directory": "is a directory, not a database file (check DATABASE_PATH)",
}


@pytest.mark.parametrize("kind", DAMAGED)
def test_start_up_on_a_damaged_database_stops_with_one_line_before_logging_in(tmp_path, kind):
    path = _damaged(kind, tmp_path)
    before = _snapshot(tmp_path)

    result, discord_requests = _run_bot(path, tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"storyshelf: {path}")
    assert EXPLANATION[kind] in lines[0]
    assert discord_requests == []  # stopped before logging in
    assert _snapshot(tmp_path) == before  # byte-identical, no -wal/-shm beside it


@pytest.mark.parametrize("kind", DAMAGED)
def test_import_into_a_damaged_database_stops_with_one_line(tmp_path, kind):
    path = _damaged(kind, tmp_path)
    story = tmp_path / "rain.txt"
    story.write_bytes(TWO_CHAPTERS)
    before = _snapshot(tmp_path)

    result = _run(["import", str(story), "--guild", "1", "--db", str(path)], tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"storyshelf: {path}") and EXPLANATION[kind] in lines[0]
    assert _snapshot(tmp_path) == before


def test_an_empty_file_is_a_new_shelf(tmp_path):
    # `touch data/storyshelf.db` is a common way to prepare the path; SQLite
    # itself reads an empty file as an empty database.
    path = tmp_path / "storyshelf.db"
    path.touch()
    story = tmp_path / "rain.txt"
    story.write_bytes(TWO_CHAPTERS)

    result = _run(["import", str(story), "--guild", "1", "--db", str(path)], tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("✓ rain.txt: “Rain at Noon”")
    assert query(Settings(database_path=path), "SELECT title FROM stories") == [("Rain at Noon",)]


def test_start_up_on_an_empty_file_goes_on_to_log_in(tmp_path):
    path = tmp_path / "storyshelf.db"
    path.touch()

    result, discord_requests = _run_bot(path, tmp_path)

    assert discord_requests, "the bot should have gone on to log in"
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("storyshelf: Discord rejected DISCORD_TOKEN")
    )
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM stories").fetchone() == (0,)


# ---------------------------------------------------------------------- killed import

CHAPTERS = 400


def _long_story(path: Path) -> None:
    """About 8 MB: long enough that storing it is a transaction worth interrupting."""
    rng = random.Random(3)
    words = ["the", "kettle", "sang", "at", "five", "nobody", "came", "two", "cups", "waited"]
    parts = ["Title: The Long Import\nAuthor: Tester\nRating: General\n\n"]
    for number in range(1, CHAPTERS + 1):
        parts.append(f"Chapter {number}\n\n")
        for _ in range(40):
            parts.append(" ".join(rng.choice(words) for _ in range(100)).capitalize() + ".\n\n")
    parts.append("And that was the zebrafinale.\n")
    path.write_text("".join(parts), encoding="utf-8")


def _import_and_kill(story: Path, db: Path, *, wal_bytes: int | None) -> int:
    """Import, SIGKILLing the process once its -wal passes `wal_bytes`; the -wal size then.

    `wal_bytes=None` lets the import finish. The migrations write about 100 kB
    of -wal; beyond that, the growth is the story's transaction.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_PATH", "BUSY_TIMEOUT_MS"}}
    env.update(PYTHONPATH=str(ROOT), MAX_UPLOAD_BYTES=str(50 * 1024 * 1024))
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "import", str(story), "--guild", "1", "--db", str(db)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wal = Path(f"{db}-wal")
    seen = 0
    deadline = time.monotonic() + 60
    try:
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError):
                seen = wal.stat().st_size
            if wal_bytes is not None and seen > wal_bytes:
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.wait(timeout=60)
    if wal_bytes is None:
        assert process.returncode == 0
    return seen


def _consistent_story(db: Path) -> bool:
    """Check the shelf after a kill; whether the story is on it (whole, or not at all)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        if conn.execute("PRAGMA user_version").fetchone() == (0,):
            # Killed while the schema was being created: that rolled back whole too.
            assert conn.execute("SELECT count(*) FROM sqlite_schema").fetchone() == (0,)
            return False
        assert conn.execute("PRAGMA user_version").fetchone() == (latest_version(),)
        conn.execute("INSERT INTO section_fts (section_fts) VALUES ('integrity-check')")
        stories = conn.execute("SELECT id, section_count FROM stories").fetchall()
        sections = conn.execute("SELECT count(*) FROM sections").fetchone()[0]
        audit = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
        found = conn.execute(
            "SELECT count(*) FROM section_fts WHERE section_fts MATCH 'zebrafinale'"
        ).fetchone()[0]
    if not stories:
        assert (sections, audit, found) == (0, 0, 0)
        return False
    assert stories == [(stories[0][0], CHAPTERS)]
    assert (sections, audit, found) == (CHAPTERS, 1, 1)
    return True


def test_import_killed_midway_leaves_the_story_whole_or_absent(tmp_path):
    story = tmp_path / "long.txt"
    _long_story(story)
    interrupted = 0
    for run, wal_bytes in enumerate([0, 1_000_000, 2_000_000, 4_000_000]):
        db = tmp_path / f"kill{run}.db"

        seen = _import_and_kill(story, db, wal_bytes=wal_bytes)

        stored = _consistent_story(db)
        if not stored and seen > 1_000_000:
            interrupted += 1  # killed while the story's transaction was being written
    # At least one kill landed inside the transaction, so the test saw a real rollback.
    assert interrupted >= 1

    finished = tmp_path / "finished.db"
    _import_and_kill(story, finished, wal_bytes=None)
    assert _consistent_story(finished)


# ---------------------------------------------------------------------- refused replies


@pytest.mark.discord_faults
async def test_an_expired_interaction_is_logged_and_the_bot_keeps_answering(world, caplog):
    env, guild, channel, mod, reader = world
    env.inject_error("POST", CALLBACK, status=404, code=10062, message="Unknown interaction")

    with caplog.at_level(logging.WARNING, logger="bot.tree"):
        lost = await reader.slash(channel, "help")

    assert not lost.acknowledged  # nobody left to answer: the reply was not retried
    assert any(
        "command help" in r.getMessage() and "expired" in r.getMessage() for r in caplog.records
    )
    # The failure went through the tree's handler; nothing escaped into the event loop.
    assert [type(error.original) for error in env.errors] == [discord.NotFound]

    answered = await reader.slash(channel, "help")
    assert answered.response.embeds[0].title == "Storyshelf"


@pytest.mark.discord_faults
async def test_a_refused_reply_gets_an_apology_and_a_refused_apology_is_only_logged(world, caplog):
    env, guild, channel, mod, reader = world
    env.inject_error("POST", CALLBACK, status=500, message="Internal Server Error")

    with caplog.at_level(logging.WARNING, logger="bot.tree"):
        apologised = await reader.slash(channel, "help")

    assert apologised.ephemeral and apologised.response.content == GENERIC_APOLOGY
    assert any(
        r.levelno == logging.ERROR and "command help" in r.getMessage() for r in caplog.records
    )

    caplog.clear()
    env.inject_error("POST", CALLBACK, status=503, message="Service Unavailable", times=2)
    with caplog.at_level(logging.WARNING, logger="bot.tree"):
        silent = await reader.slash(channel, "help")

    assert not silent.acknowledged
    assert any("could not send a reply" in r.getMessage() for r in caplog.records)
    # Both failures went through the tree's handler; the refused apology escaped nowhere.
    assert [error.original.status for error in env.errors] == [500, 503]

    answered = await reader.slash(channel, "help")
    assert answered.response.embeds[0].title == "Storyshelf"
