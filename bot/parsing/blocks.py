"""Story text as blocks: paragraphs, scene-break lines and chapter headings.

A block is a run of non-blank lines. Each block remembers how many blank lines
came before it, because a wider gap than usual is a scene break. Everything
here is a single pass over the lines, so even a 10 MB file splits in linear
time; and since every block and line costs microseconds at each step, a file
cut into far more of them than a story has is refused (`TextShapeError`).
"""

from __future__ import annotations

import contextlib
import enum
import gc
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from bot.parsing.headings import (
    HEADING_FIRST_CHARS,
    MAX_HEADING_CHARS,
    Heading,
    HeadingMemo,
    is_heading_candidate,
    join_heading_title,
    match_heading,
)
from bot.story import count_words

__all__ = (
    "MAX_BLOCKS",
    "MAX_LINES",
    "Block",
    "BreakMemo",
    "Kind",
    "TextShapeError",
    "check_line_count",
    "classify_headings",
    "count_words",
    "demote",
    "is_scene_break_line",
    "mark_brackets",
    "normal_gap",
    "paused_gc",
    "reflow_blocks",
    "squeeze_blank_lines",
    "text_chunks",
    "tokenize",
    "word_lists",
)

# A 10 MB novel has about 50,000 blocks (paragraphs, scene breaks, headings) and
# 170,000 lines of text; these limits are four to six times that. A block costs
# 4-8 µs across the whole parse and a line about 0.5 µs, so at the limits a
# parse takes about a second; a file of a million one-letter paragraphs took
# four.
MAX_BLOCKS = 220_000
MAX_LINES = 1_000_000
# Words are counted this many characters at a time (see word_lists).
_WORD_SLICE = 65_536
_SPACE = re.compile(r"\s")
_LINE_WITH_TEXT = re.compile(r"^[^\S\n]*+\S", re.MULTILINE)
# The end of a line and one or more blank (or whitespace-only) lines after it.
_BLANK_RUN = re.compile(r"\n(?:[^\S\n]*+\n)+")
# Past this many blank lines in a row, more make no difference to how a story
# splits (two already make a scene break), so longer runs are cut to this.
_MAX_BLANK_RUN = 64
# Whitespace long enough to hold that many blank lines. One character class
# repeated, which the regex engine scans in C ("(?:[ \t]*\n){65,}" takes seconds
# over ten million newlines); the lookbehind starts a match only where a run of
# whitespace starts, so a run too short to match is not rescanned from each of
# its newlines.
_LONG_WHITESPACE = re.compile(rf"(?<![ \t\n])[ \t]*\n[ \t\n]{{{2 * _MAX_BLANK_RUN},}}")
# A blank line that is not empty: spaces or tabs between two newlines. Without one, every
# run of blank lines is a row of newlines, which str.find can look for.
_SPACES_LINE = re.compile(r"\n[ \t]+\n")

# A line this long is a whole paragraph, not hard-wrapped prose or verse.
_PARAGRAPH_LINE = 150
# Tried only at line starts: a search from every position rescans each line.
_LONG_LINE = re.compile(rf"^[^\n]{{{_PARAGRAPH_LINE}}}", re.MULTILINE)
# Bracketed notes ([Illustration: ...]) rarely run longer; past this a lone "["
# is just a bracket in the prose.
_MAX_BRACKET_BLOCKS = 40

_BREAK_CHARS = "*~-–—_=#+•·∙/\\|<>^°§¤※⁂"
_BREAK_DELETE = str.maketrans("", "", _BREAK_CHARS + " \t\u00a0\u3000")
_SYMBOLS = frozenset({"So", "Sm", "Sk"})
_RULE_CHARS = frozenset("-–—_=")
# oOo, OoOoO, ooOOoo, xXxXx, o0o: o's or x's that change case (or to a zero) at least
# twice, any length from three. "Ooo" and "xxx" are words, not ornaments.
_ORNAMENT = re.compile(r"(?:[oO0]{3,}|[xX]{3,})")
_NOT_WORD = re.compile(r"[\W_]+")
_WORD_CHAR = re.compile(r"[^\W_]")


