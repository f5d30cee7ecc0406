"""Where text may be cut without splitting what a reader sees as one character.

A standard-library approximation of extended grapheme clusters: enough to never cut
an emoji sequence, a flag, a skin tone, or a letter from its combining marks. Doubled
formatting marks (``**``, ``__``, ``~~``, ``||``) are kept whole as well, so a cut
never turns one emphasis marker into another.
"""

from __future__ import annotations

import unicodedata

__all__ = ("FORMAT_MARKS", "MAX_CLUSTER", "is_boundary")

FORMAT_MARKS = "*_~|"
# How far back a hard cut looks for a boundary before giving up (a "grapheme" longer
# than this is abuse, e.g. Zalgo text, and is cut anyway).
MAX_CLUSTER = 64

_ZWJ = "\u200d"
_MARK_CATEGORIES = frozenset({"Mn", "Mc", "Me"})


def _extends(char: str) -> bool:
    """True if ``char`` belongs to the grapheme before it."""
    cp = ord(char)
    if cp < 0x300:
        return False
    return (
        char == _ZWJ
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
        or 0xE0100 <= cp <= 0xE01EF
        or unicodedata.combining(char) != 0
        or unicodedata.category(char) in _MARK_CATEGORIES
    )


def _is_regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def is_boundary(text: str, index: int, start: int = 0) -> bool:
    """May ``text`` be cut before ``index``? Never inside a grapheme or a ``**``-like mark.

    ``start`` is a known boundary at or before ``index``, which bounds the look-back
    that pairs regional indicators into flags.
    """
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if before == _ZWJ or _extends(after):
        return False
    if before == "\r" and after == "\n":
        return False
    if before == after and after in FORMAT_MARKS:
        return False
    if _is_regional(after) and _is_regional(before):
        run = 0
        i = index - 1
        while i >= start and _is_regional(text[i]):
            run += 1
            i -= 1
        return run % 2 == 0
    return True
