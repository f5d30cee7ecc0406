"""/search on words that are in most sections: they filter and are marked, but do not rank.

bm25 gives a word in half the sections or more no weight (FTS5 clamps its inverse
document frequency), yet learning that reads the word's whole index entry. Past
`WordCounts.floor` sections the ranking leaves such words out; these tests lower the
floor so a small shelf shows the behaviour a 10,000-story shelf has.
"""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.db.quick import QuickReader
from bot.db.search import SEARCH_CANDIDATES, WordCounts, search_sections
from bot.render.snippets import MATCH_END, MATCH_START
from bot.story import RatingLevel
from tests.support import make_story, shelve, shelve_many, spoiler_text

# Every section holds "kettle"; "Myfanwy" is in three, most often in Story 5's first.
STORIES = [
    make_story(
        f"Story {n}",
        sections=[
            (
                f"Morning {n}",
                f"The kettle sang in house {n}." + (" Myfanwy came." if n == 3 else ""),
            ),
            (
                f"Evening {n}",
                f"The kettle cooled in house {n}."
                + (" Myfanwy, Myfanwy, Myfanwy at the door." if n == 5 else ""),
            ),
        ],
    )
    for n in range(1, 7)
]
# Myfanwy without a kettle: must never be a hit for "Myfanwy kettle".
NO_KETTLE = make_story("Story 7", sections=[("Alone", "Myfanwy waited by the cold hearth.")])


def _hit_lines(content: str) -> list[str]:
    return re.findall(r"^\*\*\d+\.\*\* (.+)$", content, flags=re.MULTILINE)


def _shelve_all(settings, guild_id):
    for story in [*STORIES, NO_KETTLE]:
        shelve(settings, guild_id, story)


@pytest.fixture
def small_floor_world(reading_world, settings):
    """The shelf above, with the ranking floor lowered to 4 sections (13 on the shelf)."""
    env, guild, general, lounge, reader = reading_world
    _shelve_all(settings, guild.id)
    env.bot.reader.word_counts = WordCounts(floor=4)
    return reading_world


@pytest.mark.sqlite_only  # FTS5's bm25 cost for common words
async def test_words_in_most_sections_give_the_first_sections_and_say_so(small_floor_world):
    env, guild, general, lounge, reader = small_floor_world

    result = await reader.slash(general, "search", query="KETTLE")

    content = result.response.content
    assert result.ephemeral
    assert "“kettle” is in most sections on this shelf" in content
    assert "Add a rarer word" in content
    # Shelf order: the first five sections that hold the word.
    assert _hit_lines(content) == [
        "Story 1 · 1 · Morning 1",
        "Story 1 · 2 · Evening 1",
        "Story 2 · 1 · Morning 2",
        "Story 2 · 2 · Evening 2",
        "Story 3 · 1 · Morning 3",
    ]
    assert all("**kettle**" in spoiler_text(part) for part in content.split("\n\n")[1:])
    # One button per hit shown, the note is not a hit.
    await reader.click(result.response.message, label="Read 5")
    assert "Myfanwy came" in spoiler_text(general.last_message.content)


@pytest.mark.sqlite_only  # FTS5's bm25 cost for common words
async def test_a_rare_word_ranks_and_the_common_word_still_filters(small_floor_world):
    env, guild, general, lounge, reader = small_floor_world

    result = await reader.slash(general, "search", query="Myfanwy kettle")

    content = result.response.content
    assert "most sections" not in content  # something ranked: no note
    assert _hit_lines(content) == ["Story 5 · 2 · Evening 5", "Story 3 · 1 · Morning 3"]
    assert "Story 7" not in content  # Myfanwy without a kettle
    for part in content.split("\n\n"):
        assert "**Myfanwy**" in spoiler_text(part) and "**kettle**" in spoiler_text(part)


