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

_SNIPPET_TOKEN = re.compile(r"[\x02\x03]|\s+|[^\s\x02\x03]+")


@dataclass(slots=True)
class _Token:
    text: str
    match: bool
    spaced: bool  # whitespace before it in the snippet


def _snippet_tokens(snippet: str) -> list[_Token]:
    tokens: list[_Token] = []
    matching = spaced = False
    for piece in _SNIPPET_TOKEN.findall(snippet):
        if piece == MATCH_START:
            matching = True
        elif piece == MATCH_END:
            matching = False
        elif piece.isspace():
            spaced = True
        elif tokens and not spaced and tokens[-1].match == matching:
            # Glue what the markers split without a space between ("@" + "everyone").
            tokens[-1].text += piece
        else:
            tokens.append(_Token(piece, matching, spaced))
            spaced = False
    return tokens


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
    if not tokens:
        return spoiler(ELLIPSIS)
    cap = max(1, (limit - 16) // 2)  # so one escaped word always fits
    escaped: list[str] = []
    for token in tokens:
        # Most words hold nothing to strip or escape: they are shown as they are.
        marked = _MAY_ESCAPE.search(token.text) is not None
        # A snippet is a window of the text: its emphasis marks would show escaped, or
        # half a pair; the words read better without them ("refuses", not "\*refuses\*").
        if marked and _HAS_EMPHASIS.search(token.text):
            token.text = _EMPHASIS_MARKS.sub("", token.text) or token.text
        if len(token.text) > cap:
            token.text = truncate(token.text, cap)
        escaped.append(escape_inline(token.text) if marked else token.text)
    count = len(tokens)
    # Prefix sums: rendered length with leading spaces, and starts of bold runs.
    cost = [0]
    runs = [0]
    for i, token in enumerate(tokens):
        cost.append(cost[-1] + len(escaped[i]) + token.spaced)
        runs.append(runs[-1] + (token.match and (i == 0 or not tokens[i - 1].match)))

    def length(low: int, high: int) -> int:
        bold = runs[high] - runs[low] + (tokens[low].match and low > 0 and tokens[low - 1].match)
        ellipses = (low > 0) + (high < count)
        return cost[high] - cost[low] - tokens[low].spaced + 4 * bold + ellipses

    budget = limit - 5  # the spoiler bars and a possible pad
    focus = next((i for i, token in enumerate(tokens) if token.match), 0)
    low, high = max(0, focus - budget), min(count, focus + budget + 1)
    while high - low > 1 and length(low, high) > budget:
        if focus - low > high - 1 - focus:
            low += 1
        else:
            high -= 1

    parts: list[str] = []
    if low > 0 and not tokens[low].text.startswith(ELLIPSIS):
        parts.append(ELLIPSIS)
    bold = False
    for i in range(low, high):
        space = " " if i > low and tokens[i].spaced else ""
        if tokens[i].match != bold:
            parts.extend(("**", space) if bold else (space, "**"))
            bold = tokens[i].match
        else:
            parts.append(space)
        parts.append(escaped[i])
    if bold:
        parts.append("**")
    if high < count and not tokens[high - 1].text.endswith(ELLIPSIS):
        parts.append(ELLIPSIS)
    return spoiler("".join(parts))
