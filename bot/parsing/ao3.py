"""Archive of Our Own HTML: the preface's metadata and the chapters, with their notes apart.

AO3's "Download → HTML" file has a ``div#preface`` (a ``dl.tags`` of
Rating/Fandom/... rows, the ``h1`` title, the ``div.byline`` and the
Summary/Notes blockquotes), a ``div#chapters`` and a ``div#afterword``. A
multi-chapter work repeats, inside ``div#chapters``, a ``div.meta.group``
(``h2.heading`` plus the chapter summary and notes), the chapter's
``div.userstuff`` and an optional end-notes ``div.meta``. A one-chapter work has
just the ``div.userstuff``. A work page saved from the browser (``div.chapter``
blocks, ``dl.work.meta``) is read too, since users do upload those; it often
holds one chapter of several, and the story then says so in its warnings.
AO3's EPUB download has the same preface and chapter markup, one file each, so
the EPUB reader uses ``read_preface`` and ``read_chapter_sections`` from here.

Chapter summaries and notes are what the author says about a chapter, not the
chapter: they go to ``Section.notes`` and out of the word count, which then
agrees with AO3's own "Words:" stat.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.parsing.blocks import paused_gc
from bot.parsing.decode import display_name
from bot.parsing.ffnet_page import looks_like_ffnet_page, read_ffnet_page
from bot.parsing.html import (
    MAX_ATTRIBUTES,
    MAX_ELEMENTS,
    MAX_TAGS,
    MarkupLimitError,
    children,
    classes,
    parse_document,
    plain_text,
    render,
    tidy,
)
from bot.story import ParsedStory, Rating, Section, StoryFileError, parse_rating

__all__ = (
    "MAX_ATTRIBUTES",
    "MAX_ELEMENTS",
    "MAX_TAGS",
    "Preface",
    "chapter_count_warning",
    "parse_ao3_html",
    "read_chapter_sections",
    "read_preface",
    "too_much_markup",
)

log = logging.getLogger(__name__)

# AO3's screen-reader headings ("Chapter Text") and "see the end notes" links:
# navigation, never text. Removed from the tree before anything is read.
_NAVIGATION = ".landmark, .jump, .endnote-link, .toc-heading"

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
# AO3's preface lists "A translation of <work> by <author>" in a ul under the tags.
# (Not "Translation into Deutsch available: …", which lists translations of this work.)
_TRANSLATION_RE = re.compile(
    r"^(?:an?\s+)?translation\s+(?:into\s+\S+(?:\s+\S+)?\s+)?of\b.+\bby\b", re.IGNORECASE
)
_RELATED_WORKS_READ = 20
_CHAPTERS_STAT_RE = re.compile(r"Chapters:\s*(\d[\d,]*)\s*/\s*(\d[\d,]*|\?)")


def too_much_markup(name: str, error: MarkupLimitError) -> StoryFileError:
    return StoryFileError(
        f"“{name}” has more HTML markup than any story needs "
        f"(over {error.limit:,} {error.what}), so Storyshelf did not read it. "
        "Please upload the file exactly as Archive of Our Own made it."
    )


def document(text: str, name: str) -> LexborHTMLParser:
    """The tree of an AO3 file, navigation removed; StoryFileError past the markup caps."""
    try:
        tree = parse_document(text)
    except MarkupLimitError as error:
        raise too_much_markup(name, error) from None
    for node in tree.css(_NAVIGATION):
        node.decompose()
    return tree


# --- Preface ------------------------------------------------------------------


def _label(node: LexborNode) -> str:
    return plain_text(node).strip().rstrip(":").strip().lower()


def _previous_element(node: LexborNode) -> LexborNode | None:
    sibling = node.prev
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.prev
    return sibling


def _inside(node: LexborNode, tag: str, scope: LexborNode) -> bool:
    """Whether ``node`` has an ancestor ``tag`` below ``scope``."""
    parent = node.parent
    scope_id = scope.mem_id
    while parent is not None and parent.mem_id != scope_id:
        if parent.tag == tag:
            return True
        parent = parent.parent
    return False


def labelled_quotes(scope: LexborNode | None) -> list[tuple[str, LexborNode]]:
    """AO3's notes: a blockquote after a "Summary"/"Notes"/... label (a quote in a note is not)."""
    if scope is None:
        return []
    found: list[tuple[str, LexborNode]] = []
    for quote in scope.css("blockquote"):
        previous = _previous_element(quote)
        if previous is None or previous.tag not in ("p", "h3", "h4", "h5", "h6", "b", "strong"):
            continue
        label = _label(previous)
        if label in _NOTE_LABELS and not _inside(quote, "blockquote", scope):
            found.append((label, quote))
    return found


def read_tags(dl: LexborNode | None) -> dict[str, str]:
    """The rows of AO3's tag list (``dl.tags``), by lower-case key."""
    rows: dict[str, str] = {}
    label: str | None = None
    for child in children(dl):
        if child.tag == "dt":
            label = _label(child)
        elif child.tag == "dd" and label:
            # Downloads: links joined by ", "; the work page: ul.commas of li.
            items = [plain_text(item) for item in child.css("li")]
            value = ", ".join(item for item in items if item) if items else plain_text(child)
            if value:
                rows[_TAG_KEYS.get(label, label)] = value
            label = None
    return rows


