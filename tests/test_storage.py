"""Storage on a real SQLite file: migrations, atomic story writes, the feedback writer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.db import excerpts as excerpts_db
from bot.db.connection import (
    DatabaseError,
    check_database,
    close_database,
    connect_sync,
    latest_version,
    migrate,
    open_database,
    transaction,
)
from bot.db.excerpts import ExcerptPost
from bot.db.stories import DuplicateTitleError, insert_story
from bot.feedback import FeedbackRecorder
from bot.story import ParsedStory, Rating, RatingLevel, Section


def make_story(title: str = "Tea at Five", *, sections: list[tuple[str, str]] | None = None):
    sections = sections or [("The kettle", "The kettle sang at five."), ("The cups", "Two cups.")]
    return ParsedStory(
        title=title,
        author="Tester",
        rating=Rating("General", RatingLevel.GENERAL),
        sections=tuple(Section(t, body) for t, body in sections),
    )


def _version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_fresh_and_reopened_database_end_at_latest_version(tmp_path):
    path = tmp_path / "shelf.db"
    connect_sync(path).close()
    assert _version(path) == latest_version() >= 2
    connect_sync(path).close()
    assert _version(path) == latest_version()


def test_processes_starting_at_once_on_a_new_file_migrate_it_once(tmp_path):
    """Both read version 0 while a third holds the write lock; once it lets go, the
    first migrates and the second, in its own transaction, finds nothing to do."""
    path = tmp_path / "shelf.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("BEGIN IMMEDIATE")
    read_version = threading.Barrier(3)
    errors: list[BaseException] = []
    original_migrate = migrate

    def start() -> None:
        conn = connect_sync(path, apply_migrations=False, busy_timeout_ms=10_000)
        try:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
            read_version.wait()  # both have seen version 0 before either can migrate
            original_migrate(conn)
        except BaseException as error:
            errors.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    read_version.wait()
    holder.execute("COMMIT")
    holder.close()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert _version(path) == latest_version()
    connect_sync(path).close()  # and the file is whole


def test_processes_opening_a_new_file_at_the_same_moment_both_start(tmp_path):
    """Turning a new file to WAL while another process does the same: SQLite can
    answer "locked" at once, without asking the busy handler; start-up waits (within
    the busy timeout) instead of failing. Raced many times, on fresh files."""
    for attempt in range(40):
        path = tmp_path / f"shelf{attempt}.db"
        go = threading.Barrier(2)
        errors: list[BaseException] = []

        def start(
            path: Path = path, go: threading.Barrier = go, errors: list[BaseException] = errors
        ) -> None:
            go.wait()
            try:
                connect_sync(path, busy_timeout_ms=5_000).close()
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=start) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == [], f"attempt {attempt}: {errors}"
        assert _version(path) == latest_version()


def test_database_created_by_first_migration_is_upgraded_with_its_data(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 1
    conn.execute(
        "INSERT INTO stories (guild_id, title, title_key, rating_label, rating_level,"
        " section_count, word_count) VALUES (1, 'Old', 'old', 'G', 'general', 1, 2)"
    )
    conn.execute(
        "INSERT INTO sections (story_id, position, title, body, word_count)"
        " VALUES (1, 1, 'One', 'old words', 2)"
    )
    conn.close()

    upgraded = connect_sync(path)

    assert _version(path) == latest_version()
    assert upgraded.execute("SELECT title FROM stories").fetchall() == [("Old",)]
    assert upgraded.execute(
        "SELECT rowid FROM section_fts WHERE section_fts MATCH 'words'"
    ).fetchall() == [(1,)]
    upgraded.execute(
        "INSERT INTO excerpt_posts (message_id, guild_id, channel_id, story_id, section_position)"
        " VALUES (10, 1, 2, 1, 1)"
    )
    upgraded.close()


def test_connection_settings(tmp_path):
    conn = connect_sync(tmp_path / "s.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_not_a_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.db"
    original = b"these are my notes, not a database\n" * 10
    path.write_bytes(original)

    with pytest.raises(DatabaseError, match="not a SQLite database"):
        connect_sync(path)

    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_duplicate_title_is_refused_and_not_stored_twice(tmp_path):
    conn = connect_sync(tmp_path / "s.db")
    insert_story(conn, 1, make_story("Tea"))
    with pytest.raises(DuplicateTitleError, match="already on this server's shelf"):
        insert_story(conn, 1, make_story("  tea "))
    insert_story(conn, 2, make_story("Tea"))  # another server's shelf is separate
    assert conn.execute("SELECT guild_id FROM stories ORDER BY id").fetchall() == [(1,), (2,)]


def test_failed_insert_stores_nothing(tmp_path):
    conn = connect_sync(tmp_path / "s.db")
    # A database fault on the last section, after the story row went in.
    conn.execute(
        "CREATE TEMP TRIGGER fail_bad BEFORE INSERT ON sections WHEN new.title = 'bad'"
        " BEGIN SELECT RAISE(ABORT, 'disk said no'); END"
    )
    story = make_story("Broken", sections=[("ok", "fine words"), ("bad", "more words")])

    with pytest.raises(sqlite3.DatabaseError, match="disk said no"):
        insert_story(conn, 1, story)

    for table in ("stories", "sections", "audit_log"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
    assert (
        conn.execute("SELECT count(*) FROM section_fts WHERE section_fts MATCH 'fine'").fetchone()[
            0
        ]
        == 0
    )


# ---------------------------------------------------------------------- the feedback writer

BUSY_MS = 100
HEART, FIRE = "❤️", "🔥"
# Snowflake-sized message ids, as Discord gives them (newer messages, larger ids).
OLD, EXCERPT, NEWER = (
    1_100_000_000_000_000_000,
    1_200_000_000_000_000_000,
    1_300_000_000_000_000_000,
)


@pytest.fixture
def shelf(tmp_path: Path) -> tuple[Path, int]:
    path = tmp_path / "storyshelf.db"
    conn = connect_sync(path)
    story = insert_story(conn, 1, make_story())
    conn.close()
    return path, story.id


def _post(message_id: int, story_id: int, section: int = 1) -> ExcerptPost:
    return ExcerptPost(message_id, 1, 2, story_id, section, 9)


def _rows(path: Path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def _reactions(path: Path) -> list[tuple]:
    return _rows(path, "SELECT message_id, emoji, user_id FROM reactions ORDER BY 1, 2, 3")


def _journals(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.*.journal"))


@contextlib.contextmanager
def write_lock_held(path: Path):
    """Another connection (as another process would) holds the database's write lock."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
        if other.in_transaction:
            other.execute("ROLLBACK")
    finally:
        other.close()


