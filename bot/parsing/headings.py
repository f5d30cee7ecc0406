"""Recognising chapter headings in plain text: `Chapter 1`, `CHAPTER IV.`, `Part Two`, `Prologue`.

Only single lines are judged here; whether a heading line really starts a
chapter (it stands alone, it is not a table-of-contents entry) is decided by
the section splitter, which sees the whole story.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

__all__ = ("CHAPTER", "CONTAINER", "Heading", "join_heading_title", "match_heading")

# Ranks: containers hold chapters (a VOLUME or BOOK line right above a CHAPTER
# line is part of that chapter's title); chapters are the sections.
CONTAINER = 0
CHAPTER = 1

MAX_HEADING_CHARS = 160

_UNITS = "one|two|three|four|five|six|seven|eight|nine"
_TEENS = "ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNIT_ORDINALS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
_TEEN_ORDINALS = (
    "tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|"
    "eighteenth|nineteenth"
)
_TENS_ORDINALS = "twentieth|thirtieth|fortieth|fiftieth|sixtieth|seventieth|eightieth|ninetieth"
_NUMBER_WORD = (
    rf"(?:(?:{_TENS})(?:[-\s](?:{_UNITS}|{_UNIT_ORDINALS}))?"
    rf"|{_TENS_ORDINALS}|{_TEEN_ORDINALS}|{_TEENS}|{_UNIT_ORDINALS}|{_UNITS}"
    r"|(?:one\s+)?hundred(?:th)?|last|final)"
)
# A well-formed Roman numeral (I to MMMCMXCIX); the lookahead refuses the empty one.
_ROMAN = r"(?=[ivxlcdm])m{0,3}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"

_KEYWORD_HEADING = re.compile(
    rf"(?P<kw>chapter|chap\.|ch\.|part|book|volume|vol\.)"
    rf"(?:\s*(?P<digits>\d{{1,4}})|\s+(?P<roman>{_ROMAN})|\s+(?:the\s+)?(?P<word>{_NUMBER_WORD}))"
    r"(?![\w'’])(?:\s*(?:/|of)\s*\d{1,4}(?!\w))?"
    r"(?P<rest>.*)",
    re.IGNORECASE,
)
_NAMED_HEADING = re.compile(
    r"(?P<kw>prologue|epilogue|preface|foreword|afterword|interlude|introduction)"
    r"(?![\w'’])(?P<rest>.*)",
    re.IGNORECASE,
)
_BARE_NUMBER = re.compile(rf"(?:(?P<digits>\d{{1,3}})|(?P<roman>{_ROMAN}))\.?", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*[.:\-–—)(|,~]+\s*")
_CONTAINER_WORDS = frozenset({"part", "book", "volume", "vol."})
_SPACES = re.compile(r"\s+")

# Every heading starts with one of these (a keyword, a numeral, a digit): a cheap first test.
_FIRST_CHARS = frozenset("cpbvefailxdmCPBVEFAILXDM0123456789")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


class Heading(NamedTuple):
    # A NamedTuple rather than a frozen dataclass: a novel has thousands of
    # these, and tuples are much cheaper to make.
    title: str
    rank: int
    # For a bare numeral ("IV.", "12"): its value, so the splitter can insist
    # that such headings count up (I, II, III...) before trusting them.
    number: int | None = None
    # Whether the heading line carries its own title ("Chapter 3: The Storm").
    titled: bool = False


def match_heading(line: str) -> Heading | None:
    """The heading a single line announces, if it looks like one."""
    text = line.strip()
    if not text or len(text) > MAX_HEADING_CHARS or text[0] not in _FIRST_CHARS:
        return None
    return _match_heading(text)


# Cached (on short, stripped lines only, so the cache stays small): the section
# splitter asks about a line more than once, and a hostile file repeats one
# heading-shaped line hundreds of thousands of times.
@functools.lru_cache(maxsize=4096)
def _match_heading(text: str) -> Heading | None:
    text = _SPACES.sub(" ", text)
    match = _KEYWORD_HEADING.fullmatch(text)
    if match:
        rest = match.group("rest")
        if not _valid_rest(rest):
            return None
        keyword = match.group("kw").lower()
        rank = CONTAINER if keyword in _CONTAINER_WORDS else CHAPTER
        return Heading(title=text, rank=rank, titled=bool(rest.strip(" .")))
    match = _NAMED_HEADING.fullmatch(text)
    if match:
        rest = match.group("rest")
        if not _valid_rest(rest):
            return None
        return Heading(title=text, rank=CHAPTER, titled=bool(rest.strip(" .")))
    match = _BARE_NUMBER.fullmatch(text)
    if match:
        if match.group("digits"):
            number = int(match.group("digits"))
        else:
            number = _roman_value(match.group("roman"))
        return Heading(title=text, rank=CHAPTER, number=number)
    return None


def _valid_rest(rest: str) -> bool:
    """What follows the number: nothing, or a separator and a title."""
    if not rest.strip():
        return True
    separator = _SEPARATOR.match(rest)
    if not separator:
        return False
    title = rest[separator.end() :]
    if not title:
        return True
    # "Chapter I. was long" is prose that happens to start with a heading word.
    return not ("." in separator.group() and title[0].islower())


def join_heading_title(heading: Heading, title_line: str) -> str:
    """One title from a heading line and the title line under it.

    `CHAPTER I.` + `Down the Rabbit-Hole` -> `CHAPTER I. Down the Rabbit-Hole`;
    `VOLUME I` + `FANTINE` -> `VOLUME I: FANTINE`; a heading that already has a
    title (`CHAPTER XIII—THE SOLUTION OF ... WITH THE`) simply continues.
    """
    title_line = _SPACES.sub(" ", title_line.strip())
    if heading.title[-1:].isalnum() and not heading.titled:
        return f"{heading.title}: {title_line}"
    return f"{heading.title} {title_line}"


def _roman_value(numeral: str) -> int:
    total = 0
    previous = 0
    for ch in reversed(numeral.lower()):
        value = _ROMAN_VALUES[ch]
        if value < previous:
            total -= value
        else:
            total += value
            previous = value
    return total
