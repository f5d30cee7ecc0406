"""Reading a server's shelf: stories, sections, search and autocomplete."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import aiosqlite

from bot.db.library import KNOWN_COLUMNS, title_key
from bot.story import Rating, RatingLevel

__all__ = (
    "SearchHit",
    "SectionRecord",
    "SectionSummary",
    "StoryRecord",
    "autocomplete_sections",
    "autocomplete_titles",
    "count_stories",
    "find_story",
    "fts_words_query",
    "get_section",
    "get_story",
    "list_sections",
    "list_stories",
    "random_section",
    "search_sections",
    "section_texts",
    "story_with_section",
)

# Markers around the matched words in FTS snippets; the renderer turns them into bold.
MATCH_START = "\x02"
MATCH_END = "\x03"

_STORY_COLUMNS = (
    "id, guild_id, title, author, rating_label, rating_level, "
    + ", ".join(KNOWN_COLUMNS)
    + ", extra_json, source_format, section_count, word_count, added_by, added_at, updated_at"
)


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

    @property
    def warnings(self) -> str | None:
        return self.metadata.get("warnings")

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> StoryRecord:
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
        )


@dataclass(frozen=True, slots=True)
class SectionRecord:
    story_id: int
    position: int
    title: str
    text: str
    words: int


@dataclass(frozen=True, slots=True)
class SectionSummary:
    position: int
    title: str
    words: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    story_id: int
    story_title: str
    rating: Rating
    position: int
    section_title: str
    snippet: str


def _levels_sql(levels: Collection[RatingLevel] | None) -> tuple[str, list[str]]:
    if levels is None:
        return "", []
    values = [level.value for level in levels]
    return f" AND s.rating_level IN ({', '.join('?' * len(values))})", values


# One hop to aiosqlite's thread per query: execute, fetch and close together
# (a cursor's execute, fetch and close would be three).


async def _one(
    db: aiosqlite.Connection, sql: str, params: Iterable[object]
) -> aiosqlite.Row | None:
    rows = await db.execute_fetchall(sql, tuple(params))
    return next(iter(rows), None)


async def _all(db: aiosqlite.Connection, sql: str, params: Iterable[object]) -> list[aiosqlite.Row]:
    return list(await db.execute_fetchall(sql, tuple(params)))


async def get_story(db: aiosqlite.Connection, guild_id: int, story_id: int) -> StoryRecord | None:
    row = await _one(
        db,
        f"SELECT {_STORY_COLUMNS} FROM stories WHERE id = ? AND guild_id = ?",
        (story_id, guild_id),
    )
    return None if row is None else StoryRecord.from_row(row)


_ID_VALUE = re.compile(r"^#(\d{1,19})$")


async def find_story(db: aiosqlite.Connection, guild_id: int, title: str) -> StoryRecord | None:
    """The story a `title` option names: its exact title (any case), or `#id` from autocomplete."""
    by_id = _ID_VALUE.match(title.strip())
    if by_id:
        return await get_story(db, guild_id, int(by_id[1]))
    row = await _one(
        db,
        f"SELECT {_STORY_COLUMNS} FROM stories WHERE guild_id = ? AND title_key = ?",
        (guild_id, title_key(title)),
    )
    return None if row is None else StoryRecord.from_row(row)


_SECTION_JOIN = (
    ", c.title AS section_title, c.body AS section_body, c.word_count AS section_words"
    " FROM stories s LEFT JOIN sections c ON c.story_id = s.id AND c.position = ?"
)


async def story_with_section(
    db: aiosqlite.Connection, guild_id: int, title: str | int, position: int
) -> tuple[StoryRecord | None, SectionRecord | None]:
    """A story (by title as `find_story` reads it, or by id) and one of its sections, in one query.

    The section is None when the story has no section at that position.
    """
    by_id = title if isinstance(title, int) else None
    if by_id is None:
        assert isinstance(title, str)
        match = _ID_VALUE.match(title.strip())
        by_id = int(match[1]) if match else None
    condition, key = (
        ("s.id = ?", by_id) if by_id is not None else ("s.title_key = ?", title_key(str(title)))
    )
    columns = ", ".join(f"s.{column.strip()}" for column in _STORY_COLUMNS.split(","))
    row = await _one(
        db,
        f"SELECT {columns}{_SECTION_JOIN} WHERE s.guild_id = ? AND {condition}",
        (position, guild_id, key),
    )
    if row is None:
        return None, None
    story = StoryRecord.from_row(row)
    if row["section_body"] is None:
        return story, None
    section = SectionRecord(
        story.id, position, row["section_title"], row["section_body"], row["section_words"]
    )
    return story, section


async def get_section(
    db: aiosqlite.Connection, story_id: int, position: int
) -> SectionRecord | None:
    row = await _one(
        db,
        "SELECT title, body, word_count FROM sections WHERE story_id = ? AND position = ?",
        (story_id, position),
    )
    if row is None:
        return None
    return SectionRecord(story_id, position, row["title"], row["body"], row["word_count"])


async def list_sections(db: aiosqlite.Connection, story_id: int) -> list[SectionSummary]:
    rows = await _all(
        db,
        "SELECT position, title, word_count FROM sections WHERE story_id = ? ORDER BY position",
        (story_id,),
    )
    return [SectionSummary(r["position"], r["title"], r["word_count"]) for r in rows]


async def section_texts(db: aiosqlite.Connection, story_id: int) -> list[tuple[str, str]]:
    """Every section's (title, text) in story order, in one query."""
    return [
        (r[0], r[1])
        for r in await _all(
            db, "SELECT title, body FROM sections WHERE story_id = ? ORDER BY position", (story_id,)
        )
    ]


