"""What makes two titles the same title: one normalisation for storage, look-ups and typing."""

from __future__ import annotations

import re
import unicodedata

__all__ = ("title_key",)

# Zero-width and other invisible format characters: a title that differs only by them
# looks identical on screen, so it must be the same title.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)


def title_key(title: str) -> str:
    """The key a title is stored and found by: NFKC (full-width letters, ligatures and
    composed/decomposed accents agree), invisible characters removed, whitespace
    collapsed, casefolded."""
    text = unicodedata.normalize("NFKC", title)
    text = _INVISIBLE.sub("", text)
    text = " ".join(text.split()).casefold()
    # Casefolding can undo NFKC's composition (e.g. "ẞ" → "ss" is fine, but some
    # letters decompose); normalise once more so equal titles give equal keys.
    return unicodedata.normalize("NFKC", text)
