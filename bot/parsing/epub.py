"""EPUB e-books: AO3's and FanFicFare's downloads, Project Gutenberg and calibre books.

An EPUB is a ZIP: ``META-INF/container.xml`` names the package file (OPF),
whose ``metadata`` gives title, creator, description and subjects, whose
``spine`` is the reading order of XHTML documents, and whose NCX (EPUB 2) or
``nav`` document (EPUB 3) titles them. Each document in the spine becomes one
section (titled from the table of contents, else its first heading) unless it
is not story text: a cover, a title page, AO3's preface and afterword,
FanFicFare's title and log pages, a table of contents, Gutenberg's licence. A
document the table of contents splits with ``#anchors`` becomes one section
per anchor; a document the table of contents does not name continues the
section before it (calibre splits long chapters into several files).

Everything is bounded before it is read: the number of entries, the total
uncompressed size (``MAX_UNPACKED_FACTOR`` times the upload limit) and the
compression ratio of each entry, all from the ZIP's directory, and each
entry is read no further than its declared size. XML is parsed with the
standard library, which never fetches anything; a document that declares
entities is refused. Encrypted books (DRM) are refused with a sentence that
says so.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree import ElementTree

from selectolax.lexbor import LexborHTMLParser, LexborNode

from bot.parsing.ao3 import (
    Preface,
    chapter_count_warning,
    rating_of,
    read_chapter_sections,
    read_preface,
    title_from_filename,
    too_much_markup,
)
from bot.parsing.blocks import paused_gc
from bot.parsing.decode import display_name
from bot.parsing.html import (
    MarkupLimitError,
    children,
    classes,
    parse_document,
    plain_text,
    render,
    tidy,
)
from bot.parsing.sections import clip_words
from bot.story import ParsedStory, Section, StoryFileError, count_words

__all__ = (
    "MAX_COMPRESSION_RATIO",
    "MAX_ENTRIES",
    "MAX_UNPACKED_FACTOR",
    "looks_like_epub",
    "parse_epub",
)

log = logging.getLogger(__name__)

# A long novel is a few hundred files; 10,000 entries is a file of something else.
MAX_ENTRIES = 10_000
# XHTML compresses 3-5x, so an EPUB at the upload limit can honestly hold about
# four times as much text; past five times the limit (50 MB by default) it is a
# bomb, not a book.
MAX_UNPACKED_FACTOR = 5
# Prose deflates about 3-10x and a file of one repeated markup line perhaps 100x;
# deflate's ceiling is about 1,000x, which only a bomb reaches. Checked on
# entries over 1 MB, where a bomb does its harm.
MAX_COMPRESSION_RATIO = 200
_RATIO_CHECKED_FROM = 1024 * 1024

_ZIP_MAGIC = b"PK\x03\x04"
_EPUB_MIMETYPE = b"application/epub+zip"
_END_OF_DIRECTORY = b"PK\x05\x06"
_CONTAINER_NAME = b"META-INF/container.xml"

_XHTML_TYPES = frozenset({"application/xhtml+xml", "text/html", "application/xml"})
_NCX_TYPE = "application/x-dtbncx+xml"
# Encryption EPUB readers undo without a key: font obfuscation, not DRM.
_FONT_OBFUSCATION = frozenset(
    {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
)
_FONT_SUFFIXES = (".otf", ".ttf", ".woff", ".woff2")

_NS = {
    "container": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "enc": "http://www.w3.org/2001/04/xmlenc#",
}

# Pages of a book that are about the book, by the title its table of contents
# gives them or by their own <title>.
_NOT_STORY_TITLE_RE = re.compile(
    r"^\s*(?:cover|title\s*page|table\s+of\s+contents|contents|copyright|colophon|"
    r"information|update\s+log|about\s+this\s+(?:e?book|file)|the\s+full\s+project\s+"
    r"gutenberg\s+licen[cs]e|project\s+gutenberg\s+licen[cs]e)\s*$",
    re.IGNORECASE,
)
_NOT_STORY_FILE_RE = re.compile(
    r"(?:^|/)(?:cover|titlepage|title_page|title-page|toc|toc_page|nav|log_page|colophon|copyright|"
    r"wrap0000)(?:[._-]?\d+)?\.x?html?$",
    re.IGNORECASE,
)
_GUTENBERG_START_RE = re.compile(r"\*\*\*\s*START OF (?:THE|THIS) PROJECT GUTENBERG", re.I)
_GUTENBERG_END_RE = re.compile(r"\*\*\*\s*END OF (?:THE|THIS) PROJECT GUTENBERG", re.I)
_GUTENBERG_BOILERPLATE = "#pg-header, #pg-footer, .pg-boilerplate, .pgheader, #pg-machine-header"
# Title pages (FanFicFare's, FicHub's, AO3 converters') list "Rating: Mature" and the like.
_KEY_VALUE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z /]{0,30}):\s*(.+)$")
# Lines that start with one of the labels below (the text may break lines anywhere).
_LABEL_LINE_RE = re.compile(
    r"^\s*(?:rated|rating|fandoms?|categor(?:y|ies)|genre|characters|relationships?|pairing|"
    r"words|chapters|status|warnings|archive warnings|additional tags|series|language)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_TITLE_PAGE_KEYS = {
    "rated": "rating",
    "relationship": "pairing",
    "additional tags": "tags",
    "categories": "category",
    "archive warnings": "warnings",
    "category": "fandom",
    "fandom": "fandom",
    "fandoms": "fandom",
    "genre": "tags",
    "characters": "characters",
    "relationships": "pairing",
    "pairing": "pairing",
    "warnings": "warnings",
    "rating": "rating",
    "series": "series",
    "language": "language",
    "status": "status",
    "story url": "url",
    "summary": "summary",
    "words": "words",
    "chapters": "chapters",
    "published": "published",
    "updated": "updated",
}
_PLAIN_QUOTES = str.maketrans("‘’“”", "''\"\"")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])[\"'”’)]*\s")
# A title page under the book's title says little more than who wrote it.
_TITLE_PAGE_WORDS = 40
# Title pages and contents pages are short; a chapter is not looked at as one past this.
_LONGEST_FRONT_PAGE = 30_000
_AO3_NAVIGATION = ".landmark, .jump, .endnote-link, .toc-heading"
_SELF_CLOSING_RE = re.compile(r"<([a-zA-Z][\w:.-]*)(\s[^<>]*?)?/>")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
_XML_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9._-]+)""", re.IGNORECASE)