def fts_words_query(text: str) -> str | None:
    """The user's text as FTS5 words, each quoted: no FTS syntax can leak through."""
    words = re.findall(r"\w+", text)
    if not words:
        return None
    return " ".join(f'"{word}"' for word in words[:16])


def _fts_prefix_query(text: str) -> str | None:
    words = re.findall(r"\w+", text)
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words[:8])


@dataclass(frozen=True, slots=True)
class TitleChoice:
    id: int
    title: str
    rating_level: RatingLevel


async def autocomplete_titles(
    db: aiosqlite.Connection,
    guild_id: int,
    typed: str,
    levels: Collection[RatingLevel] | None,
    *,
    limit: int = 25,
) -> list[TitleChoice]:
    """Titles whose start, or one of whose words, begins with what was typed."""
    level_sql, level_params = _levels_sql(levels)
    key = title_key(typed)
    # Title prefix through the (guild_id, title_key) unique index.
    rows = await _all(
        db,
        "SELECT s.id, s.title, s.rating_level FROM stories s"
        " WHERE s.guild_id = ? AND s.title_key >= ? AND s.title_key < ?"
        f"{level_sql} ORDER BY s.title_key LIMIT ?",
        (guild_id, key, key + "\U0010ffff", *level_params, limit),
    )
    found = [TitleChoice(r[0], r[1], RatingLevel(r[2])) for r in rows]
    query = _fts_prefix_query(typed)
    if len(found) < limit and query is not None:
        seen = {choice.id for choice in found}
        rows = await _all(
            db,
            "SELECT s.id, s.title, s.rating_level FROM story_title_fts f"
            " JOIN stories s ON s.id = f.rowid"
            f" WHERE story_title_fts MATCH ? AND s.guild_id = ?{level_sql}"
            " ORDER BY s.title_key LIMIT ?",
            (query, guild_id, *level_params, limit + len(seen)),
        )
        for r in rows:
            if r[0] not in seen and len(found) < limit:
                found.append(TitleChoice(r[0], r[1], RatingLevel(r[2])))
    return found


async def autocomplete_sections(
    db: aiosqlite.Connection, guild_id: int, story_title: str, typed: str, *, limit: int = 25
) -> list[SectionSummary]:
    by_id = _ID_VALUE.match(story_title.strip())
    story_sql = "SELECT id FROM stories WHERE guild_id = ? AND " + (
        "id = ?" if by_id else "title_key = ?"
    )
    story_param: object = int(by_id[1]) if by_id else title_key(story_title)
    typed = typed.strip()
    if typed.isdigit():
        condition, params = " AND (position >= ?)", [int(typed)]
    elif typed:
        condition, params = " AND title LIKE ? ESCAPE '\\'", ["%" + _like_escape(typed) + "%"]
    else:
        condition, params = "", []
    rows = await _all(
        db,
        f"SELECT position, title, word_count FROM sections WHERE story_id = ({story_sql})"
        f"{condition} ORDER BY position LIMIT ?",
        (guild_id, story_param, *params, limit),
    )
    return [SectionSummary(r[0], r[1], r[2]) for r in rows]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def count_stories(
    db: aiosqlite.Connection,
    guild_id: int,
    *,
    query: str | None = None,
    levels: Collection[RatingLevel] | None = None,
) -> int:
    where, params = _shelf_filter(guild_id, query, levels)
    row = await _one(db, f"SELECT count(*) FROM stories s WHERE {where}", params)
    return int(row[0]) if row else 0


