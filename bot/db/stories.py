"""Stories on a server's shelf: look-ups, listing, title autocomplete, and every change.

Reads and small edits run on the bot's shared aiosqlite connection. Storing a whole
story (add, replace) takes a synchronous sqlite3 connection and runs in a worker
thread: a novel is one transaction of a few C-level calls, invisible to readers
until it commits, and it never stalls the bot's own connection.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import aiosqlite
import asyncpg

from bot import cjk
from bot.db.audit import record, record_sync
from bot.db.connection import transaction
from bot.db.pg import PgDatabase, is_postgres
from bot.story import ParsedStory, Rating, RatingLevel
from bot.titles import title_key

__all__ = (
    "KNOWN_COLUMNS",
    "DuplicateTitleError",
    "RemovalCounts",
    "StoredStory",
    "StoryRecord",
    "TitleChoice",
    "autocomplete_titles",
    "count_stories",
    "edit_story",
    "find_story",
    "get_story",
    "insert_story",
    "list_stories",
    "parse_story_id",
    "removal_counts",
    "remove_story",
    "replace_story_text",
)

# Metadata keys kept in their own columns; everything else goes to extra_json.
KNOWN_COLUMNS = ("pairing", "fandom", "warnings", "summary", "disclaimer", "notes")

STORY_COLUMNS = (
    "id, guild_id, title, author, rating_label, rating_level, "
    + ", ".join(KNOWN_COLUMNS)
    + ", extra_json, source_format, section_count, word_count, added_by, added_at,"
    " updated_at, revision"
)
# The same columns of the `s` alias, for joins.
STORY_COLUMNS_S = ", ".join(f"s.{column.strip()}" for column in STORY_COLUMNS.split(","))

# Story ids are SQLite integers: at most 19 digits, and never above 2**63 - 1.
MAX_STORY_ID = 2**63 - 1


class DuplicateTitleError(ValueError):
    def __init__(self, title: str) -> None:
        super().__init__(
            f"“{title}” is already on this server's shelf. "
            "Use /library replace to upload a new version of it."
        )
        self.title = title


@dataclass(frozen=True, slots=True)
class StoryRecord:
    id: int
    guild_id: int
    title: str
    author: str | None
    rating: Rating
    metadata: dict[str, str] = field(default_factory=dict)
    section_count: int = 0
    word_count: int = 0
    added_by: int | None = None
    added_at: str = ""
    updated_at: str | None = None
    source_format: str = "text"
    revision: int = 1

    @property
    def warnings(self) -> str | None:
        return self.metadata.get("warnings")

    @classmethod
    def from_row(cls, row: aiosqlite.Row | sqlite3.Row) -> StoryRecord:
        metadata = {k: row[k] for k in KNOWN_COLUMNS if row[k]}
        metadata.update(json.loads(row["extra_json"] or "{}"))
        return cls(
            id=row["id"],
            guild_id=row["guild_id"],
            title=row["title"],
            author=row["author"],
            rating=Rating(row["rating_label"], RatingLevel(row["rating_level"])),
            metadata=metadata,
            section_count=row["section_count"],
            word_count=row["word_count"],
            added_by=row["added_by"],
            added_at=row["added_at"],
            updated_at=row["updated_at"],
            source_format=row["source_format"],
            revision=row["revision"],
        )


@dataclass(frozen=True, slots=True)
class StoredStory:
    id: int
    title: str
    rating: Rating
    sections: int
    words: int


@dataclass(frozen=True, slots=True)
class RemovalCounts:
    sections: int
    posts: int
    reactions: int


@dataclass(frozen=True, slots=True)
class TitleChoice:
    id: int
    title: str
    rating_level: RatingLevel


def now_stamp() -> str:
    """The time now as the database keeps it: ISO 8601 in UTC, to the millisecond."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def parse_story_id(text: str) -> int | None:
    """A story id as carried in a button's custom id, or None if it cannot be one."""
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_STORY_ID else None


