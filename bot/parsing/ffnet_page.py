"""A FanFiction.Net chapter page saved from the browser: the story's header and one chapter.

The page has a ``#profile_top`` (the title in bold, the author's ``/u/`` link,
the summary, and a grey ``Rated: Fiction T - English - Genre - Characters -
Chapters: N - Words: N …`` line), a ``#chap_select`` list of chapter titles
with the shown one selected, and the chapter itself in ``#storytext``. Everything
else on the page (menus, reviews, adverts) is not the story. A saved page holds
one chapter; when the story has more, the story says so in its warnings.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from bot.parsing.html import plain_text, render, tidy
from bot.story import ParsedStory, Rating, Section, StoryFileError, parse_rating

__all__ = ("looks_like_ffnet_page", "read_ffnet_page")

_STAT_RE = re.compile(r"^\s*([A-Za-z][A-Za-z ]{0,20}):\s*(.+?)\s*$")
_FICTION_RATING_RE = re.compile(r"^\s*Fiction\s+(K\+|K|T|MA|M)\b", re.IGNORECASE)


def looks_like_ffnet_page(tree: LexborHTMLParser) -> bool:
    return tree.css_first("#storytext") is not None and tree.css_first("#profile_top") is not None


def _stats(line: str) -> tuple[str | None, dict[str, str]]:
    """The rating and the labelled stats of FanFiction.Net's " - "-separated line."""
    parts = [part.strip() for part in line.split(" - ")]
    rating: str | None = None
    found: dict[str, str] = {}
    unlabelled: list[str] = []
    for part in parts:
        match = _STAT_RE.match(part)
        if match is None:
            unlabelled.append(part)
            continue
        key, value = match.group(1).strip().lower(), match.group(2)
        if key == "rated":
            fiction = _FICTION_RATING_RE.match(value)
            rating = fiction.group(1).upper() if fiction else value
        else:
            found[key] = value
    # After the rating come language, genre and characters, unlabelled, in that order.
    for key, value in zip(("language", "genre", "characters"), unlabelled, strict=False):
        found[key] = value
    return rating, found


def read_ffnet_page(tree: LexborHTMLParser, name: str) -> ParsedStory:
    top = tree.css_first("#profile_top")
    story_text = tree.css_first("#storytext")
    assert top is not None and story_text is not None  # looks_like_ffnet_page
    warnings: list[str] = []
    title_node = top.css_first("b")
    title = plain_text(title_node) if title_node is not None else ""
    if not title:
        title = name.rsplit(".", 1)[0] or "Untitled"
        warnings.append(f"No title was found in the file, so it is called “{title}”.")
    author_node = top.css_first('a[href^="/u/"]') or top.css_first('a[href*="fanfiction.net/u/"]')
    author = plain_text(author_node) or None if author_node is not None else None
    if author is None:
        warnings.append("No author was found in the file.")
    metadata: dict[str, str] = {}
    summary = top.css_first("div.xcontrast_txt")
    if summary is not None and (text := plain_text(summary)):
        metadata["summary"] = text
    stats_node = top.css_first("span.xgray")
    rating_label, stats = _stats(plain_text(stats_node)) if stats_node is not None else (None, {})
    for key in ("language", "genre", "characters"):
        if key in stats:
            metadata["tags" if key == "genre" else key] = stats[key]
    if stats_node is not None:
        metadata["stats"] = plain_text(stats_node)

    selected = tree.css_first("#chap_select option[selected]")
    chapter_title = plain_text(selected) if selected is not None else title
    paragraphs = tidy(render([story_text]))
    if not paragraphs:
        raise StoryFileError(
            f"“{name}” is a FanFiction.Net page, but it has no story text in it. "
            "Save the chapter page again and upload the new file."
        )
    posted = int(re.sub(r"\D", "", stats.get("chapters", "")) or 1)
    if posted > 1:
        missing = posted - 1
        warnings.append(
            f"FanFiction.Net says this story has {posted} chapters; this file holds 1 "
            f"(“{chapter_title}”), so {missing} {'is' if missing == 1 else 'are'} missing. "
            "A saved page holds one chapter: save each one, or download the whole story "
            "with FanFicFare as an EPUB."
        )
    rating = parse_rating(rating_label) if rating_label else None
    if rating is None:
        warnings.append(
            "No rating was found in the file, so the story is treated as Not Rated."
            if rating_label is None
            else f"The rating “{rating_label}” was not recognised, so the story is treated "
            "as Not Rated."
        )
        rating = Rating.not_rated()
    return ParsedStory(
        title=title,
        author=author,
        rating=rating,
        sections=(Section(title=chapter_title, text="\n\n".join(paragraphs)),),
        metadata=metadata,
        warnings=tuple(warnings),
        source_format="ffnet",
    )
