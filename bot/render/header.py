"""The lines above the spoiler in a page or excerpt message, and the message around them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.render.escape import spoiler
from bot.render.labels import rating_text, shown
from bot.story import Rating

__all__ = ("MESSAGE_LIMIT", "SPOILER_OVERHEAD", "Header", "message")

MESSAGE_LIMIT = 2000

# Header fields are capped so the whole header stays within about 300 characters.
_TITLE_CAP = 56
_AUTHOR_CAP = 30
_SECTION_TITLE_CAP = 44
_RATING_LABEL_CAP = 24
_WARNINGS_CAP = 56


@dataclass(frozen=True, slots=True)
class Header:
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
    ) -> Header:
        title = f"**{shown(story_title, _TITLE_CAP) or 'Untitled'}**"
        if author and author.strip():
            title += f" · by {shown(author, _AUTHOR_CAP)}"
        section = f"Section {section_number}/{section_total}"
        if section_title and section_title.strip():
            section += f" · {shown(section_title, _SECTION_TITLE_CAP)}"
        rating_line = f"Rating: {rating_text(rating, cap=_RATING_LABEL_CAP)}"
        if warnings and warnings.strip():
            rating_line += f" · Warnings: {shown(warnings, _WARNINGS_CAP)}"
        return cls(title=title, section=section, rating=rating_line)

    def render(self, tail: str) -> str:
        return f"{self.title}\n{self.section} · {tail}\n{self.rating}"


def message(header: str, inner: str) -> str:
    """The whole post: ``header``, then ``inner`` (already escaped) in one spoiler."""
    return f"{header}\n{spoiler(inner)}"


# Newline, two pairs of bars, and the zero-width pad a spoiler may need.
SPOILER_OVERHEAD = len(message("", "")) + 1
