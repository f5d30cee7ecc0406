"""HTML through a real parser (selectolax's lexbor), rendered as Discord-ready paragraphs.

The AO3 reader and the EPUB reader share this: ``parse_document`` builds the
tree, ``render`` turns nodes into paragraphs (``<em>``/``<i>`` as ``*…*``,
``<strong>``/``<b>`` as ``**…**``, ``<hr>`` as a scene break, ``<br>`` kept as
a line break, one blank line between paragraphs) and ``plain_text`` gives a
node's text on one line without markdown.

lexbor is an HTML5 parser written in C: a 10 MB AO3 download is built in about
0.1 s. Three things about it are bounded here before it sees the markup:

- A tree deeper than a few hundred elements costs lexbor time in proportion to
  the depth for every tag (it looks through the open elements for a ``<p>`` to
  close: 100,000 nested ``<div>`` took 22 s). No story nests that deep, so tags
  past ``MAX_DEPTH`` are dropped (their text is kept) — see ``_flatten``.
- A ``<`` that does not open a complete tag is text (HTML5 would read
  ``I <3 u`` right but swallow the rest of a paragraph after a stray ``<a``).
- The number of tags, elements and attributes is capped, with a message that
  says which, so a file of nothing but markup is refused before it is built.

Everything that walks the tree is iterative: nesting costs time, not stack.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import accumulate

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.story import SCENE_BREAK

__all__ = (
    "MAX_ATTRIBUTES",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_TAGS",
    "MarkupLimitError",
    "children",
    "classes",
    "parse_document",
    "plain_text",
    "render",
    "tidy",
)

# A real 10 MB work has about 150,000 tags ("<p>", "</p>", "<em>"...), half of
# them start tags, and few attributes; past these limits a file is markup, not
# a story.
MAX_TAGS = 300_000
MAX_ELEMENTS = 150_000
MAX_ATTRIBUTES = 100_000
# Real stories nest a few dozen elements deep (html > body > div > blockquote >
# p > em > span); lexbor costs depth x tags, so 256 bounds a 10 MB file to
# about 0.15 s.
MAX_DEPTH = 256


class MarkupLimitError(Exception):
    """The markup has more of something than any story needs; ``what`` says what."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"more than {limit:,} {what}")
        self.what = what
        self.limit = limit


# --- Before the parser ----------------------------------------------------------
#
# All of this runs over the UTF-8 bytes lexbor is given anyway: a regular
# expression steps through bytes faster than through the two-byte characters
# of a story that is not pure ASCII.
#
# A "<" that does not open a complete start tag, end tag, declaration or
# processing instruction. Every alternative stops at the next unquoted "<" or
# ">", so each "<" is examined in time proportional to its own tag.
_STRAY_LT_RE = re.compile(
    rb"""<(?!
        [a-zA-Z][^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*>
      | /[a-zA-Z][^<>]*>
      | ![^\[\-<>][^<>]*>
      | \?[^<>]*>
    )""",
    re.VERBOSE,
)
# Elements that never hold others (void) or that the parser closes by itself
# when the next one opens (<p>, <li>, and <a>: a link inside a link closes the
# first): they do not add depth.
_FLAT_NAMES = frozenset(
    {"a", "area", "base", "br", "col", "dd", "dt", "embed", "hr", "img", "input", "li", "link"}
    | {"meta", "option", "p", "param", "source", "td", "th", "tr", "track", "wbr"}
)
_TAG_RE = re.compile(
    rb"""<(/?)([a-zA-Z][^\s/<>]*)[^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*>""",
)
# A tag's name, for the depth. The commonest tags that never add depth (<p>, <br>,
# <a>, <li>, in lower case) are passed over by the pattern itself: half the tags
# of a story, which then need no object and no lookup. Any other flat name, or
# one in capitals, is still found and counts 0.
_TAG_HEAD_RE = re.compile(rb"<(?!/?(?:p|br|a|li)(?![a-zA-Z0-9]))(/?[a-zA-Z][a-zA-Z0-9]*)")
# Start tags long enough to hold a flood of bare attributes (<p a a a ...>).
_LONG_TAG_RE = re.compile(rb"<[a-zA-Z][^<>]{4096,}>")


def _strip_comments(data: bytes) -> bytes:
    """Comments out, an unclosed one to the end of the document (as a browser reads it)."""
    if b"<!--" not in data:
        return data
    parts: list[bytes] = []
    position = 0
    while (start := data.find(b"<!--", position)) != -1:
        parts.append(data[position:start])
        end = data.find(b"-->", start + 4)
        if end == -1:
            position = len(data)
            break
        position = end + 3
    parts.append(data[position:])
    return b"".join(parts)


