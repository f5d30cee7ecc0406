"""Bytes to text: the encodings story files arrive in, and clear refusals for the rest.

Accepted: UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order
mark, and Windows-1252 as a last guess. Line ends come out as "\\n" whatever
they were (CRLF, CR, Unicode separators).
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from dataclasses import dataclass

from bot.story import StoryFileError

__all__ = ("DecodedText", "decode_story_bytes", "display_name")

log = logging.getLogger(__name__)

SUPPORTED = "UTF-8, UTF-16 with BOM, or Windows-1252"

# Signatures of common non-text files, so the refusal can say what the file is.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (a .docx, .epub or .zip file)"),
    (b"PK\x05\x06", "a ZIP archive (a .docx, .epub or .zip file)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document (.doc)"),
    (b"{\\rtf", "a Rich Text (.rtf) document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"\x7fELF", "a program (ELF executable)"),
)

# Windows-1252 leaves these five bytes undefined: no real cp1252 text has them.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_CP1252_UNDEFINED_BYTES = frozenset(b"\x81\x8d\x8f\x90\x9d")
# C0 controls that never appear in text (tab, LF, VT, FF, CR are fine; SUB ends old DOS files).
_CONTROL_DELETE = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_C1_CHARS = re.compile("[\x80-\x9f]")
# Characters Windows-1252 maps bytes 0x80-0xBF to that Western prose rarely uses;
# many of them mean the bytes were really some other encoding.
_RARE_CP1252 = frozenset("‚ƒ„†‡ˆ‰‹Œ›ŽžŸ¡¢¤¥¦¨ª¬¯±²³´µ¶¸¹º¼½¾¿")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_ESCAPED = re.compile("[\udc80-\udcff]")
_ASCII_LETTERS = re.compile("[A-Za-z]")
_LINE_ENDS = re.compile("\r\n?|[\u2028\x85\x0b\x0c]")


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


def display_name(filename: str) -> str:
    """The file's own name (no folders), short enough to quote in a message."""
    name = re.split(r"[\\/]", filename or "")[-1].strip() or "The file"
    return name if len(name) <= 80 else name[:77] + "…"


