"""Story files in, `ParsedStory` out: plain text, Markdown, AO3 HTML, EPUB and Project Gutenberg.

    story = parse_story(data, "a_week_in_the_life.txt")

Everything that can go wrong with a file raises `StoryFileError`, whose
message is written for the person who uploaded it.
"""

from __future__ import annotations

import dataclasses
import logging
import re

from bot.parsing.ao3 import parse_ao3_html
from bot.parsing.blocks import TextShapeError, squeeze_blank_lines
from bot.parsing.decode import decode_story_bytes, display_name
from bot.parsing.epub import looks_like_epub, parse_epub
from bot.parsing.export_format import is_export, parse_export
from bot.parsing.gutenberg import find_start_marker, parse_gutenberg
from bot.parsing.markdown import parse_markdown
from bot.parsing.sections import MAX_TITLE_CHARS, clip_words
from bot.parsing.text import parse_text
from bot.story import ParsedStory, StoryFileError

__all__ = (
    "ACCEPTED_DESCRIPTION",
    "ACCEPTED_EXTENSIONS",
    "MAX_TITLE_CHARS",
    "StoryFileError",
    "parse_story",
)

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_MARKDOWN = frozenset({".md", ".markdown", ".mdown", ".mkd"})
_HTML = frozenset({".html", ".htm", ".xhtml"})
_EPUB = ".epub"
# What the upload command and the importer accept, and how to say so to a person.
ACCEPTED_EXTENSIONS = (".txt", *sorted(_MARKDOWN), *sorted(_HTML), _EPUB)
ACCEPTED_DESCRIPTION = (
    ".txt (plain text or Project Gutenberg), .md (Markdown), .html (an AO3 download, "
    "or an AO3 or FanFiction.Net page saved from the browser) or .epub (an e-book from AO3, "
    "FanFicFare, Project Gutenberg or calibre)"
)
# Files that are clearly not text, by what they are called.
_NOT_TEXT = {
    ".pdf": "a PDF document",
    ".mobi": "a Kindle e-book",
    ".azw": "a Kindle e-book",
    ".azw3": "a Kindle e-book",
    ".doc": "a Word document",
    ".docx": "a Word document",
    ".odt": "an OpenDocument text file",
    ".rtf": "a Rich Text document",
    ".pages": "a Pages document",
    ".zip": "a ZIP archive",
    ".rar": "a RAR archive",
    ".7z": "a 7-Zip archive",
    ".gz": "a compressed archive",
    ".tar": "an archive",
    ".png": "an image",
    ".jpg": "an image",
    ".jpeg": "an image",
    ".gif": "an image",
    ".webp": "an image",
    ".bmp": "an image",
    ".tif": "an image",
    ".tiff": "an image",
    ".heic": "an image",
    ".svg": "an image",
    ".mp3": "an audio file",
    ".wav": "an audio file",
    ".ogg": "an audio file",
    ".m4a": "an audio file",
    ".mp4": "a video",
    ".mov": "a video",
    ".webm": "a video",
    ".avi": "a video",
    ".mkv": "a video",
    ".exe": "a program",
    ".dll": "a program",
    ".bin": "binary data",
    ".xls": "a spreadsheet",
    ".xlsx": "a spreadsheet",
    ".ods": "a spreadsheet",
    ".ppt": "a presentation",
    ".pptx": "a presentation",
}
_HTML_START = re.compile(
    r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
    re.IGNORECASE | re.DOTALL,
)


