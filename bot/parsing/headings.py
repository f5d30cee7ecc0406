"""Recognising chapter headings in plain text: `Chapter 1`, `CHAPTER IV.`, `Part Two`, `Prologue`.

Only single lines are judged here; whether a heading line really starts a
chapter (it stands alone, it is not a table-of-contents entry) is decided by
the section splitter, which sees the whole story.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

__all__ = (
    "CHAPTER",
    "CONTAINER",
    "FRONT_KEYWORDS",
    "HEADING_FIRST_CHARS",
    "Heading",
    "HeadingMemo",
    "is_heading_candidate",
    "join_heading_title",
    "match_candidate",
    "match_heading",
    "plain_title",
)

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

# The words that announce a numbered division. A play's ACT holds its SCENEs the way
# a BOOK holds chapters; a STAVE (Dickens), CANTO or LETTER (Frankenstein) is a chapter.
_KEYWORDS = r"chapter|chap\.|ch\.|part|book|volume|vol\.|stave|act|scene|canto|letter"
# A digit after the keyword rules the number words out at once: trying each of them
# after "Chapter 12345" (five digits: not a chapter number) costs more than the rest.
_KEYWORD_HEADING = re.compile(
    rf"(?P<kw>{_KEYWORDS})"
    rf"(?:\s*(?P<digits>\d{{1,4}})|\s+(?P<roman>{_ROMAN})"
    rf"|\s+(?!\d)(?:the\s+)?(?P<word>{_NUMBER_WORD}))"
    r"(?![\w'’])(?:\s*(?:/|of)\s*\d{1,4}(?!\w))?"
    r"(?P<rest>.*)",
    re.IGNORECASE,
)
# "FIRST ACT", "The Second Book": the ordinal before the keyword.
_ORDINAL_FIRST = re.compile(
    rf"(?:the\s+)?(?P<word>{_TENS_ORDINALS}|{_TEEN_ORDINALS}|{_UNIT_ORDINALS}|last|final)\s+"
    rf"(?P<kw>{_KEYWORDS})(?![\w'’])(?P<rest>.*)",
    re.IGNORECASE,
)
# "THE PROLOGUE", "Interlude II", "Epilogue: Ten Years Later".
_NAMES = "prologue|epilogue|preface|foreword|afterword|interlude|introduction"
_NAMED_HEADING = re.compile(
    rf"(?:the\s+)?(?P<kw>{_NAMES})"
    rf"(?:\s+(?:\d{{1,4}}|{_ROMAN}|{_NUMBER_WORD}))?"
    r"(?![\w'’])(?P<rest>.*)",
    re.IGNORECASE,
)
# Headings that introduce the book rather than tell the story: before the first
# chapter they are front matter.
FRONT_KEYWORDS = frozenset({"preface", "foreword", "introduction"})
# Emphasis and quote marks around a heading line: "**Chapter 1**", "__Part Two__", "> *Title*".
_QUOTE_MARKS = re.compile(r"^(?:>[ \t]*)+")
_EMPHASIS = re.compile(r"(?<!\\)\*+|~~|(?<![^\W_\\])_+|_+(?![^\W_])")
# A Markdown backslash escape (pandoc writes "Ace\'s").
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!'\"$<>|~])")
_BARE_NUMBER = re.compile(rf"(?:(?P<digits>\d{{1,3}})|(?P<roman>{_ROMAN}))\.?", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*[.:\-–—)(|,~]+\s*")
_CONTAINER_WORDS = frozenset({"part", "book", "volume", "vol.", "act"})
_SPACES = re.compile(r"\s+")

# Every heading starts with one of these (a keyword, an ordinal, a numeral, a digit, an
# emphasis mark): a cheap first test.
_FIRST_CHARS = frozenset("cpbvefailxdmstnCPBVEFAILXDMSTN0123456789*_")
HEADING_FIRST_CHARS = _FIRST_CHARS
# The words a heading can start with, matched before the full patterns: a line of prose
# ("The rain fell.", "Scenery...") is turned away here, without the cache or the full
# patterns.
# One case-blind alternation of eighty words costs thousands of steps a line, so the
# first word is taken with a short pattern and looked up in a set. The word's letters are
# the group; a digit leaves it empty. ("Chap." and "Chap" are the same word here.)
_FIRST_WORD = re.compile(r"[*_]*(?:([A-Za-z]+)\.?|\d)")
_CANDIDATE_WORDS = frozenset(
    {
        *(word.removesuffix("\\.") for word in _KEYWORDS.split("|")),
        *["the", "last", "final"],
        *_NAMES.split("|"),
        *_TENS_ORDINALS.split("|"),
        *_TEEN_ORDINALS.split("|"),
        *_UNIT_ORDINALS.split("|"),
    }
)
_ROMAN_CHARS = frozenset("ivxlcdm")


def _leads(*alternations: str) -> frozenset[str]:
    return frozenset(word[:2] for words in alternations for word in words.split("|"))


# How each pattern's lines start: the first two letters of its words (in either case).
# A line that starts otherwise in ASCII is not tried against it; one that starts with
# other characters is tried against all (case-blind matching lets "ſ" stand for "s"). A
# bare numeral starts with a digit or a Roman one, and is the whole line: a line with a
# space in it is not one.
_KEYWORD_LEADS = _leads(_KEYWORDS)
_ORDINAL_LEADS = _leads("the|last|final", _TENS_ORDINALS, _TEEN_ORDINALS, _UNIT_ORDINALS)
_NAMED_LEADS = _leads("the", _NAMES)
_NUMBER_INITIALS = frozenset("0123456789") | _ROMAN_CHARS


def is_heading_candidate(text: str) -> bool:
    """Whether a stripped line starts the way a heading can: a cheap first test."""
    space = text.find(" ")
    word = text if space < 0 else text[:space]
    if word.isalpha() and word.isascii():
        # A plain first word ("She", "Chapter", "IV"), the common case, without the pattern.
        word = word.lower()
        return word in _CANDIDATE_WORDS or (space < 0 and set(word) <= _ROMAN_CHARS)
    match = _FIRST_WORD.match(text)
    if match is None:
        return False
    letters = match.group(1)
    if letters is None:
        return True  # a digit
    word = letters.lower()
    if word in _CANDIDATE_WORDS:
        return True
    # A bare Roman numeral ("IV", "XII.") is a heading only as the whole line.
    return match.end() == len(text) and set(word) <= _ROMAN_CHARS


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
    # The announcing word, lower case ("chapter", "act", "prologue"); "" for a bare numeral.
    keyword: str = ""


def match_heading(line: str) -> Heading | None:
    """The heading a single line announces, if it looks like one."""
    text = line.strip()
    if not text or len(text) > MAX_HEADING_CHARS or text[0] not in _FIRST_CHARS:
        return None
    if not is_heading_candidate(text):
        return None  # most lines of prose, decided by their first word
    return _remembered_candidate(text)


class HeadingMemo:
    """`match_candidate` for the lines of one story, remembered.

    A story repeats a few heading-shaped lines ("SCENE I" in every act); a hostile file
    repeats one 100,000 times, or cycles through thousands of them. Most lines are asked
    about once, so remembering must cost little: a dictionary that starts again when full.

    Lines refused are also remembered by their shape, every ASCII digit read as 0: the
    patterns match a digit as any digit and no refusal depends on a number's value, so
    "Scene 41 begins here." is refused as "Scene 12 begins here." was, without the
    patterns (100,000 numbered lines of prose that start with a heading word).
    """

    __slots__ = ("_known", "_refused")
    _LIMIT = 16_384

    def __init__(self) -> None:
        self._known: dict[str, Heading | None] = {}
        self._refused: set[bytes] = set()

    def __call__(self, text: str) -> Heading | None:
        known = self._known
        if text in known:
            return known[text]
        if len(known) >= self._LIMIT:
            known.clear()
            self._refused.clear()
        # In UTF-8, where no byte of a longer character is an ASCII digit; bytes
        # translate in a tenth of the time str.translate takes.
        shape = text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO)
        if shape in self._refused:
            known[text] = None
            return None
        heading = known[text] = match_candidate(text)
        if heading is None:
            self._refused.add(shape)
        return heading


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


def plain_title(text: str) -> str:
    """A title as a reader sees it: no quote marks, emphasis or backslash escapes.

    `> *Good afternoon, 47.*` -> `Good afternoon, 47.`;
    `**Chapter 1:** Ace\\'s` -> `Chapter 1: Ace's`.
    """
    text = text.strip()
    if text[:1] == ">":
        text = _QUOTE_MARKS.sub("", text)
    if "*" in text or "_" in text or "~" in text:
        text = _EMPHASIS.sub("", text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    if "  " in text or "\t" in text or "\n" in text or "\xa0" in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


def match_candidate(text: str) -> Heading | None:
    """`match_heading` for a stripped line that has passed its first tests (not empty, at
    most MAX_HEADING_CHARS, a first character in HEADING_FIRST_CHARS, `is_heading_candidate`)."""
    if text[0] in "*_" or "\\" in text:
        text = plain_title(text)
        if not text:
            return None
    if "  " in text or "\t" in text or "\xa0" in text:
        text = _SPACES.sub(" ", text)
    lead = text[:2].lower()
    any_pattern = not lead.isascii()
    match = None
    if any_pattern or lead in _KEYWORD_LEADS:
        match = _KEYWORD_HEADING.fullmatch(text)
    if match is None and (any_pattern or lead in _ORDINAL_LEADS):
        match = _ORDINAL_FIRST.fullmatch(text)
    if match:
        rest = match.group("rest")
        if not _valid_rest(rest):
            return None
        keyword = match.group("kw").lower()
        rank = CONTAINER if keyword in _CONTAINER_WORDS else CHAPTER
        return Heading(title=_bare(text), rank=rank, titled=_has_title(rest), keyword=keyword)
    match = _NAMED_HEADING.fullmatch(text) if any_pattern or lead in _NAMED_LEADS else None
    if match:
        rest = match.group("rest")
        if not _valid_rest(rest):
            return None
        keyword = match.group("kw").lower()
        return Heading(title=_bare(text), rank=CHAPTER, titled=_has_title(rest), keyword=keyword)
    numeral = (any_pattern or lead[:1] in _NUMBER_INITIALS) and " " not in text
    match = _BARE_NUMBER.fullmatch(text) if numeral else None
    if match:
        if match.group("digits"):
            number = int(match.group("digits"))
        elif match.group("roman").isascii():
            number = _roman_value(match.group("roman"))
        else:
            return None  # "Cİ": case-blind matching let a dotted capital I through
        return Heading(title=text, rank=CHAPTER, number=number)
    return None


# Cached (on short, stripped lines only, so the cache stays small): the section
# splitter asks about a line more than once, and a hostile file repeats one
# heading-shaped line hundreds of thousands of times.
_remembered_candidate = functools.lru_cache(maxsize=4096)(match_candidate)


def _looks_like_title(text: str) -> bool:
    words = text.split()
    if not words or len(words) > 12 or not text[0].isupper():
        return False
    return all(word[0].isupper() or len(word) < 4 or not word[0].isalpha() for word in words)


def _has_title(rest: str) -> bool:
    return bool(rest.strip(" .:;-–—"))


def _bare(title: str) -> str:
    """ "Interlude II:" -> "Interlude II": a colon with no subtitle after it is not the title's."""
    return title.rstrip(" :") or title


def _valid_rest(rest: str) -> bool:
    """What follows the number: nothing, or a separator and a title."""
    if not rest.strip():
        return True
    separator = _SEPARATOR.match(rest)
    if not separator:
        # "Chapter II  The New Margarita": only spaces between, so the title must look
        # like one (its longer words capitalised), not like prose running on.
        return rest[:1].isspace() and _looks_like_title(rest.strip())
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