class TextShapeError(ValueError):
    """A story body cut into more blocks or lines than any story has."""

    def __init__(self, what: str, limit: int, typical: int) -> None:
        super().__init__(f"more than {limit:,} {what}")
        self.what = what
        self.limit = limit
        # About how many a 10 MB novel has, to put the limit in proportion.
        self.typical = typical

    @classmethod
    def too_many_blocks(cls) -> TextShapeError:
        return cls("paragraphs and scene breaks", MAX_BLOCKS, typical=50_000)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a story is parsed.

    A parse makes hundreds of thousands of small objects (blocks, lines, sections) and
    no reference cycles; the collector's passes over them cost as much as the parse
    itself on a file of 100,000 scenes. Reference counting still frees everything.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def word_lists(text: str) -> Iterator[list[str]]:
    """The words of ``text`` (as str.split() finds them), a slice at a time.

    A 10 MB line is two million words; as one list that is 100 MB. (Counting goes
    through `bot.story.count_words`; this is for looking at the words themselves.)
    """
    if len(text) <= _WORD_SLICE:
        yield text.split()
        return
    start = 0
    while start < len(text):
        end = start + _WORD_SLICE
        if end < len(text):
            space = _SPACE.search(text, end)  # never cut a word in two
            end = space.start() if space else len(text)
        yield text[start:end].split()
        start = end


def squeeze_blank_lines(text: str) -> str:
    """Cut runs of more than a few dozen blank lines short: ten million cost seconds."""
    # The regex costs about 20 ms a megabyte, so it runs only where there may be
    # such a run: a row of newlines, or more lines than a 10 MB novel with blank
    # lines of spaces among them (which str.find cannot look for; finding whether
    # there is one at all costs a few milliseconds).
    if text.find("\n" * (_MAX_BLANK_RUN + 1)) == -1 and (
        text.count("\n") < 500_000 or _SPACES_LINE.search(text) is None
    ):
        return text
    return _LONG_WHITESPACE.sub(_squeeze, text)


def _squeeze(match: re.Match[str]) -> str:
    run = match.group()
    if run.count("\n") <= _MAX_BLANK_RUN + 1:
        return run  # spaces: an indented line, not blank ones
    # Keep the end of the line before and the indent of the line after.
    return run[: run.find("\n")] + "\n" * (_MAX_BLANK_RUN + 1) + run[run.rfind("\n") + 1 :]


def check_line_count(text: str) -> None:
    """Refuse more than MAX_LINES lines with text on them, before the text is split into lines.

    Split, five million short lines are 300 MB of strings.
    """
    if text.count("\n") < MAX_LINES:
        return
    lines = itertools.islice(_LINE_WITH_TEXT.finditer(text), MAX_LINES + 1)
    if sum(1 for _ in lines) > MAX_LINES:
        raise TextShapeError("lines of text", MAX_LINES, typical=170_000)


class Kind(enum.Enum):
    TEXT = "text"
    BREAK = "break"
    HEADING = "heading"


@dataclass(slots=True)
class Block:
    kind: Kind
    lines: list[str]
    blank_before: int = 0
    heading: Heading | None = None
    # A bracketed editorial note ("[Illustration]") rather than story prose.
    bracketed: bool = False
    # A heading that came from the file's own markup (Markdown "##"), not a guess.
    explicit: bool = False
    # Text that was a guessed heading: its first line is known to match_heading(),
    # so the front-matter checks need not match it again.
    was_heading: bool = False
    # Front matter found by its label or shape (a contents list, a cast list, a
    # dedication, a preface): kept for the story's card, never story text.
    front: bool = False
    words: int = field(default=-1)

    def word_count(self) -> int:
        if self.words < 0:
            self.words = sum(count_words(line) for line in self.lines)
        return self.words

    @property
    def is_prose(self) -> bool:
        """Text a reader came for, as opposed to breaks, headings and editorial notes."""
        # Blocks hold no blank lines, so a text block always has words.
        return self.kind is Kind.TEXT and not self.bracketed and not self.front


