"""Storage on a real SQLite file: migrations, atomic story writes."""

from __future__ import annotations

import sqlite3

import pytest

from bot.db.connection import DatabaseError, connect_sync, latest_version, migrate
from bot.db.library import DuplicateTitleError, insert_story
from tests.support import make_story


def _version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_fresh_and_reopened_database_end_at_latest_version(tmp_path):
    path = tmp_path / "shelf.db"
    connect_sync(path).close()
    assert _version(path) == latest_version() >= 2
    connect_sync(path).close()
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