def levels_sql(levels: Collection[RatingLevel] | None, alias: str = "s") -> tuple[str, list[str]]:
    """A filter on the rating levels a channel may show (None: every level)."""
    if levels is None:
        return "", []
    values = [level.value for level in levels]
    if not values:
        return " AND 1 = 0", []
    return f" AND {alias}.rating_level IN ({', '.join('?' * len(values))})", values


class Reads(Protocol):
    """What a read needs of a connection: the shared aiosqlite connection, or a
    `bot.db.quick.QuickReader` that reads on the event loop without the thread hop."""

    async def execute_fetchall(self, sql: str, parameters: Iterable[Any], /) -> Iterable[Any]: ...


# One hop to aiosqlite's thread per query: execute, fetch and close together
# (a cursor's execute, fetch and close would be three).


async def fetch_one(db: Reads, sql: str, params: Iterable[object]) -> Any | None:
    rows = await db.execute_fetchall(sql, tuple(params))
    return next(iter(rows), None)


async def fetch_all(db: Reads, sql: str, params: Iterable[object]) -> list[Any]:
    return list(await db.execute_fetchall(sql, tuple(params)))


# ----------------------------------------------------------------------------- reads


async def get_story(db: Reads, guild_id: int, story_id: int) -> StoryRecord | None:
    if not 0 < story_id <= MAX_STORY_ID:
        return None
    row = await fetch_one(
        db,
        f"SELECT {STORY_COLUMNS} FROM stories WHERE id = ? AND guild_id = ?",
        (story_id, guild_id),
    )
    return None if row is None else StoryRecord.from_row(row)


async def find_story(db: Reads, guild_id: int, title: str) -> StoryRecord | None:
    """The story a `title` option names: its title, compared as `title_key` compares."""
    row = await fetch_one(
        db,
        f"SELECT {STORY_COLUMNS} FROM stories WHERE guild_id = ? AND title_key = ?",
        (guild_id, title_key(title)),
    )
    return None if row is None else StoryRecord.from_row(row)


def query_words(text: str, *, prefix: bool = False, limit: int = 16) -> list[str]:
    """The user's text as FTS5 phrases, one per word, each quoted: no FTS syntax can
    leak through. Every one must match (FTS5 joins them with AND)."""
    star = "*" if prefix else ""
    return [f'"{word}"{star}' for word in re.findall(r"\w+", text)[:limit]]


def pg_prefix_query(text: str, *, limit: int = 16) -> str:
    """The user's words as a PostgreSQL tsquery of quoted prefixes, every one required.

    Words are runs of letters and digits (as the index splits text, see
    `storyshelf_words`), so none holds a quote or backslash: no tsquery syntax can
    leak through."""
    return " & ".join(f"'{word}':*" for word in pg_words(text)[:limit])


def pg_words(text: str) -> list[str]:
    """Runs of letters and digits: words as both backends' indexes split text."""
    return re.findall(r"[^\W_]+", text)


# A title's words (the stories_title_words GIN index) against a prefix tsquery.
_PG_TITLE_WORDS = (
    "to_tsvector('storyshelf', storyshelf_words(s.title)) @@ to_tsquery('storyshelf', ?)"
)


def words_query(text: str, *, prefix: bool = False, limit: int = 16) -> str | None:
    """The user's text as one FTS5 query of quoted words (None: no word in it)."""
    return " ".join(query_words(text, prefix=prefix, limit=limit)) or None


