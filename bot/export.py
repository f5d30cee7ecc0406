"""Exports: a story in the bot's own text format (which the parser reads back), feedback as CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence

from bot.parsing.headings import CHAPTER, match_heading

__all__ = ("export_filename", "feedback_csv", "story_text")

# Header order follows the sample story; other metadata keys follow, as written.
_HEADER_ORDER = (
    ("pairing", "Pairing"),
    ("fandom", "Fandom"),
    ("rating", "Rating"),
    ("warnings", "Warnings"),
    ("category", "Category"),
    ("characters", "Characters"),
    ("tags", "Tags"),
    ("summary", "Summary"),
    ("disclaimer", "Disclaimer"),
    ("notes", "Notes"),
)
_BLANK_RUN = re.compile(r"\n\s*\n+")


def _header_value(value: str) -> str:
    # A header field is one paragraph: inner paragraph breaks become line breaks.
    return _BLANK_RUN.sub("\n", value.strip())


def _heading(number: int, title: str) -> str:
    heading = match_heading(title)
    if heading is not None and heading.rank == CHAPTER and "\n" not in title:
        return title
    return f"Chapter {number}: {' '.join(title.split())}"


def story_text(
    *,
    title: str,
    author: str | None,
    rating_label: str,
    metadata: Mapping[str, str],
    sections: Sequence[tuple[str, str]],
) -> str:
    """The story as `Key: value` header paragraphs, then one chapter per section."""
    fields: list[tuple[str, str]] = [("Title", title)]
    if author:
        fields.append(("Author", author))
    known = {key for key, _ in _HEADER_ORDER}
    for key, label in _HEADER_ORDER:
        value = rating_label if key == "rating" else metadata.get(key)
        if value:
            fields.append((label, value))
    for key, value in metadata.items():
        if key not in known and value and re.fullmatch(r"[\w][\w \-]{0,30}", key):
            fields.append((key.replace("_", " ").title(), value))
    parts = [f"{label}: {_header_value(value)}" for label, value in fields]
    for number, (section_title, text) in enumerate(sections, start=1):
        parts.append(_heading(number, section_title))
        parts.append(text.strip())
    return "\n\n".join(parts) + "\n"


def export_filename(title: str, extension: str) -> str:
    stem = re.sub(r"[^\w\-]+", "_", title.casefold()).strip("_")[:60] or "story"
    return f"{stem}.{extension}"


def feedback_csv(rows: Iterable[tuple[int, str, str, int]]) -> str:
    """(section position, section title, emoji, reader count) rows as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "section_title", "emoji", "readers"])
    writer.writerows(rows)
    return out.getvalue()