def decode_story_bytes(data: bytes, filename: str) -> DecodedText:
    """Decode an uploaded story file, or raise StoryFileError saying why it cannot be read."""
    name = display_name(filename)
    _refuse_known_binary(data, name)

    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise StoryFileError(
            f"“{name}” is UTF-32 text, which is not in a supported encoding ({SUPPORTED}). "
            "Save it as UTF-8 and upload it again."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        try:
            text = data[2:].decode(codec)
        except UnicodeDecodeError:
            raise StoryFileError(
                f"“{name}” starts like UTF-16 text but is not valid UTF-16. "
                "Save it as UTF-8 and upload it again."
            ) from None
        _refuse_control_characters(text, name)
        text = _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
        return DecodedText(text=_normalise_separators(text), encoding=codec)

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    else:
        _refuse_nul_bytes(data, name)
    # Bytes below 0x80 mean the same in UTF-8 and Windows-1252, so line ends and
    # stray control bytes are cleaned before decoding, where it is much faster.
    data = _clean_bytes(data, name)
    text, encoding, warnings = _decode_utf8(data, name)
    _refuse_control_characters(text, name)
    return DecodedText(text=_normalise_separators(text), encoding=encoding, warnings=warnings)


def _clean_bytes(data: bytes, name: str) -> bytes:
    sample = data[:200_000]
    controls = len(sample) - len(sample.translate(None, _CONTROL_DELETE))
    if controls > max(2, len(sample) // 200):
        raise _binary_error(name)
    data = data.translate(None, _CONTROL_DELETE)
    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b"\x0b" in data or b"\x0c" in data:
        data = data.replace(b"\x0b", b"\n").replace(b"\x0c", b"\n")
    return data


def _normalise_separators(text: str) -> str:
    if "\u2028" in text or "\x85" in text or "\x0b" in text or "\x0c" in text:
        text = _LINE_ENDS.sub("\n", text)
    if "\u2029" in text:
        text = text.replace("\u2029", "\n\n")
    return text.lstrip("\ufeff")


def _binary_error(name: str) -> StoryFileError:
    return StoryFileError(
        f"“{name}” looks like binary data, not a text file. Upload the story as plain "
        "text (.txt), Markdown (.md) or an AO3 HTML download (.html)."
    )


def _refuse_known_binary(data: bytes, name: str) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise StoryFileError(
                f"“{name}” looks like {what}, not a text file. Save the story as plain "
                "text (.txt), Markdown (.md) or an AO3 HTML download (.html) and upload that."
            )


def _refuse_nul_bytes(data: bytes, name: str) -> None:
    """NUL bytes mean binary data, or UTF-16/32 without the byte-order mark we need."""
    if b"\x00" not in data:
        return
    sample = data[:8192]
    size = len(sample)
    if size >= 8:
        zeros = sorted(sample[i::4].count(0) / len(sample[i::4]) for i in range(4))
        # UTF-32: three bytes in four are zero, the fourth is not (all zeros is not text).
        if zeros[1] > 0.9 and zeros[0] < 0.5:
            raise _encoding_error(name, "it looks like UTF-32")
        even = sample[0::2].count(0) / len(sample[0::2])
        odd = sample[1::2].count(0) / len(sample[1::2])
        if max(even, odd) > 0.6 and min(even, odd) < 0.1:
            raise _encoding_error(name, "it looks like UTF-16 without a byte-order mark")
    # A few stray NULs (padding some editors and downloads leave) go with the other
    # control bytes in _clean_bytes; more than that is binary data.
    if data.count(0) > max(2, len(data) // 200):
        raise _binary_error(name)


def _refuse_control_characters(text: str, name: str) -> None:
    sample = text[:200_000]
    if not sample:
        return
    controls = len(_CONTROL_CHARS.findall(sample))
    if controls > max(2, len(sample) // 200):
        raise StoryFileError(
            f"“{name}” looks like binary data, not a text file: it is full of control "
            "characters. Upload the story as plain text (.txt), Markdown (.md) or an AO3 "
            "HTML download (.html)."
        )
    c1 = len(_C1_CHARS.findall(sample))
    if c1 > max(2, len(sample) // 200):
        raise _encoding_error(name, "its characters come out garbled")


def _encoding_error(name: str, detail: str = "") -> StoryFileError:
    why = f"; {detail}" if detail else ""
    return StoryFileError(
        f"“{name}” is not in a supported encoding ({SUPPORTED}){why}. "
        "Save it as UTF-8 and upload it again."
    )


def _decode_utf8(data: bytes, name: str) -> tuple[str, str, tuple[str, ...]]:
    try:
        return data.decode("utf-8"), "utf-8", ()
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few stray Windows-1252 bytes (pasted quotes, say): keep
    # the UTF-8 and read only the stray bytes as Windows-1252.
    if len(data) > 200_000 and not _mostly_utf8(data[:200_000]):
        return _decode_cp1252(data, name)
    loose = data.decode("utf-8", errors="surrogateescape")
    escaped = _ESCAPED.findall(loose)
    invalid = len(escaped)
    multibyte = len(_NON_ASCII.findall(loose)) - invalid
    undefined = any(ord(ch) - 0xDC00 in _CP1252_UNDEFINED_BYTES for ch in escaped)
    if multibyte >= 4 and invalid * 5 <= multibyte and not undefined:
        text = data.decode("utf-8", errors="storyshelf-cp1252")
        log.debug("%s: mixed UTF-8 with %d Windows-1252 bytes", name, invalid)
        return (
            text,
            "utf-8+windows-1252",
            (
                f"Mostly UTF-8, but {invalid} byte{'s' if invalid != 1 else ''} were not "
                "valid UTF-8 and were read as Windows-1252; check quotes and accents.",
            ),
        )
    return _decode_cp1252(data, name)


def _mostly_utf8(sample: bytes) -> bool:
    loose = sample.decode("utf-8", errors="surrogateescape")
    invalid = len(_ESCAPED.findall(loose))
    return invalid * 5 <= len(_NON_ASCII.findall(loose)) - invalid


def _decode_cp1252(data: bytes, name: str) -> tuple[str, str, tuple[str, ...]]:
    if _CP1252_UNDEFINED.search(data):
        raise _encoding_error(name)
    text = data.decode("cp1252")
    if not _plausible_western_text(text):
        raise _encoding_error(name)
    return (
        text,
        "windows-1252",
        ("The file is not UTF-8; guessed Windows-1252. Check accented letters and quotes.",),
    )


def _plausible_western_text(text: str) -> bool:
    """Would a person have written this in Windows-1252, or is it another encoding misread?

    English, French, German or Spanish text is mostly ASCII letters with a few
    accented ones. Cyrillic (KOI8-R, cp1251), Japanese (Shift-JIS) or Chinese
    read as Windows-1252 turn into runs of accented letters and odd symbols.
    """
    sample = text[:200_000]
    ascii_letters = len(_ASCII_LETTERS.findall(sample))
    foreign = sum(
        1
        for ch in _NON_ASCII.findall(sample)
        if ch in _RARE_CP1252 or unicodedata.category(ch)[0] == "L"
    )
    total = ascii_letters + foreign
    return total == 0 or foreign / total <= 0.25


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return chunk.decode("cp1252", errors="replace"), error.end


codecs.register_error("storyshelf-cp1252", _cp1252_fallback)