def _too_many_attributes(data: bytes) -> bool:
    """Whether the attributes number more than MAX_ATTRIBUTES."""
    # Attribute values are quoted in real files; a flood of bare ones needs a
    # very long tag, and only those few are split.
    bare = 0
    for match in _LONG_TAG_RE.finditer(data):
        bare += len(match.group().split()) - 1
    # Every '="' or "='" has an "=" of its own, so a story's few hundred "="
    # settle it with one count of a single byte (at least twice as fast as
    # counting a pair); the exact count is only made when that is not enough.
    if data.count(b"=") + bare <= MAX_ATTRIBUTES:
        return False
    return data.count(b'="') + data.count(b"='") + bare > MAX_ATTRIBUTES


class _DepthSigns(dict[bytes, int]):
    """+1 for a start tag that nests, -1 for its end tag, 0 for the flat ones; learnt per name."""

    def __missing__(self, head: bytes) -> int:
        closing = head.startswith(b"/")
        name = head.lstrip(b"/").lower().decode("ascii")
        sign = 0 if name in _FLAT_NAMES else (-1 if closing else 1)
        if len(self) < 10_000:  # a flood of made-up names is not remembered
            self[head] = sign
        return sign


_DEPTH_SIGNS = _DepthSigns()


def _depth(data: bytes) -> int:
    """How deep the elements nest, read from the tags alone (an upper bound)."""
    # One C-speed pass for the tag names, then a dict lookup each. Counted from
    # 0, never below: with the flat tags left out of the names, a stray end tag
    # could otherwise come first and make it -1.
    heads = _TAG_HEAD_RE.findall(data)
    return max(accumulate(map(_DEPTH_SIGNS.__getitem__, heads), initial=0))


def _flatten(data: bytes) -> bytes:
    """Start tags past MAX_DEPTH, and their end tags, left out; every character of text kept."""
    parts: list[bytes] = []
    position = 0
    depth = 0
    dropped: Counter[bytes] = Counter()
    for match in _TAG_RE.finditer(data):
        closing, name = match.group(1), match.group(2).lower()
        if name.decode("latin-1") in _FLAT_NAMES:
            continue
        if closing:
            if dropped[name]:
                dropped[name] -= 1
            else:
                depth = max(0, depth - 1)
                continue
        elif depth < MAX_DEPTH:
            depth += 1
            continue
        else:
            dropped[name] += 1
        parts.append(data[position : match.start()])
        position = match.end()
    parts.append(data[position:])
    return b"".join(parts)


def parse_document(text: str) -> LexborHTMLParser:
    """The document tree; raises MarkupLimitError when the markup is more than any story's."""
    data = text.encode("utf-8", errors="replace")
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
    data = _strip_comments(data)
    # Counted before the stray "<" are turned into text: AO3 writes a "<" in a
    # story as "&lt;", so millions of them are not a download.
    tags = data.count(b"<")
    if tags > MAX_TAGS:
        raise MarkupLimitError("tags", MAX_TAGS)
    data = _STRAY_LT_RE.sub(b"&lt;", data)
    # The substitution only takes "<" away, so when there were no more "<" than
    # elements allowed the start tags cannot be too many: a story skips the two
    # counts (the one of "</" is the slowest pass over the bytes here).
    if tags > MAX_ELEMENTS and data.count(b"<") - data.count(b"</") > MAX_ELEMENTS:
        raise MarkupLimitError("elements", MAX_ELEMENTS)
    if _too_many_attributes(data):
        raise MarkupLimitError("attributes", MAX_ATTRIBUTES)
    if _depth(data) > MAX_DEPTH:
        data = _flatten(data)
    return LexborHTMLParser(data)


# --- The tree ---------------------------------------------------------------------


def children(node: LexborNode | None) -> Iterator[LexborNode]:
    """A node's children, text nodes included, in document order."""
    child = node.first_child if node is not None else None
    while child is not None:
        yield child
        child = child.next


def classes(node: LexborNode) -> list[str]:
    value = node.attributes.get("class")
    return value.split() if value else []


