"""Markdown stories: a `---` front-matter block or a `Key: value` header, `# Title`, `##` chapters.

Emphasis and other inline Markdown are kept as written; Discord renders them.
"""

from __future__ import annotations

import re

from bot.parsing import blocks as block_limits
from bot.parsing.blocks import (
    Block,
    BreakMemo,
    Kind,
    TextShapeError,
    check_line_count,
    classify_headings,
    mark_brackets,
    paused_gc,
    text_chunks,
)
from bot.parsing.decode import display_name
from bot.parsing.ffnet import split_ffnet_header
from bot.parsing.header import build_story, key_value, split_header
from bot.parsing.headings import CHAPTER, CONTAINER, Heading, plain_title
from bot.parsing.sections import SplitStyle, split_sections
from bot.story import ParsedStory, StoryFileError

__all__ = ("parse_markdown", "split_front_matter")

_FRONT_MATTER_FENCE = re.compile(r"---[ \t]*")
_FRONT_MATTER_END = re.compile(r"(?:---|\.\.\.)[ \t]*")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
_CLOSING_HASHES = re.compile(r"[ \t]+#+$")
_TERMINAL = re.compile(r"[.!?…,;:\"”’)]$")
_MAX_FRONT_MATTER_LINES = 200
_MAX_HEADING_LINE = 300
_MARKUP_IN_TITLE = re.compile(r"[*_~>\\]")
# Backslash escapes of characters Discord does not format: pandoc writes "Ace\\'s" and
# "\\"Hello\\"", which Discord would show with the backslash.
_NEEDLESS_ESCAPE = re.compile(r"\\(['\"$%&@,;:?!=/])")


def parse_markdown(text: str, filename: str) -> ParsedStory:
    with paused_gc():
        return _parse_markdown(text, filename)


def _parse_markdown(text: str, filename: str) -> ParsedStory:
    if "\\" in text:
        text = _NEEDLESS_ESCAPE.sub(r"\1", text)
    fields: list[tuple[str, str]] = []
    first_line = None
    body = text
    front = split_front_matter(text)
    if front is not None:
        fields, body = front
    else:
        header = split_ffnet_header(text) or split_header(text)
        if header is not None:
            fields, first_line, body = header.fields, header.first_line, text[header.body_start :]
            atx = _atx_heading(first_line) if first_line else None
            if atx is not None:
                first_line = atx[1]  # "# My Story" above the header lines
    if not body or body.isspace():
        raise _no_story(filename, has_header=bool(fields))

    blocks, levels = _markdown_blocks(body)
    title_hint = None
    explicit = list(levels)  # levels has the index of every explicit heading, in order
    if explicit:
        given_title = next((value for key, value in fields if key.lower() == "title"), None)
        title_index = _title_heading(blocks, explicit, levels, given_title)
        if title_index is not None:
            heading = blocks[title_index].heading
            assert heading is not None
            title_hint = heading.title
            del blocks[title_index]
            levels = {
                i - (i > title_index): level for i, level in levels.items() if i != title_index
            }
        _rank_headings(blocks, levels)
    if explicit and any(block.explicit for block in blocks):
        split = split_sections(blocks, SplitStyle(explicit_headings=True))
    else:
        blocks = classify_headings(mark_brackets(blocks, body))
        split = split_sections(blocks, SplitStyle())
    if not split.sections:
        raise _no_story(filename, has_header=bool(fields) or title_hint is not None)
    return build_story(
        fields=fields,
        first_line=first_line,
        split=split,
        filename=filename,
        source_format="markdown",
        title_hint=title_hint,
    )


def split_front_matter(text: str) -> tuple[list[tuple[str, str]], str] | None:
    """Fields of a `---` front-matter block at the very top, and the text after it."""
    lines = text.split("\n", _MAX_FRONT_MATTER_LINES + 1)
    if not lines or not _FRONT_MATTER_FENCE.fullmatch(lines[0]):
        return None
    fields: list[tuple[str, str]] = []
    for index in range(1, min(len(lines), _MAX_FRONT_MATTER_LINES + 1)):
        line = lines[index]
        if _FRONT_MATTER_END.fullmatch(line):
            if not fields:
                return None
            rest = "\n".join(lines[index + 1 :])
            return [(key, _unquote(value)) for key, value in fields], rest
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        found = key_value(line) if not line[:1].isspace() else None
        if found:
            key, value = found
            fields.append((key, "" if value in ("|", ">", "|-", ">-") else value))
        elif fields and (line[:1].isspace() or stripped.startswith("- ")):
            key, value = fields[-1]
            item = stripped[2:].strip() if stripped.startswith("- ") else stripped
            joiner = ", " if stripped.startswith("- ") else "\n"
            fields[-1] = (key, f"{value}{joiner}{_unquote(item)}" if value else _unquote(item))
        else:
            return None  # not front matter after all: a story that opens with a rule
    return None


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if value.startswith("[") and value.endswith("]"):
        return ", ".join(_unquote(item) for item in value[1:-1].split(",") if item.strip())
    return value


