"""Story text as Discord messages: escaping, pages, excerpts, search snippets, labels.

Pure functions over plain strings; no Discord and no database. Everything that comes
from a story file or an uploader is user data: it is escaped here so that a post can
neither format itself by accident, nor break out of its spoiler, nor look like a mention.
(Posts are also sent with ``AllowedMentions.none()``; the escaping makes mentions inert
in the text as well, so nothing renders as a ping pill either.)

Discord counts message length in Unicode code points, which is ``len()`` of a ``str``.
"""

from __future__ import annotations

import bisect
import logging
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from bot.story import SCENE_BREAK, Rating

__all__ = (
    "AUTOCOMPLETE_LIMIT",
    "ELLIPSIS",
    "EXCERPT_LIMIT",
    "MATCH_END",
    "MATCH_START",
    "MESSAGE_LIMIT",
    "SCENE_SEPARATOR",
    "SNIPPET_LIMIT",
    "Page",
    "escape_inline",
    "escape_story_text",
    "pick_excerpt",
    "render_excerpt",
    "render_section",
    "render_snippet",
    "render_story_text",
    "section_label",
    "truncate",
    "unescape_story_text",
)

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000
EXCERPT_LIMIT = 1000
SNIPPET_LIMIT = 300
AUTOCOMPLETE_LIMIT = 100
ELLIPSIS = "…"
SCENE_SEPARATOR = "✦ ✦ ✦"
# FTS5 snippet() markers around matched words (bot.db.shelf passes the same ones).
MATCH_START = "\x02"
MATCH_END = "\x03"

ZWSP = "\u200b"
ZWJ = "\u200d"
_EMPTY_SECTION = "*(This section has no text.)*"

# Header fields are capped so the whole header stays within about 300 characters.
_TITLE_CAP = 56
_AUTHOR_CAP = 30
_SECTION_TITLE_CAP = 44
_RATING_LABEL_CAP = 24
_WARNINGS_CAP = 56

# --------------------------------------------------------------------------- escaping
#
# Discord drops a backslash before any ASCII punctuation and shows the character as is,
# so backslash escapes neutralise markdown without changing what the reader sees.
# Mentions are different: Discord matches them in the raw text, so a zero-width space
# goes after the "@" or "<" instead.
#
# Every rule is invertible (``unescape_story_text``), which lets the tests prove that no
# story text is lost on the way into a message.

# Backslash first, so the backslashes added for the others are not doubled.
_STORY_CHARS = ("\\", "|", "`", "[")
_INLINE_CHARS = (*_STORY_CHARS, "*", "_", "~")
_CHAR_ESCAPED = re.compile(r"\\([\\|`\[*_~])")

# Block markup only counts at the start of a line (after optional indentation):
# quotes, headings, subtext "-#", and list items "- ", "* ", "+ ", "1. ".
_LINE_MARK = re.compile(r"^([ \t]*)(?=[>#]|-[# \t]|[*+][ \t])", re.M)
_LINE_NUMBER = re.compile(r"^([ \t]*\d+)(?=\.[ \t])", re.M)
_LINE_MARK_ESCAPED = re.compile(r"^([ \t]*)\\(?=[>#]|-[# \t]|[*+][ \t])", re.M)
_LINE_NUMBER_ESCAPED = re.compile(r"^([ \t]*\d+)\\(?=\.[ \t])", re.M)

# A zero-width space is added even where one (or more) is already there, so that
# unescaping can remove exactly one and give back the original text.
_AT_MENTION = re.compile("@(?=\u200b*(?:everyone|here))", re.I)
_ANGLE_MENTION = re.compile("<(?=\u200b*(?:[@#/]|id:))", re.I)
_AT_MENTION_ESCAPED = re.compile("@\u200b(?=\u200b*(?:everyone|here))", re.I)
_ANGLE_MENTION_ESCAPED = re.compile("<\u200b(?=\u200b*(?:[@#/]|id:))", re.I)

# A paragraph of exactly SCENE_BREAK, as it looks after escaping ("\* * *").
_SCENE_BREAK_ESCAPED = re.compile(r"(?:\A|(?<=\n\n))\\\* \* \*(?=\n\n|\Z)")


