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
linear pre-pass before Beautiful Soup sees it (see ``_prepare``), and the tree
is walked with an explicit stack, so 100,000 nested tags cost time, not stack.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PageElement, PreformattedString

from bot.parsing.decode import display_name
from bot.story import SCENE_BREAK, ParsedStory, Rating, Section, StoryFileError, parse_rating

__all__ = ("MAX_TAGS", "parse_ao3_html")

log = logging.getLogger(__name__)

# About ten times the markup of a real 10 MB work; Beautiful Soup builds roughly
# 100,000 tags a second, so this also caps the parse at a few seconds.
MAX_TAGS = 400_000

# --- Pre-pass -----------------------------------------------------------------
#
# Beautiful Soup runs html.parser with convert_charrefs off, which costs a Python
# callback per "&": a flood of a million "&amp;" takes seconds. And html.parser
# (CPython 3.11) rescans to the end of the input for every "<" that does not
# start a complete tag, so a megabyte of "<a<a<a" takes half an hour. The
# pre-pass therefore resolves every character reference itself and turns every
# stray "<" into text, so the parser only ever sees well-formed tags. Markup
# characters that came from references ("&lt;", "&amp;", "&quot;" in an
# attribute) are held as Unicode noncharacters, which never occur in real text,
# and turned back when text is read out of the tree.
_LT, _GT, _AMP, _QUOT, _APOS = "\ufdd0", "\ufdd1", "\ufdd2", "\ufdd3", "\ufdd4"
_HELD = {"<": _LT, ">": _GT, "&": _AMP, '"': _QUOT, "'": _APOS}
_RESTORE = str.maketrans({held: char for char, held in _HELD.items()})
_SCRUB = str.maketrans({held: "\ufffd" for held in _HELD.values()} | {"\x00": None})
_HOLD = str.maketrans(_HELD)
# Checked first with str.replace, which runs at C speed on a flood.
_COMMON_REFERENCES = (
    ("&amp;", _AMP),
    ("&lt;", _LT),
    ("&gt;", _GT),
    ("&quot;", _QUOT),
    ("&#39;", _APOS),
    ("&nbsp;", "\xa0"),
)
# Digits and names are bounded so html.unescape never sees a huge number
# (int() refuses more than 4,300 digits) and the regex never runs long.
_REFERENCE_RE = re.compile(
    r"&(?:#0*[0-9]{1,8};?|#[xX]0*[0-9a-fA-F]{1,8};?|[A-Za-z][A-Za-z0-9]{0,31};?)"
)
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
    cache: dict[str, str] = {}

    def resolve(match: re.Match[str]) -> str:
        reference = match.group()
        resolved = cache.get(reference)
        if resolved is None:
            resolved = cache[reference] = html.unescape(reference).translate(_HOLD)
        return resolved

    # Whatever "&" is left is not a reference: plain text.
    return _REFERENCE_RE.sub(resolve, text).replace("&", _AMP)


def _prepare(text: str, name: str) -> str:
    text = text.translate(_SCRUB).replace("\r\n", "\n").replace("\r", "\n")
    text = _resolve_references(_strip_comments(text))
    text = _STRAY_LT_RE.sub(_LT, text)
    if text.count("<") > MAX_TAGS:
        raise StoryFileError(
            f"“{name}” has more HTML markup than any story needs "
            f"(over {MAX_TAGS:,} tags), so Storyshelf did not read it. "
            "Please upload the file exactly as Archive of Our Own made it."
        )
    return text


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
_COLLAPSIBLE_RE = re.compile(r"[ \t\n\f\r]+")
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


def _render(nodes: Iterable[PageElement], *, plain: bool = False) -> list[str]:
    """The paragraphs of some HTML nodes, with Discord markdown unless ``plain``."""
    writer = _ParagraphWriter(plain=plain)
    # (node, leaving): a tag is pushed twice, to act on its start and its end.
    stack: list[tuple[PageElement, bool]] = [(node, False) for node in reversed(list(nodes))]
    lists: list[list[int]] = []  # per open <ol>/<ul>: [next number], 0 for bullets
    preformatted = 0
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, doctypes, CDATA
                writer.text(str(node).translate(_RESTORE), preformatted=preformatted > 0)
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if leaving:
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
        if name in _SKIPPED_TAGS or _SKIPPED_CLASSES.intersection(node.get("class") or ()):
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
                writer.text(f" [image: {alt.translate(_RESTORE)}] " if alt else " [image] ")
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
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return writer.finish()


def _plain(node: PageElement) -> str:
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


def _classes(tag: Tag) -> set[str]:
    return set(tag.get("class") or ())


def _label(tag: Tag) -> str:
    return _plain(tag).strip().rstrip(":").strip().lower()