async def test_below_the_floor_every_word_ranks_as_bm25_ranks_it(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    _shelve_all(settings, guild.id)  # 13 sections: far below the real floor

    result = await reader.slash(general, "search", query="kettle")

    assert "most sections" not in result.response.content
    assert len(_hit_lines(result.response.content)) == 5


@pytest.mark.sqlite_only  # FTS5's bm25 cost for common words
async def test_ranking_without_the_common_words_is_bm25s_ranking(settings):
    """Leaving out words bm25 weighs at 1e-6 gives the order bm25 gives, on a real file."""
    # "kettle", "the", "cups" in every section, "rain" in most; "Myfanwy" in three, a
    # different number of times in each (no ties for the two statements to break apart).
    myfanwy = {1: 1, 2: 3, 5: 2}
    for n in range(12):
        body = "The kettle and the cups. " + "Myfanwy smiled. " * myfanwy.get(n, 0)
        body += "Rain " * (n % 3) + "still " * n
        other = "The kettle, the cups, the rain and the night."
        shelve(settings, 1, make_story(f"Tale {n:02d}", sections=[("One", body), ("Two", other)]))
    reader = QuickReader(settings.database_path)
    try:
        for query in ("Myfanwy kettle", "Myfanwy rain cups", "kettle the Myfanwy", "still rain"):
            plain = await search_sections(reader, 1, query, limit=10)
            counts = WordCounts(floor=4)
            fast = await search_sections(reader, 1, query, limit=10, counts=counts)
            assert fast.common  # the shelf's common words were left out of the ranking
            assert fast.ranked
            assert [(h.story_id, h.position) for h in fast.hits] == [
                (h.story_id, h.position) for h in plain.hits
            ], query
            assert [h.snippet for h in fast.hits] == [h.snippet for h in plain.hits]
    finally:
        reader.close()


@pytest.mark.sqlite_only  # FTS5's bm25 cost for common words
async def test_word_counts_are_remembered_then_counted_again(settings):
    shelve(settings, 1, make_story(sections=[("One", "tea"), ("Two", "tea"), ("Three", "milk")]))
    now = [0.0]
    counts = WordCounts(floor=2, ttl=60, clock=lambda: now[0])
    reader = QuickReader(settings.database_path)
    try:
        first = await search_sections(reader, 1, "tea", counts=counts)
        assert first.common == ("tea",) and not first.ranked
        asked = counts.queries
        assert asked == 2  # the shelf's size and the word's count
        await search_sections(reader, 1, "Tea", counts=counts)
        assert counts.queries == asked  # remembered, whatever the case typed
        now[0] = 61.0
        shelve(settings, 1, make_story("More", sections=[("A", "milk"), ("B", "milk")]))
        later = await search_sections(reader, 1, "tea", counts=counts)
        assert counts.queries == asked + 2
        assert later.common == () and later.ranked  # 2 of 5 sections: it ranks again
    finally:
        reader.close()


async def test_one_storys_search_reads_that_story_alone(small_floor_world):
    env, guild, general, lounge, reader = small_floor_world

    common = await reader.slash(general, "search", query="kettle", title="Story 6")
    ranked = await reader.slash(general, "search", query="Myfanwy kettle", title="Story 5")
    none_here = await reader.slash(general, "search", query="Myfanwy", title="Story 1")

    assert _hit_lines(common.response.content) == [
        "Story 6 · 1 · Morning 6",
        "Story 6 · 2 · Evening 6",
    ]
    assert _hit_lines(ranked.response.content) == ["Story 5 · 2 · Evening 5"]
    assert "Nothing found" in none_here.response.content


VOCABULARY = ("tea", "kettle", "rain", "door", "Myfanwy", "lantern")


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    bodies=st.lists(
        st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=12), min_size=4, max_size=14
    ),
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3),
)
async def test_leaving_common_words_out_never_changes_which_sections_match(tmp_path, bodies, words):
    """Whatever the shelf and the words: the same sections match with and without the
    counts; hits in shelf order when nothing ranks; every hit holds every word."""
    database = tmp_path / f"shelf-{uuid.uuid4().hex}.db"
    stories = [
        make_story(
            f"Tale {n:02d}", sections=[("One", " ".join(body)), ("Two", " ".join(body[::-1]))]
        )
        for n, body in enumerate(bodies)
    ]
    shelve_many(database, 1, stories)
    reader = QuickReader(database)
    try:
        query = " ".join(words)
        plain = await search_sections(reader, 1, query, limit=100)
        fast = await search_sections(reader, 1, query, limit=100, counts=WordCounts(floor=2))
    finally:
        reader.close()
    event("ranked" if fast.ranked and not fast.common else "mixed" if fast.ranked else "unranked")
    found = {(hit.story_id, hit.position) for hit in fast.hits}
    assert found == {(hit.story_id, hit.position) for hit in plain.hits}
    wanted = {word.lower() for word in words}
    expected = {
        (n + 1, position)
        for n, body in enumerate(bodies)
        if wanted <= {w.lower() for w in body}
        for position in (1, 2)
    }
    assert found == expected  # a fresh file: story ids from 1
    if not fast.ranked:
        order = [(hit.story_id, hit.position) for hit in fast.hits]
        assert order == sorted(order)
    for hit in fast.hits:
        text = hit.snippet.lower()
        assert all(word.lower() in text for word in words)


