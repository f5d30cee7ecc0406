"""Story text as Discord messages: escaping, pages, excerpts, search snippets, labels.

Pure functions over plain strings; no Discord and no database. Everything that comes from
a story file or an uploader is user data and is escaped here (``escape``), with
``labels.shown`` as the one way to fit escaped text into a length limit. The rest is
layered on that: ``graphemes`` and ``breaks`` say where text may be cut, ``emphasis`` which
markers a cut must close and reopen, ``header`` draws the lines above the spoiler, and
``pages``, ``excerpts`` and ``snippets`` build the three kinds of message. Discord counts
message length in Unicode code points, which is ``len()`` of a ``str``.
"""

from __future__ import annotations

from bot.render.escape import (
    SCENE_SEPARATOR,
    escape_inline,
    escape_story_text,
    render_story_text,
    unescape_story_text,
)
from bot.render.excerpts import EXCERPT_LIMIT, pick_excerpt, render_excerpt
from bot.render.header import MESSAGE_LIMIT
from bot.render.labels import (
    AUTOCOMPLETE_LIMIT,
    ELLIPSIS,
    rating_text,
    section_label,
    shown,
    truncate,
)
from bot.render.pages import Page, render_section
from bot.render.snippets import MATCH_END, MATCH_START, SNIPPET_LIMIT, render_snippet

__all__ = (
    "AUTOCOMPLETE_LIMIT",
    "ELLIPSIS",
    "EXCERPT_LIMIT",
    "MATCH_END",
    "MATCH_START",
    "MESSAGE_LIMIT",
    "SCENE_SEPARATOR",
    "SNIPPET_LIMIT",
    "Page",
    "escape_inline",
    "escape_story_text",
    "pick_excerpt",
    "rating_text",
    "render_excerpt",
    "render_section",
    "render_snippet",
    "render_story_text",
    "section_label",
    "shown",
    "truncate",
    "unescape_story_text",
)