def read_author(scope: LexborNode) -> str | None:
    """The byline's names; links elsewhere (a translation's original author) are not it."""
    byline = scope.css_first(".byline")
    links = (byline or scope).css('a[rel~="author"]')
    # A link's own text: malformed bylines nest links, and each one's name is its own.
    names = dict.fromkeys(_own_text(link) for link in links)
    names.pop("", None)
    if names:
        return ", ".join(names)
    # Anonymous works have a byline ("by Anonymous") with no author link.
    if byline is not None:
        name = re.sub(r"^by\s+", "", plain_text(byline), flags=re.IGNORECASE).strip()
        if name:
            return name
    return None


def _own_text(link: LexborNode) -> str:
    own = " ".join(link.text(deep=False).split())
    return own or plain_text(link)


def _translation(scope: LexborNode) -> str | None:
    # The preface's related-works list; a few items at most, each one line.
    for node in scope.css("ul > li")[:_RELATED_WORKS_READ]:
        if len(node.text(deep=True)) > 300:
            continue
        text = plain_text(node).strip()
        if _TRANSLATION_RE.match(text):
            return text.rstrip(".")
    return None


@dataclass
class Preface:
    """What AO3 says about the work as a whole."""

    title: str
    author: str | None
    rating_label: str | None
    metadata: dict[str, str] = field(default_factory=dict)


def read_preface(tree: LexborHTMLParser) -> Preface | None:
    """The work's title, byline, tags, summary and notes; None when this is not AO3's markup."""
    preface = tree.css_first("div#preface")
    # A saved work page has no div#preface; its work preface is the first div.preface.
    front = preface if preface is not None else tree.css_first("div.preface")
    tags_dl = (front.css_first("dl.tags") if front is not None else None) or tree.css_first(
        "dl.work.meta, dl.meta"
    )
    if front is None and tags_dl is None:
        return None
    scope = front if front is not None else tree.root
    if scope is None:
        return None
    metadata = read_tags(tags_dl)
    rating_label = metadata.pop("rating", None)
    title_tag = scope.css_first("h1") or scope.css_first("h2.title")
    title = plain_text(title_tag) if title_tag is not None else ""
    message = scope.css_first("p.message")
    if message is not None:
        for link in message.css("a[href]"):
            href = link.attributes.get("href") or ""
            if "/works/" in href:
                metadata["url"] = href
                break
    translation = _translation(scope)
    if translation:
        metadata["translation_of"] = translation
    for label, quote in labelled_quotes(scope):
        paragraphs = tidy(render(children(quote)))
        if label in ("summary", "notes") and label not in metadata and paragraphs:
            metadata[label] = "\n\n".join(paragraphs)
    end_quotes = [
        quote
        for label, quote in labelled_quotes(tree.css_first("div#afterword"))
        if label == "end notes"
    ]
    work_endnotes = tree.css_first("div#work_endnotes")  # a saved work page
    if work_endnotes is not None and (quote := work_endnotes.css_first("blockquote")):
        end_quotes.append(quote)
    end_notes = [p for quote in end_quotes for p in tidy(render(children(quote)))]
    if end_notes:
        metadata["end_notes"] = "\n\n".join(end_notes)
    return Preface(
        title=title, author=read_author(scope), rating_label=rating_label, metadata=metadata
    )


# --- Chapters -----------------------------------------------------------------


@dataclass
class _Chapter:
    title: str | None
    notes: list[str] = field(default_factory=list)
    end_notes: list[str] = field(default_factory=list)
    body: list[LexborNode] = field(default_factory=list)

    def read_notes(self, meta: LexborNode, *, end: bool = False) -> None:
        for label, quote in labelled_quotes(meta):
            parent = quote.parent
            paragraphs = tidy(render(children(quote)))
            # A saved work page labels end notes plain "Notes", in a div.end.
            if end or "end" in label or (parent is not None and "end" in classes(parent)):
                self.end_notes.extend(_labelled("End Notes", paragraphs))
            elif "summary" in label:
                self.notes.extend(_labelled("Summary", paragraphs))
            else:
                self.notes.extend(_labelled("Notes", paragraphs))


def _labelled(label: str, paragraphs: list[str]) -> list[str]:
    if paragraphs:
        return [f"{label}: {paragraphs[0]}", *paragraphs[1:]]
    return []