def looks_like_epub(data: bytes) -> bool:
    """An EPUB by content: a ZIP with the EPUB ``mimetype`` first, or an OCF container.

    Entry names are stored uncompressed, so the container is found by a byte
    search; tools that compress or misplace ``mimetype`` still write it.
    """
    if not data.startswith(_ZIP_MAGIC):
        return False
    if data[30:38] == b"mimetype" and _EPUB_MIMETYPE in data[38:120]:
        return True
    return _CONTAINER_NAME in data


class _Book:
    """The ZIP, read within the caps, and the errors worded for the uploader."""

    def __init__(self, data: bytes, name: str, max_bytes: int) -> None:
        self.name = name
        if not data.startswith(_ZIP_MAGIC):
            raise StoryFileError(
                f"“{name}” is named like an EPUB e-book but is not one (an EPUB is a ZIP "
                "archive, and this file is not), so Storyshelf cannot read it. Upload the "
                "story as .epub, .html, .txt or .md."
            )
        entries = _declared_entries(data)
        if entries is not None and entries > MAX_ENTRIES:
            raise self.too_big(f"has more than {MAX_ENTRIES:,} files inside")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
            raise StoryFileError(
                f"“{name}” is damaged: it is not a readable ZIP archive, so it is not an "
                "EPUB Storyshelf can open. Download the e-book again and upload the new file."
            ) from None
        if len(infos) > MAX_ENTRIES:
            raise self.too_big(f"has more than {MAX_ENTRIES:,} files inside")
        self.budget = MAX_UNPACKED_FACTOR * max_bytes
        total = 0
        for info in infos:
            total += info.file_size
            if total > self.budget:
                raise self.too_big(f"unpacks to more than {_megabytes(self.budget)}")
            if (
                info.file_size > _RATIO_CHECKED_FROM
                and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
            ):
                raise self.too_big("is compressed far more than any book (a ZIP bomb)")
        self.infos = {info.filename: info for info in infos}
        # Paths in an OPF are case-sensitive, but some tools write them in another case.
        self.folded = {path.lower(): path for path in self.infos}
        self.read_so_far = 0

    def too_big(self, what: str) -> StoryFileError:
        return StoryFileError(
            f"“{self.name}” {what}, so Storyshelf did not open it. "
            "Upload the e-book exactly as the site or program made it."
        )

    def find(self, path: str) -> str | None:
        if path in self.infos:
            return path
        return self.folded.get(path.lower())

    def read(self, path: str) -> bytes:
        found = self.find(path)
        if found is None:
            raise KeyError(path)
        info = self.infos[found]
        try:
            with self.zip.open(info) as entry:
                # Never past the declared size, whatever the stream holds.
                data = entry.read(info.file_size + 1)
        except RuntimeError:
            raise _drm(self.name) from None  # a ZIP-level password
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, NotImplementedError, EOFError):
            raise StoryFileError(
                f"“{self.name}” is damaged: {found} inside it cannot be unpacked. "
                "Download the e-book again and upload the new file."
            ) from None
        self.read_so_far += len(data)
        if len(data) > info.file_size or self.read_so_far > self.budget:
            raise self.too_big(f"unpacks to more than {_megabytes(self.budget)}")
        return data

    def xml(self, path: str) -> ElementTree.Element:
        data = self.read(path)
        if b"<!ENTITY" in data:
            raise StoryFileError(
                f"“{self.name}” declares XML entities in {path}, which no e-book needs "
                "and Storyshelf does not expand, so it did not read it."
            )
        try:
            return ElementTree.fromstring(data)
        except (ElementTree.ParseError, ValueError, LookupError):
            raise StoryFileError(
                f"“{self.name}” is damaged: {path} inside it is not valid XML. "
                "Download the e-book again and upload the new file."
            ) from None


