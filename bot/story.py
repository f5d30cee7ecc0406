"""The story domain: ratings, sections and a parsed story, as plain data."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

__all__ = (
    "ParsedStory",
    "Rating",
    "RatingLevel",
    "Section",
    "StoryFileError",
    "count_words",
    "parse_rating",
)


class StoryFileError(ValueError):
    """A file that cannot become a story. The message is shown to the user as is."""


class RatingLevel(enum.Enum):
    GENERAL = "general"
    TEEN = "teen"
    MATURE = "mature"
    EXPLICIT = "explicit"
    NOT_RATED = "not_rated"

    @property
    def rank(self) -> int:
        """Position on the gate scale; Not Rated counts as Explicit."""
        return _RANKS[self]

    @property
    def display(self) -> str:
        return _DISPLAY[self]


_RANKS = {
    RatingLevel.GENERAL: 0,
    RatingLevel.TEEN: 1,
    RatingLevel.MATURE: 2,
    RatingLevel.EXPLICIT: 3,
    RatingLevel.NOT_RATED: 3,
}
_DISPLAY = {
    RatingLevel.GENERAL: "General",
    RatingLevel.TEEN: "Teen",
    RatingLevel.MATURE: "Mature",
    RatingLevel.EXPLICIT: "Explicit",
    RatingLevel.NOT_RATED: "Not Rated",
}

# Longest aliases first so "PG-13" wins over "PG" and "NC-17" over "17".
_RATING_ALIASES: list[tuple[str, RatingLevel]] = sorted(
    [
        ("general audiences", RatingLevel.GENERAL),
        ("general", RatingLevel.GENERAL),
        ("g", RatingLevel.GENERAL),
        ("k", RatingLevel.GENERAL),
        ("teen and up audiences", RatingLevel.TEEN),
        ("teen and up", RatingLevel.TEEN),
        ("teen", RatingLevel.TEEN),
        ("pg-13", RatingLevel.TEEN),
        ("pg13", RatingLevel.TEEN),
        ("pg", RatingLevel.TEEN),
        ("k+", RatingLevel.TEEN),
        ("t", RatingLevel.TEEN),
        ("mature", RatingLevel.MATURE),
        ("r", RatingLevel.MATURE),
        ("m", RatingLevel.MATURE),
        ("explicit", RatingLevel.EXPLICIT),
        ("nc-17", RatingLevel.EXPLICIT),
        ("nc17", RatingLevel.EXPLICIT),
        ("ma", RatingLevel.EXPLICIT),
        ("x", RatingLevel.EXPLICIT),
        ("xxx", RatingLevel.EXPLICIT),
        ("not rated", RatingLevel.NOT_RATED),
        ("unrated", RatingLevel.NOT_RATED),
        ("none", RatingLevel.NOT_RATED),
    ],
    key=lambda pair: -len(pair[0]),
)
_ALIAS_RE = re.compile(
    r"^\s*(" + "|".join(re.escape(a) for a, _ in _RATING_ALIASES) + r")(?![\w+-])",
    re.IGNORECASE,
)


_RATING_PREFIX = re.compile(r"^\s*(?:rat(?:ing|ed)\s*:\s*)?(?:fiction\s+)?(?:rated\s*:?\s*)?", re.I)


def parse_rating(label: str | None) -> Rating | None:
    """Map a rating as written ("R (language)", "Teen And Up Audiences") onto the scale.

    Returns None when the label is not recognised.
    """
    if label is None:
        return None
    text = label.strip()
    if not text:
        return None
    # FanFiction.Net writes "Rated: Fiction T"; "Fiction" (or "Fiction Rated") is not the rating.
    bare = _RATING_PREFIX.sub("", text)
    for candidate in (text, bare):
        match = _ALIAS_RE.match(candidate)
        if match:
            key = match.group(1).lower()
            for alias, level in _RATING_ALIASES:
                if alias == key:
                    return Rating(label=text, level=level)
    return None


# Scripts written without spaces between words; AO3 counts each of these characters as
# a word (Han, Hiragana, Katakana, Hangul syllables), and so do we.
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3\U00020000-\U0002fa1f]"
)
# CJK punctuation (、。「」) and full-width forms separate words; they are not words.
_CJK_SEPARATORS = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]")
_SPACE = re.compile(r"\s")
# Words are counted this many characters at a time: a 10 MB line is two million
# words, and as one list that is 100 MB.
_WORD_SLICE = 65_536


def count_words(text: str) -> int:
    """Words as AO3 counts them: runs of non-space, except that each CJK character is one.

    The one word counter of the project: sections, previews and benchmarks all use it.
    """
    if len(text) <= _WORD_SLICE:
        return len(text.split()) if text.isascii() else _count_slice(text)
    total = 0
    start = 0
    while start < len(text):
        end = start + _WORD_SLICE
        if end < len(text):
            space = _SPACE.search(text, end)  # never cut a word in two
            end = space.start() if space else len(text)
        total += _count_slice(text[start:end])
        start = end
    return total


def _count_slice(text: str) -> int:
    if text.isascii() or (_CJK.search(text) is None and _CJK_SEPARATORS.search(text) is None):
        return len(text.split())
    characters = len(_CJK.findall(text))
    rest = _CJK_SEPARATORS.sub(" ", _CJK.sub(" ", text))
    return characters + len(rest.split())


@dataclass(frozen=True, slots=True)
class Rating:
    label: str
    level: RatingLevel

    @classmethod
    def not_rated(cls) -> Rating:
        return cls(label="Not Rated", level=RatingLevel.NOT_RATED)


@dataclass(frozen=True, slots=True, init=False)
class Section:
    """One readable unit: a chapter, or a scene when the story has no chapters.

    ``text`` holds paragraphs separated by one blank line ("\\n\\n"); single
    line breaks inside a paragraph (verse, letters) are kept. A scene break
    inside a chapter is a paragraph of exactly ``SCENE_BREAK``.
    """

    title: str
    text: str
    # What the author says about this section (AO3 chapter summary and notes): shown
    # with the section, never counted as its words or searched as its text.
    notes: str = ""
    # The count, once known (see `words`): a preview, the store and its summary line
    # all ask, and a novel's count is tens of milliseconds on the event loop.
    _words: int = field(default=-1, init=False, repr=False, compare=False)

    def __init__(self, title: str, text: str, notes: str = "") -> None:
        # The fields' own slots, set directly: a frozen dataclass's generated __init__
        # goes through object.__setattr__ once per field, and a file of 100,000 scenes
        # makes 100,000 sections (bench/hostile_bench.py).
        _SET_TITLE(self, title)
        _SET_TEXT(self, text)
        _SET_NOTES(self, notes)
        _SET_WORDS(self, -1)

    @property
    def words(self) -> int:
        if self._words < 0:
            object.__setattr__(self, "_words", self._count_words())
        return self._words

    def _count_words(self) -> int:
        text = self.text
        if SCENE_BREAK not in text:
            # Paragraphs are separated by whitespace, so their words add up to the text's.
            return count_words(text)
        # Scene-break paragraphs are markup, not words.
        return sum(
            count_words(paragraph) for paragraph in text.split("\n\n") if paragraph != SCENE_BREAK
        )


# Section's slots (its class exists only once the decorator has made it).
_SET_TITLE = vars(Section)["title"].__set__
_SET_TEXT = vars(Section)["text"].__set__
_SET_NOTES = vars(Section)["notes"].__set__
_SET_WORDS = vars(Section)["_words"].__set__

SCENE_BREAK = "* * *"


@dataclass(frozen=True, slots=True)
class ParsedStory:
    title: str
    author: str | None
    rating: Rating
    sections: tuple[Section, ...]
    # Every other header field, by lower-case key ("pairing", "summary", ...).
    metadata: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    source_format: str = "text"

    @property
    def words(self) -> int:
        return sum(section.words for section in self.sections)

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "author": self.author,
            "rating": {"label": self.rating.label, "level": self.rating.level.value},
            "metadata": dict(self.metadata),
            "sections": [
                {"title": s.title, "words": s.words, "notes": s.notes, "text": s.text}
                for s in self.sections
            ],
            "warnings": list(self.warnings),
        }