def _markdown_blocks(body: str) -> tuple[list[Block], dict[int, int]]:
    """Blocks of a Markdown body; explicit headings keep their level (1 for `#`).

    Lines are read as `blocks.tokenize` reads them (this loop runs once per line of a
    novel, so that is inlined too), apart from Markdown's own: code fences, `#` headings
    and setext headings (a title line underlined with `===` or `---`).
    """
    blocks: list[Block] = []
    levels: dict[int, int] = {}
    pending: list[str] = []  # the lines of the paragraph being read
    blank = 0  # blank lines before the next block
    fenced = False
    is_break = BreakMemo()
    text_kind, break_kind = Kind.TEXT, Kind.BREAK
    max_blocks = block_limits.MAX_BLOCKS  # looked up here, not at import: tests lower it
    check_line_count(body)
    # Lines between runs of blank lines; the runs themselves are counted in C.
    for chunk, gap_blanks in text_chunks(body):
        if (
            not pending
            and not fenced
            and "\n" not in chunk
            and chunk[:1].isalpha()
            and chunk[0] not in "oOxX"
        ):
            # One line of prose between blank lines: a paragraph as most stories are
            # written, made as the loop below would make it, without the loop.
            blocks.append(Block(text_kind, [chunk.rstrip()], blank))
            blank = gap_blanks
            if len(blocks) > max_blocks:
                raise TextShapeError.too_many_blocks()
            continue
        for line in chunk.split("\n") if "\n" in chunk else (chunk,):
            if not line or line.isspace():
                if pending:
                    blocks.append(Block(text_kind, pending, blank))
                    pending, blank = [], 0
                blank += 1
                continue
            first = line[0]
            if first.isalpha() and first not in "oOxX" and not fenced and not pending:
                pending.append(line.rstrip())  # a paragraph starts ("oOo" may be a break)
                continue
            block = None
            if "```" in line[:8] and line.lstrip().startswith("```"):
                fenced = not fenced
            elif fenced:
                pass
            elif "#" in line[:4] and (atx := _atx_heading(line)) is not None:
                level, title = atx
                levels[len(blocks) + (1 if pending else 0)] = level
                block = _heading_block(line, title)
            elif (
                pending
                and line.lstrip(" ")[:1] in ("=", "-")
                and _SETEXT.fullmatch(line)
                and _setext_candidate(pending)
            ):
                title = pending[0].strip()
                pending = []
                levels[len(blocks)] = 1 if "=" in line else 2
                block = _heading_block(title, title)
                block.lines = [title, line.strip()]
            if block is None:
                line = line.rstrip()
                if len(line) > 80 or not is_break(line):
                    pending.append(line)
                    continue
                block = Block(break_kind, [line])
            # A heading or a scene break: it ends the paragraph before it.
            if pending:
                blocks.append(Block(text_kind, pending, blank))
                pending, blank = [], 0
            block.blank_before = blank
            blank = 0
            blocks.append(block)
            if len(blocks) > max_blocks:
                raise TextShapeError.too_many_blocks()
        if pending and gap_blanks:
            blocks.append(Block(text_kind, pending, blank))
            pending, blank = [], 0
        blank += gap_blanks
        if len(blocks) > max_blocks:
            raise TextShapeError.too_many_blocks()
    if pending:
        blocks.append(Block(text_kind, pending, blank))
        if len(blocks) > max_blocks:
            raise TextShapeError.too_many_blocks()
    return blocks, levels


def _atx_heading(line: str) -> tuple[int, str] | None:
    if "#" not in line[:4] or len(line) > _MAX_HEADING_LINE:
        return None
    text = line.lstrip(" ")
    if len(line) - len(text) > 3 or not text.startswith("#"):
        return None
    level = len(text) - len(text.lstrip("#"))
    rest = text[level:]
    if level > 6 or (rest and not rest[0].isspace()):
        return None
    title = rest.strip()
    if title.endswith("#"):
        title = _CLOSING_HASHES.sub("", title).strip()
    if not title:
        return None  # a lone "#" is a scene break
    return level, title


def _setext_candidate(pending: list[str]) -> bool:
    if len(pending) != 1:
        return False
    line = pending[0].strip()
    return 0 < len(line) <= 100 and not _TERMINAL.search(line)


def _heading_block(line: str, title: str) -> Block:
    if _MARKUP_IN_TITLE.search(title):
        title = plain_title(title) or title
    block = Block(Kind.HEADING, [line.strip()], heading=Heading(title=title, rank=CHAPTER))
    block.explicit = True
    return block


def _title_heading(
    blocks: list[Block], explicit: list[int], levels: dict[int, int], given_title: str | None
) -> int | None:
    """The `# Title` line: a level-1 heading before any prose, when it is not a chapter.

    When the front matter already names the story and the `#` line says something else,
    it is a part heading ("# Fish Out Of Water" above "## Gift From The Skies").
    """
    first = explicit[0]
    if levels.get(first) != 1 or any(block.is_prose for block in blocks[:first]):
        return None
    heading = blocks[first].heading
    if given_title and heading is not None and _same_title(heading.title, given_title) is False:
        return None
    level_one = sum(1 for i in explicit if levels.get(i) == 1)
    deeper = any(levels.get(i, 1) > 1 for i in explicit)
    return first if level_one == 1 or deeper else None


def _same_title(one: str, other: str) -> bool:
    def norm(text: str) -> str:
        return " ".join(plain_title(text).casefold().split())

    return norm(one) == norm(other)


def _rank_headings(blocks: list[Block], levels: dict[int, int]) -> None:
    """The shallowest level below the title is the chapters; shallower ones contain them.

    Deeper headings (### inside a chapter) stay in the text.
    """
    present = sorted({levels[i] for i, block in enumerate(blocks) if block.explicit})
    if not present:
        return
    chapter_level = 2 if 2 in present else present[0]
    for index, block in enumerate(blocks):
        if not block.explicit or block.heading is None:
            continue
        level = levels[index]
        if level > chapter_level:
            block.kind = Kind.TEXT
            block.heading = None
            block.explicit = False
        elif level < chapter_level:
            block.heading = Heading(title=block.heading.title, rank=CONTAINER)


def _no_story(filename: str, *, has_header: bool) -> StoryFileError:
    name = display_name(filename)
    if has_header:
        return StoryFileError(
            f"“{name}” has a header but no story text after it. Put the story below the "
            "front matter or header lines."
        )
    return StoryFileError(f"“{name}” has no story text in it, only blank lines or symbols.")
