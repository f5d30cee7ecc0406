"""`python -m bot migrate`: a SQLite shelf copied into PostgreSQL, verified, all or nothing.

Needs a PostgreSQL server (TEST_DATABASE_URL); the source shelves are real SQLite
files built through the importer's path and the bot's own write functions, the
targets real databases, and the comparison goes through the bot's own reads.
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db.connection import DatabaseError, connect_sync, migrate
from bot.db.pg import describe_url
from bot.db.transfer import TABLES, add_migrate_command, cmd_migrate, copy_shelf
from bot.settings import Settings
from bot.story import RatingLevel
from tests import pg
from tests.conftest import CORPUS
from tests.support import make_story, shelve_many

pytestmark = pytest.mark.skipif(
    not pg.enabled(), reason="needs a PostgreSQL server (set TEST_DATABASE_URL)"
)

GUILD = 1001
OTHER_GUILD = 2002
CJK_BODY = "猫が好きです。毎朝、猫と一緒にお茶を飲みます。\n\nThe cat likes tea, too."


# ----------------------------------------------------------------------------- arrange


def run(factory):
    return pg.run_async(factory)


def source_settings(tmp_path: Path) -> Settings:
    return Settings(database_path=tmp_path / "s.db", database_url=None)


def corpus_stories() -> list:
    """Every corpus file that parses, as ParsedStory (skip when the corpus is absent)."""
    from bot.parsing import parse_story
    from bot.story import StoryFileError

    files = sorted(CORPUS.glob("*.txt")) + sorted((CORPUS / "realworld").glob("*"))
    if not files:
        pytest.skip("corpus (../shared/corpus) not available")
    stories, titles = [], set()
    for path in files:
        try:
            story = parse_story(path.read_bytes(), path.name)
        except StoryFileError:
            continue
        if story.title.casefold() in titles:
            continue
        titles.add(story.title.casefold())
        stories.append(story)
    return stories


def small_stories() -> list:
    return [
        make_story("Tea at Five"),
        make_story(
            "猫の日記",
            level=RatingLevel.TEEN,
            sections=[("一", CJK_BODY), ("二", "今日は雨。猫は寝ています。")],
            metadata={"fandom": "Original Work", "custom": "x"},
        ),
        make_story(
            "Crème Brûlée",
            level=RatingLevel.MATURE,
            sections=[("Début", "Une crème brûlée, naïve et élégante.\x07 Zebrafinch.")],
        ),
    ]


async def _activity(path: Path, story_ids: list[int]) -> None:
    """Excerpt posts, reactions, settings, audit rows, bookmarks, a club, bookkeeping:
    written by the bot's own functions."""
    from bot.db import clubs, feedback, guild_settings, meta, progress
    from bot.db.connection import close_database, open_database, transaction
    from bot.db.excerpts import ExcerptPost

    db = await open_database(path, busy_timeout_ms=2000)
    try:
        posts = []
        steps = []
        message = 9_000_000_000_000_000
        for n, story_id in enumerate(story_ids):
            for position in (1, 2):
                message += 1
                posts.append(ExcerptPost(message, GUILD, 77, story_id, position, 500 + n))
                for user in range(3 + n % 4):
                    emoji = ("❤️", "😂", "<:custom:123456789012345678>")[(user + n) % 3]
                    steps.append(("add", [(message, emoji, 600 + user)]))
        await feedback.apply_events(db, steps, posts)
        await feedback.apply_events(db, [("remove", [(posts[0].message_id, "❤️", 600)])])
        await guild_settings.update_guild_settings(
            db,
            GUILD,
            max_rating=RatingLevel.MATURE,
            feedback_emoji=["📖", "❤️"],
            moderator_notes="Be kind — ça va?",
            audit=(42, "max rating → mature"),
        )
        await guild_settings.update_guild_settings(db, OTHER_GUILD, max_rating=RatingLevel.GENERAL)
        async with transaction(db):
            await progress.save(
                db,
                [
                    progress.Bookmark(GUILD, 600 + i, sid, 1 + i % 2, i, 1_700_000_000_000 + i)
                    for i, sid in enumerate(story_ids)
                ],
            )
        club_id = await clubs.insert_club(
            db,
            clubs.NewClub(
                GUILD, 77, story_ids[0], "club story", 7, 2, 600, "Europe/Paris",
                "2026-01-05", 31337, 1_800_000_000, 42,
            ),
        )  # fmt: skip
        seen = await clubs.get_club(db, GUILD, club_id)
        assert seen is not None
        assert await clubs.claim_section(db, seen, now=1_799_999_999, next_run_at=1_800_604_800)
        await meta.put(db, "commands:123", "digest-abc")
    finally:
        await close_database(db)