def _escape(text: str, chars: tuple[str, ...]) -> str:
    for char in chars:
        if char in text:
            text = text.replace(char, "\\" + char)
    text = _LINE_MARK.sub(r"\1\\", text)
    text = _LINE_NUMBER.sub(r"\1\\", text)
    if "@" in text:
        text = _AT_MENTION.sub("@" + ZWSP, text)
    if "<" in text:
        text = _ANGLE_MENTION.sub("<" + ZWSP, text)
    return text


def escape_story_text(text: str) -> str:
    """Neutralise everything in story text that could format the message or ping.

    Spoiler bars, backticks, masked links, line-start quotes, headings, subtext and list
    markers are escaped; mentions get a zero-width space. Emphasis the story really has
    (``*x*``, ``**x**``, ``_x_``, ``__x__``, ``~~x~~``) is kept. Line breaks are kept.
    """
    return _escape(text, _STORY_CHARS)


def unescape_story_text(text: str) -> str:
    """The exact inverse of :func:`escape_story_text`."""
    text = _ANGLE_MENTION_ESCAPED.sub("<", text)
    text = _AT_MENTION_ESCAPED.sub("@", text)
    text = _LINE_NUMBER_ESCAPED.sub(r"\1", text)
    text = _LINE_MARK_ESCAPED.sub(r"\1", text)
    return _CHAR_ESCAPED.sub(r"\1", text)


def escape_inline(text: str) -> str:
    """Escape user data (titles, authors, summaries) so that it shows exactly as written.

    Like :func:`escape_story_text`, but emphasis markers are escaped too: nothing in a
    title or a search snippet formats the message. Line breaks are kept.
    """
    return _escape(text, _INLINE_CHARS)


def render_story_text(text: str) -> str:
    """Story text as it appears inside the spoiler: escaped, scene breaks drawn as a line."""
    escaped = escape_story_text(text)
    if "\\* * *" in escaped:
        escaped = _SCENE_BREAK_ESCAPED.sub(SCENE_SEPARATOR, escaped)
    return escaped


def _spoiler(inner: str) -> str:
    # An escaped "|" right before the closing bars would make "|||", and Discord would
    # close the spoiler one bar early.
    pad = ZWSP if inner.endswith("|") else ""
    return f"||{inner}{pad}||"


# --------------------------------------------------------------------------- graphemes
#
# A standard-library approximation of extended grapheme clusters: enough to never cut
# an emoji sequence, a flag, a skin tone, or a letter from its combining marks.

_MARK_CATEGORIES = frozenset({"Mn", "Mc", "Me"})
_FORMAT_MARKS = "*_~|"
# How far back a hard cut looks for a boundary before giving up (a "grapheme" longer
# than this is abuse, e.g. Zalgo text, and is cut anyway).
_MAX_CLUSTER = 64


def _extends(char: str) -> bool:
    """True if ``char`` belongs to the grapheme before it."""
    cp = ord(char)
    if cp < 0x300:
        return False
    return (
        char == ZWJ
        or 0xFE00 <= cp <= 0xFE0F
        or 0x1F3FB <= cp <= 0x1F3FF
        or 0xE0020 <= cp <= 0xE007F
        or 0xE0100 <= cp <= 0xE01EF
        or unicodedata.combining(char) != 0
        or unicodedata.category(char) in _MARK_CATEGORIES
    )


def _is_regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _is_boundary(text: str, index: int, start: int = 0) -> bool:
    """May ``text`` be cut before ``index``? Never inside a grapheme or a ``**``-like mark.

    ``start`` is a known boundary at or before ``index``, which bounds the look-back
    that pairs regional indicators into flags.
    """
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if before == ZWJ or _extends(after):
        return False
    if before == "\r" and after == "\n":
        return False
    if before == after and after in _FORMAT_MARKS:
        return False
    if _is_regional(after) and _is_regional(before):
        run = 0
        i = index - 1
        while i >= start and _is_regional(text[i]):
            run += 1
            i -= 1
        return run % 2 == 0
    return True


# --------------------------------------------------------------------------- emphasis


