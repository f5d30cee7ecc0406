"""From blocks to sections: chapters where the story has headings, scenes where it does not.

Rules that hold whatever the input:

* every word of the body ends up in a section's text, in a section's notes (an
  author's note that opens or closes it), in a section's title (a chapter
  heading), or in front matter set aside on purpose (a title page, contents,
  cast list, dedication, epigraph, preface before the first chapter), which is
  counted and kept as text for the story's card;
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
from bot.parsing.headings import CONTAINER, FRONT_KEYWORDS, Heading, match_heading, plain_title
from bot.story import SCENE_BREAK, Section, count_words

__all__ = (
    "MAX_TITLE_CHARS",
    "SplitResult",
    "SplitStyle",
    "byline_author",
    "is_note_paragraph",
    "split_sections",
    "title_from_text",
)

TITLE_CHARS = 80
# The longest title anything here may give a story, a section or an author;
# parse_story cuts longer ones. The longest real one in the corpus is a
# 178-character Les Misérables chapter ("BOOK ELEVENTH—… · CHAPTER I—…"); a
# hostile file can make one of megabytes (100,000 "Part" lines chained, or a
# 10 MB <h1>).
MAX_TITLE_CHARS = 300
_CONTENTS_LINE = re.compile(
    r"(?:(?:table\s+of\s+)?contents|(?:the\s+)?scenes(?:\s+of\s+the\s+play)?"
    r"|list\s+of\s+(?:chapters|scenes))[.:]?",
    re.IGNORECASE,
)
# Labels of the lists and pages a book opens with. What follows one, up to the next
# heading, is front matter: kept for the card, not story text.
_FRONT_LABEL = re.compile(
    r"(?:(?:table\s+of\s+)?contents|dramatis\s+person(?:ae|æ|e)|(?:the\s+)?(?:persons|characters)"
    r"(?:\s+(?:of|in)\s+the\s+(?:play|drama|story))?|persons\s+represented|cast(?:\s+of\s+"
    r"characters)?|dedication|epigraph|(?:list\s+of\s+)?illustrations|acknowledge?ments)[.:]?",
    re.IGNORECASE,
)
# How an author's note opens: "A/N:", "Author's Note:", "Disclaimer:", "PS:".
_NOTE_START = re.compile(
    r"[(\[]?(?:a/n|an|author'?s'?\s*(?:end)?notes?|authors?\s+(?:end)?notes?|end\s*notes?|notes?"
    r"|disclaimer|acknowledge?ments?|self-promotion|beta(?:'d|ed)?(?:\s+by)?)"
    r"\s*[:.\-–—]",
    re.IGNORECASE,
)
# Front matter kept for the card, at most (a contents list of 100,000 lines is not shown).
_MAX_FRONT_CHARS = 50_000
# A paragraph this long under a "Contents" or cast-list label is the story starting.
_LONG_PARAGRAPH_WORDS = 40
# The first two letters of every note opening above, lower case: most paragraphs are
# turned away by these before the pattern is tried.
_NOTE_PREFIXES = frozenset(
    {"a/", "an", "au", "en", "no", "di", "ac", "se", "be", "**", "__", "(a", "[a", "(n", "[n"}
)
# The same, in every case ("A/", "AN", "An", "aN", ...): tested without lower-casing
# each paragraph's start, once per section of a story of 100,000 scenes.
_NOTE_LEADS = frozenset(
    first + second
    for lead in _NOTE_PREFIXES
    for first in {lead[0], lead[0].upper()}
    for second in {lead[1], lead[1].upper()}
)
# "by Charles Dickens", "By: ACI100", "Written by someone".
_BYLINE = re.compile(r"(?:written\s+)?by\s*:?\s+(?P<name>[^.!?]{1,80})", re.IGNORECASE)
_DEDICATION = re.compile(r"(?:(?:once\s+again\s+)?to|for|dedicated\s+to|in\s+memory\s+of)\b", re.I)
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
# A paragraph that is one plain sentence on one line: its own title, nothing to strip.
_ONE_PLAIN_SENTENCE = re.compile(r"[^\W_][^\n*_~>\\.!?…]*(?<! )[.!?…]?[\"'”’»)]?")
_TITLE_SEPARATOR = " · "
# Part titles listed on the card; a hostile file can chain 100,000 of them.
_MAX_PARTS = 100
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
    # The name on a "by ..." line in skipped front matter, for a story without an author.
    front_author: str | None = None
    # Skipped front matter as text (contents, cast list, dedication, epigraph, preface),
    # and author's notes found there (disclaimer, acknowledgements).
    front_matter: str = ""
    front_notes: str = ""
    # The titles of the parts, books, volumes or acts that hold the chapters, in order.
    parts: tuple[str, ...] = ()


class _Draft:
    """A section being assembled."""

    __slots__ = ("has_prose", "paragraphs", "title_parts", "under_container")

    def __init__(self) -> None:
        self.title_parts: list[str] = []
        self.paragraphs: list[str] = []
        self.has_prose = False
        # Only VOLUME / BOOK headings so far: a subtitle line under them is not a chapter yet.
        self.under_container = False

    def add_heading(self, heading: Heading, act: str | None = None) -> None:
        # A play's scenes restart at I in every act: "SCENE II" alone does not say
        # which, so each scene carries its act in its title.
        if act and not self.title_parts and heading.keyword == "scene":
            self.title_parts.append(act)
        self.title_parts.append(heading.title)
        self.under_container = heading.rank == CONTAINER

    def add(self, block: Block) -> None:
        lines = block.lines
        if len(lines) == 1 and block.kind is Kind.TEXT:
            self.paragraphs.append(lines[0].strip())  # _paragraph(), for the common case
        else:
            self.paragraphs.append(_paragraph(block))
        if (
            not self.has_prose
            and block.kind is Kind.TEXT
            and not (block.bracketed or block.front)
            and (not self.under_container or _is_body_text(block, under_container=True))
        ):
            self.has_prose = True

    def add_break(self) -> None:
        if self.paragraphs and self.paragraphs[-1] != SCENE_BREAK:
            self.paragraphs.append(SCENE_BREAK)

    def extend(self, other: _Draft) -> None:
        for paragraph in other.paragraphs:
            if paragraph != SCENE_BREAK or self.paragraphs:
                self.paragraphs.append(paragraph)
        self.has_prose = self.has_prose or other.has_prose

    def to_section(self, number: int) -> Section:
        return _section(self.paragraphs, number, self.title_parts)


def _section(paragraphs: list[str], number: int, title_parts: list[str] | None = None) -> Section:
    """Section ``number`` of a story: its paragraphs, less the author's notes, and its title
    (its headings, or else its first sentence)."""
    notes = _split_notes(paragraphs)  # which also drops scene breaks at the end
    if title_parts:
        title = _TITLE_SEPARATOR.join(title_parts)
    else:
        title = _first_prose_title(paragraphs) or f"Section {number}"
    return Section(title, "\n\n".join(paragraphs), notes)


def _split_notes(paragraphs: list[str]) -> str:
    """Take the author's notes at the start and end of a section out of ``paragraphs``.

    "A/N: ..." or "Disclaimer: ..." paragraphs opening the section, and from such a
    paragraph on at its end (a run of bold paragraphs after it, or the last three),
    are what the author says about the chapter, not the chapter. Returns them as text.
    Scene breaks at the end of the section go too: they separate nothing.
    """
    while paragraphs and paragraphs[-1] == SCENE_BREAK:
        paragraphs.pop()
    count = len(paragraphs)
    if count < 2:
        return ""
    leads = _NOTE_LEADS
    if (
        paragraphs[0][:2] not in leads
        and paragraphs[-1][:2] not in leads
        and paragraphs[-2][:2] not in leads
        and (count < 3 or paragraphs[-3][:2] not in leads)
    ):
        return ""  # the common case: nothing where a note could be starts like one
    lead = 0
    while lead < count - 1 and (
        is_note_paragraph(paragraphs[lead])
        or (lead and _is_bold(paragraphs[lead]) and _is_bold(paragraphs[lead - 1]))
    ):
        lead += 1
    tail = count
    bold_from = count
    while bold_from > lead + 1 and _is_bold(paragraphs[bold_from - 1]):
        bold_from -= 1
    for index in range(max(lead + 1, min(bold_from, count - 3)), count):
        if is_note_paragraph(paragraphs[index]):
            tail = index
            break
    if lead == 0 and tail == count:
        return ""
    body = paragraphs[lead:tail]
    while body and body[0] == SCENE_BREAK:
        body.pop(0)
    while body and body[-1] == SCENE_BREAK:
        body.pop()
    if not body:
        return ""
    notes = [p for p in paragraphs[:lead] + paragraphs[tail:] if p != SCENE_BREAK]
    paragraphs[:] = body
    return "\n\n".join(notes)


def is_note_paragraph(paragraph: str) -> bool:
    """A paragraph that opens an author's note: "A/N:", "Author's Note:", "Disclaimer:"."""
    if paragraph[:2].lower() not in _NOTE_PREFIXES:
        return False
    if paragraph[0] in "*_":
        return _NOTE_START.match(plain_title(paragraph[:60])) is not None
    return _NOTE_START.match(paragraph, 0, 60) is not None


