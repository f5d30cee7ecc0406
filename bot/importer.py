"""Parse and store story files: the one path behind `/library add` and `python -m bot import`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.db.library import StoredStory, insert_story
from bot.parsing import parse_story
from bot.story import ParsedStory, StoryFileError

__all__ = ("import_bytes", "read_story_file")


def read_story_file(path: Path, *, max_bytes: int) -> ParsedStory:
    """Parse a file from disk, refusing an oversized one before reading it."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise StoryFileError(f"{path.name}: cannot read the file ({error.strerror}).") from None
    if size > max_bytes:
        raise StoryFileError(
            f"{path.name} is {size / 1_048_576:.1f} MB; the limit is "
            f"{max_bytes / 1_048_576:.1f} MB."
        )
    return parse_story(path.read_bytes(), path.name, max_bytes=max_bytes)


def import_bytes(
    conn: sqlite3.Connection,
    guild_id: int,
    data: bytes,
    filename: str,
    *,
    max_bytes: int,
    added_by: int | None = None,
) -> StoredStory:
    parsed = parse_story(data, filename, max_bytes=max_bytes)
    return insert_story(conn, guild_id, parsed, added_by=added_by)
