"""Hostile story files: each one parses, or is refused with a message that says why.

The requirement is that the parser stays bounded in time and memory on any
upload up to the size limit. Every case is built by a function (nothing big is
stored); the assertions are what the uploader would see: the sections, or the
words of the refusal. How fast each case is, and how much memory it takes, is
measured by ``bench/hostile_bench.py``, which runs every builder in ``CASES`` at
its full hostile size (100,000 breaks, 10 MB) beside a normal file of the same
size. The tests here call the same builders at a moderate size (``TEST_COUNT``,
``TEST_SIZE``, or lowered caps) that proves the behaviour without the wall
clock: no test here times anything.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from bot.parsing import MAX_TITLE_CHARS, StoryFileError, blocks, parse_story
from bot.parsing.ao3 import MAX_ATTRIBUTES, MAX_ELEMENTS, MAX_TAGS
from bot.parsing.blocks import MAX_BLOCKS, MAX_LINES
from bot.story import ParsedStory

LIMIT = 10 * 1024 * 1024
# The benchmark parses the counted cases at this size (100,000 breaks, 100,000 headings);
# the tests parse the same builders at TEST_COUNT / TEST_SIZE, enough to prove each behaviour.
BENCH_COUNT = 100_000
TEST_COUNT = 5_000
TEST_SIZE = 256 * 1024

HEADER = b"Title: Hostile\nAuthor: Someone\nRating: T\n\n"
GUTENBERG_START = b"*** START OF THE PROJECT GUTENBERG EBOOK HOSTILE ***\n"

# name -> () -> (file bytes, file name); the benchmark runs every one of these.
CASES: dict[str, Callable[[], tuple[bytes, str]]] = {}


def case(name: str) -> Callable[[Callable[[], tuple[bytes, str]]], Callable[[], tuple[bytes, str]]]:
    def register(build: Callable[[], tuple[bytes, str]]) -> Callable[[], tuple[bytes, str]]:
        CASES[name] = build
        return build

    return register


def fill(unit: bytes, *, head: bytes = HEADER, tail: bytes = b"", size: int = LIMIT) -> bytes:
    """``head``, then ``unit`` repeated to just under ``size`` bytes in all, then ``tail``."""
    return head + unit * ((size - len(head) - len(tail)) // len(unit)) + tail


def ao3(body: str, *, preface: str | None = None) -> bytes:
    """A minimal AO3 download with ``body`` as its one chapter."""
    if preface is None:
        preface = (
            '<dl class="tags"><dt>Rating:</dt><dd><a href="/t">Teen And Up Audiences</a></dd>'
            "</dl><h1>Hostile Work</h1>"
            '<div class="byline">by <a rel="author" href="/users/someone">someone</a></div>'
        )
    return (
        f'<html><body><div id="preface"><div class="meta">{preface}</div></div>'
        f'<div id="chapters" class="userstuff"><div class="userstuff">{body}</div></div>'
        "</body></html>"
    ).encode()


AO3_OVERHEAD = len(ao3(""))


def ao3_fill(unit: str, *, head: str = "<p>", tail: str = "</p>") -> bytes:
    """An AO3 download of just under 10 MB whose chapter is ``unit`` repeated."""
    count = (LIMIT - AO3_OVERHEAD - len(head) - len(tail) - 64) // len(unit.encode())
    return ao3(head + unit * count + tail)


def parse(data: bytes, filename: str) -> ParsedStory:
    assert len(data) <= LIMIT, "a hostile case must be within the size limit"
    return parse_story(data, filename, max_bytes=LIMIT)


def refusal(data: bytes, filename: str, *, max_bytes: int = LIMIT) -> str:
    with pytest.raises(StoryFileError) as caught:
        parse_story(data, filename, max_bytes=max_bytes)
    message = str(caught.value)
    assert f"“{filename}”" in message  # says which file
    return message


def plain(text: str) -> str:
    """Section text without the Discord emphasis markers the AO3 reader adds."""
    return re.sub(r"[*_~]", "", text)


# --- A 10 MB single line ----------------------------------------------------------------------
#
# Every builder takes its size: the benchmark calls it with the default (the full hostile
# size), the tests with a size that proves the same behaviour in a fraction of the time.


@case("10 MB line of words (.txt)")
def line_of_words_txt(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"word ", size=size), "line.txt"


@case("10 MB line of words (.md)")
def line_of_words_md(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"word ", size=size), "line.md"


@case("10 MB line without a space")
def line_without_spaces(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"x", size=size), "line.txt"


@case("10 MB line of one-letter sentences")
def line_of_sentences(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"A. ", size=size), "line.txt"


@case("10 MB line of scene-break stars")
def line_of_stars(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"*", size=size), "line.txt"


@case("10 MB line of # and > (.md)")
def line_of_markdown_marks(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"#> ", size=size), "line.md"


@pytest.mark.parametrize("build", [line_of_words_txt, line_of_words_md])
def test_a_giant_line_of_words_is_one_section_with_every_word(
    build: Callable[..., tuple[bytes, str]],
) -> None:
    data, name = build(size=TEST_SIZE)
    story = parse(data, name)

    assert story.title == "Hostile"
    assert story.author == "Someone"
    assert len(story.sections) == 1
    line = data[len(HEADER) :].decode().strip()
    assert story.sections[0].text == line
    assert story.words == line.count("word")
    assert len(story.sections[0].title) <= 81  # named by its start, not by the whole line


@pytest.mark.parametrize(
    "build", [line_without_spaces, line_of_sentences, line_of_stars, line_of_markdown_marks]
)
def test_a_giant_line_of_one_character_keeps_the_line(
    build: Callable[..., tuple[bytes, str]],
) -> None:
    data, name = build(size=TEST_SIZE)
    story = parse(data, name)

    assert len(story.sections) == 1
    assert story.sections[0].text == data[len(HEADER) :].decode().strip()
    assert len(story.sections[0].title) <= 81


def test_a_byte_over_the_limit_is_refused_with_the_exact_sizes() -> None:
    limit = 1024 * 1024
    message = refusal(b"x" * (limit + 1), "big.txt", max_bytes=limit)

    assert "1,048,577 bytes, just over the 1 MB limit (1,048,576 bytes)" in message
    assert "Split it into smaller files" in message


def test_a_file_well_over_the_limit_is_refused_in_megabytes() -> None:
    message = refusal(b"x" * (LIMIT + LIMIT // 4), "bigger.md")

    assert "“bigger.md” is 12.5 MB, over the 10 MB limit for story files" in message


# --- 100,000 scene breaks, and floods of blank lines -------------------------------------------


@case("100,000 '* * *' breaks (.txt)")
def star_breaks_txt(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\n* * *\n\n" * count, "scenes.txt"


@case("100,000 '***' breaks (.md)")
def star_breaks_md(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\n***\n\n" * count, "scenes.md"


@case("100,000 '---' breaks (.md)")
def rule_breaks_md(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\n---\n\n" * count, "scenes.md"


@case("100,000 '---' under a line (.md)")
def rule_breaks_under_lines_md(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    # "Text.\n---" is a setext heading only when the line is title-like; a
    # sentence is not, so these are scene breaks.
    return HEADER + b"Text here.\n---\n" * count, "scenes.md"


@case("100,000 '* * *' breaks (.md)")
def spaced_star_breaks_md(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\n* * *\n\n" * count, "scenes.md"


@case("100,000 blank-line breaks (.txt)")
def blank_line_breaks_txt(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"A scene begins.\n\nIt ends.\n\n\n" * count, "scenes.txt"


@case("100,000 blank-line breaks (.md)")
def blank_line_breaks_md(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"A scene begins.\n\nIt ends.\n\n\n" * count, "scenes.md"


@case("100,000 'oOo' breaks (.txt)")
def ornament_breaks_txt(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\noOo\n\n" * count, "scenes.txt"


@case("100,000 'oOoOoOo' breaks (.md)")
def long_ornament_breaks_md(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\noOoOoOo\n\n" * count, "scenes.md"


@case("100,000 distinct scenes and '~*~' breaks (.txt)")
def distinct_scenes_txt(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    # Every scene different, so nothing the parser remembers about one line helps.
    scenes = b"".join(b"Scene %d begins here.\n\n~*~\n\n" % number for number in range(count))
    return HEADER + scenes, "scenes.txt"


SYMBOL_BREAKS = [
    star_breaks_txt,
    star_breaks_md,
    rule_breaks_md,
    rule_breaks_under_lines_md,
    spaced_star_breaks_md,
    long_ornament_breaks_md,
]


@pytest.mark.parametrize("build", SYMBOL_BREAKS)
def test_symbol_breaks_each_make_a_scene(build: Callable[..., tuple[bytes, str]]) -> None:
    story = parse(*build(count=TEST_COUNT))

    assert len(story.sections) == TEST_COUNT
    assert all(section.text == "Text here." for section in story.sections)
    assert f"split into {TEST_COUNT} scenes" in story.warnings[-1]


@pytest.mark.parametrize("build", [blank_line_breaks_txt, blank_line_breaks_md])
def test_blank_line_breaks_each_make_a_scene(build: Callable[..., tuple[bytes, str]]) -> None:
    story = parse(*build(count=TEST_COUNT))

    assert len(story.sections) == TEST_COUNT
    assert {section.text for section in story.sections} == {"A scene begins.\n\nIt ends."}
    assert story.words == 5 * TEST_COUNT


def test_ornament_breaks_each_make_a_scene() -> None:
    story = parse(*ornament_breaks_txt(count=TEST_COUNT))

    assert len(story.sections) == TEST_COUNT
    assert story.words == 2 * TEST_COUNT


def test_distinct_scenes_are_each_named_by_their_first_sentence() -> None:
    story = parse(*distinct_scenes_txt(count=TEST_COUNT))

    assert len(story.sections) == TEST_COUNT
    assert story.sections[-1].title == f"Scene {TEST_COUNT - 1} begins here."


@case("100,000 breaks and no text")
def breaks_without_text(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return HEADER + b"* * *\n\n" * count, "breaks.txt"


def test_scene_breaks_without_text_are_refused() -> None:
    message = refusal(*breaks_without_text(count=TEST_COUNT))

    assert "has a header but no story text after it" in message


@case("10 MB of blank lines inside (.txt)")
def blank_flood_txt(size: int = LIMIT) -> tuple[bytes, str]:
    head = HEADER + b"The start.\n"
    return fill(b"\n", head=head, tail=b"The end.\n", size=size), "blank.txt"


@case("10 MB of blank lines inside (.md)")
def blank_flood_md(size: int = LIMIT) -> tuple[bytes, str]:
    head = HEADER + b"The start.\n"
    return fill(b"\n", head=head, tail=b"The end.\n", size=size), "blank.md"


@case("10 MB of CRLF blank lines")
def crlf_flood(size: int = LIMIT) -> tuple[bytes, str]:
    head = HEADER + b"The start.\r\n"
    return fill(b"\r\n", head=head, tail=b"The end.\r\n", size=size), "blank.txt"


@case("5 MB of lines of spaces inside")
def space_line_flood(size: int = LIMIT) -> tuple[bytes, str]:
    head = HEADER + b"The start.\n"
    return fill(b" \t\n", head=head, tail=b"The end.\n", size=size), "blank.txt"


@pytest.mark.parametrize("build", [blank_flood_txt, blank_flood_md, crlf_flood, space_line_flood])
def test_a_flood_of_blank_lines_is_one_scene_break(build: Callable[..., tuple[bytes, str]]) -> None:
    # Large enough that the flood is squeezed (more than 500,000 lines only at full size,
    # but runs of more than 64 blank lines at any size).
    story = parse(*build(size=TEST_SIZE))

    assert [section.text for section in story.sections] == ["The start.", "The end."]


@case("10 MB of blank lines only")
def only_blank_lines(size: int = LIMIT) -> tuple[bytes, str]:
    return b"\n" * size, "blank.txt"


def test_a_file_of_nothing_but_blank_lines_is_refused() -> None:
    message = refusal(*only_blank_lines(size=TEST_SIZE))

    assert "has no text in it, only blank lines" in message


# --- Text cut into more pieces than any story -------------------------------------------------
#
# The caps are what make these cases refusals; the tests lower the caps (the same code reads
# them) so a small file proves the refusal, and the benchmark runs them at the real caps.


@case("500,000 one-letter paragraphs")
def paragraph_flood(count: int = 500_000) -> tuple[bytes, str]:
    return HEADER + b"a\n\n" * count, "paragraphs.txt"


@case("500,000 one-letter paragraphs (.md)")
def paragraph_flood_md(count: int = 500_000) -> tuple[bytes, str]:
    return HEADER + b"a.\n\n" * count, "paragraphs.md"


@case("3.5 million one-letter paragraphs")
def paragraph_flood_10mb(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"a\n\n", size=size), "paragraphs.txt"


@case("1.3 million '[' notes")
def bracket_paragraph_flood(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"[ note\n\n", size=size), "notes.txt"


@case("300,000 chapter headings")
def heading_flood(count: int = 300_000) -> tuple[bytes, str]:
    return HEADER + b"Chapter 1\n\n" * count + b"The story, at last, begins.\n", "headings.txt"


@case("300,000 '##' headings (.md)")
def heading_flood_md(count: int = 300_000) -> tuple[bytes, str]:
    return HEADER + b"## A\n\n" * count + b"The story, at last, begins.\n", "headings.md"


@case("2.6 million U+2029 paragraph separators")
def separator_flood(size: int = LIMIT) -> tuple[bytes, str]:
    return fill("a\u2029".encode(), size=size), "separators.txt"


SMALL_MAX_BLOCKS = 2_000
SMALL_MAX_LINES = 4_000


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The block and line caps lowered, so a file of a few thousand lines goes over them."""
    monkeypatch.setattr(blocks, "MAX_BLOCKS", SMALL_MAX_BLOCKS)
    monkeypatch.setattr(blocks, "MAX_LINES", SMALL_MAX_LINES)


