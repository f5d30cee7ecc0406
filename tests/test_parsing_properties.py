"""Properties of parsing any input: no crash but StoryFileError, no lost words, clean sections.

Plus the worst inputs for a line-by-line parser (a 10 MB single line, 100,000
scene breaks): they must simply finish; speed is measured by the benchmark, not
asserted here.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing import StoryFileError, parse_story
from bot.parsing.gutenberg import split_gutenberg, split_gutenberg_body
from bot.parsing.header import split_header
from bot.parsing.sections import body_words
from bot.parsing.text import split_text_body
from bot.story import SCENE_BREAK, ParsedStory, Section, count_words

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Lines a story file is made of, including every shape the parser treats specially.
LINES = st.one_of(
    st.sampled_from(
        [
            "",
            "",
            "",
            "It was a dark and stormy night, and the rain fell in torrents.",
            "“Hello,” she said. “Are you there?”",
            "He ran.",
            "Mr. Bennet replied that he had not.",
            "Chapter 1",
            "Chapter Two: The Return",
            "CHAPTER III.",
            "CHAPTER I—M. MYRIEL",
            "Down the Rabbit-Hole",
            "Part 2",
            "BOOK FIRST—A JUST MAN",
            "VOLUME I",
            "Prologue",
            "Epilogue",
            "I.",
            "II.",
            "1",
            "Contents",
            " CHAPTER I.     Down the Rabbit-Hole",
            "* * *",
            "***",
            "~~~",
            "-----",
            "#",
            "~*~",
            "oOo",
            "xXx",
            "—",
            "[Illustration]",
            "[Illustration: a picture",
            "Chapter I.]",
            "]",
            "    Improve his shining tail,",
            "Title: Inner Title",
            "Rating: Explicit",
            "Dear John: hello there.",
            "Jack: Hello.",
            "## Chapter 4",
            "# Heading",
            "---",
            "```",
            "x" * 200,
            # Shapes added with plays, bold headings, notes and FanFiction.Net copies.
            "STAVE II: THE FIRST OF THE THREE SPIRITS",
            "ACT I",
            "SCENE II. A street.",
            "FIRST ACT",
            "THE PROLOGUE",
            "Interlude I",
            "**Chapter 3: The Storm**",
            "**By Someone**",
            "by Charles Dickens",
            "**Author's Endnote:**",
            "A/N: Thanks for reading!",
            "Disclaimer: I own nothing.",
            "Dramatis Personae",
            "THE PERSONS IN THE PLAY",
            "Table of Contents",
            "PREFACE",
            "To Zelda",
            "  Then wear the gold hat, if that will move her;",
            "  — Thomas Parke d’Invilliers",
            "> *Good afternoon, 47.*",
            "oOoOoOo",
            "Rated: Fiction T - English - Drama - Chapters: 2 - Words: 1,000",
            "下雨了。她在窗前等。",
        ]
    ),
    # Control characters and line separators are cleaned by decoding, before parsing.
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40),
)
STORY_TEXT = st.lists(LINES, max_size=60).map("\n".join)


def words_in(section: Section) -> int:
    """Words of a section's text and of its author's notes (shown with it, not counted)."""
    text = sum(count_words(p) for p in section.text.split("\n\n") if p != SCENE_BREAK)
    return text + count_words(section.notes)


def check_sections(story: ParsedStory) -> None:
    assert story.sections
    assert story.title.strip()
    for section in story.sections:
        assert section.title.strip() == section.title != ""
        assert section.text.strip() == section.text != ""
        assert section.notes.strip() == section.notes
        paragraphs = section.text.split("\n\n")
        assert paragraphs[0] != SCENE_BREAK
        assert paragraphs[-1] != SCENE_BREAK
        assert all(paragraph.strip() for paragraph in paragraphs)


@FAST
@given(data=st.binary(max_size=3000), extension=st.sampled_from([".txt", ".md", ".text", ""]))
def test_any_bytes_give_a_story_or_a_story_file_error(data: bytes, extension: str) -> None:
    try:
        story = parse_story(data, f"upload{extension}")
    except StoryFileError as error:
        assert str(error)
    else:
        check_sections(story)


@FAST
@given(text=st.text(max_size=3000), extension=st.sampled_from([".txt", ".md"]))
def test_any_text_gives_a_story_or_a_story_file_error(text: str, extension: str) -> None:
    try:
        story = parse_story(text.encode("utf-8", errors="surrogatepass"), f"upload{extension}")
    except StoryFileError as error:
        assert str(error)
    else:
        check_sections(story)


@FAST
@given(text=STORY_TEXT, extension=st.sampled_from([".txt", ".md"]))
def test_story_shaped_text_gives_clean_sections(text: str, extension: str) -> None:
    try:
        story = parse_story(text.encode("utf-8"), f"story{extension}")
    except StoryFileError as error:
        assert str(error)
    else:
        check_sections(story)


@FAST
@given(body=STORY_TEXT)
def test_no_word_of_the_body_is_lost(body: str) -> None:
    """Every word lands in a section's text, a chapter title, or counted skipped front matter."""
    split = split_text_body(body)
    in_sections = sum(words_in(section) for section in split.sections)
    assert in_sections + split.heading_words + split.dropped_words == body_words(body)


