"""Full-text search over a server's sections (FTS5, bm25 ranking, snippets for shown hits)."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from bot.cjk import CJK_RUN, pairs, query_grams
from bot.db.pg import is_postgres
from bot.db.stories import (
    Reads,
    fetch_all,
    fetch_one,
    levels_sql,
    pg_words,
    query_words,
    words_query,
)
from bot.render.snippets import MATCH_END, MATCH_START
from bot.story import Rating, RatingLevel

__all__ = (
    "RANKING_FLOOR",
    "SEARCH_CANDIDATES",
    "SearchHit",
    "SearchResults",
    "WordCounts",
    "search_sections",
    "words_query",
)

# Ranking scores every candidate it is given, and bm25 first reads the whole index
# entry of each queried word once (its document frequency), so a query of words in
# every section costs about 1.5 ms before the first candidate and ~3 µs a candidate
# (bench/commands_bench.py, 10,000 stories). At most this many matches (in index
# order) are ranked: a word rarer than that on the shelf is ranked over all its
# sections; for words nearly everywhere the five shown are the best of the first 200.
SEARCH_CANDIDATES = 200

# A word in at least half of all sections weighs nothing in bm25: FTS5 clamps its
# inverse document frequency to 1e-6 (fts5_aux.c, `if( idf<=0.0 ) idf = 1e-6`), yet
# reading its index entry to learn that costs ~0.7 ms per word at 30,000 sections.
# Such a word, once it is in this many sections or more, still filters the hits and
# is still marked in the snippets, but the ranking leaves it out; below this many,
# bm25's own pass is cheap and is left as it is (a small shelf keeps the ordering
# by how often the words occur).
RANKING_FLOOR = 5_000


@dataclass(frozen=True, slots=True)
class SearchHit:
    story_id: int
    story_title: str
    rating: Rating
    position: int
    section_title: str
    snippet: str


@dataclass(frozen=True, slots=True)
class SearchResults:
    """The hits shown, and the searched words too common to rank by (as typed, lower case).

    When every word is too common, `ranked` is False and the hits are the first
    sections that hold them, in shelf order.
    """

    hits: list[SearchHit]
    common: tuple[str, ...] = ()
    ranked: bool = True


class WordCounts:
    """How many sections hold each searched word, remembered for `ttl` seconds.

    Decides which words the ranking leaves out (see RANKING_FLOOR): a count a few
    minutes old can move a word across the line only by a shelf-sized change, and
    then changes which hits come first, never which sections match. And whether
    FTS5 can rank every match at once (at most SEARCH_CANDIDATES): such a rare count
    is kept `rare_ttl` seconds only, since one import can add hundreds of matches.
    The counts are over the whole index, every server's sections, as bm25's are.
    """

    def __init__(
        self,
        *,
        floor: int = RANKING_FLOOR,
        ttl: float = 600.0,
        rare_ttl: float = 30.0,
        size: int = 4_096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.floor = floor
        self._ttl = ttl
        self._rare_ttl = min(ttl, rare_ttl)
        self._size = size
        self._clock = clock
        self._counts: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self._total: tuple[float, int] | None = None
        self.queries = 0  # count queries made (tests read it: a remembered count makes none)

    def may_rank_at_once(self, phrases: Sequence[str]) -> bool:
        """Whether one pass may rank every match, if each phrase has at most
        SEARCH_CANDIDATES (the statement checks that): no such phrase can be too common
        to rank by (the floor is above it), and none is remembered as having more."""
        if self.floor <= SEARCH_CANDIDATES:
            return False
        now = self._clock()
        for phrase in phrases:
            known = self._counts.get(phrase.lower())
            if known is not None and known[1] > SEARCH_CANDIDATES and now - known[0] <= self._ttl:
                return False
        return True

    async def weigh(self, db: Reads, phrases: Sequence[str]) -> tuple[frozenset[str], int]:
        """The phrases too common to rank by, and at most how many sections hold them
        all (the fewest any one phrase is in).

        On a shelf of at most SEARCH_CANDIDATES sections that bound is the shelf's
        size; on a larger one each phrase is counted (a rare word's count reads its
        short index entry), also below the floor, to learn whether bm25 can rank
        every match at once."""
        now = self._clock()
        total = await self._sections(db, now)
        if total < self.floor and total <= SEARCH_CANDIDATES:
            return frozenset(), total
        common = set()
        fewest = total
        for phrase in phrases:
            count = await self._count(db, phrase, now)
            fewest = min(fewest, count)
            if count >= self.floor and count * 2 >= total:
                common.add(phrase)
        return frozenset(common), fewest

    async def _sections(self, db: Reads, now: float) -> int:
        # A small shelf's size stands for its words' counts: kept briefly, like them.
        ttl = self._ttl if self._total and self._total[1] > SEARCH_CANDIDATES else self._rare_ttl
        if self._total is None or now - self._total[0] > ttl:
            self.queries += 1
            row = await fetch_one(db, "SELECT count(*) FROM sections", ())
            self._total = (now, int(row[0]) if row else 0)
        return self._total[1]

    async def _count(self, db: Reads, phrase: str, now: float) -> int:
        phrase = phrase.lower()  # the index folds case: "Tea" and "tea" are one count
        known = self._counts.get(phrase)
        # A rare word's count decides whether bm25 ranks all its matches at once: kept
        # briefly, so a large import cannot leave that pass ranking thousands for long.
        ttl = self._ttl if known is None or known[1] > SEARCH_CANDIDATES else self._rare_ttl
        if known is not None and now - known[0] <= ttl:
            self._counts.move_to_end(phrase)
            return known[1]
        self.queries += 1
        row = await fetch_one(
            db, "SELECT count(*) FROM section_fts WHERE section_fts MATCH ?", (phrase,)
        )
        count = int(row[0]) if row else 0
        self._counts[phrase] = (now, count)
        self._counts.move_to_end(phrase)
        while len(self._counts) > self._size:
            self._counts.popitem(last=False)
        return count


async def search_sections(
    db: Reads,
    guild_id: int,
    query: str,
    *,
    story_id: int | None = None,
    levels: Collection[RatingLevel] | None = None,
    limit: int = 5,
    counts: WordCounts | None = None,
) -> SearchResults:
    """The best matches for `query` as words, with a snippet of each.

    Ranks up to SEARCH_CANDIDATES matches and keeps the best `limit`, then builds
    snippets for just those (a snippet in the ranking itself would be built for
    every candidate), in one statement. With `counts`, words too common to weigh
    anything in bm25 are left out of the ranking (RANKING_FLOOR); when every word
    is, the hits are the first sections that hold them all, in shelf order. When no
    word is common and they have at most SEARCH_CANDIDATES matches on the whole
    shelf, FTS5 ranks every match itself and hands them over best first.
    """
    if is_postgres(db):
        return await _search_pg(db, guild_id, query, story_id=story_id, levels=levels, limit=limit)
    cjk = query_grams(query)
    if cjk is not None:
        hits = await _search_cjk(
            db, guild_id, query, cjk, story_id=story_id, levels=levels, limit=limit
        )
        return SearchResults(hits)
    phrases = query_words(query)
    if not phrases:
        return SearchResults([])
    fts = " ".join(phrases)
    level_sql, level_params = levels_sql(levels)
    details = (
        "s.id, s.title, s.rating_label, s.rating_level, c.position, c.title,"
        f" snippet(section_fts, 0, '{MATCH_START}', '{MATCH_END}', '…', 24)"
    )
    if story_id is None and counts is not None and counts.may_rank_at_once(phrases):
        # Most searches are for a name or a rare word: FTS5 ranks all its matches in
        # the statement that reads the hits, with no count asked first (a statement
        # costs ~0.1 ms on the event loop, whatever it does). The guard counts each
        # word's matches, at most SEARCH_CANDIDATES + 1 of them, once, before the
        # ranking starts (a constant MATCH argument); over the bound the statement
        # matches nothing ('""') and the counted path below takes over. No rows for
        # another reason (no hit here) takes that path too, and it finds none again.
        rows = await fetch_all(
            db,
            _ranked_at_once(details, _guarded_match(len(phrases)), level_sql),
            (*phrases, fts, guild_id, *level_params, limit),
        )
        if rows:
            return SearchResults(_hits(rows))
    common: frozenset[str] = frozenset()
    fewest: int | None = None  # no counts: not known
    if counts is not None:
        common, fewest = await counts.weigh(db, phrases)
    ranking = [phrase for phrase in phrases if phrase not in common]
    shown_common = tuple(
        dict.fromkeys(phrase.strip('"').lower() for phrase in phrases if phrase in common)
    )
    story_sql, story_params = "", []
    if story_id is not None:
        # A story's sections are one run of ids: the index is read over that run
        # alone, not through every section holding the words until enough are found
        # (30 ms for a word in all 30,000 sections, on the event loop).
        story_sql = (
            " AND s.id = ? AND f.rowid BETWEEN (SELECT min(id) FROM sections WHERE story_id = ?)"
            " AND (SELECT max(id) FROM sections WHERE story_id = ?)"
        )
        story_params = [story_id] * 3
    if not ranking:
        # Nothing to rank by: the first `limit` sections holding every word. Rowid
        # order is the index's own, so LIMIT stops the scan early and a snippet is
        # built only for a row that is shown.
        rows = await fetch_all(
            db,
            f"SELECT {details} FROM section_fts f"
            " JOIN sections c ON c.id = f.rowid JOIN stories s ON s.id = c.story_id"
            f" WHERE section_fts MATCH ? AND s.guild_id = ?{level_sql}{story_sql}"
            " ORDER BY f.rowid LIMIT ?",
            (fts, guild_id, *level_params, *story_params, limit),
        )
        return SearchResults(_hits(rows), shown_common, ranked=False)
    if fewest is not None and fewest <= SEARCH_CANDIDATES and not common and story_id is None:
        # Few matches on the whole shelf, and no word common (bm25 would read a
        # common word's whole index entry to weigh it): FTS5 ranks them all and hands
        # them over best first (it consumes ORDER BY rank), so the joins stop at the
        # `limit`-th hit readable here and snippets are built for the shown hits
        # only, with no second look into the index per hit. About a third less time
        # on the database than the nested statement below, for a rare word at 10,000
        # stories (bench/commands_bench.py).
        rows = await fetch_all(
            db,
            _ranked_at_once(details, "?", level_sql),
            (fts, guild_id, *level_params, limit),
        )
        return SearchResults(_hits(rows))
    if common:
        # Ranked by the rarer words alone; a second look into the index (`g`, by
        # rowid) keeps only the sections that hold the common ones too.
        source = (
            "section_fts f CROSS JOIN section_fts g ON g.rowid = f.rowid"
            " JOIN sections c ON c.id = f.rowid JOIN stories s ON s.id = c.story_id"
            " WHERE f.section_fts MATCH ? AND g.section_fts MATCH ?"
        )
        source_params: list[object] = [" ".join(ranking), fts]
    else:
        source = (
            "section_fts f JOIN sections c ON c.id = f.rowid JOIN stories s ON s.id = c.story_id"
            " WHERE section_fts MATCH ?"
        )
        source_params = [fts]
    # One statement: rank the candidates, keep the best `limit`, then read each kept
    # hit's details and snippet by its rowid (the planner looks each up, "=M1").
    rows = await fetch_all(
        db,
        "WITH top AS (SELECT id, score FROM ("
        f" SELECT f.rowid AS id, f.rank AS score FROM {source}"
        f" AND s.guild_id = ?{level_sql}{story_sql} LIMIT ?"
        ") ORDER BY score LIMIT ?)"
        f" SELECT {details}"
        " FROM top CROSS JOIN section_fts f ON f.rowid = top.id"
        " JOIN sections c ON c.id = f.rowid JOIN stories s ON s.id = c.story_id"
        " WHERE section_fts MATCH ? ORDER BY top.score",
        (
            *source_params,
            guild_id,
            *level_params,
            *story_params,
            SEARCH_CANDIDATES,
            limit,
            fts,
        ),
    )
    return SearchResults(_hits(rows), shown_common)


def _ranked_at_once(details: str, match: str, level_sql: str) -> str:
    """Every match of `match` ranked by FTS5 itself, best first (it consumes ORDER BY
    rank), this server's readable ones joined until the `limit`-th: the parameters are
    `match`'s, the server, the levels, the limit."""
    return (
        f"SELECT {details} FROM section_fts f"
        " JOIN sections c ON c.id = f.rowid JOIN stories s ON s.id = c.story_id"
        f" WHERE section_fts MATCH {match} AND s.guild_id = ?{level_sql}"
        " ORDER BY f.rank LIMIT ?"
    )


