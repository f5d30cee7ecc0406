"""Project Gutenberg novels (../shared/corpus): chapters, no licence, no contents, no lost words."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from bot.parsing import parse_story
from bot.parsing.decode import decode_story_bytes
from bot.parsing.gutenberg import (
    find_start_marker,
    split_gutenberg,
    split_gutenberg_body,
    unwrap_lines,
)
from bot.parsing.sections import body_words
from bot.story import SCENE_BREAK, ParsedStory, Section, count_words

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NOVELS = (
    "alice_in_wonderland.txt",
    "carmilla.txt",
    "pride_and_prejudice.txt",
    "les_miserables.txt",
)
ROMAN = r"[IVXLC]+"


def corpus_bytes(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} not available")
    return path.read_bytes()


@cache
def _parsed(name: str) -> ParsedStory:
    return parse_story(corpus_bytes(name), name)


def novel(name: str) -> ParsedStory:
    if not (CORPUS / name).is_file():
        pytest.skip(f"corpus file {name} not available")
    return _parsed(name)


def words_in(section: Section) -> int:
    """Words of a section's text, paragraph by paragraph (scene breaks carry none), and of
    the author's notes shown with it."""
    text = sum(count_words(p) for p in section.text.split("\n\n") if p != SCENE_BREAK)
    return text + count_words(section.notes)


# --- Alice ------------------------------------------------------------------------------------

ALICE_CHAPTERS = (
    "Down the Rabbit-Hole",
    "The Pool of Tears",
    "A Caucus-Race and a Long Tale",
    "The Rabbit Sends in a Little Bill",
    "Advice from a Caterpillar",
    "Pig and Pepper",
    "A Mad Tea-Party",
    "The Queen’s Croquet-Ground",
    "The Mock Turtle’s Story",
    "The Lobster Quadrille",
    "Who Stole the Tarts?",
    "Alice’s Evidence",
)
NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def test_alice_has_its_twelve_chapters_with_their_titles() -> None:
    alice = novel("alice_in_wonderland.txt")
    assert [section.title for section in alice.sections] == [
        f"CHAPTER {numeral}. {title}"
        for numeral, title in zip(NUMERALS, ALICE_CHAPTERS, strict=True)
    ]


def test_alice_metadata_comes_from_the_preamble() -> None:
    alice = novel("alice_in_wonderland.txt")
    assert alice.title == "Alice's Adventures in Wonderland"
    assert alice.author == "Lewis Carroll"
    assert alice.source_format == "gutenberg"


def test_alice_chapter_text_starts_and_ends_where_the_book_does() -> None:
    alice = novel("alice_in_wonderland.txt")
    first = alice.sections[0].text
    assert first.startswith("Alice was beginning to get very tired of sitting by her sister on")
    assert alice.sections[-1].text.endswith("and the happy summer days.\n\nTHE END")
    assert "Down the Rabbit-Hole" not in first  # the title line is in the title only


def test_alice_prose_is_unwrapped_and_verse_keeps_its_lines() -> None:
    first = novel("alice_in_wonderland.txt").sections[0].text
    opening = first.split("\n\n")[0]
    assert "\n" not in opening
    assert opening.endswith("“without pictures or conversations?”")
    pool = novel("alice_in_wonderland.txt").sections[1].text
    verse = next(p for p in pool.split("\n\n") if p.startswith("“How doth the little crocodile"))
    assert verse == (
        "“How doth the little crocodile\n"
        "    Improve his shining tail,\n"
        "And pour the waters of the Nile\n"
        "    On every golden scale!"
    )


# --- Carmilla ---------------------------------------------------------------------------------


