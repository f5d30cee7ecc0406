"""EPUB e-books become stories: metadata from the package, sections from the spine.

Every book here is built in the test from text written for it, in the shapes
the real files have (see ``tests/fixtures/realworld/SOURCES.md`` for the real
books each shape was taken from): FanFicFare's title page and chapter notes,
AO3's calibre-split download, an AO3 work page made into a book, FicHub's
FanFiction.Net introduction page, and a Project Gutenberg EPUB 3 with its
licence, cover and a contents file split by anchors.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bot.parsing import ACCEPTED_DESCRIPTION, ACCEPTED_EXTENSIONS, parse_story
from bot.story import ParsedStory, RatingLevel

XHTML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
    '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
    "<head><title>{title}</title></head><body{body_attrs}>{body}</body></html>"
)


def page(body: str, *, title: str = "Page", body_class: str = "") -> str:
    attrs = f' class="{body_class}"' if body_class else ""
    return XHTML.format(title=title, body=body, body_attrs=attrs)


def epub(
    documents: list[tuple[str, str]],
    *,
    metadata: str,
    toc: list[tuple[str, str]] | None = None,
    nav: str | None = None,
    root: str = "OEBPS/",
) -> bytes:
    """An EPUB of ``documents`` (path under ``root``, XHTML) in spine order."""
    manifest = "".join(
        f'<item id="d{n}" href="{path}" media-type="application/xhtml+xml"/>'
        for n, (path, _) in enumerate(documents)
    )
    spine = "".join(f'<itemref idref="d{n}"/>' for n in range(len(documents)))
    if toc is not None:
        manifest += '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
    if nav is not None:
        manifest += (
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        )
        spine = '<itemref idref="nav"/>' + spine
    opf = (
        '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" '
        'version="3.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:opf="http://www.idpf.org/2007/opf">{metadata}</metadata>'
        f'<manifest>{manifest}</manifest><spine toc="ncx">{spine}</spine></package>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr(
            "META-INF/container.xml",
            '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            f'<rootfiles><rootfile full-path="{root}content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        book.writestr(f"{root}content.opf", opf)
        if toc is not None:
            points = "".join(
                f'<navPoint id="p{n}" playOrder="{n}"><navLabel><text>{label}</text></navLabel>'
                f'<content src="{src}"/></navPoint>'
                for n, (src, label) in enumerate(toc)
            )
            book.writestr(
                f"{root}toc.ncx",
                '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
                f"<navMap>{points}</navMap></ncx>",
            )
        if nav is not None:
            book.writestr(f"{root}nav.xhtml", page(nav, title="Contents"))
        for path, content in documents:
            book.writestr(f"{root}{path}", content)
    return buffer.getvalue()


def parse(data: bytes, name: str = "book.epub") -> ParsedStory:
    return parse_story(data, name)


# --- FanFicFare -------------------------------------------------------------------

FFF_METADATA = (
    "<dc:title>The Lamplighter's Apprentice</dc:title>"
    '<dc:creator opf:role="aut">wren_and_ink</dc:creator>'
    "<dc:description>&lt;p&gt;Tomas learns the &lt;em&gt;long&lt;/em&gt; way round."
    "&lt;/p&gt;</dc:description>"
    "<dc:subject>Apprenticeship</dc:subject><dc:subject>Found Family</dc:subject>"
    "<dc:subject>Last Update: 2024/01/02</dc:subject>"
    "<dc:source>https://archiveofourown.org/works/111</dc:source>"
)
FFF_TITLE_PAGE = page(
    '<h3><a href="https://archiveofourown.org/works/111">The Lamplighter\'s Apprentice</a>'
    " by <a class='authorlink' href='/u'>wren_and_ink</a></h3><div>"
    "<b>Category:</b> Original Work<br />"
    "<b>Characters:</b> Tomas, Old Bettany<br />"
    "<b>Rating:</b> General Audiences<br />"
    "<b>Warnings:</b> No Archive Warnings Apply<br />"
    "<b>Chapters:</b> 2<br /><b>Words:</b> 40<br />"
    "<b>Relationships:</b> Tomas &amp; Old Bettany<br /></div>",
    title="Title Page",
    body_class="fff_titlepage",
)


def fff_chapter(title: str, text: str, note: str = "") -> str:
    notes = (
        '<div class="fff_chapter_notes fff_head_notes"><b>Author\'s Note:</b>'
        f'<blockquote class="userstuff"><p>{note}</p></blockquote></div>'
        if note
        else ""
    )
    return page(
        f'<h3 class="fff_chapter_title">{title}</h3><div class="story">{notes}'
        f'<div class="userstuff module">{text}</div></div>',
        title=title,
        body_class="fff_chapter",
    )


def fff_book() -> bytes:
    return epub(
        [
            ("title_page.xhtml", FFF_TITLE_PAGE),
            (
                "file0001.xhtml",
                fff_chapter(
                    "First Light",
                    "<p>The lamps on Cobble Lane were lit at <em>exactly</em> dusk.</p>"
                    "<hr/><p>Tomas counted them twice.</p>",
                    note="My first story here, be kind.",
                ),
            ),
            ("file0002.xhtml", fff_chapter("Wick and Oil", "<p>Oil first, then the wick.</p>")),
        ],
        metadata=FFF_METADATA,
        toc=[
            ("title_page.xhtml", "Title Page"),
            ("file0001.xhtml", "First Light"),
            ("file0002.xhtml", "Wick and Oil"),
        ],
    )


def test_fanficfare_book_metadata_comes_from_the_package_and_title_page() -> None:
    story = parse(fff_book())

    assert story.title == "The Lamplighter's Apprentice"
    assert story.author == "wren_and_ink"
    assert story.rating.level is RatingLevel.GENERAL
    assert story.source_format == "epub"
    assert story.metadata["summary"] == "Tomas learns the *long* way round."
    assert story.metadata["tags"] == "Apprenticeship, Found Family"
    assert story.metadata["fandom"] == "Original Work"
    assert story.metadata["characters"] == "Tomas, Old Bettany"
    assert story.metadata["pairing"] == "Tomas & Old Bettany"
    assert story.metadata["url"] == "https://archiveofourown.org/works/111"
    assert story.warnings == ()


def test_fanficfare_chapters_are_sections_and_the_title_page_is_not() -> None:
    one, two = parse(fff_book()).sections

    assert (one.title, two.title) == ("First Light", "Wick and Oil")
    assert one.text == (
        "The lamps on Cobble Lane were lit at *exactly* dusk.\n\n* * *\n\nTomas counted them twice."
    )
    assert one.notes == "Author's Note: My first story here, be kind."
    assert one.words == 14
    assert two.text == "Oil first, then the wick."


def test_an_epub_named_txt_is_read_as_an_epub() -> None:
    story = parse(fff_book(), "renamed.txt")

    assert story.source_format == "epub"
    assert len(story.sections) == 2


def test_epub_is_an_accepted_upload() -> None:
    assert ".epub" in ACCEPTED_EXTENSIONS
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".xhtml"} <= set(ACCEPTED_EXTENSIONS)
    assert ".epub" in ACCEPTED_DESCRIPTION


# --- AO3's own EPUB (the HTML download, split by calibre) -------------------------

AO3_PREFACE = page(
    '<div id="preface"><h2 class="toc-heading">Preface</h2>'
    '<p class="message"><b>Tidewater</b><br/>Posted originally on the Archive of Our Own at '
    '<a href="https://archiveofourown.org/works/222">here</a>.</p><div class="meta">'
    '<dl class="tags"><dt>Rating:</dt><dd><a href="/t">Teen And Up Audiences</a></dd>'
    '<dt>Archive Warning:</dt><dd><a href="/t">No Archive Warnings Apply</a></dd>'
    '<dt>Fandom:</dt><dd><a href="/t">Original Work</a></dd>'
    '<dt>Relationship:</dt><dd><a href="/t">Ada/Beth</a></dd>'
    '<dt>Character:</dt><dd><a href="/t">Ada</a>, <a href="/t">Beth</a></dd>'
    "<dt>Stats:</dt><dd>Published: 2024-01-01 Words: 19 Chapters: 2/2</dd></dl>"
    "<h1>Tidewater</h1>"
    '<div class="byline">by <a rel="author" href="/users/ada">ada_writes</a></div>'
    '<p>Summary</p><blockquote class="userstuff"><p>Two keepers, one tide.</p></blockquote>'
    "</div></div>",
    title="Tidewater",
)


def ao3_chapter(number: int, title: str, text: str, summary: str = "") -> str:
    notes = (
        f'<p>Chapter Summary</p><blockquote class="userstuff"><p>{summary}</p></blockquote>'
        if summary
        else ""
    )
    return page(
        f'<div id="chapters" class="userstuff"><h2 class="toc-heading">{title}</h2>'
        f'<div class="meta group"><h2 class="heading">Chapter {number}: {title}</h2>{notes}</div>'
        f'<div class="userstuff"><h3 class="landmark heading">Chapter Text</h3>{text}</div></div>'
    )


def ao3_book(chapters: int = 2) -> bytes:
    documents = [
        ("Tidewater_split_000.xhtml", AO3_PREFACE),
        (
            "Tidewater_split_001.xhtml",
            ao3_chapter(1, "Low", "<p>The tide went out at six.</p>", summary="Ada waits."),
        ),
        ("Tidewater_split_002.xhtml", ao3_chapter(2, "High", "<p>It came back at noon, loud.</p>")),
        (
            "Tidewater_split_003.xhtml",
            page(
                '<div id="afterword"><h2 class="toc-heading">Afterword</h2>'
                '<p class="message">Please drop by the Archive and comment.</p></div>'
            ),
        ),
    ]
    del documents[1 + chapters : 3]
    return epub(
        documents,
        metadata="<dc:title>Tidewater</dc:title><dc:creator>ada_writes</dc:creator>",
        toc=[(path, path) for path, _ in documents],
    )


def test_ao3_epub_reads_the_preface_like_the_html_download() -> None:
    story = parse(ao3_book())

    assert (story.title, story.author) == ("Tidewater", "ada_writes")
    assert story.rating.level is RatingLevel.TEEN
    assert story.metadata["warnings"] == "No Archive Warnings Apply"
    assert story.metadata["fandom"] == "Original Work"
    assert story.metadata["pairing"] == "Ada/Beth"
    assert story.metadata["characters"] == "Ada, Beth"
    assert story.metadata["summary"] == "Two keepers, one tide."
    assert story.warnings == ()


def test_ao3_epub_chapters_keep_their_notes_apart_and_skip_preface_and_afterword() -> None:
    story = parse(ao3_book())

    assert [s.title for s in story.sections] == ["Chapter 1: Low", "Chapter 2: High"]
    assert [s.text for s in story.sections] == [
        "The tide went out at six.",
        "It came back at noon, loud.",
    ]
    assert story.sections[0].notes == "Summary: Ada waits."
    assert story.words == 12


def test_ao3_epub_missing_a_chapter_says_so() -> None:
    story = parse(ao3_book(chapters=1))

    assert any(
        warning.startswith("AO3 says this work has 2 chapters; this file holds 1")
        for warning in story.warnings
    )


# --- An AO3 work page made into a book; FicHub's FanFiction.Net book ---------------------


def test_paragraph_title_page_and_notes_page_are_metadata() -> None:
    title_page = page(
        '<h3><a href="https://archiveofourown.org/works/333">Quiet Hours</a> by nightowl</h3>'
        "<p>Fandoms: Original Work</p><p>Status: Completed</p><p>Chapters: 1/1</p>"
        "<p>Relationships: Mara/Lio</p><p>Categories: F/M</p><p>Rating: Mature</p>"
        "<div>Summary: <p>The night shift.</p></div>",
        title="Title page",
    )
    notes = page(
        '<div class="notes module"><h3 class="heading">Notes:</h3>'
        "<p>Written on a night shift.</p></div>",
        title="Notes",
    )
    chapter = page(
        '<div class="chapter" id="chapter-1"><div class="chapter preface group">'
        '<h3 class="title">Chapter 1</h3></div><div class="userstuff module">'
        '<h3 class="landmark heading">Chapter Text</h3><p>The ward was quiet at three.</p>'
        "</div></div>",
        title="Chapter 1",
    )
    story = parse(
        epub(
            [("titlepage.html", title_page), ("notes.html", notes), ("chapter1.html", chapter)],
            metadata="<dc:title>Quiet Hours</dc:title><dc:creator>nightowl</dc:creator>",
        )
    )

    assert story.rating.level is RatingLevel.MATURE
    assert story.metadata["fandom"] == "Original Work"
    assert story.metadata["pairing"] == "Mara/Lio"
    assert story.metadata["notes"] == "Written on a night shift."
    assert [(s.title, s.text) for s in story.sections] == [
        ("Chapter 1", "The ward was quiet at three.")
    ]


def test_fanfiction_net_introduction_page_gives_the_rating() -> None:
    intro = page(
        "<h1>Paper Boats</h1><p><b>By: river_reed</b></p><p/><p>Boats, and a flood.</p>"
        "<p>Status: complete</p><p>Words: 12</p><p>Chapters: 1</p>"
        "<p>Rated: Fiction K+ - Language: English - Genre: Friendship - Characters: Jo, Sam</p>",
        title="Introduction",
    )
    chapter = page("<h2>1. Launch</h2><p>Jo folded the first boat from a bus ticket.</p>")
    story = parse(
        epub(
            [("introduction.xhtml", intro), ("chap_1.xhtml", chapter)],
            metadata="<dc:title>Paper Boats</dc:title><dc:creator>river_reed</dc:creator>",
        )
    )

    assert story.rating.level is RatingLevel.TEEN
    assert story.metadata["characters"] == "Jo, Sam"
    assert [(s.title, s.text) for s in story.sections] == [
        ("1. Launch", "Jo folded the first boat from a bus ticket.")
    ]


# --- Project Gutenberg / calibre --------------------------------------------------------

GUTENBERG_HEADER = (
    '<section class="pg-boilerplate pgheader" id="pg-header"><h2>The Project Gutenberg eBook '
    "of The Clockmaker</h2><p>This ebook is for the use of anyone anywhere.</p></section>"
)
GUTENBERG_FOOTER = (
    '<section class="pg-boilerplate pgheader" id="pg-footer"><p>*** END OF THE PROJECT '
    "GUTENBERG EBOOK THE CLOCKMAKER ***</p><h2>THE FULL PROJECT GUTENBERG LICENSE</h2>"
    "<p>Redistribution is subject to the licence.</p></section>"
)


def gutenberg_book() -> bytes:
    text = page(
        f'{GUTENBERG_HEADER}<div class="chapter"><h2 id="ch1"><a id="c1"/>CHAPTER I.</h2>'
        "<p>The clock struck <i>thirteen</i>, and nobody minded.</p></div>"
        '<div class="chapter"><h2 id="ch2">CHAPTER II.</h2><p>Then it stopped.</p></div>'
        f"{GUTENBERG_FOOTER}"
    )
    cover = page('<div><img src="cover.jpg" alt="Cover"/></div>', title="Cover")
    nav = (
        '<nav epub:type="toc"><ol><li><a href="cover.xhtml">Cover</a></li>'
        '<li><a href="text.xhtml#ch1">CHAPTER I.</a></li>'
        '<li><a href="text.xhtml#ch2">CHAPTER II.</a></li></ol></nav>'
    )
    return epub(
        [("cover.xhtml", cover), ("text.xhtml", text)],
        metadata=(
            "<dc:title>The Clockmaker</dc:title><dc:creator>A. Author</dc:creator>"
            "<dc:subject>Clocks -- Fiction</dc:subject>"
        ),
        nav=nav,
        root="",
    )


def test_gutenberg_epub_sections_come_from_the_contents_anchors() -> None:
    story = parse(gutenberg_book())

    assert story.title == "The Clockmaker"
    assert story.author == "A. Author"
    assert story.metadata["tags"] == "Clocks -- Fiction"
    assert [(s.title, s.text) for s in story.sections] == [
        ("CHAPTER I.", "The clock struck *thirteen*, and nobody minded."),
        ("CHAPTER II.", "Then it stopped."),
    ]


def test_gutenberg_licence_cover_and_contents_are_not_story_text() -> None:
    text = "\n".join(s.text for s in parse(gutenberg_book()).sections)

    assert "Gutenberg" not in text
    assert "licence" not in text
    assert "Cover" not in text
    assert "image" not in text


def test_xhtml_self_closing_anchors_do_not_swallow_text() -> None:
    chapter = page('<h1>One</h1><p><a id="x"/>First <span class="s"/>words.</p><p>Next.</p>')
    story = parse(epub([("one.xhtml", chapter)], metadata="<dc:title>T</dc:title>"))

    assert story.sections[0].title == "One"
    assert story.sections[0].text == "First words.\n\nNext."


def test_a_book_without_a_table_of_contents_is_titled_by_headings() -> None:
    documents = [
        ("a.xhtml", page("<h2>The Well</h2><p>Water, deep.</p>")),
        ("b.xhtml", page("<p>No heading here. Just rain.</p>")),
    ]
    story = parse(epub(documents, metadata="<dc:title>Rain</dc:title>"))

    assert [s.title for s in story.sections] == ["The Well", "No heading here."]
    assert any("No author" in warning for warning in story.warnings)
    assert story.rating.level is RatingLevel.NOT_RATED


# --- A real Project Gutenberg EPUB (public domain, in tests/fixtures/realworld) ------------

REALWORLD = Path(__file__).resolve().parent / "fixtures" / "realworld"
SHARED_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def alice() -> ParsedStory:
    name = "pg11_alice_in_wonderland.epub"
    return parse_story((REALWORLD / name).read_bytes(), name)


def test_gutenberg_alice_epub_is_twelve_chapters_by_lewis_carroll() -> None:
    story = alice()

    assert (story.title, story.author) == ("Alice's Adventures in Wonderland", "Lewis Carroll")
    assert [section.title for section in story.sections][:2] == [
        "CHAPTER I. Down the Rabbit-Hole",
        "CHAPTER II. The Pool of Tears",
    ]
    assert len(story.sections) == 12
    assert story.sections[-1].title == "CHAPTER XII. Alice’s Evidence"
    assert "Fantasy fiction" in story.metadata["tags"]


def test_gutenberg_alice_epub_has_no_licence_title_page_or_contents_in_its_text() -> None:
    story = alice()

    first, last = story.sections[0].text, story.sections[-1].text
    assert first.startswith("Alice was beginning to get very tired")
    assert last.endswith("the happy summer days.\n\nTHE END")
    text = "\n".join(section.text for section in story.sections)
    for boilerplate in ("Project Gutenberg", "MILLENNIUM FULCRUM", "Contents", "by Lewis Carroll"):
        assert boilerplate not in text


def test_gutenberg_alice_epub_counts_the_words_of_the_plain_text_edition() -> None:
    path = SHARED_CORPUS / "alice_in_wonderland.txt"
    if not path.is_file():
        pytest.skip("the shared corpus is not here")
    plain = parse_story(path.read_bytes(), path.name)

    assert abs(alice().words - plain.words) <= plain.words / 100


def test_a_book_without_contents_splits_a_file_of_chapters_at_its_headings() -> None:
    documents = [
        (
            "all.xhtml",
            page(
                "<div><p>Before any chapter: a dedication.</p><h2>One</h2><p>First.</p>"
                "<h3>A scene heading</h3><p>Still one.</p><h2>Two</h2><p>Second.</p></div>"
            ),
        )
    ]
    story = parse(epub(documents, metadata="<dc:title>Split</dc:title>"))

    assert [(s.title, s.text) for s in story.sections] == [
        ("Before any chapter: a dedication.", "Before any chapter: a dedication."),
        ("One", "First.\n\nA scene heading\n\nStill one."),
        ("Two", "Second."),
    ]