def _guarded_match(words: int) -> str:
    """A MATCH argument: the query (the parameter after one per word) if no word is
    in more than SEARCH_CANDIDATES sections on the whole shelf, else a query matching
    nothing (an empty phrase). Each count reads at most one match past the bound."""
    each = (
        "(SELECT count(*) FROM (SELECT 1 FROM section_fts g WHERE g.section_fts MATCH ?"
        f" LIMIT {SEARCH_CANDIDATES + 1})) <= {SEARCH_CANDIDATES}"
    )
    return f"(CASE WHEN {' AND '.join([each] * words)} THEN ? ELSE '\"\"' END)"


# ts_headline's options: the matched words marked as snippet() marks them, one
# fragment of about as many words as snippet() gives.
_HEADLINE = (
    f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords=24, MinWords=12,"
    " ShortWord=0, MaxFragments=1, FragmentDelimiter=…"
)
# Context read to tell whether a headline starts or ends its section's text.
_EDGE = 400
# Characters of text shown around a word when ts_headline marked none.
_WINDOW = 240


async def _search_pg(
    db: Reads,
    guild_id: int,
    query: str,
    *,
    story_id: int | None,
    levels: Collection[RatingLevel] | None,
    limit: int,
) -> SearchResults:
    """PostgreSQL: sections whose tsvector holds every word (GIN), the first
    SEARCH_CANDIDATES of them ranked by ts_rank (length-normalised, as bm25 is),
    headlines for the `limit` shown only.

    The words go in through plainto_tsquery, which never raises on syntax."""
    level_sql, level_params = levels_sql(levels)
    story_sql = " AND c.story_id = ?" if story_id is not None else ""
    story_params = [story_id] if story_id is not None else []
    runs = CJK_RUN.findall(query)
    if runs:
        # CJK words as phrases of their bigrams over section_cjk; other words too.
        grams = " & ".join(
            f"'{run}':*"
            if len(run) == 1
            else "(" + " <-> ".join(f"'{p}'" for p in pairs(run)) + ")"
            for run in runs[:8]
        )
        others = " ".join(pg_words(CJK_RUN.sub(" ", query))[:16])
        others_sql = " AND c.search @@ plainto_tsquery('storyshelf', ?)" if others else ""
        rows = await fetch_all(
            db,
            "SELECT s.id, s.title, s.rating_label, s.rating_level, c.position, c.title, c.body"
            " FROM section_cjk g JOIN sections c ON c.id = g.section_id"
            " JOIN stories s ON s.id = c.story_id"
            f" WHERE g.grams @@ to_tsquery('simple', ?){others_sql}"
            f" AND s.guild_id = ?{level_sql}{story_sql}"
            " ORDER BY ts_rank(g.grams, to_tsquery('simple', ?), 1) DESC, c.id LIMIT ?",
            (
                grams,
                *([others] if others else []),
                guild_id,
                *level_params,
                *story_params,
                grams,
                limit,
            ),
        )
        return SearchResults(_hits(rows, lambda r: _cjk_snippet(r[6], runs[0])))
    typed = pg_words(query)[:16]
    if not typed:
        return SearchResults([])
    words = " ".join(typed)
    rows = await fetch_all(
        db,
        "WITH q AS (SELECT plainto_tsquery('storyshelf', ?) AS q),"
        " candidates AS (SELECT c.id, c.search FROM q, sections c"
        " JOIN stories s ON s.id = c.story_id"
        f" WHERE c.search @@ q.q AND s.guild_id = ?{level_sql}{story_sql}"
        " ORDER BY c.id LIMIT ?),"
        " top AS (SELECT id, ts_rank(search, q.q, 1) AS score FROM candidates, q"
        " ORDER BY score DESC, id LIMIT ?)"
        " SELECT s.id, s.title, s.rating_label, s.rating_level, c.position, c.title,"
        # The headline marks any of the words: with all of them required, ts_headline
        # finds no span when they stand far apart and marks nothing.
        " ts_headline('storyshelf', c.body, replace(q.q::text, '&', '|')::tsquery, ?),"
        " left(c.body, ?), right(c.body, ?),"
        # The text around the first word, for a headline that marked nothing (a word
        # glued to punctuation, `Allen._`, is one token to ts_headline's parser).
        " substr(c.body, greatest(1, strpos(lower(c.body), lower(?)) - ?), ?),"
        " greatest(1, strpos(lower(c.body), lower(?)) - ?) + ? > length(c.body)"
        " FROM top JOIN sections c ON c.id = top.id JOIN stories s ON s.id = c.story_id, q"
        " ORDER BY top.score DESC, top.id",
        (
            words,
            guild_id,
            *level_params,
            *story_params,
            SEARCH_CANDIDATES,
            limit,
            _HEADLINE,
            _EDGE,
            _EDGE,
            typed[0],
            _WINDOW // 3,
            _WINDOW,
            typed[0],
            _WINDOW // 3,
            _WINDOW,
        ),
    )

    def snippet(r: Any) -> str:
        if MATCH_START in r[6]:
            return _with_ellipses(r[6], r[7], r[8])
        return _marked_window(r[9], typed, starts=r[7].startswith(r[9]), ends=r[10])

    return SearchResults(_hits(rows, snippet))


