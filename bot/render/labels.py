"""Short one-line text: truncation, section labels, header fields and rating text.

``shown`` is the one way to put story-derived text (a title, a tag, a rating label) in
a place with a length limit: it flattens, truncates and escapes in the order that keeps
the escaped result within the limit. Truncating after escaping could cut an escape in
half; escaping after truncating could overflow the limit.
"""

from __future__ import annotations

from bot.render.breaks import word_breaks
from bot.render.escape import escape_inline
from bot.render.graphemes import MAX_CLUSTER, is_boundary
from bot.story import Rating

__all__ = (
    "AUTOCOMPLETE_LIMIT",
    "ELLIPSIS",
    "one_line",
    "rating_text",
    "section_label",
    "shown",
    "truncate",
)

AUTOCOMPLETE_LIMIT = 100
ELLIPSIS = "…"


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
    for end, _following in word_breaks(text, 0, room):
        if end < room // 2:
            break
        if is_boundary(text, end):
            head = text[:end]
            break
    if not head:
        # Index 0 is a boundary: a text that is one short grapheme becomes just "…".
        floor = max(0, room - MAX_CLUSTER)
        cut = next((i for i in range(room, floor - 1, -1) if is_boundary(text, i)), room)
        head = text[:cut].rstrip()
    head = head.rstrip(" ,;:") or head
    return head + placeholder


def one_line(text: str) -> str:
    """``text`` on one line: every run of whitespace (line breaks included) one space."""
    return " ".join(text.split())


def shown(text: str, limit: int) -> str:
    """Story-derived ``text`` as shown in a field of ``limit`` characters.

    One line, escaped with :func:`escape_inline`, and truncated so that the *escaped*
    result has at most ``limit`` characters: unescaping it gives back the whole line or
    a prefix of it followed by "…".
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    flat = one_line(text)
    room = limit
    while True:
        escaped = escape_inline(truncate(flat, room))
        if len(escaped) <= limit:
            return escaped
        if room == 1:
            # One character can escape to two ("\|"); only "…" fits then.
            return ELLIPSIS
        # Escaping at most doubles a character, so shedding half the excess never sheds
        # more than needed; the excess halves each round.
        room = max(1, room - (len(escaped) - limit + 1) // 2)


def section_label(
    number: int, title: str, *, limit: int = AUTOCOMPLETE_LIMIT, escaped: bool = False
) -> str:
    """``3 · On Wednesday, they were almost caught…``, within ``limit`` (autocomplete: 100).

    With ``escaped`` the title is escaped (for a message, not an autocomplete choice,
    where markdown is not rendered) and the label still fits ``limit``.
    """
    fit = shown if escaped else truncate
    prefix = str(number)
    title = one_line(title)
    if not title or limit - len(prefix) - 3 < 1:
        return fit(prefix, limit)
    return f"{prefix} · {fit(title, limit - len(prefix) - 3)}"


def rating_text(rating: Rating, *, cap: int | None = None) -> str:
    """ "Mature", or "Mature (R (language))" when the story's label says something else.

    The label is shown in brackets only when it differs from the level's name (case and
    spacing aside), escaped, and cut to ``cap`` characters when a cap is given.
    """
    display = rating.level.display
    label = one_line(rating.label)
    if not label or label.casefold() == display.casefold():
        return display
    return f"{display} ({escape_inline(label) if cap is None else shown(label, cap)})"