def _declared_entries(data: bytes) -> int | None:
    """The entry count in the end-of-directory record, read before zipfile builds its list."""
    position = data.rfind(_END_OF_DIRECTORY, max(0, len(data) - 65_557))
    if position < 0 or position + 22 > len(data):
        return None
    (count,) = struct.unpack_from("<H", data, position + 10)
    return MAX_ENTRIES + 1 if count == 0xFFFF else count  # 0xFFFF: ZIP64, more than that


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:.0f} MB"


def _drm(name: str) -> StoryFileError:
    return StoryFileError(
        f"“{name}” is protected (DRM): its text is encrypted, so Storyshelf cannot read it. "
        "Upload a DRM-free copy of the story (AO3, FanFicFare and Project Gutenberg "
        "e-books are DRM-free)."
    )


def _check_not_encrypted(book: _Book) -> None:
    if book.find("META-INF/rights.xml") is not None:
        raise _drm(book.name)
    path = book.find("META-INF/encryption.xml")
    if path is None:
        return
    root = book.xml(path)
    for encrypted in root.iter(f"{{{_NS['enc']}}}EncryptedData"):
        method = encrypted.find("enc:EncryptionMethod", _NS)
        algorithm = method.get("Algorithm", "") if method is not None else ""
        reference = encrypted.find(".//enc:CipherReference", _NS)
        uri = reference.get("URI", "") if reference is not None else ""
        if algorithm in _FONT_OBFUSCATION and uri.lower().endswith(_FONT_SUFFIXES):
            continue
        raise _drm(book.name)
    if any(info.flag_bits & 0x1 for info in book.infos.values()):
        raise _drm(book.name)


# --- The package ---------------------------------------------------------------


@dataclass
class _Package:
    path: str
    metadata: dict[str, str]
    title: str
    authors: list[str]
    # (path, media type, manifest properties) in reading order
    spine: list[tuple[str, str, str]]
    toc_path: str | None
    nav_path: str | None
    guide_skip: set[str] = field(default_factory=set)


def _package_path(book: _Book) -> str:
    container = book.find("META-INF/container.xml")
    if container is not None:
        root = book.xml(container)
        for rootfile in root.iter(f"{{{_NS['container']}}}rootfile"):
            path = rootfile.get("full-path")
            if path and book.find(path) is not None:
                return book.find(path) or path
            if path:
                raise StoryFileError(
                    f"“{book.name}” is damaged: its container names the package file {path}, "
                    "which is not in the e-book. Download it again and upload the new file."
                )
    opfs = [path for path in book.infos if path.lower().endswith(".opf")]
    if len(opfs) == 1:
        return opfs[0]
    raise StoryFileError(
        f"“{book.name}” has no package file (no META-INF/container.xml naming a .opf), "
        "so Storyshelf cannot tell what is in it. It may be damaged or not a real EPUB: "
        "download it again and upload the new file."
    )


def _resolve(base: str, href: str) -> str:
    href = unquote(href.split("#", 1)[0])
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), href)).lstrip("/")


