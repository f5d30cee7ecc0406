"""A story copied from a FanFiction.Net page: title, byline, summary and the `Rated:` line.

    The Long Way Home
    By: someone
    Years after the war, two old friends meet again.
    Rated: Fiction T - English - Drama/Romance - Harry P., Hermione G. - Chapters: 3 -
        Words: 12,345 - Reviews: 40 - Favs: 12 - Follows: 20 - Published: 5/3/2012 - id: 123

The `Rated:` line is the mark of the layout; everything above it is the story's
card, everything below it the story (`Chapter 1: ...` headings, `A/N:` notes and
`oOoOo` breaks are read by the ordinary text parser).
"""

from __future__ import annotations

import re

from bot.parsing.header import Header, canonical_key, is_known_key, key_value
from bot.parsing.headings import plain_title
from bot.parsing.sections import byline_author

__all__ = ("split_ffnet_header",)

# The card sits at the top of the page copy: a title, a byline, a summary of a few
# hundred words at most.
_SCAN_CHARS = 8_000
# Title, byline, summary: a page copy's card is a handful of lines.
_MAX_CARD_LINES = 20
_RATED = re.compile(
    r"^[ \t]*Rated:[ \t]*(?P<rating>(?:Fiction[ \t]+)?(?:K\+|K|T|MA|M))(?![\w+])(?P<rest>[^\n]*)$",
    re.MULTILINE | re.IGNORECASE,
)
_GENRES = (
    "adventure|angst|crime|drama|family|fantasy|friendship|general|horror|humor|hurt/comfort|"
    "mystery|parody|poetry|romance|sci-fi|spiritual|supernatural|suspense|tragedy|western"
)
_GENRE = re.compile(rf"(?:{_GENRES})(?:/(?:{_GENRES}))*", re.IGNORECASE)
# "Books » Harry Potter": the breadcrumb above the title names the fandom.
_BREADCRUMB = re.compile(r"\s[»›>]\s")
# Stats whose names are not already header keys.
_STAT_KEYS = {
    "chapters": "Chapters",
    "words": "Words",
    "reviews": "Reviews",
    "favs": "Favs",
    "follows": "Follows",
    "updated": "Updated",
    "published": "Published",
    "status": "Status",
    "id": "FanFiction.Net id",
}


def split_ffnet_header(text: str) -> Header | None:
    """The FanFiction.Net card at the top of ``text``, or None when the layout is not there."""
    head = text[:_SCAN_CHARS]
    match = _RATED.search(head)
    if match is None:
        return None
    card = [line.strip() for line in head[: match.start()].split("\n")]
    card = [line for line in card if line]
    if len(card) > _MAX_CARD_LINES or not text[match.end() :].strip():
        return None  # a "Rated:" line inside a story, or nothing after it
    if any(_is_header_line(line) for line in card):
        return None  # a Title:/Rating: header: the ordinary header reader's
    fields: list[tuple[str, str]] = []
    if card and _BREADCRUMB.search(card[0]) and len(card) > 1:
        fields.append(("Fandom", _BREADCRUMB.split(card[0])[-1].strip()))
        card = card[1:]
    byline = next((i for i, line in enumerate(card) if byline_author(line) is not None), None)
    if byline is not None:
        title_lines, summary_lines = card[:byline], card[byline + 1 :]
        fields.append(("Author", byline_author(card[byline]) or ""))
    else:
        title_lines, summary_lines = card[:1], card[1:]
    if title_lines:
        fields.insert(0, ("Title", plain_title(title_lines[-1]) or title_lines[-1]))
    if summary_lines:
        fields.append(("Summary", "\n".join(summary_lines)))
    fields.append(("Rating", " ".join(match.group("rating").split())))
    fields.extend(_stats(match.group("rest")))
    return Header(first_line=None, fields=fields, body_start=match.end())


def _is_header_line(line: str) -> bool:
    found = key_value(line)
    return found is not None and canonical_key(found[0]) != "author" and is_known_key(found[0])


def _stats(rest: str) -> list[tuple[str, str]]:
    """`- English - Drama/Romance - Harry P. - Chapters: 3 - ...` as header fields."""
    items = [item.strip() for item in rest.split(" - ")]
    items = [item for item in items if item and item != "-"]
    fields: list[tuple[str, str]] = []
    for position, item in enumerate(items):
        key, colon, value = item.partition(":")
        if colon and key.strip().lower() in _STAT_KEYS:
            fields.append((_STAT_KEYS[key.strip().lower()], value.strip()))
        elif item.lower() == "complete":
            fields.append(("Status", "Complete"))
        elif position == 0 and " " not in item:
            fields.append(("Language", item))
        elif _GENRE.fullmatch(item):
            fields.append(("Genre", item))
        else:
            fields.append(("Characters", item))
    return fields