def _marked_window(window: str, words: Sequence[str], *, starts: bool, ends: bool) -> str:
    """The text around the first word, every typed word in it marked as snippet() marks."""
    pattern = re.compile(
        r"(?<![^\W_])(" + "|".join(re.escape(word) for word in words) + r")(?![^\W_])",
        re.IGNORECASE,
    )
    marked = pattern.sub(lambda match: f"{MATCH_START}{match[1]}{MATCH_END}", window.strip())
    return ("" if starts else "…") + marked + ("" if ends else "…")


def _with_ellipses(headline: str, head: str, tail: str) -> str:
    """An ellipsis where the headline cuts its section's text, as snippet() writes one."""
    plain = headline.replace(MATCH_START, "").replace(MATCH_END, "").strip()
    words = plain.split()
    if not words:
        return headline
    starts = " ".join(head.split()).startswith(" ".join(words[:3]))
    ends = " ".join(tail.split()).endswith(" ".join(words[-3:]))
    return ("" if starts else "…") + headline.strip() + ("" if ends else "…")


def _hits(rows: list[Any], snippet: Callable[[Any], str] = lambda r: r[6]) -> list[SearchHit]:
    """Rows of (story id, title, rating label, level, position, section title, …) as hits;
    `snippet` makes the shown text from the row (by default its seventh column)."""
    return [
        SearchHit(r[0], r[1], Rating(r[2], RatingLevel(r[3])), r[4], r[5], snippet(r)) for r in rows
    ]


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
    return _hits(rows, lambda r: _cjk_snippet(r[6], first_word))


def _cjk_snippet(body: str, word: str) -> str:
    at = body.find(word)
    if at < 0:
        return body[: 2 * _CJK_CONTEXT]
    start, end = max(0, at - _CJK_CONTEXT), min(len(body), at + len(word) + _CJK_CONTEXT)
    before = ("…" if start > 0 else "") + body[start:at]
    after = body[at + len(word) : end] + ("…" if end < len(body) else "")
    return f"{before}{MATCH_START}{word}{MATCH_END}{after}"