def _labelled_quotes(scope: Tag | None) -> list[tuple[str, Tag]]:
    """AO3's notes: a blockquote whose previous sibling is a "Summary"/"Notes"/... label."""
    found: list[tuple[str, Tag]] = []
    # Iterative, and never into a blockquote: a quote inside the notes is not a note.
    stack = list(reversed(scope.contents)) if scope is not None else []
    while stack:
        node = stack.pop()
        if not isinstance(node, Tag):
            continue
        if node.name != "blockquote":
            stack.extend(reversed(node.contents))
            continue
        for sibling in node.previous_siblings:
            if not isinstance(sibling, Tag) or _SKIPPED_CLASSES.intersection(_classes(sibling)):
                continue
            label = _label(sibling) if sibling.name in ("p", "h3", "h4", "h5", "h6") else ""
            if label in _NOTE_LABELS:
                found.append((label, node))
            break
    return found


def _read_tags(dl: Tag | None) -> dict[str, str]:
    """The rows of AO3's tag list (``dl.tags``), by lower-case key."""
    rows: dict[str, str] = {}
    if dl is None:
        return rows
    label: str | None = None
    for child in dl.children:
        if not isinstance(child, Tag):
            continue
        if child.name == "dt":
            label = _label(child)
        elif child.name == "dd" and label:
            # Current downloads: links joined by ", "; the work page: ul.commas of li.
            items = [_plain(item) for item in child.find_all("li")]
            value = ", ".join(item for item in items if item) if items else _plain(child)
            if value:
                rows[_TAG_KEYS.get(label, label)] = value
            label = None
    return rows


def _quote_text(label: str, quote: Tag) -> list[str]:
    paragraphs = _tidy(_render(quote.contents))
    if paragraphs and label:
        paragraphs[0] = f"*{label}:* {paragraphs[0]}"
    return paragraphs


@dataclass
class _Chapter:
    title: str | None
    lead: list[str] = field(default_factory=list)
    body: list[PageElement] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def quotes(self, meta: Tag, *, end: bool = False) -> None:
        for label, quote in _labelled_quotes(meta):
            parent = quote.parent
            # A saved work page labels end notes plain "Notes", in a div.end.
            if end or "end" in label or (parent is not None and "end" in _classes(parent)):
                self.tail.extend(_quote_text("Chapter End Notes", quote))
            elif "summary" in label:
                self.lead.extend(_quote_text("Chapter Summary", quote))
            else:
                self.lead.extend(_quote_text("Chapter Notes", quote))


def _read_chapters(chapters: Tag) -> list[_Chapter]:
    found: list[_Chapter] = []

    def current() -> _Chapter:
        if not found:
            found.append(_Chapter(title=None))
        return found[-1]

    for child in chapters.contents:
        if not isinstance(child, Tag):
            if isinstance(child, NavigableString) and child.strip():
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
                if isinstance(part, Tag) and "preface" in _classes(part):
                    chapter.quotes(part)
                elif isinstance(part, Tag) and "userstuff" in _classes(part):
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
        return _parse(text, name)
    except RecursionError:
        # The walk here is iterative; this guards library code on pathological input.
        log.warning("RecursionError while reading %s", name)
        raise StoryFileError(
            f"“{name}” has HTML nested too deeply for Storyshelf to read. "
            "Please upload the file exactly as Archive of Our Own made it."
        ) from None


def _parse(text: str, name: str) -> ParsedStory:
    soup = BeautifulSoup(_prepare(text, name), "html.parser")
    chapters = soup.find("div", id="chapters")
    preface = soup.find("div", id="preface")
    if not isinstance(chapters, Tag):
        raise _not_ao3(name)
    looks_like_ao3 = (
        preface is not None
        or "userstuff" in _classes(chapters)
        or chapters.find(class_="userstuff") is not None
    )
    if not looks_like_ao3:
        raise _not_ao3(name)
    # A saved work page has no div#preface; its work preface is the first div.preface.
    front = preface if isinstance(preface, Tag) else soup.find("div", class_="preface")
    front = front if isinstance(front, Tag) else None
    scope: Tag = front if front is not None else soup
    warnings: list[str] = []

    tags_dl = scope.find("dl", class_="tags") or soup.find("dl", class_="meta")
    metadata = _read_tags(tags_dl if isinstance(tags_dl, Tag) else None)
    rating_label = metadata.pop("rating", None)

    title_tag = front.find("h1") if front is not None else None
    if title_tag is None:
        title_tag = scope.find("h2", class_="title")
    title = _plain(title_tag) if isinstance(title_tag, Tag) else ""
    if not title:
        title = _title_from_filename(name)
        warnings.append(f"No title was found in the file, so it is called “{title}”.")

    author = _read_author(scope)
    if author is None:
        warnings.append("No author was found in the file.")

    message = front.find("p", class_="message") if front is not None else None
    if isinstance(message, Tag):
        for link in message.find_all("a", href=True):
            href = str(link["href"]).translate(_RESTORE)
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
    if isinstance(work_endnotes, Tag):
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


def _read_author(scope: Tag) -> str | None:
    names: list[str] = []
    for link in scope.find_all("a", rel="author"):
        name = _plain(link)
        if name and name not in names:
            names.append(name)
    if names:
        return ", ".join(names)
    # Anonymous works have a byline ("by Anonymous") with no author link.
    byline = scope.find(class_="byline")
    if isinstance(byline, Tag):
        name = re.sub(r"^by\s+", "", _plain(byline), flags=re.IGNORECASE).strip()
        if name:
            return name
    return None
