"""Archive of Our Own HTML downloads: the preface's metadata and the chapters.

AO3's "Download → HTML" file has a ``div#preface`` (a ``dl.tags`` of
Rating/Fandom/... rows, the ``h1`` title, the ``a[rel=author]`` byline and the
Summary/Notes blockquotes), a ``div#chapters`` and a ``div#afterword``. A
multi-chapter work repeats, inside ``div#chapters``, a ``div.meta.group``
(``h2.heading`` plus the chapter summary and notes), the chapter's
``div.userstuff`` and an optional end-notes ``div.meta``. A one-chapter work has
just the ``div.userstuff``. A work page saved from the browser (``div.chapter``
blocks, ``dl.work.meta``) is read too, since users do upload those.

Everything here is bounded on hostile input: the markup is normalised by one
linear pre-pass (see ``_prepare``), the tree is built in linear time by
``htmltree`` with the number of tags and attributes capped, and the tree is
walked with an explicit stack, so 100,000 nested tags cost time, not stack.
"""

from __future__ import annotations

import html
import html.entities
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bot.parsing.decode import display_name
from bot.parsing.htmltree import Element, MarkupLimitError, parse_html
from bot.story import SCENE_BREAK, ParsedStory, Rating, Section, StoryFileError, parse_rating

__all__ = ("MAX_TAGS", "parse_ao3_html")

log = logging.getLogger(__name__)

# A real 10 MB work has about 150,000 tags ("<p>", "</p>", "<em>"...), half of
# them start tags, and few attributes; past these limits a file is markup, not
# a story. Each element costs 5-8 µs to build and render, so at the limits the
# whole read takes about a second.
MAX_TAGS = 300_000
MAX_ELEMENTS = 150_000
MAX_ATTRIBUTES = 100_000

# --- Pre-pass -----------------------------------------------------------------
#
# Character references are resolved here, the common ones with str.replace at C
# speed, and every "<" that does not open a complete tag is turned into text,
# so the tree builder only ever sees well-formed tags (html.parser, for one,
# rescans to the end of the input for every stray "<": a megabyte of "<a<a<a"
# takes half an hour). Markup characters that came from references ("&lt;",
# "&amp;", "&quot;" in an attribute) are held as Unicode noncharacters, which
# never occur in real text, and turned back when text is read out of the tree.
_LT, _GT, _AMP, _QUOT, _APOS = "\ufdd0", "\ufdd1", "\ufdd2", "\ufdd3", "\ufdd4"
_HELD = {"<": _LT, ">": _GT, "&": _AMP, '"': _QUOT, "'": _APOS}
_HOLD = str.maketrans(_HELD)
# Undone with str.replace, not str.translate: translate maps a non-ASCII table
# one character at a time in Python-visible dict lookups, about 100 ns a
# character, which is a second for a 10 MB work.
_RESTORE_PAIRS = tuple((held, char) for char, held in _HELD.items())
_SCRUB_PAIRS = (*((held, "\ufffd") for held in _HELD.values()), ("\x00", ""))
# Checked first with str.replace, which runs at C speed on a flood.
_COMMON_REFERENCES = (
    ("&amp;", _AMP),
    ("&lt;", _LT),
    ("&gt;", _GT),
    ("&quot;", _QUOT),
    ("&#39;", _APOS),
    ("&nbsp;", "\xa0"),
)
# Names are bounded as html.unescape bounds them; a number of any length is
# matched whole (as a browser reads it) and never given to int() when it has
# more than eight digits (int() refuses more than 4,300).
_REFERENCE_RE = re.compile(r"&(?:#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?|[A-Za-z][A-Za-z0-9]{0,31};?)")
_HEX, _DECIMAL = 1, 2  # _REFERENCE_RE's groups
# What each named reference stands for, markup characters held.
_ENTITIES = {name: value.translate(_HOLD) for name, value in html.entities.html5.items()}
# "&notin" reads as "¬in": a browser's rule for the few old names that need no
# ";". Only those can be a prefix of a longer name, so only names that start
# like one of them are searched, and no further than the longest.
_BARE_ENTITIES = [name for name in _ENTITIES if not name.endswith(";")]
_BARE_ENTITY_STARTS = frozenset(name[:2] for name in _BARE_ENTITIES)
_LONGEST_BARE_ENTITY = max(map(len, _BARE_ENTITIES))
# A "<" that does not open a complete start tag, end tag, declaration or
# processing instruction. Every alternative stops at the next unquoted "<" or
# ">", so each "<" is examined in time proportional to its own tag.
_STRAY_LT_RE = re.compile(
    r"""<(?!
        [a-zA-Z][^<>"']*(?:(?:"[^"]*"|'[^']*')[^<>"']*)*>
      | /[a-zA-Z][^<>]*>
      | ![^\[\-<>][^<>]*>
      | \?[^<>]*>
    )""",
    re.VERBOSE,
)