@FAST
@given(body=STORY_TEXT)
def test_parse_story_keeps_every_word_after_the_header(body: str) -> None:
    """Without chapter headings, the sections' words are exactly the words after the header."""
    text = "Title: Sentinel Title\n\nRating: G\n\n" + body
    header = split_header(text)
    assert header is not None
    split = split_text_body(text[header.body_start :])
    try:
        story = parse_story(text.encode("utf-8"), "story.txt")
    except StoryFileError as error:
        assert "has a header but no story text after it" in str(error)
        assert not split.sections
        return
    assert [(s.title, s.text) for s in story.sections] == [
        (s.title, s.text) for s in split.sections
    ]
    if split.heading_words == split.dropped_words == 0:
        words = sum(words_in(section) for section in story.sections)
        assert words == body_words(text[header.body_start :])


@FAST
@given(body=STORY_TEXT)
def test_no_header_line_reaches_a_section(body: str) -> None:
    header = (
        "A first line\n\nTitle: Sentinel Title\n\nRating: Teen\n\nSummary: Sentinel summary.\n\n"
    )
    try:
        story = parse_story((header + body).encode("utf-8"), "story.txt")
    except StoryFileError:
        return
    assert story.title == "Sentinel Title"
    for section in story.sections:
        assert "Sentinel" not in section.text
        assert "A first line" not in section.text


@FAST
@given(body=STORY_TEXT)
def test_gutenberg_licence_never_reaches_a_section(body: str) -> None:
    text = (
        "The Project Gutenberg eBook of Sentinel\n\nTitle: Sentinel Book\n\nAuthor: Someone\n\n"
        "*** START OF THE PROJECT GUTENBERG EBOOK SENTINEL ***\n"
        f"{body}\n"
        "*** END OF THE PROJECT GUTENBERG EBOOK SENTINEL ***\n\nLicence: Sentinel licence.\n"
    )
    try:
        story = parse_story(text.encode("utf-8"), "book.txt")
    except StoryFileError:
        return
    assert story.title == "Sentinel Book"
    for section in story.sections:
        assert "Sentinel" not in section.text
        assert "PROJECT GUTENBERG" not in section.text
    found = split_gutenberg(text)
    assert found is not None
    split = split_gutenberg_body(found[1])
    in_sections = sum(words_in(section) for section in split.sections)
    assert in_sections + split.heading_words + split.dropped_words == body_words(found[1])


@FAST
@given(paragraphs=st.lists(st.from_regex(r"[A-Za-z][a-z ,]{0,60}\.", fullmatch=True), min_size=1))
def test_crlf_cr_and_utf16_read_the_same_as_lf(paragraphs: list[str]) -> None:
    text = "Title: Same\n\n" + "\n\n".join(paragraphs) + "\n"
    expected = parse_story(text.encode("utf-8"), "same.txt").sections
    for data in (
        text.replace("\n", "\r\n").encode("utf-8"),
        text.replace("\n", "\r").encode("utf-8"),
        b"\xff\xfe" + text.encode("utf-16-le"),
        b"\xfe\xff" + text.encode("utf-16-be"),
    ):
        assert parse_story(data, "same.txt").sections == expected


# --- worst cases ----------------------------------------------------------------------------


def test_ten_megabyte_single_line() -> None:
    data = b"word " * (10 * 1024 * 1024 // 5)
    story = parse_story(data, "line.txt")
    assert len(story.sections) == 1
    assert story.words == 2 * 1024 * 1024
    assert len(story.sections[0].title) <= 81


def test_ten_megabyte_single_line_without_spaces() -> None:
    story = parse_story(b"x" * (10 * 1024 * 1024), "line.txt")
    assert len(story.sections[0].text) == 10 * 1024 * 1024


def test_hundred_thousand_blank_line_scene_breaks() -> None:
    data = b"A scene begins.\n\nIt ends.\n\n\n" * 100_000
    story = parse_story(data, "scenes.txt")
    assert len(story.sections) == 100_000
    assert story.sections[-1].text == "A scene begins.\n\nIt ends."


def test_hundred_thousand_symbol_scene_breaks() -> None:
    story = parse_story(b"Text here.\n* * *\n" * 100_000, "scenes.txt")
    assert len(story.sections) == 100_000


def test_many_unclosed_brackets_and_headings() -> None:
    data = b"[Illustration\n\n" * 50_000 + b"Chapter 1\n\n" * 50_000 + b"The end came.\n"
    story = parse_story(data, "odd.txt")
    assert story.sections[-1].text.endswith("The end came.")


def test_long_run_of_hard_wrapped_lines_in_one_paragraph() -> None:
    line = b"line of text that is wrapped at about seventy characters in width, ok\n"
    story = parse_story(
        b"*** START OF THE PROJECT GUTENBERG EBOOK X ***\n" + line * 100_000, "x.txt"
    )
    assert story.sections[0].text.count("\n") == 0


@pytest.mark.parametrize("size", [1, 1000])
def test_text_is_never_reflowed_outside_gutenberg(size: int) -> None:
    text = "A line that is fairly long and looks like it was wrapped by an editor at\nseventy."
    story = parse_story(("\n\n".join([text] * size)).encode(), "wrapped.txt")
    assert re.search(r"editor at\nseventy\.", story.sections[0].text)
