"""The /excerpt passage: a few whole paragraphs picked at random, and its message."""

from __future__ import annotations

import random

from bot.render.breaks import SENTENCE_PUNCTUATION, choose_break
from bot.render.emphasis import MARKS_RESERVE, Emphasis
from bot.render.escape import render_story_text
from bot.render.header import MESSAGE_LIMIT, SPOILER_OVERHEAD, Header, message
from bot.render.labels import ELLIPSIS
from bot.story import SCENE_BREAK, Rating

__all__ = ("EXCERPT_LIMIT", "pick_excerpt", "render_excerpt")

EXCERPT_LIMIT = 1000
_EXCERPT_TARGET = 600


def _cut_passage(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a sentence or word end, with "…".

    Emphasis left open by the cut is closed after the ellipsis.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    room = limit - len(" " + ELLIPSIS) - MARKS_RESERVE
    if room < 1:
        return ELLIPSIS
    end, _following = choose_break(text, 0, room)
    body = text[:end].rstrip()
    tail = " " + ELLIPSIS if body[-1] in SENTENCE_PUNCTUATION else ELLIPSIS
    markers = Emphasis(text).open_at(len(body))
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
    header = Header.build(
        story_title=story_title,
        author=author,
        rating=rating,
        warnings=warnings,
        section_number=section_number,
        section_total=section_total,
        section_title=section_title,
    ).render("Excerpt")
    budget = limit - len(header) - SPOILER_OVERHEAD
    passage = passage.strip()
    if not passage:
        return message(header, ELLIPSIS)
    inner = render_story_text(passage)
    while len(inner) > budget:
        # Only text that escapes heavily gets here; escaping at most doubles it.
        shorter = len(passage) - max(1, (len(inner) - budget + 1) // 2)
        passage = _cut_passage(passage, max(1, shorter))
        inner = render_story_text(passage)
    return message(header, inner)