def parse_story(data: bytes, filename: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedStory:
    """Parse an uploaded story file.

    Raises StoryFileError with a message for the uploader when the file is too
    large, empty, not text, in an unsupported encoding, or has no story in it.
    """
    name = display_name(filename)
    if len(data) > max_bytes:
        raise _size_error(name, len(data), max_bytes)
    if not data:
        raise StoryFileError(f"“{name}” is empty: there is no story in it.")
    extension = _extension(name)
    # By content first: an EPUB is read as one whatever it is called (a renamed
    # .epub, or one whose mimetype entry is not first); other ZIPs (.docx) are
    # named as what they are further on.
    if extension == _EPUB or looks_like_epub(data):
        story = _clip_titles(parse_epub(data, filename, max_bytes=max_bytes))
        log.debug("parsed %s as epub: %d sections", name, len(story.sections))
        return story
    if extension in _NOT_TEXT:
        raise StoryFileError(
            f"“{name}” is {_NOT_TEXT[extension]}, which Storyshelf cannot read. "
            f"Upload the story as {ACCEPTED_DESCRIPTION}."
        )

    decoded = decode_story_bytes(data, filename)
    text = decoded.text
    if not text or text.isspace():
        raise StoryFileError(f"“{name}” has no text in it, only blank lines.")

    if is_export(text):
        # Storyshelf's own export: read back exactly, nothing guessed.
        return parse_export(text, filename)
    if extension in _HTML or (extension not in _MARKDOWN and _HTML_START.match(text[:4096])):
        story = parse_ao3_html(text, filename)
    else:
        story = _parse_plain(squeeze_blank_lines(text), filename, markdown=extension in _MARKDOWN)
    story = _clip_titles(story)
    log.debug("parsed %s as %s: %d sections", name, story.source_format, len(story.sections))
    if decoded.warnings:
        story = dataclasses.replace(story, warnings=decoded.warnings + tuple(story.warnings))
    return story


def _clip_titles(story: ParsedStory) -> ParsedStory:
    """Story title, author and section titles no longer than MAX_TITLE_CHARS."""
    long_sections = sum(1 for section in story.sections if len(section.title) > MAX_TITLE_CHARS)
    long_title = len(story.title) > MAX_TITLE_CHARS
    long_author = story.author is not None and len(story.author) > MAX_TITLE_CHARS
    if not (long_sections or long_title or long_author):
        return story
    warnings = list(story.warnings)
    if long_title:
        warnings.append(f"The title was over {MAX_TITLE_CHARS} characters and was cut short.")
    if long_author:
        warnings.append(f"The author was over {MAX_TITLE_CHARS} characters and was cut short.")
    if long_sections:
        warnings.append(
            f"{long_sections} section title{'s were' if long_sections != 1 else ' was'} over "
            f"{MAX_TITLE_CHARS} characters and {'were' if long_sections != 1 else 'was'} cut short."
        )
    return dataclasses.replace(
        story,
        title=_clip(story.title),
        author=_clip(story.author) if story.author is not None else None,
        sections=tuple(
            dataclasses.replace(section, title=_clip(section.title))
            if len(section.title) > MAX_TITLE_CHARS
            else section
            for section in story.sections
        ),
        warnings=tuple(warnings),
    )


def _clip(text: str) -> str:
    return clip_words(text, MAX_TITLE_CHARS)


def _parse_plain(text: str, filename: str, *, markdown: bool) -> ParsedStory:
    try:
        if markdown:
            return parse_markdown(text, filename)
        if find_start_marker(text):
            return parse_gutenberg(text, filename)
        return parse_text(text, filename)
    except TextShapeError as error:
        raise StoryFileError(
            f"“{display_name(filename)}” has {error}, far more than a story has "
            f"(a 10 MB novel has about {error.typical:,}), so Storyshelf did not read it. "
            "Check that this is the story file; a very long story can be split into "
            "smaller files."
        ) from None


def _extension(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot and stem else ""


def _size_error(name: str, size: int, limit: int) -> StoryFileError:
    size_text, limit_text = _megabytes(size), _megabytes(limit)
    if float(size_text[:-3]) <= float(limit_text[:-3]):
        size_text = f"{size:,} bytes, just over the {limit_text} limit ({limit:,} bytes)"
    else:
        size_text = f"{size_text}, over the {limit_text} limit"
    return StoryFileError(
        f"“{name}” is {size_text} for story files. "
        "Split it into smaller files and upload them separately."
    )


def _megabytes(size: int) -> str:
    megabytes = size / 1_048_576
    if size % 1_048_576 == 0:
        return f"{megabytes:.0f} MB"
    return f"{megabytes:.1f} MB"