def _replace_all(text: str, pairs: Iterable[tuple[str, str]]) -> str:
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


def _restore(text: str) -> str:
    """Text read out of the tree, with the markup characters the pre-pass held turned back."""
    # The held characters are not ASCII, and isascii() is a flag lookup.
    return text if text.isascii() else _replace_all(text, _RESTORE_PAIRS)


def _strip_comments(text: str) -> str:
    parts: list[str] = []
    position = 0
    while (start := text.find("<!--", position)) != -1:
        parts.append(text[position:start])
        end = text.find("-->", start + 4)
        if end == -1:
            # An unclosed comment runs to the end of the document, as in a browser.
            position = len(text)
            break
        position = end + 3
    parts.append(text[position:])
    return "".join(parts)


def _resolve_references(text: str) -> str:
    for reference, replacement in _COMMON_REFERENCES:
        text = text.replace(reference, replacement)

    def resolve(match: re.Match[str]) -> str:
        kind = match.lastindex
        if kind is not None:
            return _character(match.group(kind), 16 if kind == _HEX else 10)
        return _named(match.group()[1:])

    # Whatever "&" is left is not a reference: plain text.
    return _REFERENCE_RE.sub(resolve, text).replace("&", _AMP)


def _named(name: str) -> str:
    """What "&name" stands for, as html.unescape reads it, markup characters held."""
    found = _ENTITIES.get(name)
    if found is not None:
        return found
    if name[:2] in _BARE_ENTITY_STARTS:
        for length in range(min(len(name) - 1, _LONGEST_BARE_ENTITY), 1, -1):
            found = _ENTITIES.get(name[:length])
            if found is not None:
                return found + name[length:]
    return _AMP + name


def _character(digits: str, base: int) -> str:
    """The character a numeric reference stands for, as html.unescape reads it."""
    if len(digits) > 8:
        digits = digits.lstrip("0") or "0"
        if len(digits) > 8:
            return "\ufffd"  # past U+10FFFF
    code = int(digits, base)
    # Most characters directly; html.unescape knows the exceptions (C1 controls
    # read as Windows-1252, surrogates, noncharacters).
    if 0x20 <= code < 0x7F:
        char = chr(code)
        return _HELD.get(char, char)
    if (
        0xA0 <= code < 0xD800
        or 0xE000 <= code < 0xFDD0
        # not U+FFFE, U+1FFFF... which are noncharacters
        or (0xFDF0 <= code <= 0x10FFFF and code & 0xFFFE != 0xFFFE)
    ):
        return chr(code)
    return html.unescape(f"&#{code};").translate(_HOLD)


def _prepare(text: str, name: str) -> str:
    text = _replace_all(text, (*_SCRUB_PAIRS, ("\r\n", "\n"), ("\r", "\n")))
    text = _resolve_references(_strip_comments(text))
    # Counted before the stray "<" are turned into text: AO3 writes a "<" in the
    # story as "&lt;", so a file with this many is not a download, and re.sub
    # holds every piece of its result at once (five million stray "<" would
    # take 200 MB).
    if text.count("<") > MAX_TAGS:
        raise _too_much_markup(name, "tags", MAX_TAGS)
    text = _STRAY_LT_RE.sub(_LT, text)
    if text.count("<") - text.count("</") > MAX_ELEMENTS:
        raise _too_much_markup(name, "elements", MAX_ELEMENTS)
    return text