@pytest.mark.parametrize(
    "build",
    [paragraph_flood, paragraph_flood_md, heading_flood, heading_flood_md],
)
def test_more_paragraphs_than_any_story_is_refused(
    build: Callable[..., tuple[bytes, str]], small_caps: None
) -> None:
    message = refusal(*build(count=3 * SMALL_MAX_BLOCKS // 2))

    assert f"has more than {SMALL_MAX_BLOCKS:,} paragraphs and scene breaks" in message
    assert "far more than a story has" in message
    assert "Storyshelf did not read it" in message


def test_a_story_just_under_the_paragraph_cap_is_read(small_caps: None) -> None:
    story = parse(*paragraph_flood(count=SMALL_MAX_BLOCKS - 10))

    assert story.words == SMALL_MAX_BLOCKS - 10


@case("5 million one-letter lines")
def line_flood(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"a\n", size=size), "lines.txt"


@case("2.6 million code fences (.md)")
def fence_flood_md(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"```\n", size=size), "fences.md"


@case("5 million lines after a Gutenberg START")
def line_flood_gutenberg(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"a\n", head=GUTENBERG_START, size=size), "book.txt"


@pytest.mark.parametrize(
    "build",
    [
        line_flood,
        fence_flood_md,
        line_flood_gutenberg,
        separator_flood,
        bracket_paragraph_flood,
        paragraph_flood_10mb,
    ],
)
def test_more_lines_than_any_story_is_refused(
    build: Callable[..., tuple[bytes, str]], small_caps: None
) -> None:
    message = refusal(*build(size=16 * SMALL_MAX_LINES))

    assert f"has more than {SMALL_MAX_LINES:,} lines of text" in message
    assert "a 10 MB novel has about 170,000" in message


def test_the_real_caps_are_far_above_a_novel() -> None:
    # A 10 MB novel has about 50,000 blocks and 170,000 lines (see bot/parsing/blocks.py).
    assert MAX_BLOCKS >= 4 * 50_000
    assert MAX_LINES >= 4 * 170_000


WRAPPED_LINE = b"the quick brown fox jumps over the lazy dog and keeps on running far\n"
NESTED_MARKDOWN = b">" * 60 + b" quoted\n" + b"    " * 15 + b"- item\n\n"


@case("one giant 10 MB paragraph of wrapped lines")
def giant_wrapped_paragraph(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(WRAPPED_LINE, size=size), "one.txt"


@case("one giant paragraph of 150-character lines")
def giant_long_line_paragraph(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"the quick brown fox jumps over the lazy dog " * 4 + b"\n", size=size), "one.txt"


def test_a_giant_paragraph_is_one_section_with_its_line_breaks() -> None:
    data, name = giant_wrapped_paragraph(size=TEST_SIZE)
    story = parse(data, name)

    assert len(story.sections) == 1
    lines = data[len(HEADER) :].decode().strip().split("\n")
    assert story.sections[0].text == "\n".join(lines)
    assert story.words == 14 * len(lines)


def test_a_paragraph_of_long_lines_becomes_a_paragraph_per_line() -> None:
    data, name = giant_long_line_paragraph(size=TEST_SIZE)
    story = parse(data, name)

    lines = data[len(HEADER) :].decode().split("\n")[:-1]
    assert len(story.sections) == 1
    assert story.sections[0].text == "\n\n".join(line.strip() for line in lines)


# --- Chained headings ---------------------------------------------------------------------------


@case("100,000 'Part' headings chained")
def part_chain(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    parts = b"".join(b"Part %d\n\n" % (number % 9000 + 1) for number in range(count))
    return HEADER + parts + b"Chapter 1\n\nThe story, at last, begins.\n", "parts.txt"


@case("100,000 'ACT' and 'SCENE' headings")
def act_scene_chain(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    lines = b"".join(
        b"ACT %d\n\nSCENE %d\n\n" % (n % 900 + 1, n % 9 + 1) for n in range(count // 2)
    )
    return HEADER + lines + b"The play, at last, begins.\n", "play.txt"


@case("100,000 chapters of one line each")
def short_chapters(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    chapters = b"".join(b"Chapter %d\n\nIt rained.\n\n" % (n + 1) for n in range(count))
    return HEADER + chapters, "chapters.txt"


def test_a_title_built_from_thousands_of_headings_is_cut_short() -> None:
    story = parse(*part_chain(count=TEST_COUNT))

    assert all(len(section.title) <= MAX_TITLE_CHARS for section in story.sections)
    assert story.sections[-1].text == "The story, at last, begins."
    assert any("section title was over 300 characters" in warning for warning in story.warnings)
    assert len(story.metadata["parts"].splitlines()) <= 100  # the card lists a few, not all


def test_thousands_of_acts_and_scenes_end_in_one_scene_with_the_text() -> None:
    story = parse(*act_scene_chain(count=TEST_COUNT))

    assert story.sections[-1].text == "The play, at last, begins."
    assert all(len(section.title) <= MAX_TITLE_CHARS for section in story.sections)


def test_thousands_of_short_chapters_are_each_a_section() -> None:
    story = parse(*short_chapters(count=TEST_COUNT))

    assert len(story.sections) == TEST_COUNT
    assert story.sections[-1].title == f"Chapter {TEST_COUNT}"
    assert story.words == 2 * TEST_COUNT


@case("a 10 MB Title: line")
def giant_header_title(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"word ", head=b"Title: ", tail=b"\n\nThe story.\n", size=size), "title.txt"


def test_a_giant_header_title_is_cut_short() -> None:
    story = parse(*giant_header_title(size=TEST_SIZE))

    assert len(story.title) <= MAX_TITLE_CHARS
    assert story.title.startswith("word word ")
    assert story.title.endswith("word…")
    assert "The title was over 300 characters and was cut short." in story.warnings
    assert [section.text for section in story.sections] == ["The story."]


# --- Project Gutenberg -------------------------------------------------------------------------


@case("Gutenberg START and a 10 MB line")
def gutenberg_line(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(b"word ", head=GUTENBERG_START, size=size), "book.txt"


@case("Gutenberg START and 100,000 breaks")
def gutenberg_breaks(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    return GUTENBERG_START + b"Text here.\n\n* * *\n\n" * count, "book.txt"


@case("Gutenberg START and 100,000 contents lines")
def gutenberg_contents(count: int = BENCH_COUNT) -> tuple[bytes, str]:
    entries = b"".join(b"Chapter %d\n" % (n + 1) for n in range(count))
    body = b"Contents\n\n" + entries + b"\nChapter 1\n\nThe book begins, at last, here.\n"
    return GUTENBERG_START + body, "book.txt"


def test_gutenberg_book_of_one_line_is_one_section() -> None:
    story = parse(*gutenberg_line(size=TEST_SIZE))

    assert story.source_format == "gutenberg"
    assert len(story.sections) == 1
    assert story.words == (TEST_SIZE - len(GUTENBERG_START)) // 5


def test_gutenberg_book_of_scene_breaks_keeps_every_scene() -> None:
    story = parse(*gutenberg_breaks(count=TEST_COUNT))

    assert story.source_format == "gutenberg"
    assert len(story.sections) == TEST_COUNT
    assert story.words == 2 * TEST_COUNT


def test_a_huge_contents_list_is_front_matter() -> None:
    story = parse(*gutenberg_contents(count=TEST_COUNT))

    assert [section.title for section in story.sections] == ["Chapter 1"]
    assert story.metadata["front_matter"].startswith("Contents\n\nChapter 1\nChapter 2")


# --- Markdown nesting ------------------------------------------------------------------------


@case("deeply nested Markdown quotes and lists")
def nested_markdown(size: int = LIMIT) -> tuple[bytes, str]:
    return fill(NESTED_MARKDOWN, size=size), "nested.md"


def test_deeply_nested_markdown_is_kept_as_text() -> None:
    data, name = nested_markdown(size=TEST_SIZE)
    story = parse(data, name)

    # Quotes and lists are not Markdown the reader interprets: the text is kept as written.
    count = (len(data) - len(HEADER)) // len(NESTED_MARKDOWN)
    assert len(story.sections) == 1
    assert story.words == count * 4
    assert story.sections[0].text.startswith(">" * 60 + " quoted\n" + "    " * 15 + "- item")


# --- Deeply nested HTML --------------------------------------------------------------------------


@case("100,000 nested <div> (AO3)")
def nested_divs_ao3() -> tuple[bytes, str]:
    return ao3("<div>" * 100_000 + "deep" + "</div>" * 100_000), "nested.html"


@case("100,000 nested <b> (AO3)")
def nested_bold_ao3() -> tuple[bytes, str]:
    return ao3("<b>" * 100_000 + "deep" + "</b>" * 100_000), "nested.html"


@case("50,000 unclosed <div><em> (AO3)")
def unclosed_nesting_ao3() -> tuple[bytes, str]:
    return ao3("<div><em>" * 50_000 + "deep"), "nested.html"


@case("50,000 unclosed <ul><li> (AO3)")
def unclosed_lists_ao3() -> tuple[bytes, str]:
    return ao3("<ul><li>" * 50_000 + "deep"), "nested.html"


@case("100,000 nested <div> (not AO3)")
def nested_divs_plain_html() -> tuple[bytes, str]:
    return ("<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000).encode(), "page.html"


@case("200,000 nested <div> (AO3)")
def too_deep_ao3() -> tuple[bytes, str]:
    return ao3("<div>" * 200_000 + "deep"), "nested.html"


@case("30,000 nested author links")
def nested_author_links() -> tuple[bytes, str]:
    return ao3("<p>Story.</p>", preface='<a rel="author" href="/u">x' * 30_000), "authors.html"


@pytest.mark.parametrize("build", [nested_divs_ao3, nested_bold_ao3])
def test_hundred_thousand_nested_tags_read_the_text_inside(
    build: Callable[[], tuple[bytes, str]],
) -> None:
    story = parse(*build())

    assert story.title == "Hostile Work"
    assert [plain(section.text) for section in story.sections] == ["deep"]


def test_deep_bold_is_bold_once() -> None:
    story = parse(*nested_bold_ao3())

    assert story.sections[0].text == "**deep**"


def test_unclosed_nesting_reads_the_text_inside() -> None:
    assert parse(*unclosed_nesting_ao3()).sections[0].text == "*deep*"
    assert plain(parse(*unclosed_lists_ao3()).sections[0].text).endswith("deep")


def test_deeply_nested_html_that_is_not_ao3_is_refused_as_not_ao3() -> None:
    message = refusal(*nested_divs_plain_html())

    assert "is HTML but not an Archive of Our Own download" in message
    assert "Download → HTML" in message


def test_more_elements_than_any_story_is_refused() -> None:
    message = refusal(*too_deep_ao3())

    assert "has more HTML markup than any story needs" in message
    assert f"over {MAX_ELEMENTS:,} elements" in message


def test_nested_author_links_give_one_author() -> None:
    story = parse(*nested_author_links())

    assert len(story.author or "") <= MAX_TITLE_CHARS
    assert story.author is not None and set(story.author.rstrip("…")) == {"x"}


# --- HTML entity and tag floods --------------------------------------------------------------


@case("2 million &amp;")
def amp_flood() -> tuple[bytes, str]:
    return ao3_fill("&amp;"), "entities.html"


@case("1.7 million &#x41;")
def hex_reference_flood() -> tuple[bytes, str]:
    return ao3_fill("&#x41;"), "entities.html"


@case("10 million bare &")
def bare_ampersand_flood() -> tuple[bytes, str]:
    return ao3_fill("&"), "entities.html"


@case("2.6 million unterminated &amp")
def unterminated_amp_flood() -> tuple[bytes, str]:
    return ao3_fill("&amp "), "entities.html"


@case("5 million &#")
def empty_reference_flood() -> tuple[bytes, str]:
    return ao3_fill("&#"), "entities.html"


@case("unknown named and oversized numeric references")
def odd_reference_flood() -> tuple[bytes, str]:
    return ao3_fill("&zzunknown; &#99999999999; &notit; "), "entities.html"


@case("1.4 million distinct references")
def distinct_reference_flood() -> tuple[bytes, str]:
    units = "".join(f"&#{0x4E00 + number % 20000};" for number in range(1_200_000))
    return ao3(f"<p>{units}</p>"), "entities.html"


@case("&amp; flood in a .txt")
def amp_flood_txt() -> tuple[bytes, str]:
    return fill(b"&amp;"), "entities.txt"


@pytest.mark.parametrize(
    ("build", "unit", "text"),
    [
        (amp_flood, "&amp;", "&"),
        (hex_reference_flood, "&#x41;", "A"),
        (bare_ampersand_flood, "&", "&"),
        (empty_reference_flood, "&#", "&#"),
    ],
)
def test_entity_flood_is_read_as_its_characters(
    build: Callable[[], tuple[bytes, str]], unit: str, text: str
) -> None:
    data, name = build()
    story = parse(data, name)

    count = (LIMIT - AO3_OVERHEAD - len("<p></p>") - 64) // len(unit)
    assert [section.text for section in story.sections] == [text * count]


def test_unterminated_references_are_read_like_a_browser() -> None:
    story = parse(*unterminated_amp_flood())

    assert set(story.sections[0].text.split()) == {"&"}


def test_unknown_and_oversized_references_stay_text() -> None:
    story = parse(*odd_reference_flood())

    # As a browser reads them: "&not" needs no ";", a number past U+10FFFF is U+FFFD.
    assert set(story.sections[0].text.split()) == {"&zzunknown;", "\ufffd", "¬it;"}


def test_a_million_distinct_references_are_each_resolved() -> None:
    story = parse(*distinct_reference_flood())

    text = story.sections[0].text
    assert len(text) == 1_200_000
    assert text[:3] == "\u4e00\u4e01\u4e02"


def test_entities_in_plain_text_are_left_alone() -> None:
    story = parse(*amp_flood_txt())

    assert story.sections[0].text == "&amp;" * ((LIMIT - len(HEADER)) // 5)


@case("1.5 million <b></b>")
def tag_flood() -> tuple[bytes, str]:
    return ao3_fill("<b></b>"), "tags.html"


@case("2.6 million <br>")
def break_tag_flood() -> tuple[bytes, str]:
    return ao3_fill("<br>"), "tags.html"


@case("140,000 paragraphs (just under the caps)")
def paragraphs_under_cap() -> tuple[bytes, str]:
    return ao3("<p>x</p>" * 140_000), "tags.html"


@case("45,000 <hr> between paragraphs")
def rules_under_cap() -> tuple[bytes, str]:
    return ao3("<p>x</p><hr>" * 45_000), "tags.html"


@case("140,000 <em> (just under the caps)")
def emphasis_under_cap() -> tuple[bytes, str]:
    return ao3("<p>" + "<em>x</em> " * 140_000 + "</p>"), "tags.html"


@case("attribute flood in one tag")
def attribute_flood_one_tag() -> tuple[bytes, str]:
    return ao3_fill("a ", head="<p ", tail=">story</p>"), "attributes.html"


@case("attribute flood over many tags")
def attribute_flood_many_tags() -> tuple[bytes, str]:
    return ao3('<p class="a" id="b" style="c" title="d">x</p>' * 40_000), "attributes.html"


@pytest.mark.parametrize("build", [tag_flood, break_tag_flood])
def test_more_tags_than_any_story_is_refused(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert f"has more HTML markup than any story needs (over {MAX_TAGS:,} tags)" in message
    assert "exactly as Archive of Our Own made it" in message


@pytest.mark.parametrize("build", [attribute_flood_one_tag, attribute_flood_many_tags])
def test_more_attributes_than_any_story_is_refused(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert f"over {MAX_ATTRIBUTES:,} attributes" in message


def test_tags_just_under_the_caps_are_read() -> None:
    story = parse(*paragraphs_under_cap())
    assert len(story.sections) == 1
    assert story.sections[0].text == "\n\n".join(["x"] * 140_000)

    story = parse(*rules_under_cap())
    assert story.sections[0].text == "\n\n* * *\n\n".join(["x"] * 45_000)

    story = parse(*emphasis_under_cap())
    assert story.sections[0].text == "*" + " ".join(["x"] * 140_000) + "*"  # one run of italics


@case("250,000 stray '<a'")
def stray_angle_brackets() -> tuple[bytes, str]:
    return ao3("<p>" + "<a" * 250_000 + "</p>"), "stray.html"


@case("250,000 stray '<a \"'")
def stray_quoted_angle_brackets() -> tuple[bytes, str]:
    return ao3("<p>" + '<a "' * 250_000 + "</p>"), "stray.html"


@case("5 million stray '<a'")
def stray_angle_bracket_flood() -> tuple[bytes, str]:
    return ao3_fill("<a"), "stray.html"


@case("60,000 tags with a quote in an attribute name")
def quoted_attribute_names() -> tuple[bytes, str]:
    # '<i x"y=">': its attribute value runs on to the next quote. html.parser kept such
    # a tag as text and looked at the rest of the file again from every one of them:
    # 20,000 took 30 s before the tree builder was replaced.
    return ao3("<p>" + '<i x"y=">word</i> ' * 60_000 + "</p>"), "quotes.html"


def test_quotes_inside_tags_do_not_make_the_parser_quadratic() -> None:
    # Read as a browser reads it (the HTML parser is an HTML5 one now): the quote in
    # '<i x"y=">' opens an attribute value that runs on to the next quote, so every word
    # is inside a tag and the chapter has no text. It is refused, and quickly (the bench).
    message = refusal(*quoted_attribute_names())

    assert "has no story text in it" in message


@case("an unclosed 10 MB comment")
def unclosed_comment() -> tuple[bytes, str]:
    return ao3_fill("x", head="<p>Story.</p><!--", tail=""), "comment.html"


def test_stray_angle_brackets_are_text() -> None:
    assert parse(*stray_angle_brackets()).sections[0].text == "<a" * 250_000
    assert parse(*stray_quoted_angle_brackets()).sections[0].text == ('<a "' * 250_000).rstrip()


def test_millions_of_stray_angle_brackets_are_refused() -> None:
    # AO3 writes a "<" in a story as "&lt;": a file of millions is not a download.
    message = refusal(*stray_angle_bracket_flood())

    assert f"has more HTML markup than any story needs (over {MAX_TAGS:,} tags)" in message


def test_an_unclosed_comment_hides_the_rest_like_a_browser() -> None:
    story = parse(*unclosed_comment())

    assert [section.text for section in story.sections] == ["Story."]


@case("one 10 MB <p>")
def giant_html_paragraph() -> tuple[bytes, str]:
    return ao3_fill("word "), "giant.html"


@case("a 10 MB <h1> title")
def giant_html_title() -> tuple[bytes, str]:
    title = "Title " * ((LIMIT - AO3_OVERHEAD - 200) // 6)
    return ao3("<p>Story.</p>", preface=f"<h1>{title}</h1>"), "title.html"


def test_a_ten_megabyte_html_paragraph_is_one_paragraph() -> None:
    story = parse(*giant_html_paragraph())

    count = (LIMIT - AO3_OVERHEAD - len("<p></p>") - 64) // 5
    assert story.sections[0].text == " ".join(["word"] * count)


def test_a_ten_megabyte_title_is_cut_short() -> None:
    story = parse(*giant_html_title())

    assert len(story.title) <= MAX_TITLE_CHARS
    assert story.title.startswith("Title Title")
    assert "The title was over 300 characters and was cut short." in story.warnings
    assert [section.text for section in story.sections] == ["Story."]


# --- NUL bytes and binary garbage --------------------------------------------------------------


@case("10 MB of NUL bytes")
def nul_bytes() -> tuple[bytes, str]:
    return b"\x00" * LIMIT, "story.txt"


@case("10 MB of random bytes")
def random_bytes() -> tuple[bytes, str]:
    return random.Random(1).randbytes(LIMIT), "story.txt"


@case("10 MB of random bytes after a UTF-8 BOM")
def random_bytes_after_bom() -> tuple[bytes, str]:
    return b"\xef\xbb\xbf" + random.Random(2).randbytes(LIMIT - 3), "story.md"


@case("10 MB of random high bytes")
def random_high_bytes() -> tuple[bytes, str]:
    return bytes(byte | 0x80 for byte in random.Random(3).randbytes(LIMIT)), "story.txt"


@case("10 MB of random bytes after a UTF-16 BOM")
def random_bytes_after_utf16_bom() -> tuple[bytes, str]:
    return b"\xff\xfe" + random.Random(4).randbytes(LIMIT - 2), "story.txt"


@case("random bytes named .html")
def random_bytes_html() -> tuple[bytes, str]:
    return random.Random(5).randbytes(LIMIT), "story.html"


@case("a story with a stray NUL at the end")
def stray_nul() -> tuple[bytes, str]:
    return fill(b"word ", tail=b"\x00"), "story.txt"


@pytest.mark.parametrize(
    "build", [nul_bytes, random_bytes, random_bytes_after_bom, random_bytes_html]
)
def test_binary_data_is_refused_as_binary(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert "looks like binary data, not a text file" in message
    assert "Upload the story as plain text (.txt)" in message


def test_random_high_bytes_are_refused_as_an_unsupported_encoding() -> None:
    message = refusal(*random_high_bytes())

    assert "is not in a supported encoding (UTF-8, UTF-16 with BOM, or Windows-1252)" in message


def test_random_bytes_after_a_utf16_mark_are_refused_as_bad_utf16() -> None:
    message = refusal(*random_bytes_after_utf16_bom())

    assert "starts like UTF-16 text but is not valid UTF-16" in message


def test_a_stray_nul_is_dropped_not_taken_for_binary() -> None:
    data, name = stray_nul()
    story = parse(data, name)

    assert story.words == (len(data) - len(HEADER)) // 5
