"""Plain-text stories: an optional `Key: value` header, then the story (the reference format)."""

from __future__ import annotations

from bot.parsing.blocks import classify_headings, mark_brackets, paused_gc, tokenize
from bot.parsing.decode import display_name
from bot.parsing.ffnet import split_ffnet_header
from bot.parsing.header import build_story, split_header
from bot.parsing.sections import SplitResult, SplitStyle, split_sections
from bot.story import ParsedStory, StoryFileError

__all__ = ("parse_text", "split_text_body")


def parse_text(text: str, filename: str) -> ParsedStory:
    with paused_gc():
        return _parse_text(text, filename)


def _parse_text(text: str, filename: str) -> ParsedStory:
    header = split_ffnet_header(text) or split_header(text)
    body = text[header.body_start :] if header else text
    if not body or body.isspace():
        raise _no_story(filename, header is not None)
    split = split_text_body(body)
    if not split.sections:
        raise _no_story(filename, header is not None)
    return build_story(
        fields=header.fields if header else [],
        first_line=header.first_line if header else None,
        split=split,
        filename=filename,
        source_format="text",
    )


def split_text_body(body: str) -> SplitResult:
    """Sections of a plain-text story body (the text after any header)."""
    return split_sections(classify_headings(mark_brackets(tokenize(body), body)), SplitStyle())


def _no_story(filename: str, has_header: bool) -> StoryFileError:
    name = display_name(filename)
    if has_header:
        return StoryFileError(
            f"“{name}” has a header but no story text after it. Put the story below the "
            "header lines (Title:, Rating:, …), separated by a blank line."
        )
    return StoryFileError(f"“{name}” has no story text in it, only blank lines or symbols.")