@dataclass(frozen=True, slots=True)
class _Span:
    open_start: int
    open_end: int
    close_start: int
    marker: str


_DELIMITER = re.compile(r"\n\n|\*+|_+|~+")
# Deeper nesting than this is not real prose; capping it bounds what a page adds.
_MAX_NESTING = 8
_MARKS_RESERVE = 2 * _MAX_NESTING


class _Emphasis:
    """The emphasis spans of a paragraph, so a page cut inside one can close and reopen it.

    A small approximation of Discord's rules: ``*``/``**``/``***`` open before a
    non-space and close after one, ``_``/``__`` also need a word boundary outside,
    ``~~`` pairs like ``*``. Spans never cross a paragraph ("\\n\\n") and always nest.
    A marker with no partner stays plain text and never gets closed or reopened.
    Only ``text[start:end]`` is read; indexes are positions in ``text``.
    """

    def __init__(self, text: str, start: int = 0, end: int | None = None) -> None:
        self.start = start
        self.end = len(text) if end is None else end
        spans = sorted(self._pair(text, start, self.end), key=lambda span: span.open_start)
        self._spans = spans
        self._open_ends = [span.open_end for span in spans]
        # Index of the innermost span enclosing each span, or -1.
        self._parent: list[int] = []
        enclosing: list[int] = []
        for i, span in enumerate(spans):
            while enclosing and spans[enclosing[-1]].close_start < span.open_start:
                enclosing.pop()
            self._parent.append(enclosing[-1] if enclosing else -1)
            enclosing.append(i)

    @staticmethod
    def _pair(text: str, first: int, last: int) -> Iterator[_Span]:
        stack: list[tuple[str, int]] = []
        for match in _DELIMITER.finditer(text, first, last):
            start, end = match.span()
            char = text[start]
            if char == "\n":
                stack.clear()
                continue
            length = end - start
            if length > 3 or (char == "~" and length != 2):
                continue
            before = text[start - 1] if start > first else " "
            after = text[end] if end < last else " "
            can_open = not after.isspace()
            can_close = not before.isspace()
            if char == "_":
                can_open = can_open and not before.isalnum()
                can_close = can_close and not after.isalnum()
            cursor = start
            while can_close and cursor < end:
                found = len(stack) - 1
                while found >= 0 and stack[found][0][0] != char:
                    found -= 1
                if found < 0 or len(stack[found][0]) > end - cursor:
                    break
                marker, opened = stack[found]
                del stack[found:]
                yield _Span(opened, opened + len(marker), cursor, marker)
                cursor += len(marker)
            if can_open and cursor < end:
                left = end - cursor
                for marker in (char * 2, char) if left == 3 else (char * left,):
                    if len(stack) < _MAX_NESTING:
                        stack.append((marker, cursor))
                    cursor += len(marker)

    def open_at(self, index: int) -> tuple[str, ...]:
        """Markers of the spans open at ``index`` (opened before, closed after), outermost first."""
        i = bisect.bisect_right(self._open_ends, index) - 1
        while i >= 0 and self._spans[i].close_start < index:
            i = self._parent[i]
        markers: list[str] = []
        while i >= 0:
            markers.append(self._spans[i].marker)
            i = self._parent[i]
        markers.reverse()
        return tuple(markers)


# --------------------------------------------------------------------------- page breaks

_NON_SPACE = re.compile(r"\S")
# Whitespace a page may break at: any but the no-break spaces ("Bonjour !").
_BREAK_SPACE = re.compile(r"[^\S\xa0\u2007\u202f]+")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]*_~]*(?=[^\S\xa0\u2007\u202f])|[。！？]+[」』”’）)]*")
_SENTENCE_PUNCTUATION = frozenset(".!?…。！？\"'”’»)]")


def _skip_space(text: str, index: int) -> int:
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
        yield _trim_end(text, start, found), _skip_space(text, found)
        found = text.rfind("\n\n", start + 1, found + 1)


def _sentence_breaks(text: str, start: int, limit: int) -> Iterator[tuple[int, int]]:
    ends = [m.end() for m in _SENTENCE_END.finditer(text, start + 1, limit + 2)]
    for end in reversed(ends):
        if end <= limit:
            yield end, _skip_space(text, end)