def _too_much_markup(name: str, what: str, limit: int) -> StoryFileError:
    return StoryFileError(
        f"“{name}” has more HTML markup than any story needs "
        f"(over {limit:,} {what}), so Storyshelf did not read it. "
        "Please upload the file exactly as Archive of Our Own made it."
    )


# --- HTML to paragraphs -----------------------------------------------------

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
        *("title", "video"),
    }
)
# AO3's screen-reader headings ("Chapter Text") and "see the end notes" links.
_SKIPPED_CLASSES = frozenset({"landmark", "jump", "endnote-link"})
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
# ordinary prose has nothing to replace (re.sub keeps every piece of its
# result in a list: two million one-space matches took 150 MB).
_COLLAPSIBLE_RE = re.compile(r"[\t\n\f\r][ \t\n\f\r]*| [ \t\n\f\r]+")
_ORNAMENT_RE = re.compile(r"(?:[*~#=_\-–—•·◇◆○●❖♦✦✧§]\s*){3,}|#|o+O+o+|O+o+O+|x+X+x+|X+x+X+")

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
            self._lines[-1].append((self._style, text, False))
            return
        first, *rest = text.split("\n")
        self._lines[-1].append((self._style, first, True))
        for line in rest:
            self.line_break()
            self._lines[-1].append((self._style, line, True))

    def line_break(self) -> None:
        self._lines.append([])

    def paragraph_break(self) -> None:
        lines = self._lines
        if len(lines) == 1 and not lines[0]:
            return  # nothing since the last break: every block tag lands here twice
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
        if not self.plain and "\n" not in paragraph and _ORNAMENT_RE.fullmatch(paragraph.strip()):
            self.paragraphs.append(SCENE_BREAK)
            return
        self.paragraphs.append(self.prefix + paragraph)
        self.prefix = ""

    def _render_line(self, runs: list[_Run]) -> str:
        if len(runs) <= 1:
            # The common case (a line of one run of text), without the bookkeeping.
            if not runs:
                return ""
            style, text, preformatted = runs[0]
            core = text if preformatted else _COLLAPSIBLE_RE.sub(" ", text).strip(" \xa0")
            if not core or self.plain or not style:
                return core
            return "".join(style) + core + "".join(reversed(style))
        # Collapse whitespace as a browser does, and keep it outside the
        # markers: "*word *next" would not render as italics in Discord.
        out: list[str] = []
        open_markers: list[str] = []
        pending = ""
        for style, text, preformatted in runs:
            if preformatted:
                core, lead, trail = text, "", ""
            else:
                # No-break spaces count here too: "*text\xa0*" is not italics either.
                text = _COLLAPSIBLE_RE.sub(" ", text)
                core = text.strip(" \xa0")
                lead = text[: len(text) - len(text.lstrip(" \xa0"))]
                trail = text[len(core) + len(lead) :]
            if not core:
                if not (pending.endswith(" ") and text.startswith(" ")):
                    pending += text
                continue
            pending += lead[1:] if pending.endswith(" ") and lead.startswith(" ") else lead
            if not out:
                pending = ""
            if not self.plain:
                kept = 0
                while kept < len(open_markers) and open_markers[kept] in style:
                    kept += 1
                out.extend(reversed(open_markers[kept:]))
                out.append(pending)
                opening = [marker for marker in style if marker not in open_markers[:kept]]
                out.extend(opening)
                open_markers = open_markers[:kept] + opening
            else:
                out.append(pending)
            out.append(core)
            pending = trail
        out.extend(reversed(open_markers))
        return "".join(out)