# --- Nodes to paragraphs ------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "caption", "center", "dd"),
        *("details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "html"),
        *("legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary"),
        *("table", "tbody", "tfoot", "thead", "tr", "ul"),
    }
)
_SKIPPED_TAGS = frozenset(
    {
        *("audio", "button", "canvas", "embed", "head", "iframe", "input", "map", "math"),
        *("noscript", "object", "script", "select", "style", "svg", "template", "textarea"),
        *("title", "video", "-comment"),
    }
)
# Blocks that do nothing but start and end a paragraph.
_SIMPLE_BLOCKS = _BLOCK_TAGS - {"li", "ol", "ul", "pre"}
_MARKERS = {
    "em": "*",
    "i": "*",
    "cite": "*",
    "dfn": "*",
    "var": "*",
    "strong": "**",
    "b": "**",
    "u": "__",
    "ins": "__",
    "s": "~~",
    "strike": "~~",
    "del": "~~",
}
# Whitespace a browser collapses to one space; a lone space is left alone, so
# ordinary prose has nothing to replace.
_COLLAPSIBLE_RE = re.compile(r"[\t\n\f\r][ \t\n\f\r]*| [ \t\n\f\r]+")
_EDGE_SPACE = " \t\n\f\r\xa0"
_ORNAMENT_RE = re.compile(r"(?:[*~#=_\-–—•·◇◆○●❖♦✦✧§]\s*){3,}|#|o+O+o+|O+o+O+|x+X+x+|X+x+X+")
# What an ornament can start with: a paragraph that starts with anything else
# (nearly every one) is not stripped and tried against the pattern. One that
# starts with a space still is, since strip() would take the space off.
_ORNAMENT_FIRST = frozenset("*~#=_-–—•·◇◆○●❖♦✦✧§oOxX")


def _collapse(text: str) -> str:
    # Substring checks run at C speed; most runs of prose have nothing to collapse.
    # One character is looked for faster than two, so the double space goes last.
    if "\n" in text or "\t" in text or "\r" in text or "\f" in text or "  " in text:
        return _COLLAPSIBLE_RE.sub(" ", text)
    return text


# A line of symbols longer than this is not a scene break someone typed.
_LONGEST_ORNAMENT = 400

# One piece of text in a line: the markers in force, the text, and whether it
# came from <pre> (whitespace kept as written).
_Run = tuple[tuple[str, ...], str, bool]


class _ParagraphWriter:
    """Collects runs of styled text into lines and paragraphs, like a browser lays out blocks."""

    def __init__(self, *, plain: bool) -> None:
        self.plain = plain
        self.paragraphs: list[str] = []
        self.prefix = ""  # a list bullet waiting for its item's first paragraph
        self._lines: list[list[_Run]] = [[]]
        self._active: list[str] = []
        self._depth: dict[str, int] = {}
        self._style: tuple[str, ...] = ()

    def open_style(self, marker: str) -> None:
        self._depth[marker] = self._depth.get(marker, 0) + 1
        if self._depth[marker] == 1:
            self._active.append(marker)
            self._style = tuple(self._active)

    def close_style(self, marker: str) -> None:
        self._depth[marker] -= 1
        if self._depth[marker] == 0:
            self._active.remove(marker)
            self._style = tuple(self._active)

    def text(self, text: str, *, preformatted: bool = False) -> None:
        if not preformatted:
            line = self._lines[-1]
            # Space at the start of a line is never shown: the newlines between
            # block tags do not become runs the line has to lay out.
            if line or text.strip(_EDGE_SPACE):
                line.append((self._style, text, False))
            return
        first, *rest = text.split("\n")
        self._lines[-1].append((self._style, first, True))
        for piece in rest:
            self.line_break()
            self._lines[-1].append((self._style, piece, True))

    def line_break(self) -> None:
        self._lines.append([])

    def paragraph_break(self) -> None:
        lines = self._lines
        if len(lines) == 1:
            if not lines[0]:
                return  # nothing since the last break: every block tag lands here twice
            # The common paragraph: one line, no <br>.
            line = self._render_line(lines[0])
            if line.strip():
                self._emit(line)
            self._lines = [[]]
            return
        current: list[str] = []
        for runs in self._lines:
            line = self._render_line(runs)
            if line.strip():
                current.append(line)
            elif current:
                # An empty line (<br><br>) inside a paragraph is a paragraph break.
                self._emit("\n".join(current))
                current = []
        if current:
            self._emit("\n".join(current))
        self._lines = [[]]

    def scene_break(self) -> None:
        self.paragraph_break()
        self.paragraphs.append(SCENE_BREAK)

    def finish(self) -> list[str]:
        self.paragraph_break()
        return self.paragraphs

    def _emit(self, paragraph: str) -> None:
        first = paragraph[:1]
        if (
            not self.plain
            and (first in _ORNAMENT_FIRST or first.isspace())
            and len(paragraph) <= _LONGEST_ORNAMENT
            and "\n" not in paragraph
            and _ORNAMENT_RE.fullmatch(paragraph.strip())
        ):
            self.paragraphs.append(SCENE_BREAK)
            return
        self.paragraphs.append(self.prefix + paragraph)
        self.prefix = ""

    def _render_line(self, runs: list[_Run]) -> str:
        # Likewise space at the end of a line.
        while len(runs) > 1 and not runs[-1][2] and not runs[-1][1].strip(_EDGE_SPACE):
            runs.pop()
        if len(runs) <= 1:
            # The common case (a line of one run of text), without the bookkeeping.
            if not runs:
                return ""
            style, text, preformatted = runs[0]
            core = text if preformatted else _collapse(text).strip(" \xa0")
            if not core or self.plain or not style:
                return core
            return "".join(style) + core + "".join(reversed(style))
        # Collapse whitespace as a browser does, and keep it outside the
        # markers: "*word *next" would not render as italics in Discord.
        out: list[str] = []
        open_markers: list[str] = []
        open_markers_style: tuple[str, ...] = ()  # the style open_markers were opened for
        pending = ""
        for style, text, preformatted in runs:
            if preformatted:
                core, lead, trail = text, "", ""
            else:
                # No-break spaces count here too: "*text\xa0*" is not italics either.
                text = _collapse(text)
                core = text.strip(" \xa0")
                if len(core) == len(text):
                    lead = trail = ""
                else:
                    lead = text[: len(text) - len(text.lstrip(" \xa0"))]
                    trail = text[len(core) + len(lead) :]
            if not core:
                if not (pending.endswith(" ") and text.startswith(" ")):
                    pending += text
                continue
            pending += lead[1:] if pending.endswith(" ") and lead.startswith(" ") else lead
            if not out:
                pending = ""
            if style == open_markers_style or self.plain:
                out.append(pending)  # same markers as the run before: nothing opens or closes
            else:
                kept = 0
                while kept < len(open_markers) and open_markers[kept] in style:
                    kept += 1
                out.extend(reversed(open_markers[kept:]))
                out.append(pending)
                opening = [marker for marker in style if marker not in open_markers[:kept]]
                out.extend(opening)
                open_markers = open_markers[:kept] + opening
                open_markers_style = style
            out.append(core)
            pending = trail
        out.extend(reversed(open_markers))
        return "".join(out)