@contextlib.asynccontextmanager
async def recorder_on(path: Path, **options):
    db = await open_database(path, busy_timeout_ms=BUSY_MS)
    recorder = FeedbackRecorder(db, flush_interval=3600, shutdown_budget=0.3, **options)
    await recorder.start()
    try:
        yield recorder
    finally:
        await recorder.stop()
        await close_database(db)


async def test_reactions_count_on_excerpts_only(shelf):
    path, story = shelf
    async with recorder_on(path) as recorder:
        recorder.excerpt_posted(_post(EXCERPT, story))
        recorder.reaction_added(EXCERPT, 5, HEART)
        recorder.reaction_added(EXCERPT, 6, FIRE)
        recorder.reaction_added(NEWER, 5, HEART)  # an ordinary message
        recorder.reaction_removed(EXCERPT, 6, FIRE)
        await recorder.flush()

        assert _reactions(path) == [(EXCERPT, HEART, 5)]
        assert recorder.pending == 0
        assert await recorder.is_excerpt(EXCERPT)
        assert not await recorder.is_excerpt(NEWER)


async def test_reactions_on_old_excerpts_count_though_memory_keeps_only_recent_ones(shelf):
    path, story = shelf
    async with recorder_on(path) as recorder:
        for n in range(5):
            recorder.excerpt_posted(_post(EXCERPT + n, story))
        await recorder.flush()

    # A new process remembers only the two newest excerpts; the database knows all five.
    async with recorder_on(path, recent_excerpts=2) as recorder:
        for n in range(5):
            recorder.reaction_added(EXCERPT + n, 7, HEART)
        recorder.reaction_removed(EXCERPT, 7, HEART)  # waits behind its add, in order
        await recorder.flush()

        assert _reactions(path) == [(EXCERPT + n, HEART, 7) for n in range(1, 5)]
        assert len(recorder._recent) <= 2  # bounded, whatever the history


async def test_reactions_on_messages_that_are_not_excerpts_cost_at_most_one_look_up(
    shelf, monkeypatch
):
    path, story = shelf
    asked: list[list[int]] = []
    real = excerpts_db.existing_excerpts

    async def counting(db, ids):
        ids = list(ids)
        asked.append(ids)
        return await real(db, ids)

    monkeypatch.setattr(excerpts_db, "existing_excerpts", counting)
    async with recorder_on(path) as recorder:
        recorder.excerpt_posted(_post(EXCERPT, story))
        await recorder.flush()

        # Older than every excerpt: rejected at once, nothing queued, nothing asked.
        recorder.reaction_added(OLD, 5, HEART)
        assert recorder.pending == 0
        # Unknown and newer: asked once, in one query with the others met meanwhile.
        for user in range(100):
            recorder.reaction_added(NEWER, user, HEART)
            recorder.reaction_added(NEWER + 1, user, HEART)
        await recorder.flush()
        recorder.reaction_added(NEWER, 500, FIRE)

        assert asked == [[NEWER, NEWER + 1]]
        assert recorder.pending == 0
        assert _reactions(path) == []


