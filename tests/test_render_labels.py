"""Labels: story-derived text shown in a limited field fits, stays one line and never pings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.render import (
    ELLIPSIS,
    escape_inline,
    rating_text,
    section_label,
    shown,
    unescape_story_text,
)
from bot.story import Rating, RatingLevel

PING = re.compile(r"@everyone|@here|<@!?\d+>|<@&\d+>|<#\d+>|</[^<>\s]+:\d+>", re.I)
RENDER_PACKAGE = Path(__file__).resolve().parents[1] / "bot" / "render"
HOSTILE = [
    "||",
    "|",
    "`",
    "```",
    "[x](y)",
    "[x](http://y)",
    "@everyone",
    "@here",
    "@\u200beveryone",
    "<@1>",
    "<@!1>",
    "<@&5>",
    "<#7>",
    "</cmd:1>",
    "#",
    "# ",
    "-# ",
    ">",
    "> ",
    ">>> ",
    "- ",
    "* ",
    "1. ",
    "**",
    "*",
    "_",
    "__",
    "~~",
    "\\",
    "👨‍👩‍👧",
    "🇬🇧",
    "👍🏽",
    "e\u0301",
    "a\u0301\u0302\u0303",
    "\n",
    "\n> ",
    "\n# ",
    " ",
    "\t",
    ", ",
    "…",
    "\u200b",
]
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé", min_size=1, max_size=12)
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(HOSTILE) | WORD, max_size=60).map("".join),
    st.lists(st.sampled_from(HOSTILE) | WORD | st.text(max_size=5), max_size=40).map("".join),
)
LEVELS = st.sampled_from(list(RatingLevel))
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one_line(text: str) -> str:
    return " ".join(text.split())


def assert_prefix_of_the_line(result: str, text: str) -> None:
    """Unescaping ``result`` gives the whole line, or a prefix of it and "…"."""
    line = one_line(text)
    plain = unescape_story_text(result)
    if plain != line:
        assert plain.endswith(ELLIPSIS), (plain, line)
        assert line.startswith(plain.removesuffix(ELLIPSIS)), (plain, line)


def assert_inert(result: str) -> None:
    assert "\n" not in result
    assert not PING.search(result)
    # Every bar is escaped, so nothing can open or close a spoiler.
    assert "||" not in result and "|" not in result.replace("\\|", "")


# --------------------------------------------------------------------------- shown


@PROPERTY
@given(TEXT, st.integers(1, 120))
@example("||" * 40, 7)
@example("@everyone " * 5, 10)
@example("> quote", 1)
@example("|", 1)
@example("`", 2)
def test_shown_fits_the_limit_and_gives_back_a_prefix(text: str, limit: int) -> None:
    result = shown(text, limit)
    assert len(result) <= limit
    assert_inert(result)
    assert_prefix_of_the_line(result, text)


@PROPERTY
@given(TEXT)
def test_shown_with_room_to_spare_is_the_whole_line_escaped(text: str) -> None:
    assert shown(text, 10_000) == escape_inline(one_line(text))


def test_shown_escapes_before_it_measures() -> None:
    # Truncating to 12 and then escaping would give 17 characters.
    result = shown("a|" * 15, 12)
    assert result == "a\\|a\\|a\\|a…"


def test_shown_puts_a_multi_line_title_on_one_line() -> None:
    # Only the first ">" still starts a line, so only it could make a quote.
    assert shown("> The Kettle\n\n> Part  One", 100) == "\\> The Kettle > Part One"


def test_shown_rejects_a_limit_with_no_room() -> None:
    with pytest.raises(ValueError):
        shown("x", 0)


# --------------------------------------------------------------------------- section labels


@PROPERTY
@given(st.integers(1, 10_000), TEXT, st.integers(1, 120))
def test_escaped_section_label_fits_and_keeps_its_title(
    number: int, title: str, limit: int
) -> None:
    label = section_label(number, title, limit=limit, escaped=True)
    assert 1 <= len(label) <= limit
    assert_inert(label)
    prefix = f"{number} · "
    if label.startswith(prefix):
        assert_prefix_of_the_line(label.removeprefix(prefix), title)
    else:
        assert unescape_story_text(label).removesuffix(ELLIPSIS) in str(number)


def test_escaped_section_label_example() -> None:
    assert section_label(3, "**Big** @everyone", escaped=True) == (
        "3 · \\*\\*Big\\*\\* @\u200beveryone"
    )
    assert section_label(3, "**Big** @everyone") == "3 · **Big** @everyone"


# --------------------------------------------------------------------------- rating text


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        (Rating("Mature", RatingLevel.MATURE), "Mature"),
        (Rating("  MATURE\n", RatingLevel.MATURE), "Mature"),
        (Rating("Not  rated", RatingLevel.NOT_RATED), "Not Rated"),
        (Rating.not_rated(), "Not Rated"),
        (Rating("", RatingLevel.TEEN), "Teen"),
        (Rating("M", RatingLevel.MATURE), "Mature (M)"),
        (Rating("R (language)", RatingLevel.MATURE), "Mature (R (language))"),
        (Rating("Teen And Up Audiences", RatingLevel.TEEN), "Teen (Teen And Up Audiences)"),
        (
            Rating("**NC-17** @everyone", RatingLevel.EXPLICIT),
            "Explicit (\\*\\*NC-17\\*\\* @\u200beveryone)",
        ),
    ],
)
def test_rating_text(rating: Rating, expected: str) -> None:
    assert rating_text(rating) == expected


def test_rating_label_is_cut_to_the_cap() -> None:
    text = rating_text(Rating("Mature because " * 10, RatingLevel.MATURE), cap=24)
    assert text.startswith("Mature (Mature because") and text.endswith(f"{ELLIPSIS})")
    assert len(text) <= len("Mature ()") + 24


@PROPERTY
@given(TEXT, LEVELS, st.none() | st.integers(1, 60))
def test_rating_text_never_doubles_and_never_pings(
    label: str, level: RatingLevel, cap: int | None
) -> None:
    text = rating_text(Rating(label, level), cap=cap)
    display = level.display
    assert_inert(text)
    if one_line(label).casefold() in ("", display.casefold()):
        assert text == display
    else:
        assert text.startswith(f"{display} (") and text.endswith(")")
        inner = text.removeprefix(f"{display} (").removesuffix(")")
        assert inner.casefold() != display.casefold()
        if cap is not None:
            assert len(inner) <= cap
        assert_prefix_of_the_line(inner, label)


# --------------------------------------------------------------------------- package shape


def test_no_render_module_imports_another_modules_private_name() -> None:
    for path in sorted(RENDER_PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.render"):
                private = [alias.name for alias in node.names if alias.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
