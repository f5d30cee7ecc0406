"""Search hits: an FTS5 snippet, escaped, its matched words in bold, in one spoiler."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.render.escape import escape_inline, spoiler
from bot.render.labels import ELLIPSIS, truncate

__all__ = ("MATCH_END", "MATCH_START", "SNIPPET_LIMIT", "render_snippet")

SNIPPET_LIMIT = 300
# FTS5 snippet() markers around matched words (bot.db.search passes these same ones).
MATCH_START = "\x02"
MATCH_END = "\x03"

_MARKER = re.compile(f"([{MATCH_START}{MATCH_END}])")


@dataclass(slots=True)
class _Tokens:
    """A snippet's words, in parallel lists: its text, whether it is a matched word,
    whether whitespace stood before it."""

    texts: list[str]
    matches: list[bool]
    spaced: list[bool]


def _snippet_tokens(snippet: str) -> _Tokens:
    """The words between whitespace and markers. A word the markers split with no space
    between ("@" + "everyone") stays one word when both sides are matched or neither is.

    Split at the markers first, then at whitespace (both in C): most snippets hold
    one or two marked words among two dozen."""
    texts: list[str] = []
    matches: list[bool] = []
    spaced: list[bool] = []
    matching = space = False
    for piece in _MARKER.split(snippet):
        if piece == MATCH_START:
            matching = True
            continue
        if piece == MATCH_END:
            matching = False
            continue
        words = piece.split()
        if not words:
            space = space or bool(piece)
            continue
        space = space or piece[0].isspace()
        first = words[0]
        if texts and not space and matches[-1] == matching:
            texts[-1] += first
        else:
            texts.append(first)
            matches.append(matching)
            spaced.append(space)
        rest = len(words) - 1
        if rest:
            texts.extend(words[1:])
            matches.extend([matching] * rest)
            spaced.extend([True] * rest)
        space = piece[-1].isspace()
    return _Tokens(texts, matches, spaced)


# Emphasis marks at the edges of words (`*word*`, `_word_`, `**word**`, `~~word~~`).
_EMPHASIS_MARKS = re.compile(r"(?<![^\W_])[*_~]+|[*_~]+(?![^\W_])")
_HAS_EMPHASIS = re.compile(r"[*_~]")
# Every character `escape_inline` or the emphasis rule can act on in a token (a
# token holds no whitespace, so the line-start rules that need a space after their
# mark, "- ", "1. ", "* ", never apply): a word without any is shown as it is, and
# most words pass this check, which is cheaper than escaping.
_MAY_ESCAPE = re.compile(r"[\\|`\[*_~>#@<]")


def render_snippet(snippet: str, *, limit: int = SNIPPET_LIMIT) -> str:
    """A search hit: FTS5 snippet text, escaped, matched words in bold, in one spoiler.

    ``snippet`` marks matched words with ``MATCH_START``/``MATCH_END``. Context is
    dropped word by word from the far side of the first match until it fits ``limit``.
    """
    tokens = _snippet_tokens(snippet)
    texts, matches, spaced = tokens.texts, tokens.matches, tokens.spaced
    count = len(texts)
    if not count:
        return spoiler(ELLIPSIS)
    cap = max(1, (limit - 16) // 2)  # so one escaped word always fits
    if _MAY_ESCAPE.search(snippet) is None and max(map(len, texts)) <= cap:
        # Most snippets: no word holds anything to strip or escape.
        escaped = texts
    else:
        texts = [_shown_word(text, cap) for text in texts]
        escaped = [
            escape_inline(text) if _MAY_ESCAPE.search(text) is not None else text for text in texts
        ]
    starts = [i for i in range(count) if matches[i] and (i == 0 or not matches[i - 1])]
    budget = limit - 5  # the spoiler bars and a possible pad
    whole = sum(map(len, escaped)) + sum(spaced) - spaced[0] + 4 * len(starts)
    if whole <= budget:
        low, high = 0, count  # most snippets fit whole
    else:
        low, high = _window(escaped, matches, spaced, starts[0] if starts else 0, budget)

    parts: list[str] = []
    if low > 0 and not texts[low].startswith(ELLIPSIS):
        parts.append(ELLIPSIS)
    bold = False
    for i in range(low, high):
        space = " " if i > low and spaced[i] else ""
        if matches[i] != bold:
            parts.extend(("**", space) if bold else (space, "**"))
            bold = matches[i]
        else:
            parts.append(space)
        parts.append(escaped[i])
    if bold:
        parts.append("**")
    if high < count and not texts[high - 1].endswith(ELLIPSIS):
        parts.append(ELLIPSIS)
    return spoiler("".join(parts))


def _shown_word(text: str, cap: int) -> str:
    """One word as a snippet shows it, before escaping: emphasis marks dropped, cut to `cap`."""
    # A snippet is a window of the text: its emphasis marks would show escaped, or
    # half a pair; the words read better without them ("refuses", not "\*refuses\*").
    if _HAS_EMPHASIS.search(text):
        text = _EMPHASIS_MARKS.sub("", text) or text
    if len(text) > cap:
        text = truncate(text, cap)
    return text


def _window(
    escaped: list[str], matches: list[bool], spaced: list[bool], focus: int, budget: int
) -> tuple[int, int]:
    """The words [low, high) shown around the first match (`focus`) within `budget`,
    dropped one at a time from the side farther from it."""
    count = len(escaped)
    # Prefix sums: rendered length with leading spaces, and starts of bold runs.
    cost = [0]
    runs = [0]
    for i in range(count):
        cost.append(cost[-1] + len(escaped[i]) + spaced[i])
        runs.append(runs[-1] + (matches[i] and (i == 0 or not matches[i - 1])))

    def length(low: int, high: int) -> int:
        bold = runs[high] - runs[low] + (matches[low] and low > 0 and matches[low - 1])
        ellipses = (low > 0) + (high < count)
        return cost[high] - cost[low] - spaced[low] + 4 * bold + ellipses

    low, high = max(0, focus - budget), min(count, focus + budget + 1)
    while high - low > 1 and length(low, high) > budget:
        if focus - low > high - 1 - focus:
            low += 1
        else:
            high -= 1
    return low, high
