"""Rendering: any story text becomes pages that fit, stay in one spoiler and never ping."""

from __future__ import annotations

import itertools
import random
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.render import (
    ELLIPSIS,
    MATCH_END,
    MATCH_START,
    MESSAGE_LIMIT,
    SCENE_SEPARATOR,
    Page,
    escape_inline,
    escape_story_text,
    pick_excerpt,
    render_excerpt,
    render_section,
    render_snippet,
    render_story_text,
    section_label,
    truncate,
    unescape_story_text,
)
from bot.render.snippets import _MAY_ESCAPE
from bot.story import SCENE_BREAK, Rating, RatingLevel

MATURE = Rating("R (language)", RatingLevel.MATURE)
PING = re.compile(r"@everyone|@here|<@!?\d+>|<@&\d+>|<#\d+>|</[^<>\s]+:\d+>", re.I)
FAMILY = "👨‍👩‍👧"
FLAG = "🇬🇧"
THUMB = "👍🏽"
E_ACUTE = "e\u0301"
HOSTILE = [
    "||",
    "|",
    "`",
    "```",
    "@everyone",
    "@here",
    "<@123>",
    "<@!123>",
    "<@&5>",
    "<#7>",
    "</cmd:123>",
    "[x](http://y)",
    "# ",
    "## ",
    "-# ",
    "> ",
    ">>> ",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "**",
    "*",
    "_",
    "__",
    "~~",
    "\\",
    FAMILY,
    FLAG,
    THUMB,
    E_ACUTE,
    SCENE_BREAK,
    "\n",
    "\n\n",
    "\n\n\n\n",
    " ",
    "  ",
    "\t",
    ". ",
    "! ",
    "? ",
    "…",
    "\u200b",
]
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé", min_size=1, max_size=12)
LONG_WORD = st.text(alphabet="abcdefghij", min_size=200, max_size=3000)
SENTENCE = st.lists(WORDS, min_size=1, max_size=30).map(lambda ws: " ".join(ws) + ". ")
REPEATED = st.tuples(SENTENCE, st.integers(1, 60)).map(lambda pair: pair[0] * pair[1])
# Tokens that a reader could plausibly write; combining marks always follow a letter.
TOKEN = st.one_of(
    st.sampled_from(HOSTILE),
    WORDS,
    SENTENCE,
    REPEATED,
    LONG_WORD,
    st.tuples(WORDS, st.sampled_from(["*", "**", "_", "__", "~~"])).map(
        lambda pair: f"{pair[1]}{pair[0]}{pair[1]}"
    ),
)
STORY = st.one_of(
    st.lists(TOKEN, max_size=80).map("".join),
    # Several pages' worth.
    st.lists(st.one_of(REPEATED, LONG_WORD, TOKEN), min_size=10, max_size=60).map("".join),
)
# Anything at all, including lone marks and control characters.
ANY_TEXT = st.one_of(
    STORY, st.text(max_size=3000), st.lists(st.one_of(TOKEN, st.text()), max_size=40).map("".join)
)
FIELD = st.one_of(
    st.text(max_size=400), st.lists(st.sampled_from(HOSTILE) | WORDS, max_size=60).map("".join)
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def render(text: str, **overrides: object) -> list[Page]:
    fields: dict[str, object] = dict(
        story_title="A Week in the Life",
        author="Tester",
        rating=MATURE,
        warnings="Strong language",
        section_number=3,
        section_total=7,
        section_title="On Wednesday, they were almost caught",
        text=text,
    )
    fields.update(overrides)
    return render_section(**fields)  # type: ignore[arg-type]


def split_message(content: str) -> tuple[str, str]:
    """(header, spoiler inner); asserts there is exactly one spoiler and it ends the message."""
    assert content.count("||") == 2, content
    assert "|||" not in content
    assert content.endswith("||")
    header, _, rest = content.partition("||")
    assert header.endswith("\n")
    return header, rest[:-2]


def is_grapheme_boundary(text: str, index: int) -> bool:
    """An independent rough check: nothing that continues a grapheme follows the cut."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if before == "\u200d" or after in "\u200d\ufe0e\ufe0f":
        return False
    if unicodedata.category(after).startswith("M") or 0x1F3FB <= ord(after) <= 0x1F3FF:
        return False
    flags = 0
    while index - 1 - flags >= 0 and "\U0001f1e6" <= text[index - 1 - flags] <= "\U0001f1ff":
        flags += 1
    return not (flags % 2 and "\U0001f1e6" <= after <= "\U0001f1ff")


def body_positions(text: str, pages: list[Page]) -> list[tuple[int, int]]:
    """Where each page's raw text sits in the section; asserts only whitespace is between."""
    positions = []
    cursor = 0
    for page in pages:
        rest = text[cursor:]
        gap = len(rest) - len(rest.lstrip())
        assert rest[gap:].startswith(page.body), (page.number, page.body[:50], rest[gap:][:50])
        start = cursor + gap
        positions.append((start, start + len(page.body)))
        cursor = start + len(page.body)
    assert text[cursor:].strip() == ""
    return positions


def story_inner(inner: str, body: str) -> str:
    """The spoiler's text minus the emphasis closed and reopened around a page break."""
    rendered = render_story_text(body)
    assert rendered in inner
    before, _, after = inner.partition(rendered)
    assert set(before) <= set("*_~"), before
    assert set(after) <= set("*_~\u200b"), after
    return rendered


# --------------------------------------------------------------------------- properties


@PROPERTY
@given(ANY_TEXT)
@example("")
@example("   \n\n  ")
@example("a|" * 1500)
@example("x" * 10_000)
@example(FAMILY * 3000)
@example("e" + "\u0301" * 5000)
@example("<@123>" * 800)
def test_every_page_fits_and_keeps_its_story_text_in_one_spoiler(text: str) -> None:
    pages = render(text)

    assert pages and [p.number for p in pages] == list(range(1, len(pages) + 1))
    for page in pages:
        assert page.total == len(pages)
        assert len(page.content) <= MESSAGE_LIMIT
        header, inner = split_message(page.content)
        assert inner.strip()  # never an empty spoiler
        assert not PING.search(page.content)
        assert "||" not in inner
        assert f"almost caught · Page {page.number}/" in header
        assert "\nSection 3/7 · On Wednesday, they" in header
        assert header.startswith("**A Week in the Life** · by Tester\n")
        assert "Rating: Mature (R (language)) · Warnings: Strong language" in header
        if text.strip():
            assert page.body and page.body == page.body.strip()
            story_inner(inner, page.body)
    if text.strip():
        body_positions(text, pages)


@PROPERTY
@given(STORY)
@example("word " * 3000)
@example((FAMILY + " ") * 400 + FLAG * 1000)
@example(("*" + "italic words " * 200 + "end*\n\n") * 3)
def test_pages_break_between_words_and_graphemes(text: str) -> None:
    pages = render(text)
    if not text.strip():
        return
    positions = body_positions(text, pages)
    for (_, end), (start, _) in itertools.pairwise(positions):
        assert is_grapheme_boundary(text, end) and is_grapheme_boundary(text, start)
        if start == end:
            # No space between two pages: only a word too long for a page is ever cut.
            left = re.search(r"\S*\Z", text[:end]).group()
            right = re.match(r"\S*", text[start:]).group()
            assert len(left + right) > 600, (left[-20:], right[:20])
        else:
            assert text[end:start].isspace()


def added_marks(inner: str, body: str) -> tuple[str, str] | None:
    """The emphasis reopened before and closed after a page's text, if unambiguous."""
    rendered = render_story_text(body)
    if not rendered or rendered[0] in "*_~" or rendered[-1] in "*_~":
        return None
    at = inner.find(rendered)
    return inner[:at], inner[at + len(rendered) :].removesuffix("\u200b")


def marks(text: str) -> list[str]:
    return re.findall(r"\*\*|__|~~|\*|_|~", text)


@PROPERTY
@given(STORY)
@example("*" + "italic words " * 200 + "end* and __" + "under " * 300 + "lined__")
def test_emphasis_cut_by_a_page_break_is_closed_and_reopened(text: str) -> None:
    pages = render(text)
    added = [added_marks(split_message(p.content)[1], p.body) for p in pages]
    if added[0] is not None:
        assert added[0][0] == ""
    if added[-1] is not None:
        assert added[-1][1] == ""
    for this, following in itertools.pairwise(added):
        if this is not None and following is not None:
            assert this[1] == "".join(reversed(marks(following[0])))


@PROPERTY
@given(ANY_TEXT)
def test_unescape_gives_back_exactly_the_text(text: str) -> None:
    assert unescape_story_text(escape_story_text(text)) == text


@PROPERTY
@given(ANY_TEXT)
def test_escaped_text_pings_no_one_and_cannot_close_a_spoiler(text: str) -> None:
    for escaped in (escape_story_text(text), escape_inline(text), render_story_text(text)):
        assert not PING.search(escaped)
        assert "||" not in escaped
        # With every backslash escape taken out, no spoiler bar, backtick or link is left.
        assert not set(re.sub(r"\\.", "", escaped, flags=re.S)) & set("|`[")
        for line in escaped.split("\n"):
            assert not re.match(r"[ \t]*(>|#|-#|[-*+][ \t]|\d+\.[ \t])", line), line


@PROPERTY
@given(FIELD, FIELD, FIELD, FIELD, st.one_of(st.none(), FIELD), STORY)
def test_header_is_short_escaped_and_outside_the_spoiler(
    title: str, author: str, section_title: str, label: str, warnings: str | None, text: str
) -> None:
    pages = render(
        text,
        story_title=title,
        author=author,
        section_title=section_title,
        rating=Rating(label, RatingLevel.TEEN),
        warnings=warnings,
        section_number=123,
        section_total=456,
    )
    for page in pages:
        header, _ = split_message(page.content)
        assert len(header) <= 300
        assert not PING.search(header)
        assert header.count("\n") == 3  # title, section and page, rating; then the spoiler
        assert re.search(rf"Section 123/456 .*Page {page.number}/{page.total}\n", header)
        assert "\nRating: Teen" in header


@PROPERTY
@given(ANY_TEXT, st.integers(0, 2**32))
def test_excerpt_is_a_short_passage_in_one_spoiler(text: str, seed: int) -> None:
    passage = pick_excerpt(text, random.Random(seed))

    assert len(passage) <= 1000
    assert bool(passage) == any(p.strip() and p.strip() != SCENE_BREAK for p in text.split("\n\n"))
    content = render_excerpt(
        story_title="Title",
        author=None,
        rating=MATURE,
        warnings="Angst",
        section_number=2,
        section_total=5,
        section_title="Two",
        passage=passage,
    )
    assert len(content) <= MESSAGE_LIMIT
    header, inner = split_message(content)
    assert "Section 2/5 · Two · Excerpt" in header and "Warnings: Angst" in header
    assert inner.strip() and not PING.search(content)


@PROPERTY
@given(st.lists(st.one_of(FIELD, st.sampled_from([MATCH_START, MATCH_END, ELLIPSIS]))).map("".join))
def test_snippet_fits_in_one_spoiler(snippet: str) -> None:
    content = render_snippet(snippet)
    assert len(content) <= 300
    assert split_message("\n" + content)[1].strip()
    assert not PING.search(content)


@PROPERTY
@given(st.text(max_size=500) | FIELD, st.integers(1, 200))
def test_truncate_keeps_a_prefix_within_the_limit(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text
    elif cut != text.lstrip():  # leading whitespace goes first
        assert cut.endswith(ELLIPSIS)
        assert text.lstrip().startswith(cut.removesuffix(ELLIPSIS))
        assert is_grapheme_boundary(text.lstrip(), len(cut) - 1)


@PROPERTY
@given(st.integers(1, 10_000), FIELD)
def test_section_label_fits_autocomplete(number: int, title: str) -> None:
    label = section_label(number, title)
    assert 1 <= len(label) <= 100
    assert label.startswith(str(number))


# --------------------------------------------------------------------------- examples


def test_short_section_is_one_page_with_header_above_the_spoiler() -> None:
    [page] = render("The kettle sang at five.\n\nNobody came.")
    assert page.content == (
        "**A Week in the Life** · by Tester\n"
        "Section 3/7 · On Wednesday, they were almost caught · Page 1/1\n"
        "Rating: Mature (R (language)) · Warnings: Strong language\n"
        "||The kettle sang at five.\n\nNobody came.||"
    )
    assert page.body == "The kettle sang at five.\n\nNobody came."


def test_rating_label_equal_to_the_level_is_not_repeated_and_no_warnings_line_part() -> None:
    [page] = render("Text.", rating=Rating("Teen", RatingLevel.TEEN), warnings=None, author=None)
    header, _ = split_message(page.content)
    assert header.startswith("**A Week in the Life**\n")
    assert header.endswith("\nRating: Teen\n")


def test_verse_line_breaks_are_kept() -> None:
    verse = "Roses are red,\nViolets are blue,\n  indented, too."
    [page] = render(verse)
    assert split_message(page.content)[1] == verse


def test_emphasis_is_kept() -> None:
    text = "She was *very* sure, **quite** sure, _truly_ __so__ ~~not~~ sure."
    [page] = render(text)
    assert split_message(page.content)[1] == text


def test_scene_break_is_a_visible_separator() -> None:
    [page] = render(f"Before.\n\n{SCENE_BREAK}\n\nAfter.")
    assert split_message(page.content)[1] == f"Before.\n\n{SCENE_SEPARATOR}\n\nAfter."


def test_masked_link_spoiler_code_quote_and_heading_are_neutralised() -> None:
    text = "[click](http://evil) ||out|| `code`\n> quote\n# Big\n-# small\n- item\n1. first"
    [page] = render(text)
    inner = split_message(page.content)[1]
    assert inner == (
        "\\[click](http://evil) \\|\\|out\\|\\| \\`code\\`\n\\> quote\n\\# Big\n"
        "\\-# small\n\\- item\n1\\. first"
    )


def test_header_fields_are_escaped() -> None:
    [page] = render(
        "Text.",
        story_title="**Bold** ||x|| @everyone",
        author="<@123>",
        section_title="# [link](http://y)",
        warnings="`code`",
    )
    header, _ = split_message(page.content)
    assert header == (
        "**\\*\\*Bold\\*\\* \\|\\|x\\|\\| @\u200beveryone** · by <\u200b@123>\n"
        "Section 3/7 · \\# \\[link](http://y) · Page 1/1\n"
        "Rating: Mature (R (language)) · Warnings: \\`code\\`\n"
    )


def test_long_header_fields_are_cut_short() -> None:
    [page] = render("Text.", story_title="Title " * 50, warnings="Violence, " * 50)
    header, _ = split_message(page.content)
    assert len(header) <= 300
    assert header.startswith("**Title Title") and "Title…**" in header
    assert "Warnings: Violence, Violence" in header and header.endswith("Violence…\n")


def test_mentions_are_inert() -> None:
    [page] = render("Hey @everyone and @here, <@123> <@!45> <@&6> <#7> </ping:8>!")
    assert not PING.search(page.content)
    assert "@\u200beveryone" in page.content and "<\u200b@123>" in page.content


def test_escaped_pipe_at_the_end_does_not_close_the_spoiler_early() -> None:
    [page] = render("a pipe|")
    assert page.content.endswith("||a pipe\\|\u200b||")


def test_empty_section_still_shows_a_spoiler() -> None:
    [page] = render("  \n\n ")
    assert page.body == ""
    assert split_message(page.content)[1].strip()


def test_pages_prefer_paragraph_ends() -> None:
    paragraph = "The road went on and on, past fields and towns and rivers. " * 6
    text = "\n\n".join(paragraph.strip() for _ in range(12))
    pages = render(text)
    assert len(pages) > 1
    for _start, end in body_positions(text, pages)[:-1]:
        assert text[end : end + 2] == "\n\n"


def test_pages_then_prefer_sentence_ends() -> None:
    text = "One sentence here, with some words in it. " * 200
    pages = render(text)
    assert len(pages) > 1
    assert all(page.body.endswith(".") for page in pages)


def test_long_italic_paragraph_is_closed_and_reopened() -> None:
    text = "*" + "she whispered the words again " * 150 + "and stopped.*"
    pages = render(text)
    assert len(pages) == 3
    inners = [split_message(page.content)[1] for page in pages]
    assert inners[0].startswith("*she") and inners[0].endswith("*")
    assert inners[1].startswith("*") and inners[1].endswith("*")
    assert inners[2].startswith("*") and inners[2].endswith("stopped.*")
    assert not any(inner.endswith(" *") or inner.startswith("* ") for inner in inners)


def test_unpaired_marks_are_not_closed_or_reopened() -> None:
    text = "5 * 3 and a *stray " + "word " * 600
    pages = render(text)
    assert len(pages) == 2
    assert split_message(pages[1].content)[1].startswith("word")


def test_a_word_longer_than_a_page_is_cut_only_between_graphemes() -> None:
    text = FAMILY * 1000
    pages = render(text)
    assert "".join(page.body for page in pages) == text
    assert all(page.body.startswith(FAMILY) and page.body.endswith("👧") for page in pages)


def test_a_novel_sized_section_paginates() -> None:
    paragraph = "He said *nothing*, and she didn't ask; the rain went on. " * 8
    text = "\n\n".join([paragraph.strip()] * 2000)
    pages = render(text)
    assert all(len(page.content) <= MESSAGE_LIMIT for page in pages)
    assert sum(len(page.body) for page in pages) == len(text) - 2 * (len(pages) - 1)


def test_excerpt_takes_whole_paragraphs_up_to_1000_characters() -> None:
    paragraphs = [f"Paragraph {n} is here. It has two sentences." for n in range(40)]
    text = "\n\n".join(paragraphs)
    passage = pick_excerpt(text, random.Random(7))
    assert 500 <= len(passage) <= 1000
    assert all(part in paragraphs for part in passage.split("\n\n"))


def test_excerpt_of_a_long_paragraph_is_cut_with_an_ellipsis() -> None:
    text = "*" + ("The rain fell on the long road home. " * 60).strip() + "*"
    passage = pick_excerpt(text, random.Random(1))
    assert len(passage) <= 1000
    assert passage.endswith(". " + ELLIPSIS + "*")  # the cut italics are closed again


def test_excerpt_stops_at_a_scene_break() -> None:
    text = f"First part.\n\n{SCENE_BREAK}\n\nSecond part."
    passages = {pick_excerpt(text, random.Random(seed)) for seed in range(20)}
    assert passages == {"First part.", "Second part."}


def test_excerpt_message() -> None:
    content = render_excerpt(
        story_title="Gentle",
        author="Ann",
        rating=Rating("G", RatingLevel.GENERAL),
        warnings=None,
        section_number=1,
        section_total=1,
        section_title="One",
        passage="A soft morning.",
    )
    assert content == (
        "**Gentle** · by Ann\nSection 1/1 · One · Excerpt\nRating: General (G)\n||A soft morning.||"
    )


@PROPERTY
@given(FIELD)
def test_a_snippet_word_without_marks_escapes_to_itself(field: str) -> None:
    """render_snippet skips escaping words that hold no character it could act on;
    for every whitespace-free word (all a snippet's words are) the skip is exact."""
    for word in field.split():
        if _MAY_ESCAPE.search(word) is None:
            assert escape_inline(word) == word


def test_snippet_puts_the_match_in_bold() -> None:
    snippet = f"…and {MATCH_START}Myfanwy{MATCH_END}'s *cage* at @here…"
    # The story's own emphasis marks are dropped from a snippet (a window of the text
    # would show them escaped, or half a pair): "cage", not "\*cage\*".
    assert render_snippet(snippet) == "||…and **Myfanwy**'s cage at @\u200bhere…||"


def test_long_snippet_keeps_the_match() -> None:
    snippet = "word " * 200 + f"{MATCH_START}dragon{MATCH_END} " + "tail " * 200
    content = render_snippet(snippet)
    assert len(content) <= 300 and "**dragon**" in content
    assert content.startswith("||…word") and content.endswith("tail…||")


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("hello world again", 12, "hello world…"),
        ("hello, world", 8, "hello…"),
        (FAMILY * 5, 10, FAMILY + ELLIPSIS),
        ("Caf" + E_ACUTE + "s", 5, "Caf" + ELLIPSIS),
    ],
)
def test_truncate_examples(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


def test_section_label_example() -> None:
    assert section_label(3, "On Wednesday, they were almost caught") == (
        "3 · On Wednesday, they were almost caught"
    )
    long = section_label(3, "On Wednesday, they were almost caught " * 5)
    assert len(long) <= 100 and long.endswith(ELLIPSIS) and long.startswith("3 · On Wednesday")
    assert section_label(4, "  ") == "4"
