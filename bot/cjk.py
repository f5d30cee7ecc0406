"""Chinese, Japanese and Korean text for search: runs of CJK characters as bigrams.

FTS5's unicode61 tokenizer keeps a run of CJK characters together as one "word",
so a two-character word inside a sentence is never found. The usual remedy (the
one Lucene's CJK analyzer uses) indexes every pair of neighbouring characters:
"猫が好き" becomes "猫が が好 好き", and a query becomes the phrase of its own
pairs. Latin text is untouched, so English search costs nothing more.
"""

from __future__ import annotations

import re

__all__ = ("CJK_RUN", "grams", "has_cjk", "query_grams")

# Han (with extensions and compatibility ideographs), Hiragana, Katakana (and
# half-width), Hangul syllables and jamo, CJK symbols' iteration marks.
_CJK = (
    "\u3005\u3006\u3007\u3021-\u3029\u3031-\u3035\u3040-\u309f\u30a0-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
    "\U00020000-\U0002fa1f"
)
CJK_RUN = re.compile(f"[{_CJK}]+")


def has_cjk(text: str) -> bool:
    return CJK_RUN.search(text) is not None


def pairs(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def grams(text: str) -> str:
    """The CJK runs of `text` as space-separated bigrams ("" when there are none)."""
    return " ".join(pair for run in CJK_RUN.findall(text) for pair in pairs(run))


def query_grams(text: str) -> str | None:
    """An FTS5 query for the CJK words in `text`: each run as the phrase of its pairs
    (a single character as a prefix, so it matches the pairs it starts). None when
    `text` has no CJK characters."""
    runs = CJK_RUN.findall(text)
    if not runs:
        return None
    parts = []
    for run in runs[:8]:
        if len(run) == 1:
            parts.append(f'"{run}"*')
        else:
            parts.append('"' + " ".join(pairs(run)) + '"')
    return " ".join(parts)