def _shelf_filter(
    guild_id: int, query: str | None, levels: Collection[RatingLevel] | None
) -> tuple[str, list[object]]:
    level_sql, level_params = _levels_sql(levels)
    where = "s.guild_id = ?" + level_sql
    params: list[object] = [guild_id, *level_params]
    fts = _fts_prefix_query(query or "")
    if fts is not None:
        where += " AND s.id IN (SELECT rowid FROM story_title_fts WHERE story_title_fts MATCH ?)"
        params.append(fts)
    return where, params


async def list_stories(
    db: aiosqlite.Connection,
    guild_id: int,
    *,
    query: str | None = None,
    levels: Collection[RatingLevel] | None = None,
    offset: int = 0,
    limit: int = 10,
) -> list[StoryRecord]:
    where, params = _shelf_filter(guild_id, query, levels)
    rows = await _all(
        db,
        f"SELECT {_STORY_COLUMNS} FROM stories s WHERE {where}"
        " ORDER BY s.title_key LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [StoryRecord.from_row(row) for row in rows]


# Ranking scores every candidate; a query of common words can match every section
# of a large shelf, so at most this many matches (in index order) are ranked.
SEARCH_CANDIDATES = 1_000


async def search_sections(
    db: aiosqlite.Connection,
    guild_id: int,
    query: str,
    *,
    story_id: int | None = None,
    levels: Collection[RatingLevel] | None = None,
    limit: int = 5,
) -> list[SearchHit]:
    """The best matches for `query` as words, with a snippet of each.

    Two queries: rank up to SEARCH_CANDIDATES matches and keep the best
    `limit`, then build snippets for just those (a snippet in the ranking
    query would be built for every candidate).
    """
    fts = fts_words_query(query)
    if fts is None:
        return []
    level_sql, level_params = _levels_sql(levels)
    story_sql = " AND s.id = ?" if story_id is not None else ""
    story_params = [story_id] if story_id is not None else []
    ranked = await _all(
        db,
        "SELECT id, story_id, title, rating_label, rating_level, position, section_title FROM ("
        " SELECT f.rowid AS id, f.rank AS score, s.id AS story_id, s.title, s.rating_label,"
        " s.rating_level, c.position, c.title AS section_title"
        " FROM section_fts f JOIN sections c ON c.id = f.rowid JOIN stories s ON s.id = c.story_id"
        f" WHERE section_fts MATCH ? AND s.guild_id = ?{level_sql}{story_sql} LIMIT ?"
        ") ORDER BY score LIMIT ?",
        (fts, guild_id, *level_params, *story_params, SEARCH_CANDIDATES, limit),
    )
    if not ranked:
        return []
    one = (
        f"SELECT rowid, snippet(section_fts, 0, '{MATCH_START}', '{MATCH_END}', '…', 24)"
        " FROM section_fts WHERE section_fts MATCH ? AND rowid = ?"
    )
    snippets = dict(
        await _all(
            db,
            " UNION ALL ".join([one] * len(ranked)),
            [value for r in ranked for value in (fts, r[0])],
        )
    )
    return [
        SearchHit(r[1], r[2], Rating(r[3], RatingLevel(r[4])), r[5], r[6], snippets.get(r[0], ""))
        for r in ranked
    ]


async def random_section(
    db: aiosqlite.Connection,
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
    level_sql, level_params = _levels_sql(levels)
    story_sql = " AND s.id = ?" if story_id is not None else ""
    story_params = [story_id] if story_id is not None else []
    row = await _one(
        db,
        "WITH allowed AS (SELECT s.id, s.section_count FROM stories s"
        f" WHERE s.guild_id = ?{level_sql}{story_sql} AND s.section_count > 0)"
        " SELECT id, section_count FROM allowed"
        " LIMIT 1 OFFSET (? % max((SELECT count(*) FROM allowed), 1))",
        (guild_id, *level_params, *story_params, seed),
    )
    if row is None:
        return None
    return int(row[0]), 1 + (seed // 7919) % int(row[1])
