"""Hostile story files: each one parses, or is refused with a message that says why.

The requirement is that the parser stays bounded in time and memory on any
upload up to the size limit. Every case here is built in the test (nothing big
is stored) and parsed with the default 10 MB limit; the assertions are what
the uploader would see: the sections, or the words of the refusal. The
timeouts only stop a hang from stalling the suite: how fast each case is, and
how much memory it takes, is measured by ``bench/hostile_bench.py``, which
runs the same cases (``CASES``) beside a normal file of the same size.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from bot.parsing import MAX_TITLE_CHARS, StoryFileError, parse_story
from bot.parsing.ao3 import MAX_ATTRIBUTES, MAX_ELEMENTS, MAX_TAGS
from bot.parsing.blocks import MAX_BLOCKS, MAX_LINES
from bot.story import ParsedStory

LIMIT = 10 * 1024 * 1024
# Generous: a case takes about a second; this only catches a hang.
TIMEOUT = 20

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


def refusal(data: bytes, filename: str) -> str:
    with pytest.raises(StoryFileError) as caught:
        parse_story(data, filename, max_bytes=LIMIT)
    message = str(caught.value)
    assert f"“{filename}”" in message  # says which file
    return message


def plain(text: str) -> str:
    """Section text without the Discord emphasis markers the AO3 reader adds."""
    return re.sub(r"[*_~]", "", text)


# --- A 10 MB single line ----------------------------------------------------------------------


@case("10 MB line of words (.txt)")
def line_of_words_txt() -> tuple[bytes, str]:
    return fill(b"word "), "line.txt"


@case("10 MB line of words (.md)")
def line_of_words_md() -> tuple[bytes, str]:
    return fill(b"word "), "line.md"


@case("10 MB line without a space")
def line_without_spaces() -> tuple[bytes, str]:
    return fill(b"x"), "line.txt"


@case("10 MB line of one-letter sentences")
def line_of_sentences() -> tuple[bytes, str]:
    return fill(b"A. "), "line.txt"


@case("10 MB line of scene-break stars")
def line_of_stars() -> tuple[bytes, str]:
    return fill(b"*"), "line.txt"


@case("10 MB line of # and > (.md)")
def line_of_markdown_marks() -> tuple[bytes, str]:
    return fill(b"#> "), "line.md"


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("build", [line_of_words_txt, line_of_words_md])
def test_ten_megabyte_line_of_words_is_one_section_with_every_word(
    build: Callable[[], tuple[bytes, str]],
) -> None:
    data, name = build()
    story = parse(data, name)

    assert story.title == "Hostile"
    assert story.author == "Someone"
    assert len(story.sections) == 1
    line = data[len(HEADER) :].decode().strip()
    assert story.sections[0].text == line
    assert story.words == line.count("word")
    assert len(story.sections[0].title) <= 81  # named by its start, not by 10 MB


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize(
    "build", [line_without_spaces, line_of_sentences, line_of_stars, line_of_markdown_marks]
)
def test_ten_megabyte_line_of_one_character_keeps_the_line(
    build: Callable[[], tuple[bytes, str]],
) -> None:
    data, name = build()
    story = parse(data, name)

    assert len(story.sections) == 1
    assert story.sections[0].text == data[len(HEADER) :].decode().strip()
    assert len(story.sections[0].title) <= 81


@pytest.mark.timeout(TIMEOUT)
def test_a_byte_over_the_limit_is_refused_with_the_exact_sizes() -> None:
    message = refusal(b"word " * (LIMIT // 5) + b"x", "big.txt")

    assert "10,485,761 bytes, just over the 10 MB limit (10,485,760 bytes)" in message
    assert "Split it into smaller files" in message


@pytest.mark.timeout(TIMEOUT)
def test_a_file_well_over_the_limit_is_refused_in_megabytes() -> None:
    message = refusal(b"x" * (LIMIT + LIMIT // 4), "bigger.md")

    assert "“bigger.md” is 12.5 MB, over the 10 MB limit for story files" in message


# --- 100,000 scene breaks, and floods of blank lines -------------------------------------------


@case("100,000 '* * *' breaks (.txt)")
def star_breaks_txt() -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\n* * *\n\n" * 100_000, "scenes.txt"


@case("100,000 '***' breaks (.md)")
def star_breaks_md() -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\n***\n\n" * 100_000, "scenes.md"


@case("100,000 '---' breaks (.md)")
def rule_breaks_md() -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\n---\n\n" * 100_000, "scenes.md"


@case("100,000 '---' under a line (.md)")
def rule_breaks_under_lines_md() -> tuple[bytes, str]:
    # "Text.\n---" is a setext heading only when the line is title-like; a
    # sentence is not, so these are scene breaks.
    return HEADER + b"Text here.\n---\n" * 100_000, "scenes.md"


@case("100,000 blank-line breaks (.txt)")
def blank_line_breaks_txt() -> tuple[bytes, str]:
    return HEADER + b"A scene begins.\n\nIt ends.\n\n\n" * 100_000, "scenes.txt"


@case("100,000 blank-line breaks (.md)")
def blank_line_breaks_md() -> tuple[bytes, str]:
    return HEADER + b"A scene begins.\n\nIt ends.\n\n\n" * 100_000, "scenes.md"


@case("100,000 'oOo' breaks (.txt)")
def ornament_breaks_txt() -> tuple[bytes, str]:
    return HEADER + b"Text here.\n\noOo\n\n" * 100_000, "scenes.txt"


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize(
    "build", [star_breaks_txt, star_breaks_md, rule_breaks_md, rule_breaks_under_lines_md]
)
def test_hundred_thousand_symbol_breaks_make_hundred_thousand_scenes(
    build: Callable[[], tuple[bytes, str]],
) -> None:
    story = parse(*build())

    assert len(story.sections) == 100_000
    assert all(section.text == "Text here." for section in story.sections)
    assert "split into 100000 scenes" in story.warnings[-1]


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("build", [blank_line_breaks_txt, blank_line_breaks_md])
def test_hundred_thousand_blank_line_breaks_make_hundred_thousand_scenes(
    build: Callable[[], tuple[bytes, str]],
) -> None:
    story = parse(*build())

    assert len(story.sections) == 100_000
    assert {section.text for section in story.sections} == {"A scene begins.\n\nIt ends."}
    assert story.words == 500_000


@pytest.mark.timeout(TIMEOUT)
def test_hundred_thousand_ornament_breaks_make_hundred_thousand_scenes() -> None:
    story = parse(*ornament_breaks_txt())

    assert len(story.sections) == 100_000
    assert story.words == 200_000


@case("100,000 breaks and no text")
def breaks_without_text() -> tuple[bytes, str]:
    return HEADER + b"* * *\n\n" * 100_000, "breaks.txt"


@pytest.mark.timeout(TIMEOUT)
def test_scene_breaks_without_text_are_refused() -> None:
    message = refusal(*breaks_without_text())

    assert "has a header but no story text after it" in message


@case("10 MB of blank lines inside (.txt)")
def blank_flood_txt() -> tuple[bytes, str]:
    return fill(b"\n", head=HEADER + b"The start.\n", tail=b"The end.\n"), "blank.txt"


@case("10 MB of blank lines inside (.md)")
def blank_flood_md() -> tuple[bytes, str]:
    return fill(b"\n", head=HEADER + b"The start.\n", tail=b"The end.\n"), "blank.md"


@case("10 MB of CRLF blank lines")
def crlf_flood() -> tuple[bytes, str]:
    return fill(b"\r\n", head=HEADER + b"The start.\r\n", tail=b"The end.\r\n"), "blank.txt"


@case("5 MB of lines of spaces inside")
def space_line_flood() -> tuple[bytes, str]:
    return fill(b" \t\n", head=HEADER + b"The start.\n", tail=b"The end.\n"), "blank.txt"


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("build", [blank_flood_txt, blank_flood_md, crlf_flood, space_line_flood])
def test_a_flood_of_blank_lines_is_one_scene_break(build: Callable[[], tuple[bytes, str]]) -> None:
    story = parse(*build())

    assert [section.text for section in story.sections] == ["The start.", "The end."]


@case("10 MB of blank lines only")
def only_blank_lines() -> tuple[bytes, str]:
    return b"\n" * LIMIT, "blank.txt"


@pytest.mark.timeout(TIMEOUT)
def test_a_file_of_nothing_but_blank_lines_is_refused() -> None:
    message = refusal(*only_blank_lines())

    assert "has no text in it, only blank lines" in message


# --- Text cut into more pieces than any story -------------------------------------------------


@case("500,000 one-letter paragraphs")
def paragraph_flood() -> tuple[bytes, str]:
    return HEADER + b"a\n\n" * 500_000, "paragraphs.txt"


@case("500,000 one-letter paragraphs (.md)")
def paragraph_flood_md() -> tuple[bytes, str]:
    return HEADER + b"a.\n\n" * 500_000, "paragraphs.md"


@case("3.5 million one-letter paragraphs")
def paragraph_flood_10mb() -> tuple[bytes, str]:
    return fill(b"a\n\n"), "paragraphs.txt"


@case("1.3 million '[' notes")
def bracket_paragraph_flood() -> tuple[bytes, str]:
    return fill(b"[ note\n\n"), "notes.txt"


@case("300,000 chapter headings")
def heading_flood() -> tuple[bytes, str]:
    return HEADER + b"Chapter 1\n\n" * 300_000 + b"The story, at last, begins.\n", "headings.txt"


@case("300,000 '##' headings (.md)")
def heading_flood_md() -> tuple[bytes, str]:
    return HEADER + b"## A\n\n" * 300_000 + b"The story, at last, begins.\n", "headings.md"


@case("2.6 million U+2029 paragraph separators")
def separator_flood() -> tuple[bytes, str]:
    return fill("a\u2029".encode()), "separators.txt"


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize(
    "build",
    [paragraph_flood, paragraph_flood_md, heading_flood, heading_flood_md],
)
def test_more_paragraphs_than_any_story_is_refused(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert f"has more than {MAX_BLOCKS:,} paragraphs and scene breaks" in message
    assert "far more than a story has" in message
    assert "Storyshelf did not read it" in message


@case("5 million one-letter lines")
def line_flood() -> tuple[bytes, str]:
    return fill(b"a\n"), "lines.txt"


@case("2.6 million code fences (.md)")
def fence_flood_md() -> tuple[bytes, str]:
    return fill(b"```\n"), "fences.md"


@case("5 million lines after a Gutenberg START")
def line_flood_gutenberg() -> tuple[bytes, str]:
    return fill(b"a\n", head=GUTENBERG_START), "book.txt"


@pytest.mark.timeout(TIMEOUT)
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
def test_more_lines_than_any_story_is_refused(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert f"has more than {MAX_LINES:,} lines of text" in message
    assert "a 10 MB novel has about 170,000" in message


WRAPPED_LINE = b"the quick brown fox jumps over the lazy dog and keeps on running far\n"
NESTED_MARKDOWN = b">" * 60 + b" quoted\n" + b"    " * 15 + b"- item\n\n"


@case("one giant 10 MB paragraph of wrapped lines")
def giant_wrapped_paragraph() -> tuple[bytes, str]:
    return fill(WRAPPED_LINE), "one.txt"


@case("one giant paragraph of 150-character lines")
def giant_long_line_paragraph() -> tuple[bytes, str]:
    return fill(b"the quick brown fox jumps over the lazy dog " * 4 + b"\n"), "one.txt"


@pytest.mark.timeout(TIMEOUT)
def test_a_ten_megabyte_paragraph_is_one_section_with_its_line_breaks() -> None:
    data, name = giant_wrapped_paragraph()
    story = parse(data, name)

    assert len(story.sections) == 1
    lines = data[len(HEADER) :].decode().strip().split("\n")
    assert story.sections[0].text == "\n".join(lines)
    assert story.words == 14 * len(lines)


@pytest.mark.timeout(TIMEOUT)
def test_a_paragraph_of_long_lines_becomes_a_paragraph_per_line() -> None:
    data, name = giant_long_line_paragraph()
    story = parse(data, name)

    lines = data[len(HEADER) :].decode().split("\n")[:-1]
    assert len(story.sections) == 1
    assert story.sections[0].text == "\n\n".join(line.strip() for line in lines)


@case("100,000 'Part' headings chained")
def part_chain() -> tuple[bytes, str]:
    parts = b"".join(b"Part %d\n\n" % (number % 9000 + 1) for number in range(100_000))
    return HEADER + parts + b"Chapter 1\n\nThe story, at last, begins.\n", "parts.txt"


@pytest.mark.timeout(TIMEOUT)
def test_a_title_built_from_thousands_of_headings_is_cut_short() -> None:
    story = parse(*part_chain())

    assert all(len(section.title) <= MAX_TITLE_CHARS for section in story.sections)
    assert story.sections[-1].text == "The story, at last, begins."
    assert any("section title was over 300 characters" in warning for warning in story.warnings)


@case("a 10 MB Title: line")
def giant_header_title() -> tuple[bytes, str]:
    return fill(b"word ", head=b"Title: ", tail=b"\n\nThe story.\n"), "title.txt"


@pytest.mark.timeout(TIMEOUT)
def test_a_ten_megabyte_header_title_is_cut_short() -> None:
    story = parse(*giant_header_title())

    assert len(story.title) <= MAX_TITLE_CHARS
    assert story.title.startswith("word word ")
    assert story.title.endswith("word…")
    assert "The title was over 300 characters and was cut short." in story.warnings
    assert [section.text for section in story.sections] == ["The story."]


# --- Project Gutenberg -------------------------------------------------------------------------


@case("Gutenberg START and a 10 MB line")
def gutenberg_line() -> tuple[bytes, str]:
    return fill(b"word ", head=GUTENBERG_START), "book.txt"


@case("Gutenberg START and 100,000 breaks")
def gutenberg_breaks() -> tuple[bytes, str]:
    return GUTENBERG_START + b"Text here.\n\n* * *\n\n" * 100_000, "book.txt"


@pytest.mark.timeout(TIMEOUT)
def test_gutenberg_book_of_one_line_is_one_section() -> None:
    story = parse(*gutenberg_line())

    assert story.source_format == "gutenberg"
    assert len(story.sections) == 1
    assert story.words == (LIMIT - len(GUTENBERG_START)) // 5


@pytest.mark.timeout(TIMEOUT)
def test_gutenberg_book_of_scene_breaks_keeps_every_scene() -> None:
    story = parse(*gutenberg_breaks())

    assert story.source_format == "gutenberg"
    assert len(story.sections) == 100_000
    assert story.words == 200_000


# --- Markdown nesting ------------------------------------------------------------------------


@case("deeply nested Markdown quotes and lists")
def nested_markdown() -> tuple[bytes, str]:
    return fill(NESTED_MARKDOWN), "nested.md"


@pytest.mark.timeout(TIMEOUT)
def test_deeply_nested_markdown_is_kept_as_text() -> None:
    data, name = nested_markdown()
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


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("build", [nested_divs_ao3, nested_bold_ao3])
def test_hundred_thousand_nested_tags_read_the_text_inside(
    build: Callable[[], tuple[bytes, str]],
) -> None:
    story = parse(*build())

    assert story.title == "Hostile Work"
    assert [plain(section.text) for section in story.sections] == ["deep"]


@pytest.mark.timeout(TIMEOUT)
def test_deep_bold_is_bold_once() -> None:
    story = parse(*nested_bold_ao3())

    assert story.sections[0].text == "**deep**"


@pytest.mark.timeout(TIMEOUT)
def test_unclosed_nesting_reads_the_text_inside() -> None:
    assert parse(*unclosed_nesting_ao3()).sections[0].text == "*deep*"
    assert plain(parse(*unclosed_lists_ao3()).sections[0].text).endswith("deep")


@pytest.mark.timeout(TIMEOUT)
def test_deeply_nested_html_that_is_not_ao3_is_refused_as_not_ao3() -> None:
    message = refusal(*nested_divs_plain_html())

    assert "is HTML but not an Archive of Our Own download" in message
    assert "Download → HTML" in message


@pytest.mark.timeout(TIMEOUT)
def test_more_elements_than_any_story_is_refused() -> None:
    message = refusal(*too_deep_ao3())

    assert "has more HTML markup than any story needs" in message
    assert f"over {MAX_ELEMENTS:,} elements" in message


@pytest.mark.timeout(TIMEOUT)
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


@pytest.mark.timeout(TIMEOUT)
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


@pytest.mark.timeout(TIMEOUT)
def test_unterminated_references_are_read_like_a_browser() -> None:
    story = parse(*unterminated_amp_flood())

    assert set(story.sections[0].text.split()) == {"&"}


@pytest.mark.timeout(TIMEOUT)
def test_unknown_and_oversized_references_stay_text() -> None:
    story = parse(*odd_reference_flood())

    # As a browser reads them: "&not" needs no ";", a number past U+10FFFF is U+FFFD.
    assert set(story.sections[0].text.split()) == {"&zzunknown;", "\ufffd", "¬it;"}


@pytest.mark.timeout(TIMEOUT)
def test_a_million_distinct_references_are_each_resolved() -> None:
    story = parse(*distinct_reference_flood())

    text = story.sections[0].text
    assert len(text) == 1_200_000
    assert text[:3] == "\u4e00\u4e01\u4e02"


@pytest.mark.timeout(TIMEOUT)
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


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("build", [tag_flood, break_tag_flood])
def test_more_tags_than_any_story_is_refused(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert f"has more HTML markup than any story needs (over {MAX_TAGS:,} tags)" in message
    assert "exactly as Archive of Our Own made it" in message


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("build", [attribute_flood_one_tag, attribute_flood_many_tags])
def test_more_attributes_than_any_story_is_refused(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert f"over {MAX_ATTRIBUTES:,} attributes" in message


@pytest.mark.timeout(TIMEOUT)
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
    # html.parser cannot finish '<i x"y=">' (its value runs on to the next quote),
    # keeps it as text, and looked at the rest of the file again from every such
    # tag: 20,000 of them took 30 s before the tree builder was replaced.
    return ao3("<p>" + '<i x"y=">word</i> ' * 60_000 + "</p>"), "quotes.html"


@pytest.mark.timeout(TIMEOUT)
def test_quotes_inside_tags_do_not_make_the_parser_quadratic() -> None:
    story = parse(*quoted_attribute_names())

    # Read as html.parser reads it: each unfinished tag is text, the end tags close nothing.
    assert story.sections[0].text == " ".join(['<i x"y=">word'] * 60_000)


@case("an unclosed 10 MB comment")
def unclosed_comment() -> tuple[bytes, str]:
    return ao3_fill("x", head="<p>Story.</p><!--", tail=""), "comment.html"


@pytest.mark.timeout(TIMEOUT)
def test_stray_angle_brackets_are_text() -> None:
    assert parse(*stray_angle_brackets()).sections[0].text == "<a" * 250_000
    assert parse(*stray_quoted_angle_brackets()).sections[0].text == ('<a "' * 250_000).rstrip()


@pytest.mark.timeout(TIMEOUT)
def test_millions_of_stray_angle_brackets_are_refused() -> None:
    # AO3 writes a "<" in a story as "&lt;": a file of millions is not a download.
    message = refusal(*stray_angle_bracket_flood())

    assert f"has more HTML markup than any story needs (over {MAX_TAGS:,} tags)" in message


@pytest.mark.timeout(TIMEOUT)
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


@pytest.mark.timeout(TIMEOUT)
def test_a_ten_megabyte_html_paragraph_is_one_paragraph() -> None:
    story = parse(*giant_html_paragraph())

    count = (LIMIT - AO3_OVERHEAD - len("<p></p>") - 64) // 5
    assert story.sections[0].text == " ".join(["word"] * count)


@pytest.mark.timeout(TIMEOUT)
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


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize(
    "build", [nul_bytes, random_bytes, random_bytes_after_bom, random_bytes_html]
)
def test_binary_data_is_refused_as_binary(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert "looks like binary data, not a text file" in message
    assert "Upload the story as plain text (.txt)" in message


@pytest.mark.timeout(TIMEOUT)
def test_random_high_bytes_are_refused_as_an_unsupported_encoding() -> None:
    message = refusal(*random_high_bytes())

    assert "is not in a supported encoding (UTF-8, UTF-16 with BOM, or Windows-1252)" in message


@pytest.mark.timeout(TIMEOUT)
def test_random_bytes_after_a_utf16_mark_are_refused_as_bad_utf16() -> None:
    message = refusal(*random_bytes_after_utf16_bom())

    assert "starts like UTF-16 text but is not valid UTF-16" in message


@pytest.mark.timeout(TIMEOUT)
def test_a_stray_nul_is_dropped_not_taken_for_binary() -> None:
    data, name = stray_nul()
    story = parse(data, name)

    assert story.words == (len(data) - len(HEADER)) // 5