def _render(nodes: Iterable[Element | str], *, plain: bool = False) -> list[str]:
    """The paragraphs of some HTML nodes, with Discord markdown unless ``plain``."""
    writer = _ParagraphWriter(plain=plain)
    # A stack of the open elements' children still to visit, and the open
    # elements themselves (``entered``), to act on their end.
    pending: list[Iterator[Element | str]] = [iter(nodes)]
    entered: list[Element] = []
    lists: list[list[int]] = []  # per open <ol>/<ul>: [next number], 0 for bullets
    preformatted = 0
    while pending:
        node = next(pending[-1], None)
        if node is None:
            pending.pop()
            if not entered:
                continue
            name = entered.pop().name
            if name in _MARKERS:
                writer.close_style(_MARKERS[name])
            elif name == "pre":
                preformatted -= 1
            elif name in ("ol", "ul"):
                lists.pop()
            elif name in ("td", "th"):
                writer.text(" ")
            if name in _BLOCK_TAGS:
                writer.paragraph_break()
            if name == "li":
                writer.prefix = ""  # an empty item
            continue
        if isinstance(node, str):
            writer.text(_restore(node), preformatted=preformatted > 0)
            continue
        name = node.name
        if name in _SKIPPED_TAGS or (
            "class" in node.attrs and _SKIPPED_CLASSES.intersection(node.classes)
        ):
            continue
        if name == "br":
            writer.line_break()
            continue
        if name == "hr":
            writer.scene_break()
            continue
        if name == "img":
            if not plain:
                alt = _COLLAPSIBLE_RE.sub(" ", str(node.get("alt") or "")).strip()
                writer.text(f" [image: {_restore(alt)}] " if alt else " [image] ")
            continue
        if name in _BLOCK_TAGS:
            writer.paragraph_break()
        if name in _MARKERS:
            writer.open_style(_MARKERS[name])
        elif name == "pre":
            preformatted += 1
        elif name in ("ol", "ul"):
            lists.append([1 if name == "ol" else 0])
        elif name == "li" and not plain:
            number = lists[-1] if lists else [0]
            writer.prefix = f"{number[0]}. " if number[0] else "• "
            number[0] = number[0] + 1 if number[0] else 0
        entered.append(node)
        pending.append(iter(node.contents))
    return writer.finish()


def _plain(node: Element | str) -> str:
    """The text of a node on one line, without markdown."""
    return " ".join(_render([node], plain=True))


def _tidy(paragraphs: list[str]) -> list[str]:
    """No scene break at either end of a section, and never two in a row."""
    tidy: list[str] = []
    for paragraph in paragraphs:
        if paragraph == SCENE_BREAK and (not tidy or tidy[-1] == SCENE_BREAK):
            continue
        tidy.append(paragraph)
    while tidy and tidy[-1] == SCENE_BREAK:
        tidy.pop()
    return tidy


# --- The work -----------------------------------------------------------------

_TAG_KEYS = {
    "rating": "rating",
    "ratings": "rating",
    "archive warning": "warnings",
    "archive warnings": "warnings",
    "warning": "warnings",
    "warnings": "warnings",
    "category": "category",
    "categories": "category",
    "fandom": "fandom",
    "fandoms": "fandom",
    "relationship": "pairing",
    "relationships": "pairing",
    "character": "characters",
    "characters": "characters",
    "additional tag": "tags",
    "additional tags": "tags",
    "freeform": "tags",
    "freeforms": "tags",
    "tags": "tags",
    "language": "language",
    "series": "series",
    "collection": "collections",
    "collections": "collections",
    "stats": "stats",
}
_NOTE_LABELS = frozenset(
    {"summary", "notes", "chapter summary", "chapter notes", "chapter end notes", "end notes"}
)


def _classes(tag: Element) -> set[str]:
    return set(tag.classes)


def _label(tag: Element) -> str:
    return _plain(tag).strip().rstrip(":").strip().lower()


def _labelled_quotes(scope: Element | None) -> list[tuple[str, Element]]:
    """AO3's notes: a blockquote whose previous sibling is a "Summary"/"Notes"/... label."""
    found: list[tuple[str, Element]] = []
    # Iterative, and never into a blockquote: a quote inside the notes is not a note.
    stack = list(reversed(scope.contents)) if scope is not None else []
    while stack:
        node = stack.pop()
        if not isinstance(node, Element):
            continue
        if node.name != "blockquote":
            stack.extend(reversed(node.contents))
            continue
        for sibling in node.previous_siblings:
            if not isinstance(sibling, Element) or _SKIPPED_CLASSES.intersection(_classes(sibling)):
                continue
            label = _label(sibling) if sibling.name in ("p", "h3", "h4", "h5", "h6") else ""
            if label in _NOTE_LABELS:
                found.append((label, node))
            break
    return found