def _text(element: ElementTree.Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _read_package(book: _Book) -> _Package:
    path = _package_path(book)
    root = book.xml(path)
    meta = root.find("opf:metadata", _NS)
    if meta is None:
        meta = root.find(".//opf:metadata", _NS)
    metadata: dict[str, str] = {}
    title = ""
    authors: list[str] = []
    if meta is not None:
        title = _text(meta.find("dc:title", _NS))
        creators = meta.findall("dc:creator", _NS)
        opf_role = f"{{{_NS['opf']}}}role"
        named = [c for c in creators if c.get(opf_role, c.get("role", "aut")) == "aut"]
        authors = [name for c in (named or creators) if (name := _text(c))]
        description = meta.find("dc:description", _NS)
        if description is not None and (summary := _html_to_text(_text(description))):
            metadata["summary"] = summary
        subjects = [
            subject
            for element in meta.findall("dc:subject", _NS)
            if (subject := _text(element)) and not subject.lower().startswith("last update")
        ]
        if subjects:
            metadata["tags"] = ", ".join(dict.fromkeys(subjects))
        language = _text(meta.find("dc:language", _NS))
        if language:
            metadata["language"] = language
        # The story's address: a URL identifier, else dc:source (FicHub puts the cover there).
        for candidate in [*meta.findall("dc:identifier", _NS), meta.find("dc:source", _NS)]:
            address = _text(candidate)
            if address.startswith("http") and "/image/" not in address:
                metadata["url"] = address
                break
    manifest: dict[str, tuple[str, str, str]] = {}
    for item in root.iterfind(".//opf:manifest/opf:item", _NS):
        item_id, href = item.get("id"), item.get("href")
        if item_id and href:
            manifest[item_id] = (
                _resolve(path, href),
                item.get("media-type", ""),
                item.get("properties", ""),
            )
    spine_element = root.find(".//opf:spine", _NS)
    if spine_element is None:
        raise _bad_spine(book.name, "it has no reading order (spine)")
    spine: list[tuple[str, str, str]] = []
    for itemref in spine_element.iterfind("opf:itemref", _NS):
        if itemref.get("linear", "yes") == "no":
            continue
        entry = manifest.get(itemref.get("idref", ""))
        if entry is None:
            raise _bad_spine(
                book.name, f"its reading order names “{itemref.get('idref')}”, which it lacks"
            )
        if book.find(entry[0]) is None:
            raise _bad_spine(book.name, f"its reading order points at {entry[0]}, which is missing")
        spine.append(entry)
    if not spine:
        raise _bad_spine(book.name, "its reading order (spine) is empty")
    toc_id = spine_element.get("toc")
    toc_path = manifest[toc_id][0] if toc_id in manifest else None
    if toc_path is None:
        toc_path = next((p for p, kind, _ in manifest.values() if kind == _NCX_TYPE), None)
    nav_path = next((p for p, _, props in manifest.values() if "nav" in props.split()), None)
    guide_skip = {
        _resolve(path, reference.get("href", ""))
        for reference in root.iterfind(".//opf:guide/opf:reference", _NS)
        if reference.get("type", "").lower() in ("cover", "title-page", "toc", "copyright-page")
    }
    return _Package(path, metadata, title, authors, spine, toc_path, nav_path, guide_skip)


def _bad_spine(name: str, what: str) -> StoryFileError:
    return StoryFileError(
        f"“{name}” is damaged: {what}, so Storyshelf cannot read the story in order. "
        "Download the e-book again and upload the new file."
    )


def _html_to_text(markup: str) -> str:
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    try:
        tree = parse_document(markup)
    except MarkupLimitError:
        return ""
    return "\n\n".join(tidy(render([tree.body] if tree.body is not None else [])))


# --- Table of contents ------------------------------------------------------------


def _read_toc(book: _Book, package: _Package) -> list[tuple[str, str, str]]:
    """(document path, #fragment, label) in table-of-contents order."""
    entries: list[tuple[str, str, str]] = []
    if package.toc_path and book.find(package.toc_path):
        try:
            root = book.xml(package.toc_path)
        except StoryFileError:
            root = None
        if root is not None:
            for point in root.iter(f"{{{_NS['ncx']}}}navPoint"):
                label = _text(point.find("ncx:navLabel/ncx:text", _NS))
                content = point.find("ncx:content", _NS)
                src = content.get("src", "") if content is not None else ""
                if src:
                    fragment = src.split("#", 1)[1] if "#" in src else ""
                    entries.append((_resolve(package.toc_path, src), unquote(fragment), label))
    if not entries and package.nav_path and book.find(package.nav_path):
        tree = _document(book, package.nav_path)
        nav = tree.css_first('nav[epub\\:type="toc"]') or tree.css_first("nav")
        for link in nav.css("a[href]") if nav is not None else []:
            href = link.attributes.get("href") or ""
            fragment = href.split("#", 1)[1] if "#" in href else ""
            entries.append((_resolve(package.nav_path, href), unquote(fragment), plain_text(link)))
    return entries


# --- Documents --------------------------------------------------------------------


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    declared = _XML_ENCODING_RE.match(data[:200]) or _META_CHARSET_RE.search(data[:2048])
    if declared is not None:
        try:
            return data.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return data.decode("utf-8", errors="replace")


def _expand_self_closing(match: re.Match[str]) -> str:
    # XHTML's <a id="x"/> is an empty element; an HTML parser would read it as
    # opening one that holds the rest of the paragraph.
    name = match.group(1)
    if name.lower() in _VOID:
        return match.group()
    return f"<{name}{match.group(2) or ''}></{name}>"


def _document(book: _Book, path: str) -> LexborHTMLParser:
    text = _decode(book.read(path))
    if "/>" in text:
        text = _SELF_CLOSING_RE.sub(_expand_self_closing, text)
    try:
        return parse_document(text)
    except MarkupLimitError as error:
        raise too_much_markup(book.name, error) from None


@dataclass
class _Piece:
    """Story text from one document (or one #anchor of it) on the way to a section."""

    title: str | None
    paragraphs: list[str]
    notes: list[str] = field(default_factory=list)
    continues: bool = False  # no entry of its own in the table of contents


def _is_table_of_contents(body: LexborNode) -> bool:
    links = body.css("a[href]")
    if len(links) < 3 or len(body.text()) > _LONGEST_FRONT_PAGE:
        return False
    return _mostly_links(render([body], plain=True), len(links))


def _mostly_links(paragraphs: list[str], links: int) -> bool:
    """A contents list: three links or more, and a link on most of its lines."""
    return links >= 3 and links >= 0.6 * len(paragraphs)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _same_title(heading: str, title: str | None) -> bool:
    """A heading that says the title, its line breaks and quote marks aside."""
    return title is not None and _comparable(heading) == _comparable(title)


def _comparable(text: str) -> str:
    return _one_line(text).translate(_PLAIN_QUOTES).casefold()


def _content_container(body: LexborNode) -> LexborNode:
    """The element that holds a document's blocks: past wrappers with one element inside."""
    container = body
    while True:
        elements = [child for child in children(container) if child.is_element_node]
        if len(elements) != 1:
            return container
        container = elements[0]


def _first_heading_in(node: LexborNode) -> LexborNode | None:
    if node.tag in ("h1", "h2", "h3", "h4"):
        return node
    return node.css_first("h1, h2, h3, h4")


def _first_sentence(paragraph: str) -> str:
    """A section without a heading is named by its first sentence, cut to about 80 characters."""
    plain = paragraph.replace("*", "").replace("__", "").replace("~~", "").split("\n")[0]
    sentence = _SENTENCE_END_RE.split(plain, maxsplit=1)[0]
    return clip_words(sentence.strip(), 80) or "Untitled"


def _first_heading(body: LexborNode) -> LexborNode | None:
    for heading in body.css("h1, h2, h3, h4"):
        if plain_text(heading):
            return heading
    return None


def _title_page(body: LexborNode) -> dict[str, str]:
    """A title page's "Key: value" lines, by our metadata keys.

    FanFicFare writes ``<b>Rating:</b> Teen And Up Audiences<br/>``, other tools
    ``<p>Rating: Mature</p>`` or FanFiction.Net's one line ``Rated: Fiction M -
    Language: English - Genre: Romance``: all are lines of text once rendered.
    """
    return _title_page_lines(render([body], plain=True))


def _title_page_lines(paragraphs: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for paragraph in paragraphs:
        for line in paragraph.split("\n"):
            parts = line.split(" - ") if line.lower().startswith("rated:") else [line]
            for part in parts:
                match = _KEY_VALUE_RE.match(part)
                if match is None:
                    continue
                key = _TITLE_PAGE_KEYS.get(match.group(1).strip().lower())
                value = match.group(2).strip()
                if key and value:
                    found.setdefault(key, value)
    rating = found.get("rating", "")
    if rating.lower().startswith("fiction "):  # FanFiction.Net: "Fiction M"
        found["rating"] = rating[len("fiction ") :]
    return found


def _is_title_page(body: LexborNode) -> bool:
    """A short page that is mostly "Rating: …", "Words: …" lines: about the story, not of it."""
    text = body.text(separator="\n")
    # A chapter is not rendered to find out: a title page is short and has its labels.
    if len(text) > _LONGEST_FRONT_PAGE:
        return False
    labels = _LABEL_LINE_RE.findall(text)
    # FanFiction.Net's one "Rated: … - Chapters: … - Words: …" line carries them all.
    if len(labels) < 3 and not any(label.lower().lstrip().startswith("rated") for label in labels):
        return False
    paragraphs = render([body], plain=True)
    words = sum(count_words(paragraph) for paragraph in paragraphs)
    if words > 600 and len(paragraphs) > 40:
        return False
    return len(_title_page_lines(paragraphs)) >= 3


class _Reader:
    def __init__(self, book: _Book, package: _Package) -> None:
        self.book = book
        self.package = package
        self.toc = _read_toc(book, package)
        self.labels: dict[str, str] = {}
        self.anchors: dict[str, list[tuple[str, str]]] = {}
        for path, fragment, label in self.toc:
            self.labels.setdefault(path, label)
            if fragment:
                self.anchors.setdefault(path, []).append((fragment, label))
        self.preface: Preface | None = None
        self.title_page: dict[str, str] = {}
        self.pieces: list[_Piece] = []
        self.ao3_sections: list[Section] = []
        self.warnings: list[str] = []
        self.in_gutenberg_licence = False
        self.notes_metadata: dict[str, str] = {}
        self.chapters_read = 0  # AO3 chapters, those without text included

    def read(self) -> None:
        for path, media_type, properties in self.package.spine:
            if media_type and media_type not in _XHTML_TYPES:
                continue
            self.read_document(path, properties)

    def skipped_by_name(self, path: str, properties: str) -> bool:
        label = self.labels.get(path, "")
        return (
            "nav" in properties.split()
            or path == self.package.nav_path
            or path in self.package.guide_skip
            or bool(_NOT_STORY_FILE_RE.search(path))
            or bool(label and _NOT_STORY_TITLE_RE.match(label))
        )

    def read_document(self, path: str, properties: str) -> None:
        tree = _document(self.book, path)
        body = tree.body
        if body is None:
            return
        for node in tree.css(_AO3_NAVIGATION):
            node.decompose()
        # AO3: the preface and afterword are about the work; chapters have AO3's markup.
        if tree.css_first("div#preface") is not None or tree.css_first("#afterword"):
            preface = read_preface(tree)
            if preface is not None and self.preface is None:
                self.preface = preface
            elif (
                preface is not None and self.preface is not None and "end_notes" in preface.metadata
            ):
                self.preface.metadata.setdefault("end_notes", preface.metadata["end_notes"])
            chapters = tree.css_first("div#chapters")
            if chapters is not None and plain_text(chapters):
                self.read_ao3_chapters(chapters)
            return
        chapters = tree.css_first("div#chapters")
        if (chapters is not None and chapters.css_first(".userstuff")) or (
            tree.css_first("div.meta h2.heading, div.chapter .userstuff") is not None
        ):
            self.read_ao3_chapters(chapters or body)
            return
        if self.read_notes_page(tree):
            return
        if "fff_titlepage" in classes(body) or _is_title_page(body):
            for key, value in _title_page(body).items():
                self.title_page.setdefault(key, value)
            return
        if self.skipped_by_name(path, properties) or _is_table_of_contents(body):
            return
        self.read_story_document(path, tree, body)

    def read_notes_page(self, tree: LexborHTMLParser) -> bool:
        """A page of the work's notes (an AO3 work page made into a book): metadata, not text."""
        block = tree.css_first("body > div.notes, body > div#work_endnotes, body > div.end")
        if block is None or tree.css_first(".userstuff:not(blockquote)") is not None:
            return False
        heading = block.css_first("h3, h2")
        if heading is not None:
            heading.decompose()
        text = "\n\n".join(tidy(render([block])))
        end = "end" in classes(block) or block.attributes.get("id") == "work_endnotes"
        if text:
            self.notes_metadata.setdefault("end_notes" if end else "notes", text)
        return True

    def read_ao3_chapters(self, chapters: LexborNode) -> None:
        title = self.package.title or (self.preface.title if self.preface else "")
        sections, count = read_chapter_sections(
            chapters, title, self.warnings, first_number=self.chapters_read + 1
        )
        self.ao3_sections.extend(sections)
        self.chapters_read += count

    def read_story_document(self, path: str, tree: LexborHTMLParser, body: LexborNode) -> None:
        for node in tree.css(_GUTENBERG_BOILERPLATE):
            node.decompose()
        notes = self.fff_notes(tree)
        title_heading = tree.css_first(".fff_chapter_title")
        label = self.labels.get(path)
        anchors = self.anchors.get(path, [])
        if len(anchors) > 1:
            self.read_anchored(body, anchors, notes)
            return
        if not self.toc and title_heading is None and self.read_by_headings(body):
            return
        heading = title_heading or _first_heading(body)
        title = label or (_one_line(plain_text(heading)) if heading is not None else None)
        if heading is not None and (
            title_heading is not None or _same_title(plain_text(heading), title)
        ):
            heading.decompose()
        paragraphs = self.gutenberg_cut(tidy(render([body])))
        if paragraphs or notes:
            self.pieces.append(
                _Piece(title=title, paragraphs=paragraphs, notes=notes, continues=label is None)
            )

    def read_by_headings(self, body: LexborNode) -> bool:
        """A book without a table of contents, several chapters to a file: split at headings."""
        container = _content_container(body)
        blocks = [child for child in children(container) if child.is_element_node]
        level = next(
            (
                tag
                for tag in ("h1", "h2", "h3")
                if sum(1 for block in blocks if block.tag == tag) >= 2
            ),
            None,
        )
        if level is None:
            return False
        groups: list[tuple[str | None, list[LexborNode]]] = [(None, [])]
        for child in children(container):
            if child.tag == level:
                groups.append((_one_line(plain_text(child)) or None, []))
            else:
                groups[-1][1].append(child)
        for title, nodes in groups:
            paragraphs = self.gutenberg_cut(tidy(render(nodes)))
            if not paragraphs:
                continue
            if title is None and self.pieces:
                # What comes before the first heading continues the section before.
                self.pieces[-1].paragraphs.extend(paragraphs)
            else:
                self.pieces.append(_Piece(title=title, paragraphs=paragraphs))
        return True

    def fff_notes(self, tree: LexborHTMLParser) -> list[str]:
        notes: list[str] = []
        for block in tree.css(".fff_chapter_notes"):
            label_node = block.css_first("b, strong")
            label = plain_text(label_node).rstrip(":") if label_node is not None else "Notes"
            if label_node is not None:
                label_node.decompose()
            paragraphs = tidy(render(children(block)))
            if paragraphs:
                notes.append(f"{label}: {paragraphs[0]}")
                notes.extend(paragraphs[1:])
            block.decompose()
        return notes

    def read_anchored(
        self, body: LexborNode, anchors: list[tuple[str, str]], notes: list[str]
    ) -> None:
        """One document the table of contents splits at #anchors: a section per anchor."""
        container = _content_container(body)
        container_id = container.mem_id
        # Ids read from the nodes, never put into a selector: they come from the file.
        by_id: dict[str, LexborNode] = {}
        for node in body.css("[id], a[name]"):
            attributes = node.attributes
            for key in ("id", "name"):
                value = attributes.get(key)
                if value:
                    by_id.setdefault(value, node)
        starts: dict[int, str] = {}
        for fragment, label in anchors:
            target = by_id.get(fragment)
            while target is not None and target.parent is not None:
                if target.parent.mem_id == container_id:
                    starts.setdefault(target.mem_id, label)
                    break
                target = target.parent
        current: _Piece | None = None
        preamble: list[LexborNode] = []
        groups: list[tuple[str | None, list[LexborNode]]] = []
        for child in children(container):
            if child.mem_id in starts:
                groups.append((starts[child.mem_id], []))
            if groups:
                groups[-1][1].append(child)
            else:
                preamble.append(child)
        if preamble:
            paragraphs = self.gutenberg_cut(tidy(render(preamble)))
            if paragraphs and self.pieces:
                self.pieces[-1].paragraphs.extend(paragraphs)
        for group_label, nodes in groups:
            # The chapter's own heading is its title, not its first paragraph.
            heading = next(
                (
                    found
                    for node in nodes
                    if node.is_element_node and (found := _first_heading_in(node)) is not None
                ),
                None,
            )
            if heading is not None and _same_title(plain_text(heading), group_label):
                if heading.mem_id in {node.mem_id for node in nodes}:
                    nodes = [node for node in nodes if node.mem_id != heading.mem_id]
                else:
                    heading.decompose()
            if group_label and _NOT_STORY_TITLE_RE.match(group_label):
                continue
            paragraphs = self.gutenberg_cut(tidy(render(nodes)))
            links = sum(len(node.css("a[href]")) for node in nodes if node.is_element_node)
            if paragraphs and not _mostly_links(paragraphs, links):
                current = _Piece(title=group_label, paragraphs=paragraphs)
                self.pieces.append(current)
        if notes and current is not None:
            current.notes.extend(notes)

    def gutenberg_cut(self, paragraphs: list[str]) -> list[str]:
        """Gutenberg's licence is not the story: text before START and from END on is left out."""
        if self.in_gutenberg_licence:
            return []
        for index, paragraph in enumerate(paragraphs):
            if _GUTENBERG_START_RE.search(paragraph):
                return self.gutenberg_cut(paragraphs[index + 1 :])
            if _GUTENBERG_END_RE.search(paragraph):
                self.in_gutenberg_licence = True
                return paragraphs[:index]
        return paragraphs

    def sections(self) -> list[Section]:
        if self.ao3_sections:
            return self.ao3_sections
        sections: list[Section] = []
        pieces = self.pieces
        if len(pieces) > 1 and _is_title_piece(pieces[0], self.package.title):
            pieces = pieces[1:]
        for piece in pieces:
            if piece.continues and sections and self.toc:
                previous = sections[-1]
                text = "\n\n".join(filter(None, [previous.text, *piece.paragraphs]))
                notes = "\n\n".join(filter(None, [previous.notes, *piece.notes]))
                sections[-1] = dataclasses.replace(previous, text=text, notes=notes)
                continue
            if not piece.paragraphs:
                continue
            title = piece.title or _first_sentence(piece.paragraphs[0])
            sections.append(
                Section(
                    title=title,
                    text="\n\n".join(piece.paragraphs),
                    notes="\n\n".join(piece.notes),
                )
            )
        return sections


def _is_title_piece(piece: _Piece, book_title: str) -> bool:
    """The book's own title over a line or two ("by Lewis Carroll"): its title page."""
    words = sum(count_words(paragraph) for paragraph in piece.paragraphs)
    return words <= _TITLE_PAGE_WORDS and _same_title(piece.title or "", book_title)


def parse_epub(data: bytes, filename: str, *, max_bytes: int) -> ParsedStory:
    """Read an EPUB e-book, or raise StoryFileError with one sentence saying why not."""
    with paused_gc():  # as the text parsers do: many small objects, no cycles
        return _parse_epub(data, filename, max_bytes=max_bytes)


def _parse_epub(data: bytes, filename: str, *, max_bytes: int) -> ParsedStory:
    name = display_name(filename)
    book = _Book(data, name, max_bytes)
    _check_not_encrypted(book)
    package = _read_package(book)
    reader = _Reader(book, package)
    reader.read()
    sections = reader.sections()
    if not sections:
        raise StoryFileError(
            f"“{name}” is an EPUB e-book, but Storyshelf found no story text in it "
            "(only covers, title pages or contents)."
        )
    warnings = reader.warnings
    metadata = dict(package.metadata)
    preface = reader.preface
    rating_label: str | None = None
    if preface is not None:
        # AO3's own preface knows the work best.
        metadata.update(preface.metadata)
        rating_label = preface.rating_label
    for key, value in reader.notes_metadata.items():
        metadata.setdefault(key, value)
    for key, value in reader.title_page.items():
        if key == "rating":
            rating_label = rating_label or value
        elif key not in ("words", "chapters", "status", "published", "updated"):
            metadata.setdefault(key, value)
    title = package.title or (preface.title if preface else "")
    if not title:
        title = title_from_filename(name)
        warnings.append(f"No title was found in the file, so it is called “{title}”.")
    author = (preface.author if preface else None) or (
        ", ".join(dict.fromkeys(package.authors)) or None
    )
    if author is None:
        warnings.append("No author was found in the file.")
    chapters = reader.chapters_read if reader.ao3_sections else len(sections)
    missing = chapter_count_warning(metadata.get("stats"), chapters)
    if missing:
        warnings.append(missing)
    rating = rating_of(rating_label, warnings)
    return ParsedStory(
        title=title,
        author=author,
        rating=rating,
        sections=tuple(sections),
        metadata=metadata,
        warnings=tuple(warnings),
        source_format="epub",
    )