def _probe_ids() -> tuple[dict[int, str], int, frozenset[int]]:
    """lexbor's numeric ids of the tags the renderer acts on, read once from probe documents.

    ``node.tag`` builds a Python string on every call (about 170 ns); ``tag_id``
    is an int (35 ns), and the renderer asks once per node.
    """
    names = _BLOCK_TAGS | _SKIPPED_TAGS | set(_MARKERS) | {"br", "hr", "img", "td", "th"}
    ids: dict[int, str] = {}
    for name in sorted(names - {"-comment"}):
        inner = f"<{name}></{name}>"
        if name in ("td", "th"):
            inner = f"<tr>{inner}</tr>"
        if name in ("td", "th", "tr", "tbody", "thead", "tfoot", "caption"):
            inner = f"<table>{inner}</table>"
        found = LexborHTMLParser(inner).css_first(name)
        if found is not None:
            ids[found.tag_id] = name
    body = LexborHTMLParser("<body><!--c-->text</body>").body
    comment = body.first_child if body is not None else None
    text = comment.next if comment is not None else None
    assert comment is not None and text is not None and text.tag == "-text"
    return ids, text.tag_id, frozenset({comment.tag_id})


_TAG_BY_ID, _TEXT_ID, _NOT_ELEMENT_IDS = _probe_ids()