def is_scene_break_line(line: str) -> bool:
    """`* * *`, `***`, `~~~`, `-----`, `#`, `~*~`, `oOo`: a line that only marks a scene break."""
    first = line[:1]
    if len(line) > 80 or (first.isalnum() and first not in "oOxX0"):
        return False  # the common case, decided cheaply: a line of prose
    text = line.strip()
    if not text or len(text) > 60:
        return False
    if _WORD_CHAR.search(text):
        return len(text) <= 30 and _is_ornament(_NOT_WORD.sub("", text))
    rest = text.translate(_BREAK_DELETE)
    if rest and (rest.isascii() or not all(unicodedata.category(ch) in _SYMBOLS for ch in rest)):
        return False  # other punctuation: "…", "“”", "?!", a bracket, a code fence
    # A lone dash is an interrupted line of dialogue, not a break.
    marks = "".join(text.split())
    return not (len(marks) < 3 and all(ch in _RULE_CHARS for ch in marks))


def _is_ornament(letters: str) -> bool:
    if not _ORNAMENT.fullmatch(letters):
        return False
    changes = sum(1 for a, b in itertools.pairwise(letters) if a != b)
    return changes >= 2


class BreakMemo:
    """`is_scene_break_line`, remembered for the lines a story repeats.

    A story repeats its break line ("* * *") at every scene; a hostile file repeats it
    100,000 times. Prose lines are decided by their first character, before the memo.
    """

    __slots__ = ("_known",)
    _LIMIT = 1024

    def __init__(self) -> None:
        self._known: dict[str, bool] = {}

    def __call__(self, line: str) -> bool:
        first = line[0]
        if first.isalnum() and first not in "oOxX0":
            return False
        known = self._known.get(line)
        if known is None:
            known = is_scene_break_line(line)
            if len(self._known) < self._LIMIT:
                self._known[line] = known
        return known


def tokenize(text: str, *, split_long_lines: bool = True) -> list[Block]:
    """Blocks of a plain-text story body."""
    # This loop runs once per line of a novel, so it is written out in full. Runs of
    # blank lines are found by a regular expression (in C) and only counted, so a file
    # of 100,000 scenes pays for its lines of text, not for its blank lines.
    blocks: list[Block] = []
    blank = 0
    check_line_count(text)
    is_break = BreakMemo()
    text_kind, break_kind = Kind.TEXT, Kind.BREAK
    count_newlines = text.count
    start = 0
    # Whether a paragraph has more than one line: only such a paragraph can be split into
    # paragraph-long lines below.
    several_lines = False
    for gap in itertools.chain(_BLANK_RUN.finditer(text), (None,)):
        if gap is None:
            end = after = len(text)
            gap_blanks = 0
        else:
            end, after = gap.span()
            # One blank line ("\n\n") is by far the most common gap; counting costs more.
            gap_blanks = 1 if after - end == 2 else count_newlines("\n", end, after) - 1
        chunk = text[start:end]
        start = after
        if "\n" not in chunk and (line := chunk.rstrip()):
            # One line: a paragraph as most stories are written, or a scene break. What
            # the loop below makes of it, without splitting it into lines.
            first = line[0]
            prose = first.isalnum() and first not in "oOxX0"
            kind = break_kind if not prose and len(line) <= 80 and is_break(line) else text_kind
            blocks.append(Block(kind, [line], blank))
            blank = gap_blanks
            if len(blocks) > MAX_BLOCKS:
                raise TextShapeError.too_many_blocks()
            continue
        several_lines = several_lines or "\n" in chunk
        pending: list[str] = []
        for raw in chunk.split("\n"):
            line = raw.rstrip()
            first = line[:1]
            if first.isalnum() and first not in "oOxX0":
                pending.append(line)  # prose: BreakMemo's own first test, inlined
            elif not line:
                if pending:
                    blocks.append(Block(text_kind, pending, blank))
                    pending = []
                    blank = 0
                blank += 1
            elif len(line) <= 80 and is_break(line):
                if pending:
                    blocks.append(Block(text_kind, pending, blank))
                    pending = []
                    blank = 0
                blocks.append(Block(break_kind, [line], blank))
                blank = 0
                if len(blocks) > MAX_BLOCKS:  # breaks with no blank lines between them
                    raise TextShapeError.too_many_blocks()
            else:
                pending.append(line)
        if pending:
            blocks.append(Block(text_kind, pending, blank))
            blank = 0
        blank += gap_blanks
        if len(blocks) > MAX_BLOCKS:
            raise TextShapeError.too_many_blocks()
    if not (split_long_lines and several_lines and _has_long_line(text)):
        return blocks
    blocks = _split_paragraph_lines(blocks)
    if len(blocks) > MAX_BLOCKS:
        raise TextShapeError.too_many_blocks()
    return blocks


