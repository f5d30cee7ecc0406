"""From blocks to sections: chapters where the story has headings, scenes where it does not.

Rules that hold whatever the input:

* every word of the body ends up in a section's text, in a section's title (a
  chapter heading), or in front matter that was skipped on purpose (a title
  page and table of contents before the first chapter) and counted, so the
  caller can tell the user;
* a table of contents never becomes sections;
* the work is linear in the size of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.parsing.blocks import (
    Block,
    Kind,
    demote,
    is_scene_break_line,
    normal_gap,
    word_lists,
)
from bot.parsing.headings import CONTAINER, Heading, match_heading
from bot.story import SCENE_BREAK, Section

__all__ = ("MAX_TITLE_CHARS", "SplitResult", "SplitStyle", "split_sections", "title_from_text")

TITLE_CHARS = 80
# The longest title anything here may give a story, a section or an author;
# parse_story cuts longer ones. The longest real one in the corpus is a
# 178-character Les Misérables chapter ("BOOK ELEVENTH—… · CHAPTER I—…"); a
# hostile file can make one of megabytes (100,000 "Part" lines chained, or a
# 10 MB <h1>).
MAX_TITLE_CHARS = 300
_CONTENTS_LINE = re.compile(r"(?:table\s+of\s+)?contents[.:]?", re.IGNORECASE)
# Only tried where a run of stops begins, and without backtracking, so a line of
# ten million dots costs one pass.
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’»)\]_*]*+(?=\s|$)")
# fmt: off
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "st", "mt", "no", "jr", "sr", "vs", "prof", "capt", "col", "gen",
    "lt", "sgt", "rev", "hon", "messrs", "mme", "mlle", "m", "etc", "vol", "ch", "chap",
})
# fmt: on
_TERMINAL = re.compile(r"[.!?…][\"'”’»)\]_*]*$")
_TITLE_SEPARATOR = " · "
# A contents list sits near the start of a book.
_CONTENTS_SEARCH_BLOCKS = 2000


@dataclass(frozen=True, slots=True)
class SplitStyle:
    # Two or more blank lines inside a chapter mark a scene break (a story's own
    # layout); Gutenberg books use blank lines for spacing only.
    blank_line_breaks_in_chapters: bool = True
    # Gutenberg front matter (title page, contents) is dropped unless it holds
    # real prose; other files keep anything that is more than a title line.
    strict_front_matter: bool = False
    # Markdown "##" headings were given: no guessing at "Chapter 1" lines.
    explicit_headings: bool = False


@dataclass(frozen=True, slots=True)
class SplitResult:
    sections: tuple[Section, ...]
    warnings: tuple[str, ...]
    # Words that went into section titles (chapter headings) rather than text.
    heading_words: int = 0
    # Words of front matter skipped before the first chapter.
    dropped_words: int = 0
    # A title-like line found in skipped front matter, for a story without a title.
    front_title: str | None = None


class _Draft:
    """A section being assembled."""

    __slots__ = ("has_prose", "paragraphs", "title_parts", "under_container")

    def __init__(self) -> None:
        self.title_parts: list[str] = []
        self.paragraphs: list[str] = []
        self.has_prose = False
        # Only VOLUME / BOOK headings so far: a subtitle line under them is not a chapter yet.
        self.under_container = False

    def add_heading(self, heading: Heading) -> None:
        self.title_parts.append(heading.title)
        self.under_container = heading.rank == CONTAINER

    def add(self, block: Block) -> None:
        self.paragraphs.append(_paragraph(block))
        if not self.has_prose and _is_body_text(block, under_container=self.under_container):
            self.has_prose = True

    def add_break(self) -> None:
        if self.paragraphs and self.paragraphs[-1] != SCENE_BREAK:
            self.paragraphs.append(SCENE_BREAK)

    def extend(self, other: _Draft) -> None:
        for paragraph in other.paragraphs:
            if paragraph != SCENE_BREAK or self.paragraphs:
                self.paragraphs.append(paragraph)
        self.has_prose = self.has_prose or other.has_prose

    def text(self) -> str:
        paragraphs = self.paragraphs
        while paragraphs and paragraphs[-1] == SCENE_BREAK:
            paragraphs.pop()
        return "\n\n".join(paragraphs)

    def to_section(self, number: int) -> Section:
        text = self.text()
        if self.title_parts:
            title = _TITLE_SEPARATOR.join(self.title_parts)
        else:
            title = _first_prose_title(self.paragraphs) or f"Section {number}"
        return Section(title=title, text=text)


def split_sections(blocks: list[Block], style: SplitStyle | None = None) -> SplitResult:
    """Sections of a story body, with warnings about anything that was guessed."""
    style = style or SplitStyle()
    threshold = normal_gap(blocks) + 1
    chapters = _split_chapters(blocks, style, threshold)
    if chapters is not None:
        return chapters
    return _split_scenes(blocks, threshold)


# --- chapters -------------------------------------------------------------------------------


def _split_chapters(blocks: list[Block], style: SplitStyle, threshold: int) -> SplitResult | None:
    if style.explicit_headings:
        blocks = [b if b.kind is not Kind.HEADING or b.explicit else demote(b) for b in blocks]
    else:
        blocks = _skip_contents(blocks)
    heads = [index for index, block in enumerate(blocks) if block.kind is Kind.HEADING]
    if not heads:
        return None
    first = _first_chapter(blocks, heads)
    if first is None:
        return None
    start = _chain_start(blocks, first)
    guessed = not style.explicit_headings
    if len(heads) == 1 and guessed and any(block.is_prose for block in blocks[:start]):
        return None  # one heading-like line in the middle of a story is just a line

    drafts: list[_Draft] = []
    heading_words = 0
    current: _Draft | None = None
    for block in blocks[start:]:
        if block.kind is Kind.HEADING:
            assert block.heading is not None
            heading_words += block.word_count()
            if current is not None and current.has_prose:
                drafts.append(current)
                current = None
            if current is None:
                current = _Draft()
            current.add_heading(block.heading)
            continue
        assert current is not None  # blocks[start] is a heading
        if block.kind is Kind.BREAK:
            current.add_break()
            continue
        if (
            style.blank_line_breaks_in_chapters
            and block.blank_before >= threshold
            and current.paragraphs
        ):
            current.add_break()
        current.add(block)
    if current is not None:
        if current.has_prose or not drafts:
            drafts.append(current)
        else:
            # Headings with nothing under them at the very end: keep their words as text.
            heading_words -= _fold_into(drafts[-1], current)

    warnings: list[str] = []
    dropped_words = 0
    front_title = None
    front = [block if block.kind is not Kind.HEADING else demote(block) for block in blocks[:start]]
    front_words = sum(block.word_count() for block in front if block.kind is Kind.TEXT)
    if front_words:
        if _front_matter_is_story(front, strict=style.strict_front_matter):
            lead = _Draft()
            for block in front:
                if block.kind is Kind.BREAK:
                    lead.add_break()
                else:
                    lead.add(block)
            drafts.insert(0, lead)
            warnings.append("The text before the first chapter is kept as section 1.")
        else:
            dropped_words = front_words
            front_title = _front_title(front)
            warnings.append(
                f"Skipped {front_words} word{'s' if front_words != 1 else ''} before the first "
                "chapter (title page or table of contents)."
            )
    chapters = len(drafts)
    if guessed:
        warnings.insert(
            0,
            f"Split into {chapters} section{'s' if chapters != 1 else ''} at chapter headings.",
        )
    sections = tuple(draft.to_section(number) for number, draft in enumerate(drafts, 1))
    return SplitResult(
        sections=sections,
        warnings=tuple(warnings),
        heading_words=heading_words,
        dropped_words=dropped_words,
        front_title=front_title,
    )


def _fold_into(target: _Draft, tail: _Draft) -> int:
    """Append a trailing heading-only draft to the section before it; returns the heading words."""
    words = 0
    for part in tail.title_parts:
        target.paragraphs.append(part)
        words += len(part.split())
    target.extend(tail)
    return words


def _skip_contents(blocks: list[Block]) -> list[Block]:
    """Headings listed after a `Contents` line are a table of contents, not chapters.

    The contents run until the first real prose; the heading (and any VOLUME or
    BOOK lines right above it) just before that prose is the first chapter.
    """
    contents = None
    for index, block in enumerate(blocks[:_CONTENTS_SEARCH_BLOCKS]):
        if block.kind is Kind.TEXT and _is_real_prose(block):
            break
        if (
            block.kind is Kind.TEXT
            and len(block.lines) == 1
            and _CONTENTS_LINE.fullmatch(block.lines[0].strip())
        ):
            contents = index
            break
    if contents is None:
        return blocks
    prose = next(
        (i for i in range(contents + 1, len(blocks)) if _is_real_prose(blocks[i])),
        None,
    )
    if prose is None:
        return blocks
    keep: set[int] = set()
    index = prose - 1
    while index > contents:
        block = blocks[index]
        if block.kind is Kind.HEADING:
            assert block.heading is not None
            if keep and block.heading.rank != CONTAINER:
                break
            keep.add(index)
        elif block.is_prose:
            break
        index -= 1
    result = list(blocks)
    for index in range(contents + 1, prose):
        if result[index].kind is Kind.HEADING and index not in keep:
            result[index] = demote(result[index])
    return result


def _first_chapter(blocks: list[Block], heads: list[int]) -> int | None:
    """The first heading with story text under it (table-of-contents entries have none)."""
    for position, index in enumerate(heads):
        end = heads[position + 1] if position + 1 < len(heads) else len(blocks)
        heading = blocks[index].heading
        container = heading is not None and heading.rank == CONTAINER
        if any(_is_body_text(blocks[i], under_container=container) for i in range(index + 1, end)):
            return index
    return None


def _chain_start(blocks: list[Block], first: int) -> int:
    """Include VOLUME / BOOK / PART lines directly above the first chapter in its title."""
    start = first
    index = first - 1
    while index >= 0:
        block = blocks[index]
        if block.kind is Kind.HEADING:
            assert block.heading is not None
            if block.heading.rank != CONTAINER:
                break
            start = index
        elif block.is_prose:
            break
        index -= 1
    return start


def _is_body_text(block: Block, *, under_container: bool = False) -> bool:
    """Prose that makes a heading a section (under a VOLUME line, an all-caps subtitle does not)."""
    if not block.is_prose:
        return False
    if under_container and len(block.lines) == 1 and len(block.lines[0]) <= 120:
        line = block.lines[0]
        return line.upper() != line or not any(ch.isalpha() for ch in line)
    return True


def _front_matter_is_story(front: list[Block], *, strict: bool) -> bool:
    if strict:
        return any(block.kind is Kind.TEXT and _is_real_prose(block) for block in front)
    return any(_is_story_text(block) for block in front)


def _is_real_prose(block: Block) -> bool:
    """A paragraph of sentences, not a title page line, a list or a contents entry."""
    if block.kind is not Kind.TEXT or block.bracketed:
        return False
    text = "\n".join(block.lines)
    words = lower = 0
    for some in word_lists(text):
        words += len(some)
        lower += sum(1 for word in some if word[:1].islower())
    if words < 6 or lower * 10 < words * 4:
        return False
    # Line ends are whitespace to the lookahead, just as the spaces between words.
    return bool(_SENTENCE_END.search(text))


def _is_story_text(block: Block) -> bool:
    """Anything in front of the first chapter that is more than a title, byline or contents."""
    if block.kind is not Kind.TEXT or block.bracketed or not block.word_count():
        return False
    if block.was_heading:
        return False  # one heading line, or a heading and its title line
    lines = [line.strip() for line in block.lines]
    if sum(1 for line in lines if match_heading(line)) * 2 >= len(lines):
        return False  # a contents list, or a heading that did not start a chapter
    if len(lines) == 1:
        line = lines[0]
        if _CONTENTS_LINE.fullmatch(line) or line.lower().startswith("by "):
            return False
        if len(line) <= 100 and not _TERMINAL.search(line):
            return False  # a title line
    return True


def _front_title(front: list[Block]) -> str | None:
    for block in front:
        if (
            block.kind is not Kind.TEXT
            or block.bracketed
            or block.was_heading
            or len(block.lines) != 1
        ):
            continue
        line = " ".join(block.lines[0].split())
        if not line or _CONTENTS_LINE.fullmatch(line) or line.lower().startswith("by "):
            continue
        if match_heading(line) or len(line) > 100 or _TERMINAL.search(line):
            continue
        return line
    return None


# --- scenes ---------------------------------------------------------------------------------


def _split_scenes(blocks: list[Block], threshold: int) -> SplitResult:
    drafts: list[_Draft] = []
    current = _Draft()
    for block in blocks:
        if block.kind is Kind.HEADING:
            block = demote(block)
        if block.kind is Kind.BREAK:
            if current.has_prose:
                drafts.append(current)
                current = _Draft()
            continue
        if block.blank_before >= threshold and current.has_prose:
            drafts.append(current)
            current = _Draft()
        current.add(block)
    if current.paragraphs:
        if current.has_prose or not drafts:
            drafts.append(current)
        else:
            drafts[-1].extend(current)
    drafts = [draft for draft in drafts if draft.paragraphs]
    sections = tuple(draft.to_section(number) for number, draft in enumerate(drafts, 1))
    if len(sections) > 1:
        warning = f"No chapter headings found; split into {len(sections)} scenes at scene breaks."
    else:
        warning = "No chapter headings or scene breaks found; the story is one section."
    return SplitResult(sections=sections, warnings=(warning,))


# --- text helpers ---------------------------------------------------------------------------


def _paragraph(block: Block) -> str:
    if block.kind is Kind.BREAK:
        return SCENE_BREAK
    lines = block.lines
    if len(lines) == 1:
        return lines[0].strip()
    # Remove the indent the lines share (verse keeps its relative indents); a
    # first-line indent is typography.
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join(line[indent:].rstrip() for line in lines).lstrip()


def _first_prose_title(paragraphs: list[str]) -> str | None:
    fallback = None
    for paragraph in paragraphs:
        if paragraph == SCENE_BREAK:
            continue
        if paragraph.startswith("[") and paragraph.endswith("]"):
            fallback = fallback or paragraph
            continue
        title = title_from_text(paragraph)
        if title:
            return title
    return title_from_text(fallback) if fallback else None


def title_from_text(text: str, limit: int = TITLE_CHARS) -> str:
    """A section's name from its first sentence, cut at a word boundary to about `limit` chars."""
    head = " ".join(text[: limit * 4].split())
    end = len(head)
    for match in _SENTENCE_END.finditer(head):
        before = head[: match.start()].rsplit(" ", 1)[-1].strip("“\"'(").lower()
        if match.group()[0] == "." and (before in _ABBREVIATIONS or len(before) == 1):
            continue  # "Mr. Bennet", "J. Smith"
        end = match.end()
        break
    return clip_words(head[:end].strip(), limit)


def clip_words(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word end when one is near, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:·—–-") + "…"


def body_words(text: str) -> int:
    """Words of a story body as the sections count them: scene-break lines carry none."""
    return sum(len(line.split()) for line in text.split("\n") if not is_scene_break_line(line))
