"""Escaping story-derived text so it shows exactly as written and can never ping.

Everything that comes from a story file or an uploader is user data: it is escaped here
so that a post can neither format itself by accident, nor break out of its spoiler, nor
look like a mention. (Posts are also sent with ``AllowedMentions.none()``; the escaping
makes mentions inert in the text as well, so nothing renders as a ping pill either.)

Discord drops a backslash before any ASCII punctuation and shows the character as is,
so backslash escapes neutralise markdown without changing what the reader sees.
Mentions are different: Discord matches them in the raw text, so a zero-width space
goes after the "@" or "<" instead.

Every rule is invertible (``unescape_story_text``), which lets the tests prove that no
story text is lost on the way into a message.
"""

from __future__ import annotations

import re

__all__ = (
    "SCENE_SEPARATOR",
    "ZWSP",
    "escape_inline",
    "escape_story_text",
    "render_story_text",
    "spoiler",
    "unescape_story_text",
)

SCENE_SEPARATOR = "✦ ✦ ✦"
ZWSP = "\u200b"

# Backslash first, so the backslashes added for the others are not doubled.
_STORY_CHARS = ("\\", "|", "`", "[")
_INLINE_CHARS = (*_STORY_CHARS, "*", "_", "~")
_CHAR_ESCAPED = re.compile(r"\\([\\|`\[*_~])")

# Block markup only counts at the start of a line (after optional indentation):
# quotes, headings, subtext "-#", and list items "- ", "* ", "+ ", "1. ".
_LINE_MARK = re.compile(r"^([ \t]*)(?=[>#]|-[# \t]|[*+][ \t])", re.M)
_LINE_NUMBER = re.compile(r"^([ \t]*\d+)(?=\.[ \t])", re.M)
_LINE_MARK_ESCAPED = re.compile(r"^([ \t]*)\\(?=[>#]|-[# \t]|[*+][ \t])", re.M)
_LINE_NUMBER_ESCAPED = re.compile(r"^([ \t]*\d+)\\(?=\.[ \t])", re.M)

# A zero-width space is added even where one (or more) is already there, so that
# unescaping can remove exactly one and give back the original text.
_AT_MENTION = re.compile("@(?=\u200b*(?:everyone|here))", re.I)
_ANGLE_MENTION = re.compile("<(?=\u200b*(?:[@#/]|id:))", re.I)
_AT_MENTION_ESCAPED = re.compile("@\u200b(?=\u200b*(?:everyone|here))", re.I)
_ANGLE_MENTION_ESCAPED = re.compile("<\u200b(?=\u200b*(?:[@#/]|id:))", re.I)

# A paragraph of exactly SCENE_BREAK, as it looks after escaping ("\* * *").
_SCENE_BREAK_ESCAPED = re.compile(r"(?:\A|(?<=\n\n))\\\* \* \*(?=\n\n|\Z)")


# Characters without which the line-start rules cannot match (a cheap test first:
# most text escaped is a word or a short line).
_LINE_MARK_CHARS = re.compile(r"[>#*+\-]")


def _escape(text: str, chars: tuple[str, ...]) -> str:
    for char in chars:
        if char in text:
            text = text.replace(char, "\\" + char)
    if _LINE_MARK_CHARS.search(text):
        text = _LINE_MARK.sub(r"\1\\", text)
    if "." in text:
        text = _LINE_NUMBER.sub(r"\1\\", text)
    if "@" in text:
        text = _AT_MENTION.sub("@" + ZWSP, text)
    if "<" in text:
        text = _ANGLE_MENTION.sub("<" + ZWSP, text)
    return text


def escape_story_text(text: str) -> str:
    """Neutralise everything in story text that could format the message or ping.

    Spoiler bars, backticks, masked links, line-start quotes, headings, subtext and list
    markers are escaped; mentions get a zero-width space. Emphasis the story really has
    (``*x*``, ``**x**``, ``_x_``, ``__x__``, ``~~x~~``) is kept. Line breaks are kept.
    """
    return _escape(text, _STORY_CHARS)


def unescape_story_text(text: str) -> str:
    """The exact inverse of :func:`escape_story_text` (and of :func:`escape_inline`)."""
    text = _ANGLE_MENTION_ESCAPED.sub("<", text)
    text = _AT_MENTION_ESCAPED.sub("@", text)
    text = _LINE_NUMBER_ESCAPED.sub(r"\1", text)
    text = _LINE_MARK_ESCAPED.sub(r"\1", text)
    return _CHAR_ESCAPED.sub(r"\1", text)


def escape_inline(text: str) -> str:
    """Escape user data (titles, authors, summaries) so that it shows exactly as written.

    Like :func:`escape_story_text`, but emphasis markers are escaped too: nothing in a
    title or a search snippet formats the message. Line breaks are kept. This is the one
    escaping for story-derived text shown outside a page; see ``labels.shown`` for text
    that must also fit a length limit.
    """
    return _escape(text, _INLINE_CHARS)


def render_story_text(text: str) -> str:
    """Story text as it appears inside the spoiler: escaped, scene breaks drawn as a line."""
    escaped = escape_story_text(text)
    if "\\* * *" in escaped:
        escaped = _SCENE_BREAK_ESCAPED.sub(SCENE_SEPARATOR, escaped)
    return escaped


def spoiler(inner: str) -> str:
    """``inner`` (already escaped) between spoiler bars that close where they should."""
    # An escaped "|" right before the closing bars would make "|||", and Discord would
    # close the spoiler one bar early.
    pad = ZWSP if inner.endswith("|") else ""
    return f"||{inner}{pad}||"