def build_shelf(tmp_path: Path, stories: list, *, other: list | None = None) -> Path:
    settings = source_settings(tmp_path)
    stored = shelve_many(settings, GUILD, stories)
    if other:
        shelve_many(settings, OTHER_GUILD, other)
    path = settings.database_path
    run(lambda: _activity(path, [s.id for s in stored]))
    # A story removed: ids above it stay, its id is never reused (high-water mark).
    conn = connect_sync(path)
    try:
        conn.execute("DELETE FROM stories WHERE id = ?", (stored[-1].id,))
    finally:
        conn.close()
    return path


def file_state(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def dump(url: str) -> dict[str, list[str]]:
    """Everything in the target, table by table, in a stable order."""
    out = {}
    for table in (*TABLES, "section_cjk", "storyshelf_schema"):
        rows = pg.query(url, f"SELECT * FROM {table}", ())
        out[table] = sorted(repr(row) for row in rows)
    for table in ("sections", "audit_log", "reading_clubs"):
        seq = pg.query(url, f"SELECT pg_get_serial_sequence('{table}', 'id')", ())[0][0]
        out[seq] = [repr(pg.query(url, f"SELECT last_value, is_called FROM {seq}", ()))]
    return out


def sqlite_rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A database with nothing in it, not even the schema (migrate creates it)."""
    import psycopg

    name = "migr_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg.TEST_DATABASE_URL or "", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg.with_database(pg.TEST_DATABASE_URL or "", name)
    finally:
        pg.drop_database(name)


# ----------------------------------------------------------------------------- compare


async def _answers(open_db, story_words: list[str]) -> dict[str, object]:
    """What the bot answers on a shelf, through its own query functions."""
    from bot.db import feedback, search, sections, stories
    from bot.db.connection import close_database

    db = await open_db()
    try:
        out: dict[str, object] = {}
        for guild in (GUILD, OTHER_GUILD):
            listed = await stories.list_stories(db, guild, limit=1000)
            out[f"list {guild}"] = listed
            out[f"count {guild}"] = await stories.count_stories(db, guild)
            out[f"titles {guild}"] = await stories.all_titles(db, guild)
            for story in listed:
                sid = story.id
                out[f"sections {sid}"] = await sections.list_sections(db, sid)
                out[f"texts {sid}"] = await sections.section_texts(db, sid)
                for position in (1, 2, story.section_count, story.section_count + 1):
                    out[f"read {sid}/{position}"] = await sections.story_with_section(
                        db, guild, sid, position
                    )
                out[f"by title {sid}"] = await sections.story_with_section(
                    db, guild, story.title, 1
                )
                totals = await feedback.story_totals(db, sid)
                out[f"totals {sid}"] = (sorted(totals.per_emoji, key=repr), totals.readers)
                out[f"feedback {sid}"] = [
                    (f.position, sorted(f.per_emoji, key=repr), f.readers)
                    for f in await feedback.section_feedback(db, sid)
                ]
                out[f"removal {sid}"] = await stories.removal_counts(db, sid)
        for word in story_words:
            for guild in (GUILD, OTHER_GUILD):
                found = await search.search_sections(db, guild, word, limit=1000)
                out[f"search {guild} {word}"] = sorted(
                    (hit.story_id, hit.position) for hit in found.hits
                )
        return out
    finally:
        await close_database(db)


def answers(path: Path, url: str, words: list[str]) -> tuple[dict, dict]:
    from bot.db.connection import open_database
    from bot.db.pg import open_pg

    on_sqlite = run(lambda: _answers(lambda: open_database(path, busy_timeout_ms=2000), words))
    on_pg = run(lambda: _answers(lambda: open_pg(url), words))
    return on_sqlite, on_pg


def rare_words(path: Path, count: int = 12) -> list[str]:
    """Plain words each found in a few sections (2 to 6) of the shelf."""
    rows = sqlite_rows(path, "SELECT body FROM sections ORDER BY id")
    seen: dict[str, set[int]] = {}
    for n, (body,) in enumerate(rows):
        for word in set(body.split()):
            if word.isascii() and word.isalpha() and word.islower() and len(word) >= 7:
                seen.setdefault(word, set()).add(n)
    rare = sorted(w for w, where in seen.items() if 2 <= len(where) <= 6)
    step = max(1, len(rare) // count)
    return rare[::step][:count]


# ----------------------------------------------------------------------------- tests


def test_corpus_round_trip_gives_the_same_answers(tmp_path: Path, empty_database: str) -> None:
    path = build_shelf(tmp_path, corpus_stories(), other=small_stories())
    before = file_state(path)

    report = run(lambda: copy_shelf(path, empty_database, batch=50))

    assert report.verified
    assert file_state(path) == before, "the SQLite file must never be modified"
    for table in TABLES:
        ours = sqlite_rows(path, f"SELECT count(*) FROM {table}")[0][0]
        theirs = pg.query(empty_database, f"SELECT count(*) FROM {table}", ())[0][0]
        assert (table, theirs) == (table, ours)
        assert report.table(table).copied == ours
    assert report.table("stories").copied > 5
    assert report.table("reactions").copied > 10
    # Every table's rows exactly as on SQLite (timestamps, ids, NULLs and all).
    for table in TABLES:
        columns = [r[1] for r in sqlite_rows(path, f"PRAGMA table_info({table})")]
        select = f"SELECT {', '.join(columns)} FROM {table}"
        assert sorted(map(repr, pg.query(empty_database, select, ()))) == sorted(
            map(repr, sqlite_rows(path, select))
        ), table
    # CJK search rows: one per section with CJK text, as the bot writes them.
    cjk = sqlite_rows(path, "SELECT rowid FROM section_cjk_fts ORDER BY rowid")
    copied_cjk = pg.query(empty_database, "SELECT section_id FROM section_cjk ORDER BY 1", ())
    assert copied_cjk == cjk and report.cjk_rows == len(cjk) > 0
    # Ids issued after the copy are new ones.
    high = sqlite_rows(path, "SELECT last FROM story_id_high_water")[0][0]
    assert pg.query(empty_database, "SELECT last FROM story_id_high_water", ())[0][0] == high
    for table in ("sections", "audit_log", "reading_clubs"):
        top = pg.query(empty_database, f"SELECT max(id) FROM {table}", ())[0][0]
        issued = pg.query(
            empty_database, f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))", ()
        )[0][0]
        assert issued == top + 1, table

    words = [*rare_words(path), "kettle", "naïve", "猫", "お茶", "Zebrafinch"]
    on_sqlite, on_pg = answers(path, empty_database, words)
    assert on_sqlite.keys() == on_pg.keys()
    differ = [key for key in on_sqlite if on_sqlite[key] != on_pg[key]]
    assert not differ, [(k, on_sqlite[k], on_pg[k]) for k in differ[:3]]
    found = [k for k in on_sqlite if k.startswith("search") and on_sqlite[k]]
    assert len(found) >= 8, "the words chosen must find sections"
    assert on_pg[f"search {OTHER_GUILD} 猫"], "CJK search works on the copy"

    # A story added on PostgreSQL afterwards gets a new id.
    from bot.db.pg import open_pg
    from bot.db.stories import store_story_pg

    async def add() -> int:
        db = await open_pg(empty_database)
        try:
            return (await store_story_pg(db, GUILD, make_story("After"), user_id=1)).id
        finally:
            await db.close()

    assert run(add) == high + 1


def test_refuses_a_nonempty_target_then_adds_with_into_nonempty(
    tmp_path: Path, database_url: str
) -> None:
    path = build_shelf(tmp_path, small_stories())
    # The target's own shelf, with ids far from the source's.
    pg.query(database_url, "UPDATE story_id_high_water SET last = 5000", ())
    for table in ("sections", "audit_log", "reading_clubs"):
        pg.query(database_url, f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 90000)", ())
    target_settings = Settings(database_path=tmp_path / "t.db", database_url=database_url)
    theirs = shelve_many(target_settings, 3003, [make_story("Their Own Story")])[0]
    pg.query(database_url, "INSERT INTO bot_meta (key, value) VALUES ('theirs', 'kept')", ())
    versions_before = dict(pg.query(database_url, "SELECT guild_id, shelf FROM guild_versions", ()))
    untouched = dump(database_url)

    with pytest.raises(DatabaseError) as refused:
        run(lambda: copy_shelf(path, database_url))
    message = str(refused.value)
    assert "not empty" in message and "1 stories" in message and "--into-nonempty" in message
    assert "\n" not in message
    assert dump(database_url) == untouched

    report = run(lambda: copy_shelf(path, database_url, allow_nonempty=True))
    assert report.verified
    ids = {r[0] for r in pg.query(database_url, "SELECT id FROM stories", ())}
    source_ids = {r[0] for r in sqlite_rows(path, "SELECT id FROM stories")}
    assert ids == source_ids | {theirs.id}
    assert pg.query(database_url, "SELECT value FROM bot_meta WHERE key = 'theirs'", ()) == [
        ("kept",)
    ]
    # Ids never go back: the target's high-water mark and sequences stay ahead.
    assert pg.query(database_url, "SELECT last FROM story_id_high_water", ())[0][0] == theirs.id
    assert (
        pg.query(database_url, "SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))", ())[0][
            0
        ]
        > 90000
    )
    versions = dict(pg.query(database_url, "SELECT guild_id, shelf FROM guild_versions", ()))
    assert versions[3003] == versions_before[3003]
    source_versions = dict(sqlite_rows(path, "SELECT guild_id, shelf FROM guild_versions"))
    assert versions[GUILD] == source_versions[GUILD]
    on_sqlite, on_pg = answers(path, database_url, ["kettle", "猫", "Zebrafinch"])
    assert {k: v for k, v in on_pg.items() if k in on_sqlite} == on_sqlite


def test_a_failure_mid_copy_leaves_the_target_as_it_was(tmp_path: Path, database_url: str) -> None:
    path = build_shelf(tmp_path, small_stories())
    # A target story with the source's first id: the copy meets it and must undo everything.
    target_settings = Settings(database_path=tmp_path / "t.db", database_url=database_url)
    shelve_many(target_settings, 3003, [make_story("Clashing Story")])
    untouched = dump(database_url)

    with pytest.raises(DatabaseError) as failed:
        run(lambda: copy_shelf(path, database_url, allow_nonempty=True, batch=1))
    assert "same key" in str(failed.value) and "nothing was copied" in str(failed.value)
    assert dump(database_url) == untouched

    # Late in the copy: an audit row PostgreSQL cannot store (a NUL character), after
    # stories, sections, posts and reactions went in.
    conn = connect_sync(path)
    try:
        conn.execute(
            "INSERT INTO audit_log (guild_id, action, detail) VALUES (?, 'note', ?)",
            (GUILD, "bad\x00byte"),
        )
    finally:
        conn.close()
    pg.query(database_url, "DELETE FROM stories", ())
    pg.query(database_url, "UPDATE story_id_high_water SET last = 0", ())
    emptied = dump(database_url)
    with pytest.raises(DatabaseError) as failed:
        run(lambda: copy_shelf(path, database_url, allow_nonempty=True))
    assert "audit_log" in str(failed.value)
    assert dump(database_url) == emptied


def test_source_problems_are_one_line(tmp_path: Path, database_url: str) -> None:
    with pytest.raises(DatabaseError, match="no SQLite shelf"):
        run(lambda: copy_shelf(tmp_path / "missing.db", database_url))
    text = tmp_path / "notes.db"
    text.write_text("not a database at all " * 100)
    with pytest.raises(DatabaseError, match="not a SQLite database"):
        run(lambda: copy_shelf(text, database_url))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(DatabaseError, match="not a Storyshelf"):
        run(lambda: copy_shelf(other, database_url))
    old = tmp_path / "old.db"
    conn = connect_sync(old, apply_migrations=False)
    migrate(conn, target=6)
    conn.close()
    before = file_state(old)
    with pytest.raises(DatabaseError, match="start the bot once"):
        run(lambda: copy_shelf(old, database_url))
    assert file_state(old) == before
    new = tmp_path / "new.db"
    connect_sync(new).execute("PRAGMA user_version = 99").connection.close()
    with pytest.raises(DatabaseError, match="newer than this bot"):
        run(lambda: copy_shelf(new, database_url))
    assert pg.query(database_url, "SELECT count(*) FROM stories", ()) == [(0,)]


def test_verification_catches_a_difference_and_rolls_back(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.db import transfer

    path = build_shelf(tmp_path, small_stories())
    untouched = dump(database_url)
    copy_cjk = transfer._copy_cjk

    async def tamper(conn, columns, rows) -> int:
        copied = await copy_cjk(conn, columns, rows)
        # A row changed on its way (after the copy, before the verification).
        await conn.execute("UPDATE sections SET notes = 'changed' WHERE id = 1")
        return copied

    monkeypatch.setattr(transfer, "_copy_cjk", tamper)
    with pytest.raises(DatabaseError) as failed:
        run(lambda: copy_shelf(path, database_url))
    assert "verification failed for sections" in str(failed.value)
    assert "contents differ" in str(failed.value)
    assert dump(database_url) == untouched


def test_copies_what_a_running_bot_has_committed(tmp_path: Path, database_url: str) -> None:
    """The source in use (its -wal holding commits): one consistent snapshot, read-only."""
    from bot.db.stories import insert_story

    path = build_shelf(tmp_path, small_stories())
    writer = connect_sync(path)
    try:
        insert_story(writer, GUILD, make_story("Written While Running"))
        assert Path(f"{path}-wal").exists()
        report = run(lambda: copy_shelf(path, database_url))
    finally:
        writer.close()
    assert report.verified
    titles = {r[0] for r in pg.query(database_url, "SELECT title FROM stories", ())}
    assert "Written While Running" in titles


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from bot import __main__ as entry

    if "migrate" in getattr(entry, "COMMANDS", {}):
        status = entry.main(argv)
    else:  # not wired into bot/__main__.py yet: the same parser and command
        parser = argparse.ArgumentParser()
        add_migrate_command(parser.add_subparsers(dest="command"))
        status = cmd_migrate(parser.parse_args(argv), Settings.from_env())
    out, err = capsys.readouterr()
    return status, out, err


def test_the_command_line(
    tmp_path: Path, empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = build_shelf(tmp_path, small_stories())
    status, out, err = _cli(["migrate", "--from", str(path), "--to", empty_database], capsys)
    assert status == 0, err
    assert "copied 2 stories" in out and "verified" in out
    assert "checksum ok" in out and "NOT" not in out
    assert describe_url(empty_database) in out

    # Again: the target is no longer empty.
    status, out, err = _cli(["migrate", "--from", str(path), "--to", empty_database], capsys)
    assert status == 2 and "--into-nonempty" in err and len(err.strip().splitlines()) == 1

    secret = "pa55-w0rd-s3cret"
    for url in (
        f"postgresql://postgres:{secret}@127.0.0.1:1/storyshelf",
        f"postgresql://postgres:{secret}@127.0.0.1:1",
    ):
        status, out, err = _cli(["migrate", "--from", str(path), "--to", url], capsys)
        assert status == 2
        assert len(err.strip().splitlines()) == 1, err
        assert secret not in err + out
        assert "127.0.0.1:1/" in err
        assert "Traceback" not in err

    status, out, err = _cli(["migrate", "--from", str(path), "--to", "mysql://x@y/z"], capsys)
    assert status == 2 and "PostgreSQL URL" in err
