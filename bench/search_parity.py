"""Search parity: the same corpus, the same queries, SQLite (FTS5, bm25) and PostgreSQL.

Shelves every story file of the shared corpus (../shared/corpus and its
realworld/ folder; SOURCES.md, the folder's description, is not a story) plus a
small CJK story written for this check (the corpus has no CJK text) in one
server, once on a fresh SQLite file and once on a fresh PostgreSQL database.
Then runs a fixed list of queries through `search_sections` on both and prints,
per query:

- the top hit on each side (story title, section position) and whether they agree;
- how many of the top five (limit=5) the two sides share;
- the set of every matching section (limit=1000), which must be the same on both
  sides: the same words find the same sections, whatever the ranking. Both
  backends rank at most SEARCH_CANDIDATES (200) matches, so for a query with more
  matches than that the two sets are the first 200 each backend reads; the
  index's own full sets (by the query `search_sections` builds) are compared too.

The PostgreSQL database (parity_<random>) is dropped at the end.

    .venv/bin/python bench/search_parity.py --database-url postgresql://postgres@127.0.0.1:54329/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.db.backend import open_backend  # noqa: E402
from bot.db.pg import is_postgres  # noqa: E402
from bot.db.search import SEARCH_CANDIDATES, search_sections  # noqa: E402
from bot.db.stories import fetch_all, words_query  # noqa: E402
from bot.parsing import parse_story  # noqa: E402
from bot.render.snippets import MATCH_END, MATCH_START  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.story import ParsedStory, Rating, RatingLevel, Section  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
GUILD_ID = 777_000_111
# Files in the corpus folders that are not stories.
NOT_STORIES = frozenset({"SOURCES.md"})

# A section is named the same way on both sides: its story's title and position.
Key = tuple[str, int]


@dataclass(frozen=True)
class Query:
    text: str
    why: str


# The queries the bench and tests/test_search_parity.py run. Kept in this order:
# the test names the ones whose top section differs by their text.
QUERIES: tuple[Query, ...] = (
    Query("Carmilla", "a character's name, in most sections of one story"),
    Query("Cheshire Cat", "two words, a character of one story"),
    Query("Jean Valjean", "two words in many sections of the longest novel"),
    Query("Mr. Darcy", "a name with punctuation"),
    Query("Thénardier", "an accented word (folded to 'thenardier' on both sides)"),
    Query("Thenardier", "the same word typed without its accent"),
    Query("Scrooge Marley", "two names of one story"),
    Query("treacle well", "a rare phrase"),
    Query("orgiastic future", "rare words, one section"),
    Query("wherefore art thou Romeo", "a famous line"),
    Query('"tea" OR -kettle*', "FTS syntax typed as words: tea, or, kettle (no section)"),
    Query('"Cheshire" OR -Cat*', "FTS syntax typed as words: cheshire, or, cat"),
    Query("Exeunt", "a stage direction, written _Exeunt._ in the play"),
    Query("Allen", "a name mostly written in '_Mrs. Allen._' style captions"),
    Query("Caesar", "the corpus writes Cæsar (a ligature, not an accent)"),
    Query("月亮", "a two-character Chinese word (the CJK story)"),
    Query("静か", "a Japanese word (the CJK story)"),
    Query("정원", "a Korean word (the CJK story)"),
    Query("猫", "a single CJK character (prefix of its bigrams)"),
    Query("月亮 lantern", "a CJK word and an English word together"),
    Query("the and of", "very common words, in nearly every section"),
)

# Typed syntax neither backend may choke on: each must answer (maybe nothing) on both.
HOSTILE: tuple[str, ...] = (
    '"',
    '"tea',
    "(",
    "())(",
    "tea)",
    "OR",
    "tea OR",
    "AND NOT",
    "NEAR(tea kettle)",
    "-",
    "-kettle",
    "*",
    "tea*",
    "col:tea",
    "body:kettle",
    ":",
    "&",
    "tea & kettle",
    "|",
    "tea | kettle",
    "!",
    "!tea",
    "<->",
    "tea <-> kettle",
    "tea <2> kettle",
    "\\",
    "tea\\",
    "\\'tea\\'",
    "'",
    "''",
    "don't",
    "🫖",
    "🫖 tea",
    "tea 🫖 kettle",
    "^tea",
    "{tea}",
    "tea:*",
    "'tea':* & 'kettle'",
    "\x00",
    "___",
    "Ω≈ç√",
    "Ａｌｉｃｅ",
)

# Our own text for the CJK queries (written for this bench, copied from nowhere).
CJK_STORY = ParsedStory(
    title="庭の月 Garden Moon",
    author="Parity Bench",
    rating=Rating(RatingLevel.GENERAL.display, RatingLevel.GENERAL),
    sections=(
        Section(
            "一 茶",
            "晚饭以后，外婆把茶壶放在石桌上。我们坐在花园里喝茶，等月亮从屋顶后面升起来。"
            "小猫在脚边睡着了。The lantern by the gate was still lit.",
        ),
        Section(
            "二 猫",
            "猫は窓のそばで静かに眠っていました。庭の向こうで、誰かが古い歌を口ずさんでいる。"
            "月が出ると、猫は目を開けた。",
        ),
        Section(
            "三 정원",
            "우리는 정원에서 차를 마시고 달을 보았다. 할머니는 등불을 들고 천천히 걸어오셨다.",
        ),
        Section(
            "四 月亮",
            "月亮很圆，照着河边的小路。没有人说话，只有风吹过竹林的声音。No lantern tonight.",
        ),
    ),
)


def corpus_files(corpus: Path = CORPUS) -> list[Path]:
    folders = [corpus, corpus / "realworld"]
    return sorted(
        path
        for folder in folders
        if folder.is_dir()
        for path in folder.iterdir()
        if path.is_file() and path.name not in NOT_STORIES
    )


def corpus_stories(corpus: Path = CORPUS) -> tuple[list[ParsedStory], list[str]]:
    """Every corpus file that parses (and the CJK story); notes on the files that do not."""
    stories, skipped = [], []
    for path in corpus_files(corpus):
        try:
            stories.append(parse_story(path.read_bytes(), path.name))
        except Exception as error:  # a file the importer refuses is left out, and said so
            skipped.append(f"{path.name}: {type(error).__name__}: {error}")
    stories.append(CJK_STORY)
    return stories, skipped


@dataclass
class Side:
    """One backend's answers to one query."""

    top5: list[Key] = field(default_factory=list)
    matches: list[Key] = field(default_factory=list)
    index_set: set[Key] | None = None  # every section the index matches (truncated queries)
    snippets_marked: bool = True
    error: str | None = None

    @property
    def top(self) -> Key | None:
        return self.top5[0] if self.top5 else None