async def autocomplete_titles(
    db: Reads,
    guild_id: int,
    typed: str,
    levels: Collection[RatingLevel] | None,
    *,
    limit: int = 25,
) -> list[TitleChoice]:
    """Titles whose start, or one of whose words, begins with what was typed."""
    level_sql, level_params = levels_sql(levels)
    key = title_key(typed)
    # Title prefix through the (guild_id, title_key) unique index.
    rows = await fetch_all(
        db,
        "SELECT s.id, s.title, s.rating_level FROM stories s"
        " WHERE s.guild_id = ? AND s.title_key >= ? AND s.title_key < ?"
        f"{level_sql} ORDER BY s.title_key LIMIT ?",
        (guild_id, key, key + "\U0010ffff", *level_params, limit),
    )
    found = [TitleChoice(r[0], r[1], RatingLevel(r[2])) for r in rows]
    query = words_query(typed, prefix=True, limit=8)
    if len(found) < limit and query is not None:
        seen = {choice.id for choice in found}
        if is_postgres(db):
            sql = (
                "SELECT s.id, s.title, s.rating_level FROM stories s"
                f" WHERE {_PG_TITLE_WORDS} AND s.guild_id = ?{level_sql}"
                " ORDER BY s.title_key LIMIT ?"
            )
            query = pg_prefix_query(typed, limit=8)
        else:
            sql = (
                "SELECT s.id, s.title, s.rating_level FROM story_title_fts f"
                " JOIN stories s ON s.id = f.rowid"
                f" WHERE story_title_fts MATCH ? AND s.guild_id = ?{level_sql}"
                " ORDER BY s.title_key LIMIT ?"
            )
        rows = await fetch_all(db, sql, (query, guild_id, *level_params, limit + len(seen)))
        for r in rows:
            if r[0] not in seen and len(found) < limit:
                found.append(TitleChoice(r[0], r[1], RatingLevel(r[2])))
    return found


async def all_titles(db: Reads, guild_id: int) -> list[TitleChoice]:
    """Every title on a shelf (for "did you mean"), in title order."""
    rows = await fetch_all(
        db,
        "SELECT id, title, rating_level FROM stories WHERE guild_id = ? ORDER BY title_key",
        (guild_id,),
    )
    return [TitleChoice(r[0], r[1], RatingLevel(r[2])) for r in rows]


def _shelf_filter(
    db: Reads, guild_id: int, query: str | None, levels: Collection[RatingLevel] | None
) -> tuple[str, list[object]]:
    level_sql, level_params = levels_sql(levels)
    where = "s.guild_id = ?" + level_sql
    params: list[object] = [guild_id, *level_params]
    fts = words_query(query or "", prefix=True, limit=8)
    if fts is not None and is_postgres(db):
        where += f" AND {_PG_TITLE_WORDS}"
        params.append(pg_prefix_query(query or "", limit=8))
    elif fts is not None:
        where += " AND s.id IN (SELECT rowid FROM story_title_fts WHERE story_title_fts MATCH ?)"
        params.append(fts)
    return where, params


async def count_stories(
    db: Reads,
    guild_id: int,
    *,
    query: str | None = None,
    levels: Collection[RatingLevel] | None = None,
) -> int:
    where, params = _shelf_filter(db, guild_id, query, levels)
    row = await fetch_one(db, f"SELECT count(*) FROM stories s WHERE {where}", params)
    return int(row[0]) if row else 0