def test_carmilla_has_a_prologue_and_sixteen_chapters() -> None:
    carmilla = novel("carmilla.txt")
    titles = [section.title for section in carmilla.sections]
    assert len(titles) == 17
    assert titles[0] == "PROLOGUE"
    assert titles[1] == "I. An Early Fright"
    assert titles[4] == "IV. Her Habits—A Saunter"
    assert titles[-1] == "XVI. Conclusion"
    assert all(re.fullmatch(rf"{ROMAN}\. \S.*", title) for title in titles[1:])
    assert carmilla.sections[0].text.startswith("Upon a paper attached to the Narrative")


# --- Pride and Prejudice ------------------------------------------------------------------------


def test_pride_and_prejudice_has_its_sixty_one_chapters() -> None:
    pride = novel("pride_and_prejudice.txt")
    chapters = [s for s in pride.sections if re.fullmatch(rf"chapter {ROMAN}\.?", s.title, re.I)]
    assert len(chapters) == 61
    # Front matter (the preface) may be one extra section, in front.
    assert len(pride.sections) in (61, 62)
    assert pride.sections[-61:] == tuple(chapters)


def test_pride_and_prejudice_chapter_one_is_its_own_section() -> None:
    """Its heading hides inside an `[Illustration: ... Chapter I.]` block."""
    pride = novel("pride_and_prejudice.txt")
    chapter_one = pride.sections[-61]
    assert chapter_one.title == "Chapter I."
    assert "It is a truth universally acknowledged, that a single man" in chapter_one.text
    assert "Mr. Bennet was among the earliest of those who waited on Mr. Bingley" not in (
        chapter_one.text
    )
    assert pride.sections[-60].title == "CHAPTER II."
    assert pride.sections[-60].text.split("\n\n")[1].startswith("Mr. Bennet was among")
    # The illustration that held the heading stays, closed, with the chapter.
    assert chapter_one.text.startswith("[Illustration: ·PRIDE AND PREJUDICE·]")


def test_pride_and_prejudice_front_matter_is_not_mixed_into_chapter_one() -> None:
    pride = novel("pride_and_prejudice.txt")
    chapter_one = pride.sections[-61].text
    assert "Walt Whitman" not in chapter_one
    assert "List of Illustrations" not in chapter_one


# --- Les Misérables -----------------------------------------------------------------------------


def test_les_miserables_has_all_its_chapters() -> None:
    les_mis = novel("les_miserables.txt")
    chapters = [s for s in les_mis.sections if re.search(rf"CHAPTER {ROMAN}\b", s.title)]
    assert len(chapters) >= 365
    assert len(les_mis.sections) >= 365
    assert les_mis.title == "Les Misérables"
    assert les_mis.author == "Victor Hugo"
    assert les_mis.metadata.get("translator") == "Isabel Florence Hapgood"


def test_les_miserables_volume_and_book_lead_the_first_chapter_title() -> None:
    titles = [section.title for section in novel("les_miserables.txt").sections]
    assert "VOLUME I: FANTINE · BOOK FIRST—A JUST MAN · CHAPTER I—M. MYRIEL" in titles
    assert "BOOK SECOND—THE FALL · CHAPTER I—THE EVENING OF A DAY OF WALKING" in titles
    assert "CHAPTER II—M. MYRIEL BECOMES M. WELCOME" in titles


def test_les_miserables_wrapped_heading_is_one_title() -> None:
    titles = [section.title for section in novel("les_miserables.txt").sections]
    assert "CHAPTER XIII—THE SOLUTION OF SOME QUESTIONS CONNECTED WITH THE MUNICIPAL POLICE" in (
        titles
    )


# --- every novel ----------------------------------------------------------------------------


def table_of_contents_entries(name: str) -> list[str]:
    """The novel's own contents list: the heading lines between `Contents` and the text."""
    lines = corpus_bytes(name).decode("utf-8-sig").replace("\r\n", "\n").split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip() == "Contents"), None)
    if start is None:
        return []
    entry = re.compile(r" +(CHAPTER|BOOK|VOLUME|PROLOGUE|PREFACE)\b.*")
    return [" ".join(line.split()) for line in lines[start : start + 1100] if entry.fullmatch(line)]