def _is_bold(paragraph: str) -> bool:
    mark = paragraph[:2]
    return (mark == "**" or mark == "__") and len(paragraph) > 4 and paragraph.endswith(mark)


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
    heading_kind = Kind.HEADING
    heads = [index for index, block in enumerate(blocks) if block.kind is heading_kind]
    if not heads:
        return None
    _mark_front_labels(blocks, heads)
    heads = _mark_front_headings(blocks, heads)
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
    act: str | None = None
    parts: list[str] = []
    break_kind, text_kind = Kind.BREAK, Kind.TEXT
    blank_line_breaks = style.blank_line_breaks_in_chapters
    for block in blocks[start:]:
        kind = block.kind
        if kind is heading_kind:
            heading = block.heading
            assert heading is not None
            heading_words += block.word_count()
            if current is not None and current.has_prose:
                drafts.append(current)
                current = None
            if current is None:
                current = _Draft()
            current.add_heading(heading, act)
            if heading.rank == CONTAINER:
                act = heading.title if heading.keyword == "act" else None
                if len(parts) < _MAX_PARTS:
                    parts.append(heading.title)
            continue
        assert current is not None  # blocks[start] is a heading
        if kind is break_kind:
            current.add_break()
            continue
        if blank_line_breaks and block.blank_before >= threshold and current.paragraphs:
            current.add_break()
        lines = block.lines
        if len(lines) == 1 and kind is text_kind and current.has_prose:
            current.paragraphs.append(lines[0].strip())  # _Draft.add, for the common case
        else:
            current.add(block)
    if current is not None:
        if current.has_prose or not drafts:
            drafts.append(current)
        else:
            # Headings with nothing under them at the very end: keep their words as text.
            heading_words -= _fold_into(drafts[-1], current)

    warnings: list[str] = []
    dropped_words = 0
    front_title = front_author = None
    front_matter = front_notes = ""
    front = [block if block.kind is not Kind.HEADING else demote(block) for block in blocks[:start]]
    front_words = sum(block.word_count() for block in front if block.kind is Kind.TEXT)
    if front_words:
        story_from = _front_story_start(front, strict=style.strict_front_matter)
        if story_from is not None:
            lead = _Draft()
            for block in front[story_from:]:
                if block.kind is Kind.BREAK:
                    lead.add_break()
                else:
                    lead.add(block)
            drafts.insert(0, lead)
            warnings.append("The text before the first chapter is kept as section 1.")
            front = front[:story_from]  # the title page and lists above that text
            front_words = sum(block.word_count() for block in front if block.kind is Kind.TEXT)
        if front_words:
            dropped_words = front_words
            front_title, front_author = _front_title(front)
            front_matter, front_notes = _front_texts(front, front_title, front_author)
            warnings.append(
                f"Kept {front_words} word{'s' if front_words != 1 else ''} before the first "
                "chapter (title page, contents, notes) on the story's card, not as story text."
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
        front_author=front_author,
        front_matter=front_matter,
        front_notes=front_notes,
        parts=tuple(parts),
    )


