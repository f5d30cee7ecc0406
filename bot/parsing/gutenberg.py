"""Project Gutenberg plain text: the book between the START and END markers, unwrapped."""

from __future__ import annotations

import re
from collections import Counter

from bot.parsing.blocks import classify_headings, mark_brackets, reflow_blocks, tokenize
from bot.parsing.decode import display_name
from bot.parsing.header import build_story, parse_fields
from bot.parsing.sections import SplitStyle, split_sections
from bot.story import ParsedStory, StoryFileError

__all__ = ("find_start_marker", "parse_gutenberg", "unwrap_lines", "wrap_width")

_START = re.compile(r"^[ \t]*\*{3}[ \t]*START OF\b[^\n]*$", re.MULTILINE | re.IGNORECASE)
_END = re.compile(
    r"^[ \t]*(?:\*{3}[ \t]*END OF\b|End of (?:the )?Project Gutenberg)[^\n]*$",
    re.MULTILINE | re.IGNORECASE,
)
# A hard-wrapped line is "full" when the next word would not have fitted; allow
# for wrappers that stop a little short of the width.
_WRAP_SLACK = 4
_PREAMBLE_KEYS = ("title", "author", "translator", "illustrator", "editor", "language")


def find_start_marker(text: str) -> re.Match[str] | None:
    return _START.search(text)


def parse_gutenberg(text: str, filename: str) -> ParsedStory:
    start = find_start_marker(text)
    if start is None:
        raise StoryFileError(f"“{display_name(filename)}” has no Project Gutenberg START line.")
    end = _END.search(text, start.end())
    body = text[start.end() : end.start() if end else len(text)]
    if not body.split():
        raise StoryFileError(
            f"“{display_name(filename)}” has no story text between the Project Gutenberg "
            "START and END lines."
        )

    fields = [
        (key, value)
        for key, value in parse_fields(text[: start.start()])
        if key.lower() in _PREAMBLE_KEYS
    ]
    blocks = tokenize(body, split_long_lines=False)
    width = wrap_width(body)
    if width:
        reflow_blocks(blocks, lambda lines: unwrap_lines(lines, width))
    blocks = classify_headings(mark_brackets(blocks))
    split = split_sections(
        blocks, SplitStyle(blank_line_breaks_in_chapters=False, strict_front_matter=True)
    )
    warnings = ["Removed the Project Gutenberg licence text before and after the book."]
    return build_story(
        fields=fields,
        first_line=None,
        split=split,
        filename=filename,
        source_format="gutenberg",
        extra_warnings=warnings,
    )


def wrap_width(text: str) -> int | None:
    """The column the text was hard-wrapped at, or None when it was not wrapped."""
    lengths: Counter[int] = Counter()
    for line in text.split("\n"):
        if line.strip():
            lengths[len(line.rstrip())] += 1
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
    result = [lines[0]]
    previous = lines[0]
    for line in lines[1:]:
        if _continues(previous, line, width):
            result[-1] = result[-1].rstrip() + " " + line.strip()
        else:
            result.append(line)
        previous = line
    return result


def _continues(previous: str, line: str, width: int) -> bool:
    indent = len(line) - len(line.lstrip())
    if indent != len(previous) - len(previous.lstrip()):
        return False
    words = line.split(maxsplit=1)
    if not words:
        return False
    return len(previous.rstrip()) + 1 + len(words[0]) > width - _WRAP_SLACK
