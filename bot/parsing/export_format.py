"""Reading Storyshelf's own export format back (see `bot.export`): exactly what was stored.

Nothing is guessed: the sections, their titles and notes, the rating and every
metadata field come back as they were, so `/library remove` (which hands over an
export first) loses nothing.
"""

from __future__ import annotations

import json
import re

from bot.story import ParsedStory, Rating, RatingLevel, Section, StoryFileError

__all__ = ("EXPORT_SIGNATURE", "is_export", "parse_export")

EXPORT_SIGNATURE = "Storyshelf export 1"
_SECTION = re.compile(r"^§§ Section (\d+): (.*)$")
_ESCAPED = re.compile(r"^\\(\\*§§)")
_FIELD = re.compile(r'^("(?:[^"\\]|\\.)*"|[^\s:"][^:\n]*): (.*)$')


def is_export(text: str) -> bool:
    return text.startswith(EXPORT_SIGNATURE + "\n")


def _fields(lines: list[str], name: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key: str | None = None
    for line in lines:
        if line.startswith("  ") and key is not None:
            fields[key] += "\n" + line[2:]
            continue
        match = _FIELD.match(line)
        if match is None:
            if not line.strip():
                continue
            raise StoryFileError(
                f"“{name}” is a Storyshelf export with an unreadable line: {line[:60]!r}."
            )
        raw_key = match[1]
        key = json.loads(raw_key) if raw_key.startswith('"') else raw_key
        fields[key] = match[2]
    return fields


def _unescape(lines: list[str]) -> str:
    return "\n".join(_ESCAPED.sub(r"\1", line) for line in lines)


def parse_export(text: str, filename: str) -> ParsedStory:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the file's final newline
    blocks: list[tuple[str, list[str]]] = [("header", [])]
    for line in lines[1:]:
        if line.startswith("§§ "):
            blocks.append((line, []))
        else:
            blocks[-1][1].append(line)
    header = _fields(blocks[0][1], filename)
    metadata: dict[str, str] = {}
    sections: list[Section] = []
    title: str | None = None
    notes = ""
    for delimiter, body in blocks[1:]:
        section = _SECTION.match(delimiter)
        if delimiter == "§§ Metadata":
            metadata = _fields(body, filename)
        elif section:
            title, notes = section[2], ""
        elif delimiter == "§§ Notes" and title is not None:
            notes = _unescape(body)
        elif delimiter == "§§ Text" and title is not None:
            sections.append(Section(title, _unescape(body), notes))
            title, notes = None, ""
        else:
            raise StoryFileError(
                f"“{filename}” is a Storyshelf export with an unknown part: {delimiter[:60]!r}."
            )
    if not sections or "Title" not in header:
        raise StoryFileError(f"“{filename}” is a Storyshelf export without a title or sections.")
    try:
        level = RatingLevel(header.get("Rating-Level", "not_rated"))
    except ValueError:
        level = RatingLevel.NOT_RATED
    return ParsedStory(
        title=header["Title"],
        author=header.get("Author"),
        rating=Rating(header.get("Rating", level.display), level),
        sections=tuple(sections),
        metadata=metadata,
        source_format=header.get("Source-Format", "text"),
    )