def _fold_into(target: _Draft, tail: _Draft) -> int:
    """Append a trailing heading-only draft to the section before it; returns the heading words."""
    words = 0
    for part in tail.title_parts:
        target.paragraphs.append(part)
        words += count_words(part)
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
        elif block.kind is Kind.TEXT and (len(block.lines) > 1 or _is_real_prose(block)):
            break  # a list or prose: the contents end here
        elif keep and not _is_subtitle(block):
            break  # a VOLUME line belongs to the chapter only when nothing else is between
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
        elif block.is_prose or block.kind is Kind.BREAK or not _is_subtitle(block):
            break
        index -= 1
    return start


def _is_subtitle(block: Block) -> bool:
    """A short line between a VOLUME heading and the chapter under it ("FANTINE")."""
    if block.kind is not Kind.TEXT or len(block.lines) != 1:
        return False
    line = block.lines[0].strip()
    return len(line) <= 80 and not _TERMINAL.search(line)


def _is_body_text(block: Block, *, under_container: bool = False) -> bool:
    """Prose that makes a heading a section (under a VOLUME line, an all-caps subtitle does not)."""
    if not block.is_prose:
        return False
    if under_container and len(block.lines) == 1 and len(block.lines[0]) <= 120:
        line = block.lines[0]
        return line.upper() != line or not any(ch.isalpha() for ch in line)
    return True


