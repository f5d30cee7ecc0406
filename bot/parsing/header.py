"""The `Key: value` header at the top of a story file, and the story built from it.

    A week in the life            <- optional first line

    Title: A Week in the Life     <- Key: value paragraphs
    Rating: R (language)
    ...

A header only exists when at least one known key appears, so a story that
opens with "Dear John: ..." keeps its first line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.parsing.decode import display_name
from bot.parsing.headings import plain_title
from bot.parsing.sections import MAX_TITLE_CHARS, SplitResult, byline_author
from bot.story import ParsedStory, Rating, StoryFileError, parse_rating

__all__ = (
    "Header",
    "build_story",
    "canonical_key",
    "is_known_key",
    "key_value",
    "parse_fields",
    "split_header",
)

# Keys as written (lower case) -> the metadata key they are stored under.
_KNOWN_KEYS: dict[str, str] = {
    "title": "title",
    "author": "author",
    "authors": "author",
    "by": "author",
    "written by": "author",
    "writer": "author",
    "rating": "rating",
    "rated": "rating",
    "pairing": "pairing",
    "pairings": "pairing",
    "relationship": "pairing",
    "relationships": "pairing",
    "fandom": "fandom",
    "fandoms": "fandom",
    "warning": "warnings",
    "warnings": "warnings",
    "archive warning": "warnings",
    "archive warnings": "warnings",
    "content warning": "warnings",
    "content warnings": "warnings",
    "category": "category",
    "categories": "category",
    "character": "characters",
    "characters": "characters",
    "tag": "tags",
    "tags": "tags",
    "additional tags": "tags",
    "summary": "summary",
    # YAML front matter (pandoc) says "abstract"; other tools "description".
    "abstract": "summary",
    "description": "summary",
    "disclaimer": "disclaimer",
    "note": "notes",
    "notes": "notes",
    "author's note": "notes",
    "author's notes": "notes",
    "a/n": "notes",
}
# Other keys headers commonly carry. Unknown keys are kept too, but only these
# may end a header: an unknown "Key:" paragraph after the last known one is
# more likely the story's first line ("Jack: Hello.") than metadata.
# fmt: off
_COMMON_EXTRA_KEYS = frozenset({
    "beta", "betas", "beta reader", "beta'd by", "betaed by", "series", "genre", "genres",
    "word count", "words", "length", "spoiler", "spoilers", "prompt", "prompted by", "status",
    "chapters", "language", "dedication", "dedicated to", "feedback", "archive", "archiving",
    "timeline", "setting", "challenge", "crossover", "universe", "season", "au", "type",
    "requested by", "for", "gift", "written for", "recipient", "inspiration", "inspired by",
    "source", "posted", "date", "published", "updated", "completed", "translator",
    "translation", "cover", "url", "link", "permission", "credits",
})
# fmt: on
# Keys whose first value wins when a header repeats them; others accumulate.
_SINGLE_VALUED = frozenset({"title", "author", "rating"})
_KEY = re.compile(r"[^\W\d_][\w'’/&().\- ]{0,29}")
_MAX_FIRST_LINE = 200
_TERMINAL_STOP = re.compile(r"[.!?…,;]$")
_MAX_HEADER_LINES = 400
# parse_story cuts titles and names to MAX_TITLE_CHARS; only this much of a
# header value is worth tidying (a 10 MB "Title:" line is two million words).
_MAX_NAME_SCAN = 4 * MAX_TITLE_CHARS


@dataclass(slots=True)
class Header:
    first_line: str | None
    fields: list[tuple[str, str]]
    # Where the story starts: an offset into the text.
    body_start: int


@dataclass(slots=True)
class _Paragraph:
    start: int
    end: int  # exclusive
    fields: list[int] = field(default_factory=list)


def canonical_key(key: str) -> str:
    """The metadata key for a header key as written: `Relationships` -> `pairing`."""
    normal = " ".join(key.lower().replace("’", "'").replace("(s)", "s").split())
    return _KNOWN_KEYS.get(normal, normal)


def is_known_key(key: str) -> bool:
    """Whether a header key is one Storyshelf knows (Title, Rating, Summary, ...)."""
    return " ".join(key.lower().replace("’", "'").replace("(s)", "s").split()) in _KNOWN_KEYS


_is_known = is_known_key


def _is_header_key(key: str) -> bool:
    return _is_known(key) or canonical_key(key) in _COMMON_EXTRA_KEYS


def key_value(line: str) -> tuple[str, str] | None:
    """`Title: A Week in the Life` -> ("Title", "A Week in the Life"); also `**Title:** ...`."""
    text = line.strip()
    marker = ""
    if text.startswith(("**", "__")):
        marker, text = text[:2], text[2:]
    colon = text.find(":", 0, 40)
    if colon <= 0:
        return None
    key = text[:colon].strip()
    value = text[colon + 1 :]
    if marker:
        key = key.removesuffix(marker).rstrip()
        value = value.lstrip().removeprefix(marker)
        if value.rstrip().endswith(marker) and marker not in value.rstrip()[:-2]:
            value = value.rstrip()[:-2]  # "**Disclaimer: I own nothing.**": bold all through
    value = value.strip()
    if not _KEY.fullmatch(key) or len(key.split()) > 4 or value.startswith("//"):
        return None
    if key.lower().startswith("dear "):
        return None
    return key, value


def parse_fields(text: str) -> list[tuple[str, str]]:
    """Every `Key: value` line of a block of text, indented lines continuing the one above."""
    fields: list[tuple[str, str]] = []
    for line in text.split("\n"):
        found = key_value(line) if line[:1].strip() else None
        if found:
            fields.append(found)
        elif fields and line.strip() and line[:1].isspace():
            key, value = fields[-1]
            fields[-1] = (key, f"{value} {line.strip()}".strip())
    return fields


def split_header(text: str) -> Header | None:
    """The header at the top of `text`, or None when the story starts straight away."""
    lines = text.split("\n", _MAX_HEADER_LINES)[:_MAX_HEADER_LINES]
    paragraphs = _paragraphs(lines)
    if not paragraphs:
        return None
    first_line = None
    if key_value(lines[paragraphs[0].start]) is None:
        opening = paragraphs[0]
        line = lines[opening.start].strip()
        if opening.end - opening.start != 1 or len(line) > _MAX_FIRST_LINE:
            return None
        first_line = plain_title(line) or line
        paragraphs = paragraphs[1:]

    fields: list[list[str]] = []
    taken: list[_Paragraph] = []
    for position, paragraph in enumerate(paragraphs):
        head = key_value(lines[paragraph.start])
        byline = _byline(lines, paragraph) if first_line and position == 0 else None
        if head is None and byline is not None:
            # "**Title**" then "**by Author**": a title page, not the story's first lines.
            paragraph.fields.append(len(fields))
            fields.append(["Author", byline])
            taken.append(paragraph)
            continue
        if head is None:
            following = paragraphs[position + 1] if position + 1 < len(paragraphs) else None
            if (
                fields
                and not fields[-1][1]
                and _is_known(fields[-1][0])
                and following is not None
                and key_value(lines[following.start]) is not None
            ):
                # "Summary:" with the summary as the next paragraph.
                fields[-1][1] = _joined(lines[paragraph.start : paragraph.end])
                taken[-1].end = paragraph.end
                continue
            break
        for index in range(paragraph.start, paragraph.end):
            found = key_value(lines[index])
            if found and (index == paragraph.start or _is_header_key(found[0])):
                paragraph.fields.append(len(fields))
                fields.append([found[0], found[1]])
            elif fields:
                value = fields[-1][1]
                line = lines[index].strip()
                fields[-1][1] = f"{value}\n{line}" if value else line
        taken.append(paragraph)

    # Trailing paragraphs of unfamiliar keys are the story's opening, not header.
    while taken and not any(_is_header_key(fields[i][0]) for i in taken[-1].fields):
        taken.pop()
    if not taken:
        return None
    count = max(taken[-1].fields) + 1
    kept = [(key, value) for key, value in fields[:count]]
    if not any(_is_known(key) for key, _ in kept):
        return None
    body_start = sum(len(line) + 1 for line in lines[: taken[-1].end])
    return Header(first_line=first_line, fields=kept, body_start=min(body_start, len(text)))


def _byline(lines: list[str], paragraph: _Paragraph) -> str | None:
    if paragraph.end - paragraph.start != 1:
        return None
    line = lines[paragraph.start].strip()
    if _TERMINAL_STOP.search(plain_title(line)):
        return None  # "By the time she came, it was dark." is the story
    return byline_author(line)


def _paragraphs(lines: list[str]) -> list[_Paragraph]:
    result: list[_Paragraph] = []
    start = None
    for index, line in enumerate(lines):
        if line.strip():
            if start is None:
                start = index
        elif start is not None:
            result.append(_Paragraph(start, index))
            start = None
    if start is not None:
        result.append(_Paragraph(start, len(lines)))
    return result


def _joined(lines: Iterable[str]) -> str:
    return "\n".join(line.strip() for line in lines)


def build_story(
    *,
    fields: list[tuple[str, str]],
    first_line: str | None,
    split: SplitResult,
    filename: str,
    source_format: str,
    title_hint: str | None = None,
    extra_warnings: Iterable[str] = (),
) -> ParsedStory:
    """A ParsedStory from header fields and sections: title, author, rating, metadata."""
    warnings: list[str] = []
    values: dict[str, str] = {}
    for key, value in fields:
        name = canonical_key(key)
        if not value:
            continue
        if name not in values:
            values[name] = value
        elif name not in _SINGLE_VALUED:
            values[name] = f"{values[name]}\n\n{value}"

    title = values.pop("title", "") or first_line or title_hint
    if not title and split.front_title:
        title = split.front_title
        if not split.front_author:
            warnings.append(f"No title found; used “{title}” from the start of the file.")
    if split.front_author and "author" not in values:
        values["author"] = split.front_author
    _add_front_matter(values, split)
    if not title:
        title = _title_from_filename(filename)
        warnings.append(f"No title found; used the file name “{title}”.")
    title = " ".join(title[:_MAX_NAME_SCAN].split())

    author = values.pop("author", None)
    label = values.pop("rating", None)
    rating = parse_rating(label)
    if rating is None:
        rating = Rating.not_rated()
        if label:
            warnings.append(f"Rating “{label}” not recognised; marked Not Rated.")
            values["rating"] = label
        else:
            warnings.append("No rating found; marked Not Rated (only age-restricted channels).")

    if not split.sections or not any(section.text.strip() for section in split.sections):
        raise StoryFileError(f"“{display_name(filename)}” has no story text.")
    warnings.extend(extra_warnings)
    warnings.extend(split.warnings)
    return ParsedStory(
        title=title,
        author=" ".join(author[:_MAX_NAME_SCAN].split()) if author else None,
        rating=rating,
        sections=split.sections,
        metadata=values,
        warnings=tuple(warnings),
        source_format=source_format,
    )


def _add_front_matter(values: dict[str, str], split: SplitResult) -> None:
    """Front matter and the author's notes found before the first chapter, for the card."""
    if split.front_matter:
        values["front_matter"] = split.front_matter
    if split.parts and "parts" not in values:
        values["parts"] = "\n".join(split.parts)
    if split.front_notes:
        notes = values.get("notes")
        values["notes"] = f"{notes}\n\n{split.front_notes}" if notes else split.front_notes


def _title_from_filename(filename: str) -> str:
    name = display_name(filename)
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    stem = " ".join(stem.replace("_", " ").split())
    return stem or "Untitled story"