async def ask(db, query: str, *, full_index: bool = True) -> Side:
    side = Side()
    try:
        shown = await search_sections(db, GUILD_ID, query, limit=5)
        side.top5 = [(h.story_title, h.position) for h in shown.hits]
        side.snippets_marked = all(
            MATCH_START in h.snippet and MATCH_END in h.snippet for h in shown.hits
        )
        everything = await search_sections(db, GUILD_ID, query, limit=1000)
        side.matches = [(h.story_title, h.position) for h in everything.hits]
        if full_index and len(side.matches) >= SEARCH_CANDIDATES:
            side.index_set = await index_matches(db, query)
    except Exception as error:
        side.error = f"{type(error).__name__}: {error}"
    return side


async def index_matches(db, query: str) -> set[Key]:
    """Every section of the server holding the query's words, read from the index by
    the same query search_sections builds (no SEARCH_CANDIDATES cap). Latin words only."""
    if is_postgres(db):
        words = " ".join(re.findall(r"\w+", query)[:16])
        rows = await fetch_all(
            db,
            "SELECT s.title, c.position FROM sections c JOIN stories s ON s.id = c.story_id"
            " WHERE c.search @@ plainto_tsquery('storyshelf', ?) AND s.guild_id = ?",
            (words, GUILD_ID),
        )
    else:
        rows = await fetch_all(
            db,
            "SELECT s.title, c.position FROM section_fts f JOIN sections c ON c.id = f.rowid"
            " JOIN stories s ON s.id = c.story_id WHERE section_fts MATCH ? AND s.guild_id = ?",
            (words_query(query), GUILD_ID),
        )
    return {(r[0], r[1]) for r in rows}


@dataclass
class Comparison:
    query: str
    lite: Side
    pg: Side

    @property
    def top_agrees(self) -> bool:
        return self.lite.top == self.pg.top

    @property
    def capped(self) -> bool:
        return self.lite.index_set is not None or self.pg.index_set is not None

    @property
    def sets_equal(self) -> bool:
        """Every matching section the same on both sides (by the index, past the cap)."""
        if self.capped:
            lite = self.lite.index_set or set(self.lite.matches)
            pg = self.pg.index_set or set(self.pg.matches)
            return lite == pg
        return set(self.lite.matches) == set(self.pg.matches)

    @property
    def overlap(self) -> int:
        return len(set(self.lite.top5) & set(self.pg.top5))