class _Renderer:
    """What each element does to the writer on the way in and on the way out."""

    def __init__(self, *, plain: bool) -> None:
        self.writer = _ParagraphWriter(plain=plain)
        self.plain = plain
        self.lists: list[list[int]] = []  # per open <ol>/<ul>: [next number], 0 for bullets
        self.preformatted = 0

    def enter(self, node: LexborNode, tag: str | None) -> bool:
        """Act on an element's start; True when its children are to be visited."""
        if tag is None:
            return True  # an element that only holds others (<span>, <a>, <section>...)
        writer = self.writer
        if tag in _SKIPPED_TAGS:
            return False
        if tag == "br":
            writer.line_break()
            return False
        if tag == "hr":
            writer.scene_break()
            return False
        if tag == "img":
            if not self.plain:
                alt = _COLLAPSIBLE_RE.sub(" ", node.attributes.get("alt") or "").strip()
                writer.text(f" [image: {alt}] " if alt else " [image] ")
            return False
        if tag in _BLOCK_TAGS:
            writer.paragraph_break()
        if tag in _MARKERS:
            writer.open_style(_MARKERS[tag])
        elif tag == "pre":
            self.preformatted += 1
        elif tag in ("ol", "ul"):
            self.lists.append([1 if tag == "ol" else 0])
        elif tag == "li" and not self.plain:
            number = self.lists[-1] if self.lists else [0]
            writer.prefix = f"{number[0]}. " if number[0] else "• "
            number[0] = number[0] + 1 if number[0] else 0
        return True

    def leave(self, tag: str | None) -> None:
        if tag is None:
            return
        writer = self.writer
        if tag in _MARKERS:
            writer.close_style(_MARKERS[tag])
        elif tag == "pre":
            self.preformatted -= 1
        elif tag in ("ol", "ul"):
            self.lists.pop()
        elif tag in ("td", "th"):
            writer.text(" ")
        if tag in _BLOCK_TAGS:
            writer.paragraph_break()
        if tag == "li":
            writer.prefix = ""  # an empty item

    def visit(self, root: LexborNode) -> None:
        """Every node under ``root`` in document order, without recursion."""
        enter, leave, text = self.enter, self.leave, self.writer.text
        by_id = _TAG_BY_ID
        text_id = _TEXT_ID
        skipped_ids = _NOT_ELEMENT_IDS
        writer = self.writer
        paragraph_break = writer.paragraph_break
        simple_blocks = _SIMPLE_BLOCKS
        block_tags = _BLOCK_TAGS
        node = root
        # The elements entered and not yet left, with their tags: the way back up
        # takes them from here rather than asking lexbor for a parent and its tag
        # again (each node lexbor hands over is a new Python object).
        open_elements: list[tuple[LexborNode, str | None]] = []
        while True:
            tag_id = node.tag_id
            if tag_id == text_id:
                if self.preformatted:
                    text(node.text_content or "", preformatted=True)
                elif node.is_empty_text_node:
                    # Only spaces and newlines (half the text nodes, between tags):
                    # one space inside a line, nothing at its start, and their
                    # content never read (is_empty_text_node costs a fifth as much).
                    line = writer._lines[-1]
                    # Nor at the end of a block (the "\n" before </p>): the block's
                    # paragraph break, next, drops space at the end of a line anyway.
                    if line and not (
                        open_elements and open_elements[-1][1] in block_tags and node.next is None
                    ):
                        line.append((writer._style, " ", False))
                else:
                    content = node.text_content or ""
                    # writer.text, inlined: this runs once per piece of text.
                    line = writer._lines[-1]
                    # isspace() answers without copying the text, as strip() would.
                    if line or not content.isspace():
                        line.append((writer._style, content, False))
            elif tag_id not in skipped_ids:
                tag = by_id.get(tag_id)
                # <span>, <a> and the like (tag None) only hold others; <p>, <div>
                # and the other plain blocks only break the paragraph.
                if tag is None:
                    descend = True
                elif tag in simple_blocks:
                    paragraph_break()
                    descend = True
                else:
                    descend = enter(node, tag)
                if descend:
                    # first_child, not its alias child (deprecated in selectolax
                    # 0.4), which takes a second attribute lookup per node.
                    child = node.first_child
                    if child is not None:
                        open_elements.append((node, tag))
                        node = child
                        continue
                    if tag in simple_blocks:
                        paragraph_break()
                    elif tag is not None:
                        leave(tag)
            while True:
                if not open_elements:
                    return
                following = node.next
                if following is not None:
                    node = following
                    break
                node, tag = open_elements.pop()
                if tag in simple_blocks:
                    paragraph_break()
                elif tag is not None:
                    leave(tag)


def render(nodes: Iterable[LexborNode], *, plain: bool = False) -> list[str]:
    """The paragraphs of some HTML nodes, with Discord markdown unless ``plain``."""
    renderer = _Renderer(plain=plain)
    for node in nodes:
        renderer.visit(node)
    return renderer.writer.finish()


def plain_text(node: LexborNode | None) -> str:
    """The text of a node on one line, without markdown."""
    if node is None:
        return ""
    return " ".join(render([node], plain=True))


def tidy(paragraphs: list[str]) -> list[str]:
    """No scene break at either end of a section, and never two in a row."""
    tidied: list[str] = []
    for paragraph in paragraphs:
        if paragraph == SCENE_BREAK and (not tidied or tidied[-1] == SCENE_BREAK):
            continue
        tidied.append(paragraph)
    while tidied and tidied[-1] == SCENE_BREAK:
        tidied.pop()
    return tidied