async def test_a_flush_cancelled_while_another_process_holds_the_lock_does_not_wedge(shelf):
    path, story = shelf
    async with recorder_on(path) as recorder:
        recorder.excerpt_posted(_post(EXCERPT, story))
        await recorder.flush()
        began = threading.Event()
        await recorder.db.set_trace_callback(
            lambda sql: began.set() if sql.startswith("BEGIN") else None
        )
        async with recorder.db.execute(f"PRAGMA busy_timeout = {60_000}"):
            pass
        with write_lock_held(path) as other:
            recorder.reaction_added(EXCERPT, 5, HEART)
            flushing = asyncio.ensure_future(recorder.flush())
            assert await asyncio.to_thread(began.wait, 10)  # BEGIN waits for the lock
            flushing.cancel()
            with pytest.raises(asyncio.CancelledError):
                await flushing
            other.execute("ROLLBACK")  # the lock is free: the BEGIN goes through now

        recorder.reaction_added(EXCERPT, 6, FIRE)
        assert await recorder.flush() >= 1  # not "cannot start a transaction within a transaction"
        await recorder.db.set_trace_callback(None)

        assert _reactions(path) == [(EXCERPT, HEART, 5), (EXCERPT, FIRE, 6)]
        assert not recorder.db.in_transaction


async def test_a_transaction_cancelled_in_its_begin_leaves_nothing_open(shelf):
    path, story = shelf
    db = await open_database(path, busy_timeout_ms=60_000)
    try:
        began = threading.Event()
        await db.set_trace_callback(lambda sql: began.set() if sql.startswith("BEGIN") else None)

        async def write() -> None:
            async with transaction(db):
                await db.execute("INSERT INTO bot_meta (key, value) VALUES ('cancelled', 'x')")

        with write_lock_held(path) as other:
            writing = asyncio.ensure_future(write())
            assert await asyncio.to_thread(began.wait, 10)
            writing.cancel()
            other.execute("ROLLBACK")
            with pytest.raises(asyncio.CancelledError):
                await writing

        assert not db.in_transaction
        async with transaction(db):
            await db.execute("INSERT INTO bot_meta (key, value) VALUES ('after', 'y')")
        assert _rows(path, "SELECT key FROM bot_meta WHERE key IN ('after', 'cancelled')") == [
            ("after",)
        ]
    finally:
        await close_database(db)


async def test_shutdown_under_another_process_lock_keeps_everything_and_the_next_start_writes_it(
    shelf, caplog
):
    path, story = shelf
    with write_lock_held(path), caplog.at_level(logging.WARNING, logger="bot.feedback"):
        async with recorder_on(path) as recorder:  # stop() runs as this block ends
            for n in range(3):
                recorder.excerpt_posted(_post(EXCERPT + n, story, section=1 + n % 2))
            for user in range(1, 1205):
                recorder.reaction_added(EXCERPT + user % 3, user, HEART)
        kept = _journals(path)
        assert len(kept) == 1
        assert _rows(path, "SELECT count(*) FROM excerpt_posts") == [(0,)]

    messages = [r.getMessage() for r in caplog.records if r.name == "bot.feedback"]
    assert any(
        "kept 3 excerpt posts and 1,204 reaction events in" in m
        and str(kept[0]) in m
        and "they will be written at the next start" in m
        for m in messages
    ), messages

    async with recorder_on(path) as recorder:
        assert _journals(path) == []  # written, then removed, before new events
        assert _rows(path, "SELECT count(*) FROM excerpt_posts") == [(3,)]
        assert _rows(path, "SELECT count(*) FROM reactions") == [(1204,)]
        recorder.reaction_added(EXCERPT, 9999, FIRE)  # the writer takes new events
        await recorder.flush()
    assert _rows(path, "SELECT count(*) FROM reactions") == [(1205,)]


async def test_a_journal_replayed_twice_counts_once(shelf):
    path, story = shelf
    with write_lock_held(path):
        async with recorder_on(path) as recorder:
            recorder.excerpt_posted(_post(EXCERPT, story))
            recorder.reaction_added(EXCERPT, 5, HEART)
            recorder.reaction_added(EXCERPT, 6, HEART)
            recorder.reaction_removed(EXCERPT, 6, HEART)
            recorder.reactions_cleared(EXCERPT)
            recorder.reaction_added(EXCERPT, 7, FIRE)
            recorder.emoji_cleared(EXCERPT, HEART)
            recorder.reaction_added(EXCERPT, 8, HEART)
    (journal,) = _journals(path)
    copy = journal.with_name("copy")
    shutil.copy(journal, copy)

    async with recorder_on(path):
        pass
    once = _reactions(path)
    # A crash after the replay committed, before the file was removed: it is replayed again.
    shutil.copy(copy, journal)
    async with recorder_on(path):
        pass

    assert once == [(EXCERPT, HEART, 8), (EXCERPT, FIRE, 7)]
    assert _reactions(path) == once
    assert _journals(path) == []


