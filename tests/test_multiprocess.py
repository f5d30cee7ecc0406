"""Two processes on one SQLite file lose nothing.

Real processes, each with the bot's long-lived connection and feedback writer:
one stores uploads the way `/library add` does (a short-lived connection
beside the long-lived one) while the other streams writes and restarts its
connection; and a shutdown while another process holds the write lock for
longer than the shutdown budget keeps what it could not write, for the next
start. Also: nothing ever opens the database file except SQLite, since
closing any descriptor on it drops the process's locks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from bot.db.connection import check_database, close_database, connect_sync, open_database
from bot.db.excerpts import ExcerptPost
from bot.db.stories import insert_story
from bot.feedback import FeedbackRecorder
from bot.story import ParsedStory, Rating, RatingLevel, Section

ROOT = Path(__file__).resolve().parents[1]
BUSY_MS = 200
REPETITIONS = 20
# A shard that does not answer within this is stuck (a wedged writer, a lost lock).
ANSWER_WITHIN_S = 30


def _story(title: str) -> ParsedStory:
    return ParsedStory(
        title=title,
        author="Tester",
        rating=Rating("General", RatingLevel.GENERAL),
        sections=(Section("One", "The kettle sang at five."), Section("Two", "Nobody came.")),
    )


def _new_shelf(path: Path) -> int:
    conn = connect_sync(path, busy_timeout_ms=BUSY_MS)
    try:
        return insert_story(conn, 1, _story("Tea at Five")).id
    finally:
        conn.close()


def _rows(path: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


# ---------------------------------------------------------------------- nothing but SQLite

# Audit hooks cannot be removed: this one records only while a test asks it to.
_WATCHING: list[tuple[set[str], list[str]]] = []


def _audit(event: str, args: tuple) -> None:
    if event != "open" or not _WATCHING:
        return
    target = args[0]
    if isinstance(target, int):
        return
    name = os.path.realpath(os.fsdecode(target))
    for watched, seen in _WATCHING:
        if name in watched:
            seen.append(name)


sys.addaudithook(_audit)


@contextlib.contextmanager
def python_opens_of(database: Path):
    """Every open() of the database file (or SQLite's files beside it) by Python code."""
    real = os.path.realpath(database)
    watched = {real, f"{real}-wal", f"{real}-shm", f"{real}-journal"}
    seen: list[str] = []
    _WATCHING.append((watched, seen))
    try:
        yield seen
    finally:
        _WATCHING.remove((watched, seen))


def _stray_open(path: Path) -> None:
    with open(path, "rb"):
        pass


def _real(path: Path) -> str:
    return os.path.realpath(path)


async def test_no_code_path_opens_the_database_file_outside_sqlite(tmp_path):
    path = tmp_path / "storyshelf.db"
    story_id = _new_shelf(path)
    with python_opens_of(path) as opened:
        # The bot's connection, then an upload beside it as /library add stores one.
        db = await open_database(path, busy_timeout_ms=BUSY_MS)
        recorder = FeedbackRecorder(db, flush_interval=3600, shutdown_budget=0.2)
        await recorder.start()
        recorder.excerpt_posted(ExcerptPost(10**18, 1, 2, story_id, 1, 3))
        upload = connect_sync(path, apply_migrations=False, busy_timeout_ms=BUSY_MS)
        insert_story(upload, 1, _story("Rain at Noon"))
        upload.close()
        check_database(path, thorough=True)
        check_database(path, thorough=False)
        recorder.reaction_added(10**18, 5, "❤️")
        await recorder.flush()
        # A shutdown that has to keep its events in a journal touches only the journal.
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        recorder.reaction_added(10**18, 6, "❤️")
        await recorder.stop()
        await close_database(db)
        other.execute("ROLLBACK")
        other.close()
        db = await open_database(path, busy_timeout_ms=BUSY_MS)
        recorder = FeedbackRecorder(db, flush_interval=3600)
        await recorder.start()  # replays the journal
        await recorder.stop()
        await close_database(db)
        _stray_open(path)  # the test's own, to show that the watch sees one

    assert opened == [_real(path)]  # and no other
    assert _rows(path, "SELECT count(*) FROM reactions") == [(2,)]
    assert _rows(path, "SELECT count(*) FROM stories") == [(2,)]


# ---------------------------------------------------------------------- two shard processes

# One shard process: the bot's long-lived connection and feedback writer, driven
# line by line from stdin so the two processes interleave exactly as the test says.
SHARD = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from bot.db.connection import close_database, connect_sync, open_database
    from bot.db.excerpts import ExcerptPost
    from bot.db.stories import insert_story
    from bot.feedback import FeedbackRecorder
    from bot.story import ParsedStory, Rating, RatingLevel, Section

    path, name, story_id, busy = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    base = {"a": 10**18, "b": 2 * 10**18}[name]

    async def main():
        loop = asyncio.get_running_loop()
        db = await open_database(path, busy_timeout_ms=busy)
        recorder = FeedbackRecorder(db, flush_interval=0.05)
        await recorder.start()
        posted, reacted, uploads, serial = [], 0, [], 0
        print(json.dumps({"ready": True}), flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            command = line.split()
            if command[0] == "write":
                # Excerpt posts and reactions on them, committed before answering.
                for _ in range(int(command[1])):
                    serial += 1
                    message = base + serial
                    recorder.excerpt_posted(ExcerptPost(message, 1, 2, story_id, 1, 7))
                    for user in range(5):
                        recorder.reaction_added(message, user, "❤️")
                    posted.append(message)
                    reacted += 5
                await recorder.flush()
            elif command[0] == "upload":
                # As /library add stores a story: a connection of its own beside the bot's.
                def store():
                    conn = connect_sync(path, apply_migrations=False, busy_timeout_ms=busy)
                    try:
                        title = f"Upload {name} {len(uploads)}"
                        story = ParsedStory(title, "T", Rating("G", RatingLevel.GENERAL),
                                            (Section("One", "words " * 50),))
                        return insert_story(conn, 1, story).id
                    finally:
                        conn.close()
                uploads.append(await asyncio.to_thread(store))
            elif command[0] == "restart":
                await recorder.stop()
                await close_database(db)
                db = await open_database(path, busy_timeout_ms=busy)
                recorder = FeedbackRecorder(db, flush_interval=0.05)
                await recorder.start()
            elif command[0] == "quit":
                await recorder.stop()
                await close_database(db)
                print(json.dumps({"posted": posted, "reacted": reacted, "uploads": uploads}),
                      flush=True)
                return
            print(json.dumps({"done": command[0]}), flush=True)

    asyncio.run(main())
    """
)


class Shard:
    def __init__(self, path: Path, name: str, story_id: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        # A file, not a pipe: a shard that logs a lot must never block on a full pipe.
        self.log = path.with_name(f"shard-{name}.log")
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SHARD, str(path), name, str(story_id), str(BUSY_MS * 10)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
            )
        assert self.answer() == {"ready": True}

    def answer(self) -> dict:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], ANSWER_WITHIN_S)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise AssertionError(f"shard gave no answer: {self.log.read_text()[-2000:]}")
        return json.loads(line)

    def do(self, command: str) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.answer()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def test_uploads_beside_a_restarting_shard_lose_no_committed_row(tmp_path):
    path = tmp_path / "storyshelf.db"
    story_id = _new_shelf(path)
    a = Shard(path, "a", story_id)
    b = Shard(path, "b", story_id)
    try:
        for _ in range(REPETITIONS):
            a.do("write 5")
            b.do("write 5")
            a.do("upload")  # a short-lived connection beside a's long-lived one
            b.do("restart")  # b's close must not think it is the last connection
            a.do("write 5")
            b.do("write 5")
            b.do("upload")
            a.do("restart")
        totals = {"a": a.do("quit"), "b": b.do("quit")}
    finally:
        a.kill()
        b.kill()

    assert _rows(path, "PRAGMA integrity_check") == [("ok",)]
    stored_posts = {row[0] for row in _rows(path, "SELECT message_id FROM excerpt_posts")}
    stored_stories = {row[0] for row in _rows(path, "SELECT id FROM stories")}
    reactions = dict(_rows(path, "SELECT message_id, count(*) FROM reactions GROUP BY 1"))
    for name, total in totals.items():
        assert len(total["posted"]) == 2 * 5 * REPETITIONS, name
        missing = [m for m in total["posted"] if m not in stored_posts]
        assert missing == [], f"{name} lost {len(missing)} committed excerpt posts"
        assert sum(reactions.get(m, 0) for m in total["posted"]) == total["reacted"], name
        assert set(total["uploads"]) <= stored_stories, name
        assert len(total["uploads"]) == REPETITIONS


# ---------------------------------------------------------------------- shutdown under a lock

LOCKER = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("ROLLBACK")
    conn.close()
    """
)


def _lock_in_another_process(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_shutdown_while_another_process_holds_the_lock_loses_nothing(tmp_path, caplog):
    path = tmp_path / "storyshelf.db"
    story_id = _new_shelf(path)
    db = await open_database(path, busy_timeout_ms=BUSY_MS)
    recorder = FeedbackRecorder(db, flush_interval=3600, shutdown_budget=0.5)
    await recorder.start()
    recorder.excerpt_posted(ExcerptPost(10**18, 1, 2, story_id, 1, 3))
    await recorder.flush()
    locker = _lock_in_another_process(path)
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        # Posted while the other process holds the lock: its row must still come.
        recorder.excerpt_posted(ExcerptPost(10**18 + 1, 1, 2, story_id, 2, 3))
        for user in range(300):
            recorder.reaction_added(10**18, user, "❤️")
            recorder.reaction_added(10**18 + 1, user, "🔥")
        with caplog.at_level(logging.WARNING, logger="bot.feedback"):
            await recorder.stop()
        await close_database(db)
    finally:
        assert locker.stdin is not None
        locker.stdin.write("\n")
        locker.stdin.close()
        locker.wait(timeout=30)

    journals = sorted(tmp_path.glob("storyshelf.db.*.journal"))
    assert len(journals) == 1
    assert any(
        f"kept 1 excerpt post and 600 reaction events in {journals[0]}" in r.getMessage()
        for r in caplog.records
    )
    assert _rows(path, "SELECT count(*) FROM reactions") == [(0,)]

    db = await open_database(path, busy_timeout_ms=BUSY_MS)
    recorder = FeedbackRecorder(db, flush_interval=3600)
    await recorder.start()
    try:
        assert sorted(tmp_path.glob("storyshelf.db.*.journal")) == []
        assert await recorder.is_excerpt(10**18 + 1)
        recorder.reaction_added(10**18 + 1, 999, "🔥")
        await recorder.flush()
    finally:
        await recorder.stop()
        await close_database(db)
    assert _rows(
        path,
        "SELECT section_position, count(*) FROM reactions r JOIN excerpt_posts p"
        " USING (message_id) GROUP BY 1 ORDER BY 1",
    ) == [(1, 300), (2, 301)]
    assert _rows(path, "PRAGMA integrity_check") == [("ok",)]