def _word_breaks(text: str, start: int, limit: int) -> Iterator[tuple[int, int]]:
    window = text[start + 1 : limit + 1][::-1]
    base = start + 1 + len(window)
    for match in _BREAK_SPACE.finditer(window):
        space = base - match.end()
        yield _trim_end(text, start, space), _skip_space(text, space)


def _choose_break(text: str, start: int, limit: int) -> tuple[int, int]:
    """Where a page that starts at ``start`` and may run to ``limit`` should end.

    Returns (end of this page's text, start of the next page's). A paragraph end is
    preferred, then a sentence end, then a space, as long as the page is at least half
    full; a space anywhere comes next; a word is cut (at a grapheme boundary) only when
    it does not fit on a page by itself.
    """
    half = start + (limit - start) // 2
    for breaks in (_paragraph_breaks, _sentence_breaks, _word_breaks):
        for end, following in breaks(text, start, limit):
            if end < half:
                break
            if _can_break(text, start, end, following):
                return end, following
    for end, following in _word_breaks(text, start, limit):
        if _can_break(text, start, end, following):
            return end, following
    cut = _hard_cut(text, start, limit)
    return cut, _skip_space(text, cut)


def _can_break(text: str, start: int, end: int, following: int) -> bool:
    if not (_is_boundary(text, end, start) and _is_boundary(text, following, start)):
        return False
    # Without a space between, a mark at the cut could read as closing the emphasis
    # the page break closes and reopens ("**" instead of "*").
    return following > end or (
        text[end - 1] not in _FORMAT_MARKS and text[end] not in _FORMAT_MARKS
    )


def _hard_cut(text: str, start: int, limit: int) -> int:
    """The last grapheme boundary in a word too long for one page, not next to ``**``."""
    floor = max(start + 1, limit - _MAX_CLUSTER)
    for cut in range(limit, floor - 1, -1):
        if _can_break(text, start, cut, cut):
            return cut
    log.debug("no grapheme boundary near %d; cutting there anyway", limit)
    return limit


