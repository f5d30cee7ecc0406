"""Sections of a story: reading one, listing them, finding one by number or words, picking one."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.db.pg import is_postgres
from bot.db.stories import (
    STORY_COLUMNS_S,
    Reads,
    StoryRecord,
    fetch_all,
    fetch_one,
    levels_sql,
)
from bot.story import RatingLevel
from bot.titles import title_key

__all__ = (
    "SectionRecord",
    "SectionSummary",
    "autocomplete_sections",
    "list_sections",
    "random_section",
    "section_texts",
    "story_with_section",
)


@dataclass(frozen=True, slots=True)
class SectionRecord:
    story_id: int
    position: int
    title: str
    text: str
    words: int
    notes: str = ""


@dataclass(frozen=True, slots=True)
class SectionSummary:
    position: int
    title: str
    words: int


_SECTION_JOIN = (
    ", c.title AS section_title, c.body AS section_body, c.word_count AS section_words,"
    " c.notes AS section_notes"
    " FROM stories s LEFT JOIN sections c ON c.story_id = s.id AND c.position = ?"
)


async def story_with_section(
    db: Reads, guild_id: int, story: str | int, position: int
) -> tuple[StoryRecord | None, SectionRecord | None]:
    """A story (by title, or by id for buttons) of this server and one of its sections,
    in one query. The section is None when the story has no section at that position."""
    condition, key = (
        ("s.id = ?", story) if isinstance(story, int) else ("s.title_key = ?", title_key(story))
    )
    row = await fetch_one(
        db,
        f"SELECT {STORY_COLUMNS_S}{_SECTION_JOIN} WHERE s.guild_id = ? AND {condition}",
        (position, guild_id, key),
    )
    if row is None:
        return None, None
    found = StoryRecord.from_row(row)
    if row["section_body"] is None:
        return found, None
    section = SectionRecord(
        found.id,
        position,
        row["section_title"],
        row["section_body"],
        row["section_words"],
        row["section_notes"],
    )
    return found, section


async def list_sections(db: Reads, story_id: int) -> list[SectionSummary]:
    rows = await fetch_all(
        db,
        "SELECT position, title, word_count FROM sections WHERE story_id = ? ORDER BY position",
        (story_id,),
    )
    return [SectionSummary(r["position"], r["title"], r["word_count"]) for r in rows]


async def section_texts(db: Reads, story_id: int) -> list[tuple[str, str, str]]:
    """Every section's (title, text, notes) in story order, in one query."""
    return [
        (r[0], r[1], r[2])
        for r in await fetch_all(
            db,
            "SELECT title, body, notes FROM sections WHERE story_id = ? ORDER BY position",
            (story_id,),
        )
    ]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def autocomplete_sections(
    db: Reads, story_id: int, typed: str, *, limit: int = 25
) -> list[SectionSummary]:
    """Sections matching what was typed: a number jumps to that section (and those after
    it); words match anywhere in the title, each of them, anywhere in the story."""
    typed = typed.strip()
    words = typed.split()
    params: list[object]
    if typed.isdigit():
        condition, params = " AND position >= ?", [int(typed[:9])]
    elif words:
        # SQLite's LIKE ignores (ASCII) case; PostgreSQL's needs ILIKE to.
        like = "ILIKE" if is_postgres(db) else "LIKE"
        condition = "".join(f" AND title {like} ? ESCAPE '\\'" for _ in words[:6])
        params = ["%" + _like_escape(word) + "%" for word in words[:6]]
    else:
        condition, params = "", []
    rows = await fetch_all(
        db,
        f"SELECT position, title, word_count FROM sections WHERE story_id = ?{condition}"
        " ORDER BY position LIMIT ?",
        (story_id, *params, limit),
    )
    return [SectionSummary(r[0], r[1], r[2]) for r in rows]


async def random_section(
    db: Reads,
    guild_id: int,
    levels: Collection[RatingLevel] | None,
    *,
    story_id: int | None = None,
    seed: int,
) -> tuple[int, int] | None:
    """A (story id, section position) picked at random among allowed stories.

    Picks a story uniformly, then a section, with `seed` supplying the
    randomness so the choice is reproducible in tests.
    """
    level_sql, level_params = levels_sql(levels)
    story_sql = " AND s.id = ?" if story_id is not None else ""
    story_params = [story_id] if story_id is not None else []
    larger = "greatest" if is_postgres(db) else "max"  # the larger of two values
    row = await fetch_one(
        db,
        "WITH allowed AS (SELECT s.id, s.section_count FROM stories s"
        f" WHERE s.guild_id = ?{level_sql}{story_sql} AND s.section_count > 0)"
        " SELECT id, section_count FROM allowed"
        f" LIMIT 1 OFFSET (? % {larger}((SELECT count(*) FROM allowed), 1))",
        (guild_id, *level_params, *story_params, seed),
    )
    if row is None:
        return None
    return int(row[0]), 1 + (seed // 7919) % int(row[1])
