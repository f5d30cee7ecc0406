"""Full-text search over a server's sections (FTS5, bm25 ranking, snippets for shown hits)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.cjk import CJK_RUN, query_grams
from bot.db.stories import Reads, fetch_all, levels_sql, words_query
from bot.render.snippets import MATCH_END, MATCH_START
from bot.story import Rating, RatingLevel

__all__ = ("SEARCH_CANDIDATES", "SearchHit", "search_sections", "words_query")

# Ranking scores every candidate it is given, and bm25 first reads the whole index
# entry of each queried word once (its document frequency), so a query of words in
# every section costs about 1.5 ms before the first candidate and ~3 µs a candidate
# (bench/commands_bench.py, 10,000 stories). At most this many matches (in index
# order) are ranked: a word rarer than that on the shelf is ranked over all its
# sections; for words nearly everywhere the five shown are the best of the first 200.
SEARCH_CANDIDATES = 200


@dataclass(frozen=True, slots=True)
class SearchHit:
    story_id: int
    story_title: str
    rating: Rating
    position: int
    section_title: str
    snippet: str


async def search_sections(
    db: Reads,
    guild_id: int,
    query: str,
    *,
    story_id: int | None = None,
    levels: Collection[RatingLevel] | None = None,
    limit: int = 5,
) -> list[SearchHit]:
    """The best matches for `query` as words, with a snippet of each.

    Ranks up to SEARCH_CANDIDATES matches and keeps the best `limit`, then builds
    snippets for just those (a snippet in the ranking itself would be built for
    every candidate), in one statement.
    """
    cjk = query_grams(query)
    if cjk is not None:
        return await _search_cjk(
            db, guild_id, query, cjk, story_id=story_id, levels=levels, limit=limit
        )
    fts = words_query(query)
    if fts is None:
        return []
    level_sql, level_params = levels_sql(levels)
    story_sql = " AND s.id = ?" if story_id is not None else ""
    story_params = [story_id] if story_id is not None else []
    # One statement: rank the candidates, keep the best `limit`, then read each kept
    # hit's details and snippet by its rowid (the planner looks each up, "=M1").
    rows = await fetch_all(
        db,
        "WITH top AS (SELECT id, score FROM ("
        " SELECT f.rowid AS id, f.rank AS score FROM section_fts f"
        " JOIN sections c ON c.id = f.rowid JOIN stories s ON s.id = c.story_id"
        f" WHERE section_fts MATCH ? AND s.guild_id = ?{level_sql}{story_sql} LIMIT ?"
        ") ORDER BY score LIMIT ?)"
        " SELECT s.id, s.title, s.rating_label, s.rating_level, c.position, c.title,"
        f" snippet(section_fts, 0, '{MATCH_START}', '{MATCH_END}', '…', 24)"
        " FROM top CROSS JOIN section_fts f ON f.rowid = top.id"
        " JOIN sections c ON c.id = f.rowid JOIN stories s ON s.id = c.story_id"
        " WHERE section_fts MATCH ? ORDER BY top.score",
        (fts, guild_id, *level_params, *story_params, SEARCH_CANDIDATES, limit, fts),
    )
    return [SearchHit(r[0], r[1], Rating(r[2], RatingLevel(r[3])), r[4], r[5], r[6]) for r in rows]


# Characters of context on each side of a CJK match in a snippet.
_CJK_CONTEXT = 40


async def _search_cjk(
    db: Reads,
    guild_id: int,
    query: str,
    grams: str,
    *,
    story_id: int | None,
    levels: Collection[RatingLevel] | None,
    limit: int,
) -> list[SearchHit]:
    """Sections whose CJK text holds every CJK word of `query` (and its other words,
    if any), best first; snippets cut around the first CJK word, for the shown hits."""
    level_sql, level_params = levels_sql(levels)
    extra_sql, extra_params = "", []
    other_words = words_query(CJK_RUN.sub(" ", query))
    if other_words is not None:
        extra_sql = " AND c.id IN (SELECT rowid FROM section_fts WHERE section_fts MATCH ?)"
        extra_params = [other_words]
    story_sql = " AND s.id = ?" if story_id is not None else ""
    story_params = [story_id] if story_id is not None else []
    rows = await fetch_all(
        db,
        "SELECT s.id, s.title, s.rating_label, s.rating_level, c.position, c.title, c.body"
        " FROM section_cjk_fts g JOIN sections c ON c.id = g.rowid"
        " JOIN stories s ON s.id = c.story_id"
        f" WHERE section_cjk_fts MATCH ? AND s.guild_id = ?{level_sql}{story_sql}{extra_sql}"
        " ORDER BY g.rank LIMIT ?",
        (grams, guild_id, *level_params, *story_params, *extra_params, limit),
    )
    first_word = CJK_RUN.findall(query)[0]
    return [
        SearchHit(
            r[0], r[1], Rating(r[2], RatingLevel(r[3])), r[4], r[5], _cjk_snippet(r[6], first_word)
        )
        for r in rows
    ]


def _cjk_snippet(body: str, word: str) -> str:
    at = body.find(word)
    if at < 0:
        return body[: 2 * _CJK_CONTEXT]
    start, end = max(0, at - _CJK_CONTEXT), min(len(body), at + len(word) + _CJK_CONTEXT)
    before = ("…" if start > 0 else "") + body[start:at]
    after = body[at + len(word) : end] + ("…" if end < len(body) else "")
    return f"{before}{MATCH_START}{word}{MATCH_END}{after}"