@pytest.mark.sqlite_only  # FTS5's bm25 cost for common words
async def test_the_note_shows_the_typed_words_inert(small_floor_world):
    env, guild, general, lounge, reader = small_floor_world

    result = await reader.slash(general, "search", query="||__kettle__|| **")

    note = result.response.content.split("\n\n")[0]
    assert note.startswith("-# “\\_\\_kettle\\_\\_” is in most sections")
    assert "||" not in note and "**" not in note


@pytest.mark.sqlite_only  # the FTS5 statements themselves
async def test_a_rare_word_ranked_in_one_pass_matches_the_candidate_ranking(settings):
    """A word in few sections is ranked by FTS5 over all its matches at once; the hits,
    their order and snippets are the nested statement's, and only this server's
    sections readable here come back."""
    times = {0: 4, 1: 1, 3: 6, 4: 2, 6: 3, 8: 5}  # no two alike: no ties to break apart
    for n in range(10):
        body = "The lamp was lit. " + "Myfanwy sang. " * times.get(n, 0)
        level = RatingLevel.EXPLICIT if n == 3 else RatingLevel.GENERAL
        shelve(settings, 1, make_story(f"Song {n}", level=level, sections=[("One", body)]))
    shelve(settings, 2, make_story("Elsewhere", sections=[("One", "Myfanwy sang. " * 9)]))
    readable = {RatingLevel.GENERAL, RatingLevel.TEEN}
    reader = QuickReader(settings.database_path)
    try:
        for limit in (3, 10):
            one_pass = await search_sections(
                reader, 1, "myfanwy", levels=readable, limit=limit, counts=WordCounts()
            )
            candidates = await search_sections(reader, 1, "myfanwy", levels=readable, limit=limit)
            assert [(h.story_title, h.snippet) for h in one_pass.hits] == [
                (h.story_title, h.snippet) for h in candidates.hits
            ]
            # Most often first; the Explicit story and the other server's never.
            expected = ["Song 8", "Song 0", "Song 6", "Song 4", "Song 1"][:limit]
            assert [h.story_title for h in one_pass.hits] == expected
    finally:
        reader.close()


@pytest.mark.sqlite_only  # the FTS5 statements themselves
async def test_a_rare_word_is_ranked_at_once_only_while_it_is_rare(settings):
    """One pass ranks every match of a rare word, and counts them in the same
    statement each time: an import that gives the word hundreds of matches moves the
    very next search to the counted path (at most SEARCH_CANDIDATES ranked), with no
    remembered count to wait out."""
    shelve(settings, 1, make_story(sections=[("One", "tea"), ("Two", "milk"), ("Three", "milk")]))
    counts = WordCounts(ttl=600, rare_ttl=30, clock=lambda: 0.0)
    reader = QuickReader(settings.database_path)
    try:
        found = await search_sections(reader, 1, "tea", counts=counts)
        assert [h.section_title for h in found.hits] == ["One"]
        assert counts.queries == 0  # counted inside the search itself
        many = [(f"Cup {n}", "tea " * (1 + n % 7)) for n in range(SEARCH_CANDIDATES + 50)]
        shelve(settings, 1, make_story("Teapot", sections=many))
        found = await search_sections(reader, 1, "tea", counts=counts)
        assert counts.queries > 0  # no longer rare: counted, then ranked from candidates
        assert len(found.hits) == 5
        assert all(MATCH_START + "tea" + MATCH_END in h.snippet for h in found.hits)
    finally:
        reader.close()
