"""Storing parsed stories: the one write path shared by `/library` and the importer.

These functions take a synchronous sqlite3 connection and run in a worker
thread: a novel is one transaction of a few C-level calls, invisible to
readers until it commits, and it never stalls the bot's own connection.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from bot.story import ParsedStory, Rating

__all__ = (
    "KNOWN_COLUMNS",
    "DuplicateTitleError",
    "StoredStory",
    "insert_story",
    "replace_story_text",
    "title_key",
)

# Metadata keys kept in their own columns; everything else goes to extra_json.
KNOWN_COLUMNS = ("pairing", "fandom", "warnings", "summary", "disclaimer", "notes")


class DuplicateTitleError(ValueError):
    def __init__(self, title: str) -> None:
        super().__init__(
            f"“{title}” is already on this server's shelf. "
            "Use /library replace to upload a new version of it."
        )
        self.title = title


@dataclass(frozen=True, slots=True)
class StoredStory:
    id: int
    title: str
    rating: Rating
    sections: int
    words: int


def title_key(title: str) -> str:
    return " ".join(title.split()).casefold()


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


def _section_rows(story_id: int, parsed: ParsedStory) -> list[tuple[int, int, str, str, int]]:
    return [
        (story_id, position, section.title, section.text, section.words)
        for position, section in enumerate(parsed.sections, start=1)
    ]


def _audit(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int | None,
    action: str,
    story_id: int | None,
    story_title: str,
    detail: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO audit_log (guild_id, user_id, action, story_id, story_title, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, user_id, action, story_id, story_title, detail),
    )


def _rollback(conn: sqlite3.Connection) -> None:
    # SQLite may already have rolled back on its own (a full disk, an I/O error);
    # a second ROLLBACK would then raise and hide the error that matters.
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def insert_story(
    conn: sqlite3.Connection,
    guild_id: int,
    parsed: ParsedStory,
    *,
    added_by: int | None = None,
) -> StoredStory:
    """Store a new story on a guild's shelf, all of it or nothing.

    One transaction: the story row, its sections (and, by trigger, their
    search rows) and the audit row commit together, so a failure, a busy
    database or a killed process leaves no trace of a half-stored story.
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
        cursor = conn.execute(
            f"INSERT INTO stories (guild_id, added_by, {columns})"
            f" VALUES (:guild_id, :added_by, {placeholders})",
            {**row, "guild_id": guild_id, "added_by": added_by},
        )
        story_id = int(cursor.lastrowid or 0)
        conn.executemany(
            "INSERT INTO sections (story_id, position, title, body, word_count)"
            " VALUES (?, ?, ?, ?, ?)",
            _section_rows(story_id, parsed),
        )
        _audit(conn, guild_id, added_by, "add", story_id, parsed.title)
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
    return StoredStory(story_id, parsed.title, parsed.rating, len(parsed.sections), parsed.words)


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
            f"UPDATE stories SET {assignments},"
            " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
            " WHERE id = :story_id AND guild_id = :guild_id",
            {**row, "story_id": story_id, "guild_id": guild_id},
        )
        if updated.rowcount != 1:
            raise LookupError("That story is no longer on this server's shelf.")
        conn.execute("DELETE FROM sections WHERE story_id = ?", (story_id,))
        conn.executemany(
            "INSERT INTO sections (story_id, position, title, body, word_count)"
            " VALUES (?, ?, ?, ?, ?)",
            _section_rows(story_id, parsed),
        )
        _audit(conn, guild_id, replaced_by, "replace", story_id, parsed.title)
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
    return StoredStory(story_id, parsed.title, parsed.rating, len(parsed.sections), parsed.words)
