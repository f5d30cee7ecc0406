"""Where a page or a passage may end: paragraph ends, then sentence ends, then spaces.

A word is cut only when it does not fit on a page by itself, and then only at a
grapheme boundary that does not touch a formatting mark.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from bot.render.graphemes import FORMAT_MARKS, MAX_CLUSTER, is_boundary

__all__ = ("SENTENCE_PUNCTUATION", "choose_break", "skip_space", "word_breaks")

log = logging.getLogger(__name__)

_NON_SPACE = re.compile(r"\S")
# Whitespace a page may break at: any but the no-break spaces ("Bonjour !").
_BREAK_SPACE = re.compile(r"[^\S\xa0\u2007\u202f]+")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]*_~]*(?=[^\S\xa0\u2007\u202f])|[。！？]+[」』”’）)]*")
# A passage ending in one of these reads as a finished sentence.
SENTENCE_PUNCTUATION = frozenset(".!?…。！？\"'”’»)]")


def skip_space(text: str, index: int) -> int:
    """The first non-space index at or after ``index`` (``len(text)`` if none)."""
    match = _NON_SPACE.search(text, index)
    return match.start() if match else len(text)


def _trim_end(text: str, start: int, index: int) -> int:
    while index > start and text[index - 1].isspace():
        index -= 1
    return index


def _paragraph_breaks(text: str, start: int, limit: int) -> Iterator[tuple[int, int]]:
    """(end, next start) of paragraph ends in ``text[start:limit]``, last first."""
    found = text.rfind("\n\n", start + 1, limit + 2)
    while found > start:
        yield _trim_end(text, start, found), skip_space(text, found)
        found = text.rfind("\n\n", start + 1, found + 1)


def _sentence_breaks(text: str, start: int, limit: int) -> Iterator[tuple[int, int]]:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, start + 1, limit + 2)]
    for end in reversed(ends):
        if end <= limit:
            yield end, skip_space(text, end)


def word_breaks(text: str, start: int, limit: int) -> Iterator[tuple[int, int]]:
    """(end, next start) of the spaces in ``text[start:limit]`` a line may break at, last first."""
    window = text[start + 1 : limit + 1][::-1]
    base = start + 1 + len(window)
    for match in _BREAK_SPACE.finditer(window):
        space = base - match.end()
        yield _trim_end(text, start, space), skip_space(text, space)


def choose_break(text: str, start: int, limit: int) -> tuple[int, int]:
    """Where a page that starts at ``start`` and may run to ``limit`` should end.

    Returns (end of this page's text, start of the next page's). A paragraph end is
    preferred, then a sentence end, then a space, as long as the page is at least half
    full; a space anywhere comes next; a word is cut (at a grapheme boundary) only when
    it does not fit on a page by itself.
    """
    half = start + (limit - start) // 2
    for breaks in (_paragraph_breaks, _sentence_breaks, word_breaks):
        for end, following in breaks(text, start, limit):
            if end < half:
                break
            if _can_break(text, start, end, following):
                return end, following
    for end, following in word_breaks(text, start, limit):
        if _can_break(text, start, end, following):
            return end, following
    cut = _hard_cut(text, start, limit)
    return cut, skip_space(text, cut)


def _can_break(text: str, start: int, end: int, following: int) -> bool:
    if not (is_boundary(text, end, start) and is_boundary(text, following, start)):
        return False
    # Without a space between, a mark at the cut could read as closing the emphasis
    # the page break closes and reopens ("**" instead of "*").
    return following > end or (text[end - 1] not in FORMAT_MARKS and text[end] not in FORMAT_MARKS)


def _hard_cut(text: str, start: int, limit: int) -> int:
    """The last grapheme boundary in a word too long for one page, not next to ``**``."""
    floor = max(start + 1, limit - MAX_CLUSTER)
    for cut in range(limit, floor - 1, -1):
        if _can_break(text, start, cut, cut):
            return cut
    log.debug("no grapheme boundary near %d; cutting there anyway", limit)
    return limit