async def compare(settings_lite: Settings, settings_pg: Settings, queries: Sequence[str]):
    lite = await open_backend(settings_lite)
    pg = await open_backend(settings_pg)
    try:
        return [Comparison(q, await ask(lite.db, q), await ask(pg.db, q)) for q in queries]
    finally:
        await lite.close()
        await pg.close()


def shelve_both(settings_lite: Settings, settings_pg: Settings, stories: list[ParsedStory]):
    from tests.support import shelve_many

    async def migrate(settings: Settings) -> None:
        backend = await open_backend(settings)
        await backend.close()

    asyncio.run(migrate(settings_lite))
    shelve_many(settings_lite, GUILD_ID, stories)
    shelve_many(settings_pg, GUILD_ID, stories)


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def create_database(url: str) -> str:
    import psycopg

    name = "parity_" + uuid.uuid4().hex[:12]
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def describe(key: Key | None) -> str:
    return "—" if key is None else f"{key[0][:34]} §{key[1]}"


def report(results: list[Comparison], hostile: list[Comparison]) -> list[str]:
    lines = []
    for number, (query, result) in enumerate(zip(QUERIES, results, strict=True), 1):
        lite, pg = result.lite, result.pg
        lines.append(f"{number:2}. {query.text!r} — {query.why}")
        for name, side in (("sqlite", lite), ("postgres", pg)):
            if side.error:
                lines.append(f"      {name:<8} ERROR {side.error}")
                continue
            capped = " (capped)" if len(side.matches) >= SEARCH_CANDIDATES else ""
            index = f", index {len(side.index_set)}" if side.index_set is not None else ""
            marks = "" if side.snippets_marked else ", SNIPPET WITHOUT MATCH MARKERS"
            lines.append(
                f"      {name:<8} top {describe(side.top):<40} matches {len(side.matches)}"
                f"{capped}{index}{marks}"
            )
        lines.append(
            f"      top {'agrees' if result.top_agrees else 'DIFFERS'}; top-5 overlap"
            f" {result.overlap}/{max(len(lite.top5), len(pg.top5))};"
            f" matching sets {'equal' if result.sets_equal else 'DIFFER'}"
            f"{' (by the index, past the cap)' if result.capped else ''}"
        )
        if not result.sets_equal or set(lite.matches) != set(pg.matches):
            lines.extend(set_difference(result))
    agree = sum(r.top_agrees for r in results)
    equal = sum(r.sets_equal for r in results)
    lines.append("")
    broken = [c for c in hostile if c.lite.error or c.pg.error or not c.sets_equal]
    lines.append(
        f"hostile syntax: {len(hostile)} queries, {len(hostile) - len(broken)} answered on both"
        " sides with equal sets"
    )
    for c in broken:
        lines.append(
            f"   {c.query!r}: sqlite {c.lite.error or len(c.lite.matches)},"
            f" postgres {c.pg.error or len(c.pg.matches)}"
        )
        if not c.sets_equal:
            lines.extend(set_difference(c))
    lines.append("")
    lines.append(
        f"top section agrees on {agree} of {len(results)} queries;"
        f" matching sets equal on {equal} of {len(results)}"
    )
    return lines


def set_difference(result: Comparison) -> list[str]:
    lite = result.lite.index_set or set(result.lite.matches)
    pg = result.pg.index_set or set(result.pg.matches)
    if lite == pg:  # the full sets agree: the first 200 each side ranked differ
        only_lite = set(result.lite.matches) - set(result.pg.matches)
        only_pg = set(result.pg.matches) - set(result.lite.matches)
        what = "the 200 ranked (index order differs)"
    else:
        only_lite, only_pg, what = lite - pg, pg - lite, "index"
    return [
        f"      {what}: only sqlite {len(only_lite)} {sorted(only_lite)[:4]},"
        f" only postgres {len(only_pg)} {sorted(only_pg)[:4]}"
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", required=True, help="a server where we may CREATE DATABASE"
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)

    stories, skipped = corpus_stories(args.corpus)
    sections = sum(len(s.sections) for s in stories)
    print(f"corpus: {len(stories)} stories ({sections} sections) incl. the CJK story")
    for note in skipped:
        print(f"  not parsed: {note}")
    name = create_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lite = Settings(token=None, database_path=Path(tmp) / "parity.db", database_url=None)
            pg = Settings(
                token=None,
                database_path=Path(tmp) / "unused.db",
                database_url=with_database(args.database_url, name),
            )
            shelve_both(lite, pg, stories)
            results = asyncio.run(compare(lite, pg, [q.text for q in QUERIES]))
            hostile = asyncio.run(compare(lite, pg, list(HOSTILE)))
    finally:
        drop_database(args.database_url, name)
    print(f"postgres database {name} dropped\n")
    for line in report(results, hostile):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
