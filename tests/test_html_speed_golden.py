"""The fast paths in bot.parsing.html give exactly what the plain computations they stand for give.

Each shortcut (a cheaper count that settles a guard, a pattern that leaves out
tags that never add depth, a first-character test before the ornament pattern,
no space kept before a block's end) is checked here against the computation it
replaces, on generated markup and with the caps lowered so that both sides of
every limit are reached.
"""

from __future__ import annotations

import re
from itertools import accumulate

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing import html
from bot.parsing.html import MarkupLimitError, parse_document, render

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# fmt: off
TAG_PIECES = [
    "<p>", "</p>", "<P>", "<div>", "</div>", "<DIV class='x'>", "<span>", "</span>",
    "<em>", "</em>", "<br>", "<br/>", '<a href="x">', "</a>", "<li>", "</li>", "<ul>",
    "</ul>", "<b>", "</b>", "<pre>", "</pre>", "<param>", "<progress>", "<p_x>", "<li2>",
    "<p a a a a a>", "<p " + "a " * 12 + ">", '<p title="a>b" c d>', "<", ">", "<3",
    "<a", '="', "='", "=", ' x="y" ', "<!--", "-->", "<!x>", "<?x?>", "</x>", "text ",
    "é ", "\n", "<blockquote>", "</blockquote>", "<h1>", "</h1>",
]
# fmt: on
PIECES = st.sampled_from(TAG_PIECES)
MARKUP = st.lists(PIECES, max_size=60).map("".join)


def _all_heads_depth(data: bytes) -> int:
    """The depth from every tag's name, none left out by the pattern (as it was read before)."""
    heads = re.findall(rb"<(/?[a-zA-Z][a-zA-Z0-9]*)", data)
    return max(accumulate(map(html._DEPTH_SIGNS.__getitem__, heads)), default=0)


@FAST
@given(MARKUP)
def test_the_depth_is_the_same_with_the_flat_tags_left_out(markup: str) -> None:
    data = markup.encode()
    # Only whether it is over MAX_DEPTH matters, and that can only differ below 0.
    assert html._depth(data) == max(_all_heads_depth(data), 0)


@FAST
@given(MARKUP, st.integers(min_value=0, max_value=12))
def test_the_attribute_guard_agrees_with_the_exact_count(markup: str, limit: int) -> None:
    data = markup.encode()
    # Short "long" tags, so that generated markup has bare attributes to count.
    long_tag = re.compile(rb"<[a-zA-Z][^<>]{8,}>")
    bare = sum(len(match.group().split()) - 1 for match in long_tag.finditer(data))
    exact = data.count(b'="') + data.count(b"='") + bare
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(html, "MAX_ATTRIBUTES", limit)
        patch.setattr(html, "_LONG_TAG_RE", long_tag)
        assert html._too_many_attributes(data) == (exact > limit)


@FAST
@given(MARKUP, st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=30))
def test_the_element_guard_agrees_with_the_exact_count(
    markup: str, max_tags: int, max_elements: int
) -> None:
    data = html._strip_comments(markup.encode())
    expected: str | None = None
    if data.count(b"<") > max_tags:
        expected = "tags"
    else:
        data = html._STRAY_LT_RE.sub(b"&lt;", data)
        if data.count(b"<") - data.count(b"</") > max_elements:
            expected = "elements"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(html, "MAX_TAGS", max_tags)
        patch.setattr(html, "MAX_ELEMENTS", max_elements)
        patch.setattr(html, "MAX_ATTRIBUTES", 10**9)
        try:
            parse_document(markup)
            raised = None
        except MarkupLimitError as error:
            raised = error.what
    assert raised == expected


ORNAMENT_TEXT = st.text(
    alphabet=st.sampled_from(list("*~#=_-–—•·◇◆○●❖♦✦✧§oOxX \t\n\xa0\u2003ab.")), max_size=12
)


@FAST
@given(ORNAMENT_TEXT)
def test_every_ornament_starts_with_a_character_the_shortcut_tries(text: str) -> None:
    if html._ORNAMENT_RE.fullmatch(text.strip()):
        first = text[:1]
        assert first in html._ORNAMENT_FIRST or first.isspace()


@pytest.mark.parametrize(
    ("markup", "paragraphs"),
    [
        # The space before a block's end is dropped; inside an inline element it is kept.
        ("<p><em>a</em>\n</p><p>b</p>", ["*a*", "b"]),
        ("<p>a <b>b</b>\n</p>", ["a **b**"]),
        ("<p><em>a</em><span>\n</span>b</p>", ["*a* b"]),
        ("<ul><li>one\n</li><li><em>two</em>\n</li></ul>", ["• one", "• *two*"]),
        ("<div><span>a</span>\n<span>b</span>\n</div>", ["a b"]),
        ("<p>a<br>\n</p>", ["a"]),
        ("<pre>a\n</pre>", ["a"]),
    ],
)
def test_space_at_the_end_of_a_block(markup: str, paragraphs: list[str]) -> None:
    tree = parse_document(f"<html><body><div id='c'>{markup}</div></body></html>")
    assert render([tree.css_first("div#c")]) == paragraphs