def _read_tags(dl: Element | None) -> dict[str, str]:
    """The rows of AO3's tag list (``dl.tags``), by lower-case key."""
    rows: dict[str, str] = {}
    if dl is None:
        return rows
    label: str | None = None
    for child in dl.children:
        if not isinstance(child, Element):
            continue
        if child.name == "dt":
            label = _label(child)
        elif child.name == "dd" and label:
            # Current downloads: links joined by ", "; the work page: ul.commas of li.
            items = [_plain(item) for item in child.find_all("li", outermost=True)]
            value = ", ".join(item for item in items if item) if items else _plain(child)
            if value:
                rows[_TAG_KEYS.get(label, label)] = value
            label = None
    return rows


def _quote_text(label: str, quote: Element) -> list[str]:
    paragraphs = _tidy(_render(quote.contents))
    if paragraphs and label:
        paragraphs[0] = f"*{label}:* {paragraphs[0]}"
    return paragraphs


@dataclass
class _Chapter:
    title: str | None
    lead: list[str] = field(default_factory=list)
    body: list[Element | str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def quotes(self, meta: Element, *, end: bool = False) -> None:
        for label, quote in _labelled_quotes(meta):
            parent = quote.parent
            # A saved work page labels end notes plain "Notes", in a div.end.
            if end or "end" in label or (parent is not None and "end" in _classes(parent)):
                self.tail.extend(_quote_text("Chapter End Notes", quote))
            elif "summary" in label:
                self.lead.extend(_quote_text("Chapter Summary", quote))
            else:
                self.lead.extend(_quote_text("Chapter Notes", quote))


def _read_chapters(chapters: Element) -> list[_Chapter]:
    found: list[_Chapter] = []

    def current() -> _Chapter:
        if not found:
            found.append(_Chapter(title=None))
        return found[-1]

    for child in chapters.contents:
        if not isinstance(child, Element):
            if child.strip():
                current().body.append(child)
            continue
        classes = _classes(child)
        if child.name == "h2" and "toc-heading" in classes:
            continue
        if child.name == "div" and "meta" in classes:
            heading = child.find("h2", class_="heading")
            if heading is None:
                current().quotes(child, end=True)
                continue
            chapter = _Chapter(title=_plain(heading) or None)
            byline = child.find("p", class_="byline")
            if byline is not None and (credit := _plain(byline)):
                chapter.lead.append(credit)
            chapter.quotes(child)
            found.append(chapter)
        elif child.name == "div" and "chapter" in classes:
            # A work page saved from the browser: one div.chapter per chapter.
            heading = child.find(class_="title")
            chapter = _Chapter(title=_plain(heading) if heading is not None else None)
            for part in child.children:
                if isinstance(part, Element) and "preface" in _classes(part):
                    chapter.quotes(part)
                elif isinstance(part, Element) and "userstuff" in _classes(part):
                    chapter.body.append(part)
            found.append(chapter)
        else:
            current().body.append(child)
    return found


def _not_ao3(name: str) -> StoryFileError:
    return StoryFileError(
        f"“{name}” is HTML but not an Archive of Our Own download, so Storyshelf "
        "can't tell where the story is. On AO3, open the work and choose Download → HTML, "
        "then upload that file — or save the story as a .txt file and upload that instead."
    )


def _title_from_filename(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem.replace("_", " ").strip() or "Untitled"


def parse_ao3_html(text: str, filename: str) -> ParsedStory:
    """Read an Archive of Our Own HTML download (already decoded to text)."""
    name = display_name(filename)
    try:
        soup = parse_html(_prepare(text, name), max_attributes=MAX_ATTRIBUTES)
    except MarkupLimitError as error:
        raise _too_much_markup(name, error.what, error.limit) from None
    chapters = soup.find("div", id="chapters")
    preface = soup.find("div", id="preface")
    if chapters is None:
        raise _not_ao3(name)
    looks_like_ao3 = (
        preface is not None
        or "userstuff" in _classes(chapters)
        or chapters.find(class_="userstuff") is not None
    )
    if not looks_like_ao3:
        raise _not_ao3(name)
    # A saved work page has no div#preface; its work preface is the first div.preface.
    front = preface if preface is not None else soup.find("div", class_="preface")
    scope = front if front is not None else soup
    warnings: list[str] = []

    tags_dl = scope.find("dl", class_="tags") or soup.find("dl", class_="meta")
    metadata = _read_tags(tags_dl)
    rating_label = metadata.pop("rating", None)

    title_tag = front.find("h1") if front is not None else None
    if title_tag is None:
        title_tag = scope.find("h2", class_="title")
    title = _plain(title_tag) if title_tag is not None else ""
    if not title:
        title = _title_from_filename(name)
        warnings.append(f"No title was found in the file, so it is called “{title}”.")

    author = _read_author(scope)
    if author is None:
        warnings.append("No author was found in the file.")

    message = front.find("p", class_="message") if front is not None else None
    if message is not None:
        for link in message.find_all("a", href=True):
            href = _restore(link.get("href") or "")
            if "/works/" in href:
                metadata["url"] = href
                break
    for label, quote in _labelled_quotes(front):
        paragraphs = _tidy(_render(quote.contents))
        if label in ("summary", "notes") and label not in metadata and paragraphs:
            metadata[label] = "\n\n".join(paragraphs)
    afterword = soup.find("div", id="afterword")
    end_quotes = [quote for label, quote in _labelled_quotes(afterword) if label == "end notes"]
    work_endnotes = soup.find("div", id="work_endnotes")  # a saved work page
    if work_endnotes is not None:
        end_quotes.extend(work_endnotes.find_all("blockquote", limit=1))
    end_notes = [p for quote in end_quotes for p in _tidy(_render(quote.contents))]
    if end_notes:
        metadata["end_notes"] = "\n\n".join(end_notes)

    sections: list[Section] = []
    has_story_text = False
    for number, chapter in enumerate(_read_chapters(chapters), start=1):
        body = _tidy(_render(chapter.body))
        has_story_text = has_story_text or bool(body)
        paragraphs = _tidy(chapter.lead + body + chapter.tail)
        section_title = chapter.title or (title if number == 1 else f"Chapter {number}")
        if not paragraphs:
            warnings.append(f"“{section_title}” has no text, so it was left out.")
            continue
        sections.append(Section(title=section_title, text="\n\n".join(paragraphs)))
    if not has_story_text:
        raise StoryFileError(
            f"“{name}” looks like an Archive of Our Own download, but it has no story "
            "text in it. Please download the work from AO3 again and upload the new file."
        )

    if rating_label is None:
        rating = Rating.not_rated()
        warnings.append("No rating was found in the file, so the story is treated as Not Rated.")
    else:
        parsed = parse_rating(rating_label)
        if parsed is None:
            rating = Rating.not_rated()
            warnings.append(
                f"The rating “{rating_label}” was not recognised, "
                "so the story is treated as Not Rated."
            )
        else:
            rating = parsed

    return ParsedStory(
        title=title,
        author=author,
        rating=rating,
        sections=tuple(sections),
        metadata=metadata,
        warnings=tuple(warnings),
        source_format="ao3",
    )


def _read_author(scope: Element) -> str | None:
    # Outermost links only: the text of a link nested in another is already in
    # the outer one's, and reading each of 20,000 nested links took minutes.
    links = scope.find_all("a", rel="author", outermost=True)
    names = dict.fromkeys(_plain(link) for link in links)
    names.pop("", None)
    if names:
        return ", ".join(names)
    # Anonymous works have a byline ("by Anonymous") with no author link.
    byline = scope.find(class_="byline")
    if byline is not None:
        name = re.sub(r"^by\s+", "", _plain(byline), flags=re.IGNORECASE).strip()
        if name:
            return name
    return None
