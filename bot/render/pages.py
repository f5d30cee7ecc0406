"""A section as pages: messages that fit Discord's limit, each with its story text in one spoiler.

Pages break at paragraph ends, else sentence ends, else between words; emphasis cut by a
page break is closed on the page and reopened on the next.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.render.breaks import choose_break, skip_space
from bot.render.emphasis import MARKS_RESERVE, Emphasis
from bot.render.escape import render_story_text
from bot.render.header import MESSAGE_LIMIT, SPOILER_OVERHEAD, Header, message
from bot.story import Rating

__all__ = ("Page", "render_section")

_EMPTY_SECTION = "*(This section has no text.)*"


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


def _paginate(text: str, budget: int) -> list[tuple[str, str]]:
    """Split ``text`` into (raw body, spoiler inner) pairs, each inner within ``budget``."""
    size = len(text)
    paragraph: Emphasis | None = None
    pieces: list[tuple[str, str]] = []
    start = skip_space(text, 0)
    reopen = ""
    while start < size:
        room = budget - len(reopen) - MARKS_RESERVE
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
            end, following = choose_break(text, start, start + length)
        body = text[start:end].rstrip()
        cut = start + len(body)
        markers: tuple[str, ...] = ()
        if following < size and "\n\n" not in text[cut:following]:
            # A break inside a paragraph: pair that paragraph's emphasis, once.
            if paragraph is None or not paragraph.start <= cut < paragraph.end:
                first = text.rfind("\n\n", 0, cut)
                last = text.find("\n\n", cut)
                paragraph = Emphasis(
                    text, 0 if first < 0 else first + 2, size if last < 0 else last
                )
            markers = paragraph.open_at(cut)
        close = "".join(reversed(markers))
        pieces.append((body, reopen + render_story_text(body) + close))
        reopen = "".join(markers)
        start = following
    return pieces


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
    header = Header.build(
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
    budget = limit - len(header.render(f"Page {widest}/{widest}")) - SPOILER_OVERHEAD
    pieces = _paginate(text, budget) or [("", _EMPTY_SECTION)]
    total = len(pieces)
    return [
        Page(
            content=message(header.render(f"Page {number}/{total}"), inner),
            body=body,
            number=number,
            total=total,
        )
        for number, (body, inner) in enumerate(pieces, start=1)
    ]
