"""Hostile EPUB files, built in memory: each must be refused in well under 2 s with one sentence.

``CASES`` maps a description to a builder returning (file bytes, file name), so
the hostile suite and ``bench/hostile_bench.py`` can run the same files.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

LIMIT = 10 * 1024 * 1024

CONTAINER = (
    '<?xml version="1.0"?><container version="1.0" '
    'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
    '<rootfile full-path="content.opf" media-type="application/oebps-package+xml"/>'
    "</rootfiles></container>"
)
CHAPTER = (
    '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
    "<head><title>One</title></head><body><h1>One</h1><p>A small story.</p></body></html>"
)


def package(spine: str = '<itemref idref="one"/>', manifest: str | None = None) -> str:
    if manifest is None:
        manifest = '<item id="one" href="one.xhtml" media-type="application/xhtml+xml"/>'
    return (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Hostile</dc:title>'
        f"<dc:creator>Someone</dc:creator></metadata><manifest>{manifest}</manifest>"
        f"<spine>{spine}</spine></package>"
    )


def build(
    entries: dict[str, bytes | str],
    *,
    container: bool = True,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """An EPUB: the mimetype first and stored, the container, then ``entries``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        if container:
            book.writestr("META-INF/container.xml", CONTAINER, compress_type=compression)
        for name, content in entries.items():
            book.writestr(name, content, compress_type=compression)
    return buffer.getvalue()


def valid_entries() -> dict[str, bytes | str]:
    return {"content.opf": package(), "one.xhtml": CHAPTER}


CASES: dict[str, Callable[[], tuple[bytes, str]]] = {}


def case(name: str) -> Callable[[Callable[[], tuple[bytes, str]]], Callable[[], tuple[bytes, str]]]:
    def register(builder: Callable[[], tuple[bytes, str]]) -> Callable[[], tuple[bytes, str]]:
        CASES[name] = builder
        return builder

    return register


@case("EPUB ZIP bomb (one entry, 200 MB of zeros)")
def zip_bomb() -> tuple[bytes, str]:
    # 200 MB of one byte deflates to 200 KB; the directory says so before anything is read.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        book.writestr("META-INF/container.xml", CONTAINER)
        book.writestr("content.opf", package())
        with book.open("one.xhtml", "w", force_zip64=True) as entry:
            chunk = b"\0" * (16 * 1024 * 1024)
            for _ in range(12):
                entry.write(chunk)
    return buffer.getvalue(), "bomb.epub"


@case("EPUB whose entries add up past the unpacked cap")
def many_large_entries() -> tuple[bytes, str]:
    # Each entry is within the ratio cap; together they unpack past 50 MB.
    entries = valid_entries()
    filler = (b"Lorem ipsum dolor sit amet, " * 40_000)[: 1024 * 1024]
    for number in range(60):
        entries[f"filler/{number}.xhtml"] = filler
    return build(entries), "large.epub"


@case("EPUB with a size that lies in its directory")
def lying_sizes() -> tuple[bytes, str]:
    data = bytearray(build(valid_entries()))
    # Claim one-byte sizes for the chapter in both headers; its stream is longer.
    name = b"one.xhtml"
    position = 0
    while (position := data.find(name, position)) != -1:
        header = data.rfind(b"PK", 0, position)
        if data[header : header + 4] == b"PK\x03\x04":
            data[header + 22 : header + 26] = (1).to_bytes(4, "little")
        elif data[header : header + 4] == b"PK\x01\x02":
            data[header + 24 : header + 28] = (1).to_bytes(4, "little")
        position += len(name)
    return bytes(data), "lying.epub"


@case("encrypted EPUB (DRM)")
def encrypted() -> tuple[bytes, str]:
    entries = valid_entries()
    entries["META-INF/encryption.xml"] = (
        '<?xml version="1.0"?><encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"'
        ' xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
        '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
        '<enc:CipherData><enc:CipherReference URI="one.xhtml"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    )
    entries["one.xhtml"] = bytes(range(256)) * 16
    return build(entries), "locked.epub"


@case("Adobe DRM EPUB (rights.xml)")
def adobe_rights() -> tuple[bytes, str]:
    entries = valid_entries()
    entries["META-INF/rights.xml"] = "<rights/>"
    return build(entries), "adept.epub"


@case("EPUB without a package file")
def missing_opf() -> tuple[bytes, str]:
    return build({"one.xhtml": CHAPTER}, container=False), "nopackage.epub"


@case("EPUB whose container names a missing package")
def container_points_nowhere() -> tuple[bytes, str]:
    return build({"one.xhtml": CHAPTER}), "nocontent.epub"


@case("EPUB whose spine points at a missing file")
def spine_points_nowhere() -> tuple[bytes, str]:
    manifest = (
        '<item id="one" href="one.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="two" href="chapters/two.xhtml" media-type="application/xhtml+xml"/>'
    )
    entries = {
        "content.opf": package('<itemref idref="one"/><itemref idref="two"/>', manifest),
        "one.xhtml": CHAPTER,
    }
    return build(entries), "broken.epub"


@case("EPUB with 20,000 entries")
def too_many_entries() -> tuple[bytes, str]:
    entries = valid_entries()
    for number in range(20_000):
        entries[f"e/{number}"] = b""
    return build(entries, compression=zipfile.ZIP_STORED), "entries.epub"


@case("EPUB with entity expansion in its package (billion laughs)")
def billion_laughs() -> tuple[bytes, str]:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(9)
    )
    opf = package().replace("<package", f"<!DOCTYPE package [{entities}]><package", 1)
    opf = opf.replace("<dc:title>Hostile", "<dc:title>&j;", 1)
    return build({"content.opf": opf, "one.xhtml": CHAPTER}), "laughs.epub"


@case("not a ZIP, named .epub")
def not_a_zip() -> tuple[bytes, str]:
    return b"This is plain text someone named .epub.\n" * 100, "story.epub"


@case("truncated EPUB")
def truncated() -> tuple[bytes, str]:
    data = build(valid_entries())
    return data[: len(data) // 2], "cut.epub"


@case("EPUB whose chapter is 20,000 nested <div>")
def nested_chapter() -> tuple[bytes, str]:
    # Small enough (220 KB) that the ratio cap does not apply: the HTML caps do.
    body = "<div>" * 20_000 + "deep" + "</div>" * 20_000
    chapter = f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>'
    return build({"content.opf": package(), "one.xhtml": chapter}), "nested.epub"