@pytest.mark.parametrize(
    ("name", "entries"),
    [
        ("alice_in_wonderland.txt", 12),
        ("carmilla.txt", 17),
        ("les_miserables.txt", 365 + 48 + 5 + 1),
    ],
)
def test_no_table_of_contents_line_becomes_a_section(name: str, entries: int) -> None:
    story = novel(name)
    contents = table_of_contents_entries(name)
    assert len(contents) == entries, "the test should see the whole contents list"
    for section in story.sections:
        # A contents entry turned section would be a few words long, or hold other entries.
        assert words_in(section) >= 100, f"{section.title!r} is too short to be a chapter"
        assert not any(line.startswith(" CHAPTER") for line in section.text.split("\n"))
    # Each heading is a title once, for the text; never a second time for its contents line.
    parts = Counter(part for section in story.sections for part in section.title.split(" · "))
    listed = Counter(contents)
    assert all(parts[entry] <= listed[entry] for entry in listed)


def test_les_miserables_first_chapter_appears_once() -> None:
    titles = [section.title for section in novel("les_miserables.txt").sections]
    assert sum(1 for title in titles if title.endswith("CHAPTER I—M. MYRIEL")) == 1


@pytest.mark.parametrize("name", NOVELS)
def test_no_licence_text_in_any_section(name: str) -> None:
    for section in novel(name).sections:
        assert "Gutenberg" not in section.text
        assert "*** START OF" not in section.text
        assert "*** END OF" not in section.text
        assert "This ebook is for the use of anyone anywhere" not in section.text
        assert "Gutenberg" not in section.title


@pytest.mark.parametrize("name", NOVELS)
def test_every_word_between_the_markers_is_accounted_for(name: str) -> None:
    text = decode_story_bytes(corpus_bytes(name), name).text
    found = split_gutenberg(text)
    assert found is not None
    _, body = found
    split = split_gutenberg_body(body)
    in_sections = sum(words_in(section) for section in split.sections)
    assert in_sections + split.heading_words + split.dropped_words == body_words(body)
    # Only a title page, contents and an editor's preface are set aside, never a chapter.
    assert split.dropped_words < 6000
    assert split.sections[0].title.upper().startswith(("CHAPTER I", "PROLOGUE", "VOLUME I"))


@pytest.mark.parametrize("name", NOVELS)
def test_sections_are_clean(name: str) -> None:
    for section in novel(name).sections:
        assert section.title.strip() == section.title
        assert section.text.strip() == section.text
        assert "\n\n\n" not in section.text
        assert "\r" not in section.text


def test_unwrap_joins_full_lines_and_keeps_short_ones() -> None:
    lines = [
        "It was the best of times, it was the worst of times, it was the age of",
        "wisdom, it was the age of foolishness.",
        "Yours truly,",
        "Charles",
        "    An indented verse line that is fairly long and goes on and on and",
        "    another indented line.",
    ]
    assert unwrap_lines(lines, 72) == [
        "It was the best of times, it was the worst of times, it was the age of "
        "wisdom, it was the age of foolishness.",
        "Yours truly,",
        "Charles",
        "    An indented verse line that is fairly long and goes on and on and",
        "    another indented line.",
    ]


# --- the START line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("*** START OF THE PROJECT GUTENBERG EBOOK X ***", True),
        ("   *** START OF THIS PROJECT GUTENBERG EBOOK X ***", True),
        ("*** start of the project gutenberg ebook x ***", True),
        ("He wrote *** START OF THE PROJECT GUTENBERG on the wall.", False),
        ("**** START OF THE PROJECT GUTENBERG EBOOK X", False),
    ],
)
def test_the_start_line_is_a_line_of_its_own(line: str, found: bool) -> None:
    text = f"A line before it\n{line}\nThe book.\n"
    marker = find_start_marker(text)

    assert (marker is not None) == found
    if marker is not None:
        assert marker.group() == line