def _paginate(text: str, budget: int) -> list[tuple[str, str]]:
    """Split ``text`` into (raw body, spoiler inner) pairs, each inner within ``budget``."""
    size = len(text)
    paragraph: _Emphasis | None = None
    pieces: list[tuple[str, str]] = []
    start = _skip_space(text, 0)
    reopen = ""
    while start < size:
        room = budget - len(reopen) - _MARKS_RESERVE
        if room < 8:
            raise ValueError("the message limit leaves no room for story text")
        length = min(room, size - start)
        while length > 1:
            # Escaping at most doubles a character, so shedding half the excess never
            # sheds more than needed; the excess halves each round.
            excess = len(render_story_text(text[start : start + length])) - room
            if excess <= 0:
                break
            length = max(1, length - (excess + 1) // 2)
        if start + length >= size:
            end, following = size, size
        else:
            end, following = _choose_break(text, start, start + length)
        body = text[start:end].rstrip()
        cut = start + len(body)
        markers: tuple[str, ...] = ()
        if following < size and "\n\n" not in text[cut:following]:
            # A break inside a paragraph: pair that paragraph's emphasis, once.
            if paragraph is None or not paragraph.start <= cut < paragraph.end:
                first = text.rfind("\n\n", 0, cut)
                last = text.find("\n\n", cut)
                paragraph = _Emphasis(
                    text, 0 if first < 0 else first + 2, size if last < 0 else last
                )
            markers = paragraph.open_at(cut)
        close = "".join(reversed(markers))
        pieces.append((body, reopen + render_story_text(body) + close))
        reopen = "".join(markers)
        start = following
    return pieces


# --------------------------------------------------------------------------- headers


def truncate(text: str, limit: int, *, placeholder: str = ELLIPSIS) -> str:
    """``text`` if it fits in ``limit`` characters, else cut at a word end with "…".

    A single word longer than half the room is cut at a grapheme boundary instead.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    text = text.lstrip()
    if len(text) <= limit:
        return text
    room = limit - len(placeholder)
    if room < 1:
        return placeholder[:limit]
    head = ""
    for end, _following in _word_breaks(text, 0, room):
        if end < room // 2:
            break
        if _is_boundary(text, end):
            head = text[:end]
            break
    if not head:
        # Index 0 is a boundary: a text that is one short grapheme becomes just "…".
        floor = max(0, room - _MAX_CLUSTER)
        cut = next((i for i in range(room, floor - 1, -1) if _is_boundary(text, i)), room)
        head = text[:cut].rstrip()
    head = head.rstrip(" ,;:") or head
    return head + placeholder


def section_label(number: int, title: str, *, limit: int = AUTOCOMPLETE_LIMIT) -> str:
    """``3 · On Wednesday, they were almost caught…``, within ``limit`` (autocomplete: 100)."""
    prefix = str(number)
    title = " ".join(title.split())
    if not title or limit - len(prefix) - 3 < 1:
        return truncate(prefix, limit)
    return f"{prefix} · {truncate(title, limit - len(prefix) - 3)}"


def _field(text: str, cap: int) -> str:
    """A header field: one line, escaped, at most ``cap`` characters after escaping."""
    flat = " ".join(text.split())
    limit = cap
    while True:
        escaped = escape_inline(truncate(flat, limit))
        if len(escaped) <= cap or limit == 1:
            return escaped
        limit = max(1, limit - (len(escaped) - cap + 1) // 2)


def _rating_text(rating: Rating) -> str:
    display = rating.level.display
    label = " ".join(rating.label.split())
    if not label or label.casefold() == display.casefold():
        return display
    return f"{display} ({_field(label, _RATING_LABEL_CAP)})"


@dataclass(frozen=True, slots=True)
class _Header:
    """Everything above the spoiler; ``tail`` ("Page 1/2", "Excerpt") ends line two."""

    title: str
    section: str
    rating: str

    @classmethod
    def build(
        cls,
        *,
        story_title: str,
        author: str | None,
        rating: Rating,
        warnings: str | None,
        section_number: int,
        section_total: int,
        section_title: str,
    ) -> _Header:
        title = f"**{_field(story_title, _TITLE_CAP) or 'Untitled'}**"
        if author and author.strip():
            title += f" · by {_field(author, _AUTHOR_CAP)}"
        section = f"Section {section_number}/{section_total}"
        if section_title and section_title.strip():
            section += f" · {_field(section_title, _SECTION_TITLE_CAP)}"
        rating_line = f"Rating: {_rating_text(rating)}"
        if warnings and warnings.strip():
            rating_line += f" · Warnings: {_field(warnings, _WARNINGS_CAP)}"
        return cls(title=title, section=section, rating=rating_line)

    def render(self, tail: str) -> str:
        return f"{self.title}\n{self.section} · {tail}\n{self.rating}"


def _message(header: str, inner: str) -> str:
    return f"{header}\n{_spoiler(inner)}"


# Newline, two pairs of bars, and the zero-width pad a spoiler may need.
_SPOILER_OVERHEAD = len(_message("", "")) + 1


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True, slots=True)
class Page:
    """One message of a section.

    ``content`` is the whole message (header, then the story text in one spoiler);
    ``body`` is this page's raw story text, before escaping.
    """

    content: str
    body: str
    number: int
    total: int


def render_section(
    *,
    story_title: str,
    author: str | None,
    rating: Rating,
    warnings: str | None,
    section_number: int,
    section_total: int,
    section_title: str,
    text: str,
    limit: int = MESSAGE_LIMIT,
) -> list[Page]:
    """A section as pages of at most ``limit`` characters each.

    Pages break at paragraph ends, else sentence ends, else between words; emphasis
    cut by a page break is closed on the page and reopened on the next. A section
    without text still gets one page, so there is always something to show.
    """
    header = _Header.build(
        story_title=story_title,
        author=author,
        rating=rating,
        warnings=warnings,
        section_number=section_number,
        section_total=section_total,
        section_title=section_title,
    )
    # There are never more pages than characters, so this is the widest page counter.
    widest = "9" * len(str(max(1, len(text))))
    budget = limit - len(header.render(f"Page {widest}/{widest}")) - _SPOILER_OVERHEAD
    pieces = _paginate(text, budget) or [("", _EMPTY_SECTION)]
    total = len(pieces)
    return [
        Page(
            content=_message(header.render(f"Page {number}/{total}"), inner),
            body=body,
            number=number,
            total=total,
        )
        for number, (body, inner) in enumerate(pieces, start=1)
    ]


# --------------------------------------------------------------------------- excerpts

_EXCERPT_TARGET = 600


def _cut_passage(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a sentence or word end, with "…".

    Emphasis left open by the cut is closed after the ellipsis.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    room = limit - len(" " + ELLIPSIS) - _MARKS_RESERVE
    if room < 1:
        return ELLIPSIS
    end, _following = _choose_break(text, 0, room)
    body = text[:end].rstrip()
    tail = " " + ELLIPSIS if body[-1] in _SENTENCE_PUNCTUATION else ELLIPSIS
    markers = _Emphasis(text).open_at(len(body))
    return body + tail + "".join(reversed(markers))


def pick_excerpt(text: str, rng: random.Random, *, limit: int = EXCERPT_LIMIT) -> str:
    """A short passage for /excerpt: a few whole consecutive paragraphs from ``text``.

    At most ``limit`` characters; a paragraph longer than that is cut at a sentence or
    word end with "…". Never crosses a scene break. "" if the text has no paragraphs.
    """
    paragraphs: list[str | None] = [
        None if paragraph == SCENE_BREAK else paragraph
        for paragraph in (part.strip() for part in text.split("\n\n"))
        if paragraph
    ]
    choices = [i for i, paragraph in enumerate(paragraphs) if paragraph is not None]
    if not choices:
        return ""
    first = rng.choice(choices)
    chosen = paragraphs[first]
    assert chosen is not None
    if len(chosen) > limit:
        return _cut_passage(chosen, limit)
    low = high = first
    size = len(chosen)
    # Grow forward first (a passage reads best from where it starts), then backward.
    for step in (1, -1):
        while size < _EXCERPT_TARGET:
            i = (high if step > 0 else low) + step
            if not 0 <= i < len(paragraphs):
                break
            paragraph = paragraphs[i]
            if paragraph is None or size + 2 + len(paragraph) > limit:
                break
            size += 2 + len(paragraph)
            low, high = min(low, i), max(high, i)
    return "\n\n".join(p for p in paragraphs[low : high + 1] if p is not None)


def render_excerpt(
    *,
    story_title: str,
    author: str | None,
    rating: Rating,
    warnings: str | None,
    section_number: int,
    section_total: int,
    section_title: str,
    passage: str,
    limit: int = MESSAGE_LIMIT,
) -> str:
    """The /excerpt message: the header with "Excerpt", then ``passage`` in one spoiler."""
    header = _Header.build(
        story_title=story_title,
        author=author,
        rating=rating,
        warnings=warnings,
        section_number=section_number,
        section_total=section_total,
        section_title=section_title,
    ).render("Excerpt")
    budget = limit - len(header) - _SPOILER_OVERHEAD
    passage = passage.strip()
    if not passage:
        return _message(header, ELLIPSIS)
    inner = render_story_text(passage)
    while len(inner) > budget:
        # Only text that escapes heavily gets here; escaping at most doubles it.
        shorter = len(passage) - max(1, (len(inner) - budget + 1) // 2)
        passage = _cut_passage(passage, max(1, shorter))
        inner = render_story_text(passage)
    return _message(header, inner)


# --------------------------------------------------------------------------- snippets

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


def render_snippet(snippet: str, *, limit: int = SNIPPET_LIMIT) -> str:
    """A search hit: FTS5 snippet text, escaped, matched words in bold, in one spoiler.

    ``snippet`` marks matched words with ``MATCH_START``/``MATCH_END``. Context is
    dropped word by word from the far side of the first match until it fits ``limit``.
    """
    tokens = _snippet_tokens(snippet)
    if not tokens:
        return _spoiler(ELLIPSIS)
    cap = max(1, (limit - 16) // 2)  # so one escaped word always fits
    for token in tokens:
        token.text = truncate(token.text, cap)
    escaped = [escape_inline(token.text) for token in tokens]
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
    return _spoiler("".join(parts))