async def test_a_journal_the_lock_keeps_out_at_start_is_written_before_new_events(shelf):
    path, story = shelf
    with write_lock_held(path):
        async with recorder_on(path) as recorder:
            recorder.excerpt_posted(_post(EXCERPT, story))
            recorder.reaction_added(EXCERPT, 5, HEART)
        # Still locked at the next start: the journal waits at the front of the queue.
        db = await open_database(path, busy_timeout_ms=BUSY_MS)
        recorder = FeedbackRecorder(db, flush_interval=3600, shutdown_budget=0.3)
        await recorder.start()
        assert len(_journals(path)) == 1
    try:
        recorder.reaction_removed(EXCERPT, 5, HEART)  # newer than the journal's add
        recorder.reaction_added(EXCERPT, 6, FIRE)
        await recorder.flush()

        assert _reactions(path) == [(EXCERPT, FIRE, 6)]
        assert _journals(path) == []
    finally:
        await recorder.stop()
        await close_database(db)


async def test_a_file_that_is_not_a_journal_is_left_alone_and_said_so(shelf, caplog):
    path, story = shelf
    stranger = path.with_name(f"{path.name}.notes.journal")
    stranger.write_text("my own notes, not the bot's\n", encoding="utf-8")

    with caplog.at_level(logging.ERROR, logger="bot.db.journal"):
        async with recorder_on(path) as recorder:
            recorder.excerpt_posted(_post(EXCERPT, story))
            recorder.reaction_added(EXCERPT, 5, HEART)
            await recorder.flush()

    assert stranger.read_text(encoding="utf-8") == "my own notes, not the bot's\n"
    assert any(
        str(stranger) in r.getMessage() and "left in place" in r.getMessage()
        for r in caplog.records
    )
    assert _reactions(path) == [(EXCERPT, HEART, 5)]


@pytest.mark.parametrize("thorough", [True, False], ids=["start-up", "upload"])
def test_not_a_database_is_refused_through_sqlite_and_left_untouched(tmp_path, thorough):
    path = tmp_path / "notes.db"
    original = b"DISCORD_TOKEN=abc\n" * 50
    path.write_bytes(original)

    with pytest.raises(DatabaseError, match="is not a SQLite database"):
        check_database(path, thorough=thorough)

    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


async def test_removed_excerpts_stop_counting(shelf):
    path, story = shelf
    async with recorder_on(path) as recorder:
        recorder.excerpt_posted(_post(EXCERPT, story))
        await recorder.flush()
        recorder.excerpts_removed([EXCERPT])

        recorder.reaction_added(EXCERPT, 5, HEART)

        assert recorder.pending == 0
        assert not await recorder.is_excerpt(EXCERPT)


async def test_cursors_the_event_loop_frees_late_never_break_the_writer(shelf):
    """A cursor can outlive its call (a reference cycle keeps it until a garbage
    collection) and is then freed on the event loop, at any moment, while the database
    thread runs the same statement for the writer's next batch. No batch may fail for it."""
    path, story = shelf
    messages = [EXCERPT + n for n in range(10)]
    async with recorder_on(path) as recorder:
        for message_id in messages:
            recorder.excerpt_posted(_post(message_id, story))
        await recorder.flush()

        db = recorder.db
        real = db.executemany
        loop = asyncio.get_running_loop()
        kept: list[object] = []
        moments = iter(range(10**6))

        def free_one() -> None:
            if kept:
                kept.pop(0)  # the last reference goes here, on the event loop

        async def keeping(sql, rows):
            # An earlier cursor is freed a little way into this statement's run.
            loop.call_later((next(moments) % 20) / 10_000, free_one)
            cursor = await real(sql, rows)
            kept.append(cursor)  # as a reference cycle would keep it
            return cursor

        db.executemany = keeping
        for batch in range(40):
            users = range(batch * 500, batch * 500 + 500)
            for user in users:
                recorder.reaction_added(messages[user % 10], user, HEART)
            assert await recorder.tick(), f"batch {batch} failed"
            await asyncio.sleep(0.003)  # the scheduled frees that are still due

        assert recorder.failed_flushes == 0
        assert recorder.pending == 0
    assert len(_reactions(path)) == 40 * 500
