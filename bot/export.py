"""Exports: a story in Storyshelf's own export format (which the parser reads back
exactly: every section, title, note and metadata field), and its feedback as CSV.

The format is plain text a person can read and edit::

    Storyshelf export 1
    Title: Tea at Five
    Author: Tester
    Rating: Teen And Up Audiences
    Rating-Level: teen
    §§ Metadata
    summary: Two cups wait.
      A second line of the summary.
    §§ Section 1: The kettle
    §§ Notes
    What the author said before this chapter.
    §§ Text
    The kettle sang at five.

A value goes on after its key; each further line of it is indented by two
spaces. A line of story text that starts with ``§§`` (or with backslashes and
then ``§§``) is written with one more leading backslash, so no text can pass for
a delimiter; the reader removes exactly one.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence

from bot.story import Rating

__all__ = ("EXPORT_SIGNATURE", "export_filename", "feedback_csv", "story_text")

EXPORT_SIGNATURE = "Storyshelf export 1"
DELIMITER = "§§"
_NEEDS_ESCAPE = re.compile(r"^(\\*)§§", re.M)
_PLAIN_KEY = re.compile(r"[^\s:\"][^:\n]*")


def escape_block(text: str) -> str:
    return _NEEDS_ESCAPE.sub(r"\\\1§§", text)


def field_line(key: str, value: str) -> str:
    """`key: value`, further lines indented by two spaces; an unusual key JSON-quoted."""
    shown_key = key if _PLAIN_KEY.fullmatch(key) and key == key.strip() else json.dumps(key)
    return f"{shown_key}: " + value.replace("\n", "\n  ")


def story_text(
    *,
    title: str,
    author: str | None,
    rating: Rating,
    metadata: Mapping[str, str],
    sections: Sequence[tuple[str, str, str]],
    source_format: str = "text",
) -> str:
    """The story in the export format; `sections` are (title, text, notes) in order."""
    lines = [EXPORT_SIGNATURE, field_line("Title", title)]
    if author is not None:
        lines.append(field_line("Author", author))
    lines.append(field_line("Rating", rating.label))
    lines.append(field_line("Rating-Level", rating.level.value))
    lines.append(field_line("Source-Format", source_format))
    lines.append(f"{DELIMITER} Metadata")
    lines.extend(field_line(key, value) for key, value in metadata.items())
    for number, (section_title, text, notes) in enumerate(sections, start=1):
        lines.append(f"{DELIMITER} Section {number}: " + section_title.replace("\n", " "))
        if notes:
            lines.append(f"{DELIMITER} Notes")
            lines.append(escape_block(notes))
        lines.append(f"{DELIMITER} Text")
        lines.append(escape_block(text))
    return "\n".join(lines) + "\n"


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
