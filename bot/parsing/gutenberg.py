"""Project Gutenberg plain text: the book between the START and END markers, unwrapped."""

from __future__ import annotations

import re
from collections import Counter

from bot.parsing.blocks import (
    classify_headings,
    mark_brackets,
    paused_gc,
    reflow_blocks,
    tokenize,
)
from bot.parsing.decode import display_name
from bot.parsing.header import build_story, parse_fields
from bot.parsing.sections import SplitResult, SplitStyle, split_sections
from bot.story import ParsedStory, StoryFileError

__all__ = (
    "find_start_marker",
    "parse_gutenberg",
    "split_gutenberg",
    "split_gutenberg_body",
    "unwrap_lines",
    "wrap_width",
)


class _LinePattern:
    """A pattern for a whole line, found where `re.search` with `^` (MULTILINE) finds it.

    Such a search tries the pattern at every character, 10 ms a megabyte; this one looks
    for a newline and the line after it, which the regex engine finds in C at memory speed.
    """

    def __init__(self, line: str) -> None:
        self._line = re.compile(line, re.MULTILINE | re.IGNORECASE)
        self._after_newline = re.compile("\n" + line, re.MULTILINE | re.IGNORECASE)

    def search(self, text: str, start: int = 0) -> re.Match[str] | None:
        if start == 0 or text[start - 1] == "\n":
            match = self._line.match(text, start)
            if match is not None:
                return match
        found = self._after_newline.search(text, start)
        return None if found is None else self._line.match(text, found.start() + 1)


# "*** START OF THE PROJECT GUTENBERG EBOOK ...": naming Gutenberg, so a story's own
# "*** Start of part two ***" line is not mistaken for one.
_START = _LinePattern(r"[ \t]*\*{3}[ \t]*START OF (?:THE|THIS) PROJECT GUTENBERG\b[^\n]*$")
_END = _LinePattern(
    r"[ \t]*(?:\*{3}[ \t]*END OF (?:THE|THIS) PROJECT GUTENBERG|End of (?:the )?Project "
    r"Gutenberg)[^\n]*$"
)
# A hard-wrapped line is "full" when the next word would not have fitted; allow
# for wrappers that stop a little short of the width.
_WRAP_SLACK = 4
_PREAMBLE_KEYS = ("title", "author", "translator", "illustrator", "editor", "language")


def find_start_marker(text: str) -> re.Match[str] | None:
    return _START.search(text)


def parse_gutenberg(text: str, filename: str) -> ParsedStory:
    with paused_gc():
        return _parse_gutenberg(text, filename)


def _parse_gutenberg(text: str, filename: str) -> ParsedStory:
    found = split_gutenberg(text)
    if found is None:
        raise StoryFileError(f"“{display_name(filename)}” has no Project Gutenberg START line.")
    preamble, body = found
    if not body or body.isspace():
        raise StoryFileError(
            f"“{display_name(filename)}” has no story text between the Project Gutenberg "
            "START and END lines."
        )
    fields = [
        (key, value) for key, value in parse_fields(preamble) if key.lower() in _PREAMBLE_KEYS
    ]
    return build_story(
        fields=fields,
        first_line=None,
        split=split_gutenberg_body(body),
        filename=filename,
        source_format="gutenberg",
        extra_warnings=("Removed the Project Gutenberg licence text before and after the book.",),
    )


def split_gutenberg(text: str) -> tuple[str, str] | None:
    """(preamble, book): the text before the START line, and between START and END."""
    start = find_start_marker(text)
    if start is None:
        return None
    end = _END.search(text, start.end())
    return text[: start.start()], text[start.end() : end.start() if end else len(text)]


def split_gutenberg_body(body: str) -> SplitResult:
    """Sections of the book between the markers: unwrapped, chapters found, front matter judged."""
    blocks = tokenize(body, split_long_lines=False)
    width = wrap_width(body)
    if width:
        reflow_blocks(blocks, lambda lines: unwrap_lines(lines, width))
    blocks = classify_headings(mark_brackets(blocks, body))
    return split_sections(
        blocks, SplitStyle(blank_line_breaks_in_chapters=False, strict_front_matter=True)
    )


def wrap_width(text: str) -> int | None:
    """The column the text was hard-wrapped at, or None when it was not wrapped."""
    lengths = Counter(map(len, text.split("\n")))
    del lengths[0]
    total = sum(lengths.values())
    if total < 10:
        return None
    seen = 0
    for length in sorted(lengths):
        seen += lengths[length]
        if seen * 10 >= total * 9:
            return length if 40 <= length <= 100 else None
    return None


def unwrap_lines(lines: list[str], width: int) -> list[str]:
    """Join hard-wrapped prose lines; verse, short and indented lines keep their breaks."""
    result: list[str] = []
    pieces = [lines[0]]
    previous = lines[0]
    for line in lines[1:]:
        if _continues(previous, line, width):
            pieces.append(line.strip())
        else:
            result.append(" ".join(pieces) if len(pieces) > 1 else pieces[0])
            pieces = [line]
        previous = line
    result.append(" ".join(pieces) if len(pieces) > 1 else pieces[0])
    return result


def _continues(previous: str, line: str, width: int) -> bool:
    if line[:1].isspace() or previous[:1].isspace():
        return False  # indented: verse, a letter, a table
    space = line.find(" ")
    first_word = len(line) if space < 0 else space
    return len(previous.rstrip()) + 1 + first_word > width - _WRAP_SLACK