def text_chunks(text: str) -> Iterator[tuple[str, int]]:
    """(lines between runs of blank lines, how many blank lines follow them)."""
    start = 0
    count_newlines = text.count
    for gap in _BLANK_RUN.finditer(text):
        end, after = gap.span()
        # One blank line ("\n\n") is by far the most common gap; counting costs more.
        yield text[start:end], 1 if after - end == 2 else count_newlines("\n", end, after) - 1
        start = after
    yield text[start:], 0


def _has_long_line(text: str) -> bool:
    """Whether any line is paragraph-long; without one there is nothing to split."""
    return _LONG_LINE.search(text) is not None


def _split_paragraph_lines(blocks: list[Block]) -> list[Block]:
    """A block of long lines with no blank lines between them is one paragraph per line."""
    result: list[Block] = []
    for block in blocks:
        lines = block.lines
        if block.kind is Kind.TEXT and len(lines) > 1:
            long_lines = sum(1 for line in lines if len(line) >= _PARAGRAPH_LINE)
            if long_lines * 2 >= len(lines):
                result.append(Block(Kind.TEXT, [lines[0]], block.blank_before))
                result.extend(Block(Kind.TEXT, [line], 0) for line in lines[1:])
                continue
        result.append(block)
    return result


def normal_gap(blocks: Iterable[Block]) -> int:
    """How many blank lines usually separate two paragraphs in this story."""
    text = Kind.TEXT
    gaps = Counter(
        block.blank_before
        for previous, block in itertools.pairwise(blocks)
        if block.kind is text and previous.kind is text
    )
    if not gaps:
        return 1
    gap, count = gaps.most_common(1)[0]
    total = sum(gaps.values())
    # Double-spaced files use two blank lines everywhere; only trust that when it
    # clearly dominates, or a story with few paragraphs and many breaks is misread.
    if gap >= 2 and (count < 10 or count * 10 < total * 6):
        return 1
    return gap


def mark_brackets(blocks: list[Block], text: str | None = None) -> list[Block]:
    """Flag `[Illustration: ...]` notes, which may span several blocks.

    Gutenberg sometimes puts a chapter heading inside such a note
    (`[Illustration: ...` ... `Chapter I.]`); the heading is lifted out and the
    note follows it, so the chapter starts where the note does. ``text``, the body
    the blocks came from, lets a story without a "[" skip the work.
    """
    if text is not None and "[" not in text:
        return blocks
    count = len(blocks)
    depths = [_bracket_depth(block) if block.kind is Kind.TEXT else 0 for block in blocks]
    # For each block, the nearest block at or after it that closes a bracket.
    next_closer = [count] * (count + 1)
    for position in range(count - 1, -1, -1):
        next_closer[position] = position if depths[position] < 0 else next_closer[position + 1]
    result: list[Block] = []
    index = 0
    while index < count:
        block = blocks[index]
        depth = depths[index]
        if depth == 0:
            if block.kind is Kind.TEXT and _fully_bracketed(block):
                block.bracketed = True
            result.append(block)
            index += 1
            continue
        if (
            depth < 0
            or next_closer[index + 1] - index > _MAX_BRACKET_BLOCKS
            or not block.lines[0].lstrip().startswith("[")
        ):
            result.append(block)
            index += 1
            continue
        # An unclosed "[" at the start of a block: look for the block that closes it.
        end = index + 1
        while end < count and end - index <= _MAX_BRACKET_BLOCKS and depth > 0:
            depth += depths[end]
            if depth > 0:
                end += 1
        if depth != 0 or end >= count:
            result.append(block)
            index += 1
            continue
        region = blocks[index:end]
        closing = blocks[end]
        for inner in region:
            inner.bracketed = True
        lifted = _heading_closing_bracket(closing)
        if lifted is not None:
            lifted.blank_before = block.blank_before
            region[-1].lines[-1] += "]"
            region[0].blank_before = 1
            result.append(lifted)
            result.extend(region)
        else:
            closing.bracketed = True
            result.extend(region)
            result.append(closing)
        index = end + 1
    return result


def _bracket_depth(block: Block) -> int:
    return sum(line.count("[") - line.count("]") for line in block.lines)