def _read_chapters(chapters: LexborNode) -> list[_Chapter]:
    found: list[_Chapter] = []

    def current() -> _Chapter:
        if not found:
            found.append(_Chapter(title=None))
        return found[-1]

    for child in children(chapters):
        tag = child.tag
        if tag == "-text":
            if (child.text_content or "").strip():
                current().body.append(child)
            continue
        if not child.is_element_node:
            continue
        names = classes(child) if tag == "div" else []
        if "meta" in names:
            heading = child.css_first("h2.heading")
            if heading is None:
                current().read_notes(child, end=True)
                continue
            chapter = _Chapter(title=plain_text(heading) or None)
            byline = child.css_first("p.byline")
            if byline is not None and (credit := plain_text(byline)):
                chapter.notes.append(credit)
            chapter.read_notes(child)
            found.append(chapter)
        elif "chapter" in names:
            # A work page saved from the browser: one div.chapter per chapter.
            heading = child.css_first(".title")
            chapter = _Chapter(title=plain_text(heading) if heading is not None else None)
            for part in children(child):
                part_classes = classes(part) if part.is_element_node else []
                if "preface" in part_classes:
                    chapter.read_notes(part)
                elif "userstuff" in part_classes:
                    chapter.body.append(part)
            found.append(chapter)
        else:
            current().body.append(child)
    return found


def read_chapter_sections(
    chapters: LexborNode, work_title: str, warnings: list[str], *, first_number: int = 1
) -> tuple[list[Section], int]:
    """The sections of a ``div#chapters`` (or a chapter file's body), and how many chapters it has.

    A chapter without text (an image, a chapter of notes) is left out with a
    warning, but still counts as one of the work's chapters.
    """
    sections: list[Section] = []
    found = _read_chapters(chapters)
    for number, chapter in enumerate(found, start=first_number):
        body = tidy(render(chapter.body))
        title = chapter.title or (work_title if number == 1 else f"Chapter {number}")
        notes = "\n\n".join(chapter.notes + chapter.end_notes)
        if not body:
            warnings.append(f"“{title}” has no text, so it was left out.")
            continue
        sections.append(Section(title=title, text="\n\n".join(body), notes=notes))
    return sections, len(found)


def chapter_count_warning(stats: str | None, found: int) -> str | None:
    """What is missing when AO3's "Chapters: 2/2" says more than the file holds."""
    match = _CHAPTERS_STAT_RE.search(stats or "")
    if match is None:
        return None
    posted = int(match.group(1).replace(",", ""))
    if found >= posted:
        return None  # "3/?" is a work in progress: its posted chapters are all there
    missing = posted - found
    return (
        f"AO3 says this work has {posted} chapter{'s' if posted != 1 else ''}; this file holds "
        f"{found}, so {missing} {'is' if missing == 1 else 'are'} missing. It looks like one "
        "page of the work saved from the browser: on AO3, choose Download → HTML (or EPUB) "
        "to get the whole work."
    )


def rating_of(label: str | None, warnings: list[str]) -> Rating:
    if label is None:
        warnings.append("No rating was found in the file, so the story is treated as Not Rated.")
        return Rating.not_rated()
    parsed = parse_rating(label)
    if parsed is None:
        warnings.append(
            f"The rating “{label}” was not recognised, so the story is treated as Not Rated."
        )
        return Rating.not_rated()
    return parsed


# --- The work -----------------------------------------------------------------


def _not_ao3(name: str) -> StoryFileError:
    return StoryFileError(
        f"“{name}” is HTML but not an Archive of Our Own download, so Storyshelf "
        "can't tell where the story is. On AO3, open the work and choose Download → HTML, "
        "then upload that file — or save the story as a .txt file and upload that instead."
    )


def title_from_filename(name: str) -> str:
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return stem.replace("_", " ").strip() or "Untitled"


def parse_ao3_html(text: str, filename: str) -> ParsedStory:
    """Read an AO3 HTML download or saved work page, or a saved FanFiction.Net chapter page."""
    # Like the text parsers: tens of thousands of small objects and no cycles.
    with paused_gc():
        return _parse_ao3_html(text, filename)


def _parse_ao3_html(text: str, filename: str) -> ParsedStory:
    name = display_name(filename)
    tree = document(text, name)
    chapters = tree.css_first("div#chapters")
    if chapters is None:
        # The other page readers save from the browser: a FanFiction.Net chapter.
        if looks_like_ffnet_page(tree):
            return read_ffnet_page(tree, name)
        raise _not_ao3(name)
    preface = read_preface(tree)
    looks_like_ao3 = (
        preface is not None
        or "userstuff" in classes(chapters)
        or chapters.css_first(".userstuff") is not None
    )
    if not looks_like_ao3:
        raise _not_ao3(name)
    if preface is None:
        preface = Preface(title="", author=None, rating_label=None)
    warnings: list[str] = []
    title = preface.title
    if not title:
        title = title_from_filename(name)
        warnings.append(f"No title was found in the file, so it is called “{title}”.")
    if preface.author is None:
        warnings.append("No author was found in the file.")

    sections, chapter_count = read_chapter_sections(chapters, title, warnings)
    if not sections:
        raise StoryFileError(
            f"“{name}” looks like an Archive of Our Own download, but it has no story "
            "text in it. Please download the work from AO3 again and upload the new file."
        )
    missing = chapter_count_warning(preface.metadata.get("stats"), chapter_count)
    if missing:
        warnings.append(missing)
    rating = rating_of(preface.rating_label, warnings)
    return ParsedStory(
        title=title,
        author=preface.author,
        rating=rating,
        sections=tuple(sections),
        metadata=preface.metadata,
        warnings=tuple(warnings),
        source_format="ao3",
    )