async def list_stories(
    db: Reads,
    guild_id: int,
    *,
    query: str | None = None,
    levels: Collection[RatingLevel] | None = None,
    offset: int = 0,
    limit: int = 10,
) -> list[StoryRecord]:
    where, params = _shelf_filter(db, guild_id, query, levels)
    rows = await fetch_all(
        db,
        f"SELECT {STORY_COLUMNS} FROM stories s WHERE {where}"
        " ORDER BY s.title_key LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [StoryRecord.from_row(row) for row in rows]


async def removal_counts(db: Reads, story_id: int) -> RemovalCounts:
    row = await fetch_one(
        db,
        "SELECT (SELECT count(*) FROM sections WHERE story_id = ?1),"
        " (SELECT count(*) FROM excerpt_posts WHERE story_id = ?1),"
        " (SELECT count(*) FROM reactions r JOIN excerpt_posts p ON p.message_id = r.message_id"
        "  WHERE p.story_id = ?1)",
        (story_id,),
    )
    assert row is not None
    return RemovalCounts(*row)


# ----------------------------------------------------------------------------- writes


def _story_row(parsed: ParsedStory) -> dict[str, object]:
    meta = parsed.metadata
    extra = {k: v for k, v in meta.items() if k not in KNOWN_COLUMNS}
    row: dict[str, object] = {
        "title": parsed.title,
        "title_key": title_key(parsed.title),
        "author": parsed.author,
        "rating_label": parsed.rating.label,
        "rating_level": parsed.rating.level.value,
        "extra_json": json.dumps(extra, ensure_ascii=False),
        "source_format": parsed.source_format,
        "section_count": len(parsed.sections),
        "word_count": parsed.words,
    }
    row.update({column: meta.get(column) for column in KNOWN_COLUMNS})
    return row


def _section_rows(story_id: int, parsed: ParsedStory) -> list[tuple[int, int, str, str, str, int]]:
    return [
        (story_id, position, section.title, section.text, section.notes, section.words)
        for position, section in enumerate(parsed.sections, start=1)
    ]


_INSERT_SECTIONS = (
    "INSERT INTO sections (story_id, position, title, body, notes, word_count)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
# Chinese, Japanese and Korean text is searched through bigrams (bot/cjk.py).
_INDEX_CJK = (
    "INSERT INTO section_cjk_fts (rowid, grams)"
    " SELECT id, storyshelf_cjk_grams(body) FROM sections"
    " WHERE story_id = ? AND storyshelf_has_cjk(body)"
)


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back on its own (a full disk, an I/O error);
    # a second ROLLBACK would then raise and hide the error that matters.
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _finish(
    conn: sqlite3.Connection,
    guild_id: int,
    story_id: int,
    parsed: ParsedStory,
    *,
    user_id: int | None,
    action: str,
) -> StoredStory:
    """The end of every story write: its sections (and their search rows), the audit
    row, and the commit, inside the caller's transaction."""
    conn.executemany(_INSERT_SECTIONS, _section_rows(story_id, parsed))
    conn.execute(_INDEX_CJK, (story_id,))
    record_sync(conn, guild_id, user_id, action, story_id, parsed.title)
    conn.execute("COMMIT")
    return StoredStory(story_id, parsed.title, parsed.rating, len(parsed.sections), parsed.words)


def insert_story(
    conn: sqlite3.Connection,
    guild_id: int,
    parsed: ParsedStory,
    *,
    added_by: int | None = None,
) -> StoredStory:
    """Store a new story on a guild's shelf, all of it or nothing.

    One transaction: the story row, its sections (and, by trigger, their search
    rows) and the audit row commit together, so a failure, a busy database or a
    killed process leaves no trace of a half-stored story. The id is one past the
    highest ever issued, so no id is ever used twice.
    """
    row = _story_row(parsed)
    columns = ", ".join(row)
    placeholders = ", ".join(f":{name}" for name in row)
    conn.execute("BEGIN IMMEDIATE")
    try:
        duplicate = conn.execute(
            "SELECT 1 FROM stories WHERE guild_id = ? AND title_key = ?",
            (guild_id, row["title_key"]),
        ).fetchone()
        if duplicate:
            raise DuplicateTitleError(parsed.title)
        story_id = int(conn.execute("SELECT last + 1 FROM story_id_high_water").fetchone()[0])
        conn.execute(
            f"INSERT INTO stories (id, guild_id, added_by, {columns})"
            f" VALUES (:id, :guild_id, :added_by, {placeholders})",
            {**row, "id": story_id, "guild_id": guild_id, "added_by": added_by},
        )
        return _finish(conn, guild_id, story_id, parsed, user_id=added_by, action="add")
    except BaseException:
        _rollback(conn)
        raise


def replace_story_text(
    conn: sqlite3.Connection,
    guild_id: int,
    story_id: int,
    parsed: ParsedStory,
    *,
    replaced_by: int | None = None,
) -> StoredStory:
    """Swap a story's text and metadata for a new version, keeping its identity.

    Excerpt posts and their reactions point at (story, section position), so
    feedback stays with the story, including on sections that no longer exist.
    """
    row = _story_row(parsed)
    assignments = ", ".join(f"{name} = :{name}" for name in row)
    conn.execute("BEGIN IMMEDIATE")
    try:
        clash = conn.execute(
            "SELECT 1 FROM stories WHERE guild_id = ? AND title_key = ? AND id != ?",
            (guild_id, row["title_key"], story_id),
        ).fetchone()
        if clash:
            raise DuplicateTitleError(parsed.title)
        updated = conn.execute(
            f"UPDATE stories SET {assignments}, revision = revision + 1,"
            " updated_at = :now WHERE id = :story_id AND guild_id = :guild_id",
            {**row, "story_id": story_id, "guild_id": guild_id, "now": now_stamp()},
        )
        if updated.rowcount != 1:
            raise LookupError("That story is no longer on this server's shelf.")
        conn.execute("DELETE FROM sections WHERE story_id = ?", (story_id,))
        return _finish(conn, guild_id, story_id, parsed, user_id=replaced_by, action="replace")
    except BaseException:
        _rollback(conn)
        raise


async def store_story_pg(
    db: PgDatabase,
    guild_id: int,
    parsed: ParsedStory,
    *,
    user_id: int | None,
    story_id: int | None = None,
) -> StoredStory:
    """`insert_story` (story_id None) or `replace_story_text` on PostgreSQL: the same
    checks and the same one transaction, through asyncpg's pool."""
    row = _story_row(parsed)
    names = list(row)
    try:
        async with db.transaction():
            story_id, action = await _story_row_pg(
                db, guild_id, row, names, story_id=story_id, added_by=user_id
            )
            await _finish_pg(db, guild_id, story_id, parsed, user_id=user_id, action=action)
    except asyncpg.UniqueViolationError as error:
        # Another process stored the same title between our check and our write.
        if error.constraint_name and "title_key" in error.constraint_name:
            raise DuplicateTitleError(parsed.title) from None
        raise
    return StoredStory(story_id, parsed.title, parsed.rating, len(parsed.sections), parsed.words)


async def _story_row_pg(
    db: PgDatabase,
    guild_id: int,
    row: dict[str, object],
    names: list[str],
    *,
    story_id: int | None,
    added_by: int | None,
) -> tuple[int, str]:
    """Insert (story_id None) or update the story's own row: (its id, the audit action)."""
    if story_id is None:
        # The high-water row, locked first: concurrent adds (any process) take their
        # ids, and see each other's titles, in turn.
        high = await fetch_one(db, "SELECT last + 1 FROM story_id_high_water FOR UPDATE", ())
        assert high is not None
        new_id = int(high[0])
        clash = await fetch_one(
            db,
            "SELECT 1 FROM stories WHERE guild_id = ? AND title_key = ?",
            (guild_id, row["title_key"]),
        )
        if clash:
            raise DuplicateTitleError(str(row["title"]))
        marks = ", ".join("?" * (len(names) + 3))
        await db.execute(
            f"INSERT INTO stories (id, guild_id, added_by, {', '.join(names)}) VALUES ({marks})",
            (new_id, guild_id, added_by, *row.values()),
        )
        return new_id, "add"
    clash = await fetch_one(
        db,
        "SELECT 1 FROM stories WHERE guild_id = ? AND title_key = ? AND id != ?",
        (guild_id, row["title_key"], story_id),
    )
    if clash:
        raise DuplicateTitleError(str(row["title"]))
    assignments = ", ".join(f"{name} = ?" for name in names)
    updated = await db.execute(
        f"UPDATE stories SET {assignments}, revision = revision + 1, updated_at = ?"
        " WHERE id = ? AND guild_id = ?",
        (*row.values(), now_stamp(), story_id, guild_id),
    )
    if updated.rowcount != 1:
        raise LookupError("That story is no longer on this server's shelf.")
    await db.execute("DELETE FROM sections WHERE story_id = ?", (story_id,))
    return story_id, "replace"


async def _finish_pg(
    db: PgDatabase,
    guild_id: int,
    story_id: int,
    parsed: ParsedStory,
    *,
    user_id: int | None,
    action: str,
) -> None:
    await db.executemany(_INSERT_SECTIONS, _section_rows(story_id, parsed))
    # CJK words as bigrams (bot/cjk.py), computed here: PostgreSQL has no application
    # functions.
    await db.execute(
        "INSERT INTO section_cjk (section_id, grams)"
        " SELECT c.id, to_tsvector('simple', g.grams) FROM sections c"
        " JOIN unnest(?::int[], ?::text[]) AS g (position, grams) ON g.position = c.position"
        " WHERE c.story_id = ?",
        (*_cjk_rows(parsed), story_id),
    )
    await record(db, guild_id, user_id, action, story_id, parsed.title)


def _cjk_rows(parsed: ParsedStory) -> tuple[list[int], list[str]]:
    positions, grams = [], []
    for position, section in enumerate(parsed.sections, start=1):
        if cjk.has_cjk(section.text):
            positions.append(position)
            grams.append(cjk.grams(section.text))
    return positions, grams


async def edit_story(
    db: aiosqlite.Connection,
    guild_id: int,
    story_id: int,
    *,
    title: str,
    author: str | None,
    rating: Rating,
    summary: str | None,
    notes: str | None,
    user_id: int,
) -> None:
    """Change a story's details in place; raises DuplicateTitleError or LookupError."""
    try:
        async with transaction(db):
            clash = await fetch_one(
                db,
                "SELECT 1 FROM stories WHERE guild_id = ? AND title_key = ? AND id != ?",
                (guild_id, title_key(title), story_id),
            )
            if clash:
                raise DuplicateTitleError(title)
            cursor = await db.execute(
                "UPDATE stories SET title = ?, title_key = ?, author = ?, rating_label = ?,"
                " rating_level = ?, summary = ?, notes = ?, revision = revision + 1,"
                " updated_at = ? WHERE id = ? AND guild_id = ?",
                (
                    title,
                    title_key(title),
                    author,
                    rating.label,
                    rating.level.value,
                    summary,
                    notes,
                    now_stamp(),
                    story_id,
                    guild_id,
                ),
            )
            if cursor.rowcount != 1:
                raise LookupError(story_id)
            await record(db, guild_id, user_id, "edit", story_id, title)
    except asyncpg.UniqueViolationError:
        # PostgreSQL: another process gave a story this title since the check.
        raise DuplicateTitleError(title) from None


async def remove_story(
    db: aiosqlite.Connection, guild_id: int, story_id: int, *, user_id: int
) -> list[int]:
    """Delete a story with its sections, index rows, posts, feedback and reading progress,
    in one transaction. Returns the message ids of its excerpt posts, which stop being
    excerpts."""
    async with transaction(db):
        row = await fetch_one(
            db, "SELECT title FROM stories WHERE id = ? AND guild_id = ?", (story_id, guild_id)
        )
        if row is None:
            raise LookupError(story_id)
        message_ids = [
            r[0]
            for r in await fetch_all(
                db, "SELECT message_id FROM excerpt_posts WHERE story_id = ?", (story_id,)
            )
        ]
        # Cascades: sections (and, by trigger, their search rows), posts, reactions.
        await db.execute("DELETE FROM stories WHERE id = ?", (story_id,))
        await record(db, guild_id, user_id, "remove", story_id, row[0])
    return message_ids