def _front_story_start(front: list[Block], *, strict: bool) -> int | None:
    """Where story text starts before the first chapter (a prologue without a heading, an
    author's foreword), or None when all of it is title page, lists and notes."""
    for index, block in enumerate(front):
        if block.kind is not Kind.TEXT or block.front:
            continue
        story_like = _is_real_prose(block) if strict else _is_story_text(block)
        if story_like and not _front_shaped(front, index, strict=strict):
            return index
    return None


def _front_shaped(front: list[Block], index: int, *, strict: bool) -> bool:
    """Whether a block before the first chapter is front matter by its shape.

    Labelled lists (contents, cast), author's notes and bold notices, a dedication
    ("To Zelda"), in a Gutenberg book centred or indented lines (a title page, a verse
    epigraph; elsewhere an indent is just how paragraphs start), and an epigraph with its
    attribution line ("— Thomas Parke d'Invilliers") under it.
    """
    block = front[index]
    first = block.lines[0].strip()
    if (
        block.front
        or is_note_paragraph(first)
        or _is_bold("\n".join(block.lines).strip())
        or (strict and all(line[:2] == "  " for line in block.lines))
        or _is_dedication(block, first)
    ):
        return True
    if index + 1 < len(front) and block.word_count() <= 120:
        after = front[index + 1]
        return after.kind is Kind.TEXT and len(after.lines) == 1 and _is_attribution(after)
    return False


def _is_dedication(block: Block, first: str) -> bool:
    """ "To Zelda", "For my mother": short, and not a sentence ("To be honest, I left.")."""
    words = block.word_count()
    if words > 30 or _DEDICATION.match(first) is None:
        return False
    return words <= 8 or not _TERMINAL.search(block.lines[-1].strip())


def _is_attribution(block: Block) -> bool:
    line = block.lines[0].strip()
    return line[:1] in "—–-~" and 0 < len(line.lstrip("—–-~ ").split()) <= 8


def _is_story_text(block: Block) -> bool:
    """Anything in front of the first chapter that is more than a title, byline or contents."""
    if block.kind is not Kind.TEXT or block.bracketed or block.front or not block.word_count():
        return False
    if block.was_heading:
        return False  # one heading line, or a heading and its title line
    lines = [line.strip() for line in block.lines]
    if sum(1 for line in lines if match_heading(line)) * 2 >= len(lines):
        return False  # a contents list, or a heading that did not start a chapter
    if len(lines) == 1:
        line = plain_title(lines[0])
        if _CONTENTS_LINE.fullmatch(line) or byline_author(line):
            return False
        if len(line) <= 100 and not _TERMINAL.search(line):
            return False  # a title line
    return True


def byline_author(line: str) -> str | None:
    """The name on a byline ("by Charles Dickens", "**By: ACI100**"), or None."""
    if len(line) > 100:
        return None
    match = _BYLINE.fullmatch(plain_title(line))
    if match is None:
        return None
    name = match.group("name").strip()
    return name if len(name.split()) <= 6 else None


def _front_title(front: list[Block]) -> tuple[str | None, str | None]:
    """(title, author) from a title page: the line above a byline, else the first title line."""
    candidates: list[str] = []
    for block in front:
        if block.kind is not Kind.TEXT or block.bracketed or block.was_heading or block.front:
            continue
        for raw in block.lines:
            line = plain_title(raw)
            author = byline_author(line)
            if author is not None:
                return (candidates[-1] if candidates else None), author
            if len(block.lines) != 1 or not line or _CONTENTS_LINE.fullmatch(line):
                continue
            if match_heading(line) or len(line) > 100 or _TERMINAL.search(line):
                continue
            candidates.append(line)
    return (candidates[0] if candidates else None), None


def _front_texts(front: list[Block], title: str | None, author: str | None) -> tuple[str, str]:
    """Skipped front matter as (text for the card, author's notes); a title and byline
    pair, which become the story's title and author, is in neither."""
    matter: list[str] = []
    notes: list[str] = []
    in_notes = False
    kept = 0
    for block in front:
        if block.kind is not Kind.TEXT:
            continue
        if kept > _MAX_FRONT_CHARS:
            matter.append("…")  # a card shows a page or two; the rest was never story
            break
        paragraph = _paragraph(block)
        kept += len(paragraph)
        if author and len(block.lines) == 1:  # a title page: "**Title**", "**By Author**"
            line = plain_title(paragraph)
            if line == title or (author is not None and byline_author(line) == author):
                continue
        bold = _is_bold(paragraph)
        if is_note_paragraph(paragraph) or (in_notes and bold):
            notes.append(paragraph)
            in_notes = True
            continue
        in_notes = False
        matter.append(paragraph)
    return "\n\n".join(matter), "\n\n".join(notes)