def _fully_bracketed(block: Block) -> bool:
    return block.lines[0].lstrip().startswith("[") and block.lines[-1].rstrip().endswith("]")


def _heading_closing_bracket(block: Block) -> Block | None:
    if len(block.lines) != 1:
        return None
    line = block.lines[0].strip()
    if not line.endswith("]"):
        return None
    heading = match_heading(line[:-1])
    if heading is None or heading.number is not None:
        return None
    return Block(Kind.HEADING, [line[:-1]], heading=heading)


def classify_headings(blocks: list[Block], *, enabled: bool = True) -> list[Block]:
    """Turn heading-shaped blocks into HEADING blocks.

    A heading stands alone: one line, or a heading line with its title line
    right under it. A block of several heading lines is a table of contents and
    stays text. Bare numerals (`I.`, `12`) only count when they run in order.
    """
    if not enabled:
        return blocks
    # Headings are marked in place: a heading block is the text block it was. Only a
    # heading with its chapter's first paragraph under it becomes two blocks; those are
    # put in at the end, so a story of 100,000 paragraphs is not copied block by block.
    then: dict[int, Block] = {}  # index of such a heading → the paragraph after it
    numbered = False
    text_kind, heading_kind = Kind.TEXT, Kind.HEADING
    first_chars = HEADING_FIRST_CHARS
    candidate = is_heading_candidate
    heading_of = HeadingMemo()
    for index, block in enumerate(blocks):
        if block.kind is not text_kind or block.bracketed:
            continue
        first = block.lines[0]
        # match_heading's own first tests, inlined: this runs once per paragraph.
        stripped = first.strip()
        if (
            stripped[:1] not in first_chars
            or len(stripped) > MAX_HEADING_CHARS
            or not candidate(stripped)
        ):
            continue
        heading = heading_of(stripped)
        if heading is None:
            continue
        numbered = numbered or heading.number is not None
        lines = block.lines
        if len(lines) == 1:
            block.kind, block.heading = heading_kind, heading
            continue
        if any(match_heading(line) for line in lines[1:4]):
            continue  # a table of contents
        if len(lines) == 2 and len(lines[1].strip()) <= MAX_HEADING_CHARS:
            block.kind = heading_kind
            block.heading = Heading(
                title=join_heading_title(heading, lines[1]),
                rank=heading.rank,
                number=heading.number,
                titled=True,
            )
            continue
        if heading.titled or heading.number is not None:
            continue
        # "Chapter 3" with the chapter's first paragraph right under it.
        block.kind, block.lines, block.heading = heading_kind, [first], heading
        block.words = -1
        then[index] = Block(text_kind, lines[1:], 0)
    if then:
        blocks = [
            part
            for index, block in enumerate(blocks)
            for part in ((block, then[index]) if index in then else (block,))
        ]
    return _check_numbered_runs(blocks) if numbered else blocks


def _check_numbered_runs(blocks: list[Block]) -> list[Block]:
    """Keep bare-numeral headings only where they count up from 1 (I, II, III...)."""
    runs: list[list[int]] = []
    current: list[int] = []
    last = 0
    for index, block in enumerate(blocks):
        heading = block.heading
        if block.kind is not Kind.HEADING or heading is None or heading.number is None:
            continue
        if current and heading.number == last + 1:
            current.append(index)
            last = heading.number
        elif heading.number == 1:
            if len(current) >= 2:
                runs.append(current)
            current, last = [index], 1
        # anything else is a stray number, dropped below
    if len(current) >= 2:
        runs.append(current)
    keep = {index for run in runs for index in run}
    for index, block in enumerate(blocks):
        heading = block.heading
        numbered = block.kind is Kind.HEADING and heading and heading.number is not None
        if numbered and index not in keep:
            block.kind = Kind.TEXT
            block.heading = None
    return blocks


def demote(block: Block) -> Block:
    """A heading that turned out not to be one goes back to being text."""
    return Block(
        Kind.TEXT,
        block.lines,
        block.blank_before,
        bracketed=block.bracketed,
        was_heading=block.kind is Kind.HEADING and not block.explicit,
        front=block.front,
    )


def reflow_blocks(blocks: list[Block], reflow: Callable[[list[str]], list[str]]) -> None:
    for block in blocks:
        if block.kind is Kind.TEXT and len(block.lines) > 1:
            block.lines = reflow(block.lines)