def _mark_front_labels(blocks: list[Block], heads: list[int]) -> None:
    """Mark a labelled list ("Dramatis Personae", "Contents") and what follows it, up to the
    next heading, as front matter. Only before the first heading with prose under it."""
    limit = min(len(blocks), _CONTENTS_SEARCH_BLOCKS)
    index = 0
    while index < limit:
        block = blocks[index]
        if block.kind is Kind.TEXT and not block.front and _is_real_prose(block):
            return  # the story has begun: no more front matter
        label = _is_label(block)
        if label is not None:
            block.front = True
            index += 1
            # Up to the next heading. A contents list holds no paragraphs, so a long one
            # after it is the story starting without a heading; a cast or illustration
            # list may carry long notes of its own.
            contents = _CONTENTS_LINE.fullmatch(label.group()) is not None
            while index < len(blocks) and blocks[index].kind is not Kind.HEADING:
                inner = blocks[index]
                if inner.kind is Kind.TEXT:
                    if _is_label(inner):
                        break  # the next list ("Dramatis Personae" after "Contents")
                    if (
                        contents
                        and inner.word_count() >= _LONG_PARAGRAPH_WORDS
                        and _is_real_prose(inner)
                    ):
                        break
                    inner.front = True
                index += 1
            continue
        index += 1


def _is_label(block: Block) -> re.Match[str] | None:
    if block.kind is not Kind.TEXT or len(block.lines) != 1 or len(block.lines[0]) > 60:
        return None
    return _FRONT_LABEL.fullmatch(plain_title(block.lines[0]))


def _mark_front_headings(blocks: list[Block], heads: list[int]) -> list[int]:
    """A PREFACE, FOREWORD or INTRODUCTION before the first other heading is front matter."""
    if not heads:
        return heads
    leading = 0
    while leading < len(heads):
        heading = blocks[heads[leading]].heading
        if heading is None or heading.keyword not in FRONT_KEYWORDS:
            break
        leading += 1
    if leading == 0 or leading == len(heads):
        return heads
    for position in range(leading):
        index = heads[position]
        end = heads[position + 1]
        blocks[index] = demote(blocks[index])
        for inner in range(index, end):
            if blocks[inner].kind is Kind.TEXT:
                blocks[inner].front = True
    return heads[leading:]


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


# --- scenes ---------------------------------------------------------------------------------


def _split_scenes(blocks: list[Block], threshold: int) -> SplitResult:
    sections: list[Section] = []
    # The paragraphs of the scene being read. A scene becomes a section as soon as the next
    # one starts, so a story of 100,000 scenes never holds them all as drafts. The latest
    # one waits: notes after it that make no scene of their own ("[Illustration]" at the
    # very end) still join it.
    paragraphs: list[str] = []
    has_prose = False
    last: list[str] | None = None
    break_kind = Kind.BREAK
    for block in blocks:
        # A heading here is a line like any other (the story has no chapters).
        kind = block.kind
        if (kind is break_kind or block.blank_before >= threshold) and has_prose:
            if last is not None:
                sections.append(_section(last, len(sections) + 1))
            last, paragraphs, has_prose = paragraphs, [], False
        if kind is break_kind:
            continue
        lines = block.lines
        paragraphs.append(lines[0].strip() if len(lines) == 1 else _paragraph(block))
        if not (block.bracketed or block.front):
            has_prose = True
    if paragraphs:
        if has_prose or last is None:
            if last is not None:
                sections.append(_section(last, len(sections) + 1))
            last = paragraphs
        else:
            last.extend(paragraphs)
    if last is not None:
        sections.append(_section(last, len(sections) + 1))
    if len(sections) > 1:
        warning = f"No chapter headings found; split into {len(sections)} scenes at scene breaks."
    else:
        warning = "No chapter headings or scene breaks found; the story is one section."
    return SplitResult(sections=tuple(sections), warnings=(warning,))


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
    first = paragraphs[0] if paragraphs else ""
    if len(first) <= TITLE_CHARS and _ONE_PLAIN_SENTENCE.fullmatch(first):
        return first  # title_from_text() of the usual first paragraph, one short sentence
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
    """A section's name from its first sentence, cut at a word boundary to about `limit` chars.

    Without markup: `> *Good afternoon, 47.*` is named "Good afternoon, 47.".
    """
    if len(text) <= limit and _ONE_PLAIN_SENTENCE.fullmatch(text):
        return text  # the common short paragraph, decided in one regex
    head = plain_title(text[: limit * 4])
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
    return sum(count_words(line) for line in text.split("\n") if not is_scene_break_line(line))
