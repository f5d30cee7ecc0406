"""Discord messages that describe the shelf and its stories (no story text: that goes
behind spoilers). One of the two places in `bot/` that build Discord objects (with
`bot/faults.py`); every piece of story-derived text passes through `escaped`, and
every embed is fitted to Discord's limits before it leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.render import escape_inline, escape_story_text, rating_text, section_label, truncate
from bot.render.snippets import render_snippet

if TYPE_CHECKING:
    from bot.db.feedback import StoryTotals
    from bot.db.guild_settings import GuildSettings
    from bot.db.search import SearchHit
    from bot.db.stories import StoryRecord
    from bot.services.progress import Progress
    from bot.services.reading import Card, FeedbackReport, ShelfPage
    from bot.story import ParsedStory

__all__ = (
    "escaped",
    "feedback_embed",
    "fit",
    "preview_embed",
    "progress_embed",
    "search_results",
    "settings_embed",
    "shelf_embed",
    "story_embed",
)

# Discord's embed limits.
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
MAX_FIELDS = 25

RESTRICTED_MARK = "🔞 age-restricted channels only"
# Fields that are prose the author wrote, whose own emphasis is shown.
_PROSE_FIELDS = frozenset({"summary", "notes", "disclaimer", "front_matter"})
# Metadata the preview does not repeat: AO3's own stats give its word count, which
# differs from ours by how each counts; ours is the one shown.
_PREVIEW_SKIPPED = frozenset({"stats", "words"})
_CARD_FIELDS = (
    ("pairing", "Pairing"),
    ("relationships", "Relationships"),
    ("fandom", "Fandom"),
    ("parts", "Parts"),
    ("warnings", "Warnings"),
    ("characters", "Characters"),
    ("tags", "Tags"),
    ("disclaimer", "Disclaimer"),
    ("notes", "Notes"),
    ("front_matter", "Front matter"),
)


def escaped(text: str | None, limit: int, *, one_line: bool = False, emphasis: bool = False) -> str:
    """Story-derived text made inert (no spoiler break-out, links, headings, lists or
    mentions), cut so that it fits `limit` characters *after* escaping. With `emphasis`
    (summaries, notes) the text's own *italics* and **bold** show as such; otherwise
    (titles, names) every mark shows as written."""
    if not text:
        return ""
    if one_line:
        text = " ".join(text.split())
    escape = escape_story_text if emphasis else escape_inline
    room = limit
    while True:
        result = escape(truncate(text.strip(), room))
        if len(result) <= limit or room <= 1:
            return result[:limit] if len(result) > limit else result
        room = max(1, room - (len(result) - limit + 1) // 2 - 1)


def fit(embed: discord.Embed) -> discord.Embed:
    """Shrink an embed until it is within Discord's 6,000-character total: fields are
    shortened from the last one back, then the description."""
    while len(embed) > EMBED_TOTAL_LIMIT:
        excess = len(embed) - EMBED_TOTAL_LIMIT
        fields = embed.fields
        longest = max(range(len(fields)), key=lambda i: len(fields[i].value or ""), default=None)
        if longest is not None and len(fields[longest].value or "") > 40:
            field = fields[longest]
            value = field.value or ""
            embed.set_field_at(
                longest,
                name=field.name or "",
                value=truncate(value, max(20, len(value) - excess - 1)),
                inline=field.inline,
            )
        elif embed.description and len(embed.description) > 40:
            embed.description = truncate(
                embed.description, max(20, len(embed.description) - excess - 1)
            )
        elif fields:
            embed.remove_field(len(fields) - 1)
        else:
            embed.title = truncate(embed.title or "", max(1, len(embed.title or "") - excess))
    return embed


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _line(story: StoryRecord, readable: bool) -> str:
    by = f" by {escaped(story.author, 60, one_line=True)}" if story.author else ""
    line = (
        f"**{escaped(story.title, 90, one_line=True)}**{by} · {rating_text(story.rating, cap=24)}"
        f" · {_plural(story.section_count, 'section')} · {story.word_count:,} words"
    )
    return line if readable else f"{line} · {RESTRICTED_MARK}"


def shelf_embed(page: ShelfPage) -> discord.Embed:
    filters = []
    if page.query:
        filters.append(f"matching “{escaped(page.query, 60, one_line=True)}”")
    if page.rating:
        filters.append(f"rated {page.rating.display}")
    embed = discord.Embed(title="This server's shelf", colour=discord.Colour.dark_teal())
    if not page.stories:
        embed.description = (
            "No stories " + " and ".join(filters) + "."
            if filters
            else "The shelf is empty. Moderators can add stories with /library add."
        )
        return fit(embed)
    embed.description = "\n".join(_line(s, s.rating.level in page.readable) for s in page.stories)
    first, last = page.offset + 1, page.offset + len(page.stories)
    pages = (page.total + page.page_size - 1) // page.page_size
    footer = (
        f"Stories {first}–{last} of {page.total} · page {page.offset // page.page_size + 1}/{pages}"
    )
    if page.query:
        footer += f" · matching “{truncate(' '.join(page.query.split()), 60)}”"
    if page.rating:
        footer += f" · rated {page.rating.display}"
    embed.set_footer(text=footer)
    return fit(embed)


def story_embed(card: Card) -> discord.Embed:
    """A story's card. For a story this channel may not show: title, author, rating and
    where to read it, nothing taken from its text."""
    story = card.story
    embed = discord.Embed(
        title=truncate(" ".join(story.title.split()), TITLE_LIMIT),
        colour=discord.Colour.dark_teal(),
    )
    if story.author:
        embed.set_author(name=truncate(" ".join(story.author.split()), 256))
    embed.add_field(name="Rating", value=rating_text(story.rating, cap=100), inline=True)
    embed.add_field(
        name="Length",
        value=f"{_plural(story.section_count, 'section')} · {story.word_count:,} words",
        inline=True,
    )
    if not card.readable:
        embed.description = (
            f"Not posted in this channel: {RESTRICTED_MARK}. Its summary, sections and "
            "feedback are shown where it can be read."
        )
        return fit(embed)
    embed.description = escaped(story.metadata.get("summary"), 1500, emphasis=True) or None
    for key, name in _CARD_FIELDS:
        value = escaped(story.metadata.get(key), 500, emphasis=key in _PROSE_FIELDS)
        if value:
            embed.add_field(name=name, value=value, inline=False)
    embed.add_field(name="Sections", value=_section_list(card), inline=False)
    embed.add_field(name="Feedback", value=feedback_text(card.totals), inline=False)
    embed.add_field(name="Added", value=_added_text(story), inline=False)
    return fit(embed)


def feedback_text(totals: StoryTotals | None) -> str:
    if totals is None or not totals.per_emoji:
        return "No reactions yet. React to an excerpt to leave feedback."
    emoji = " · ".join(f"{item.emoji} {item.count}" for item in totals.per_emoji[:15])
    readers = _plural(totals.readers, "reader")
    return truncate(f"{emoji} — {_plural(totals.total, 'reaction')} from {readers}", 1000)


def _added_text(story: StoryRecord) -> str:
    when = story.added_at[:10]
    text = f"{when} by <@{story.added_by}>" if story.added_by else f"{when} (imported)"
    if story.updated_at:
        text += f" · updated {story.updated_at[:10]}"
    return text


def _section_list(card: Card, limit: int = FIELD_VALUE_LIMIT) -> str:
    """As many sections as fit in `limit`, then a line that says how to reach the rest."""
    lines: list[str] = []
    used = 0
    for index, section in enumerate(card.sections):
        title = escaped(section.title, 60, one_line=True)
        line = f"{section.position}. {title} ({section.words:,} words)"
        rest = len(card.sections) - index
        tail = f"…and {rest:,} more: use the section menu below, or /read's section option"
        last = index == len(card.sections) - 1
        if used + len(line) + (0 if last else 1 + len(tail)) > limit:
            lines.append(tail)
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) or "(none)"


FEEDBACK_SECTIONS_SHOWN = 15


def _section_name(position: int, titles: dict[int, str], limit: int = 100) -> str:
    title = titles.get(position)
    if title is None:
        return f"{position} · (no longer in the story)"
    return section_label(position, title, limit=limit, escaped=True)


def feedback_embed(report: FeedbackReport, *, legend: str | None = None) -> discord.Embed:
    """Totals, unique readers and the per-section breakdown, most-reacted first."""
    embed = discord.Embed(
        title="Feedback · " + truncate(" ".join(report.story.title.split()), 200),
        colour=discord.Colour.dark_teal(),
    )
    totals = report.totals
    if not totals.per_emoji or not report.sections:
        embed.description = "No reactions yet. React to an excerpt of this story to leave feedback."
        return fit(embed)
    ranked = sorted(report.sections, key=lambda s: (-s.total, s.position))
    best = ranked[0]
    embed.description = "\n".join(
        [
            f"**Totals:** {feedback_text(totals)}",
            f"**Most reacted:** {_section_name(best.position, report.titles)} — "
            f"{_plural(best.total, 'reaction')}",
            *([f"**Chart colours:** {truncate(legend, 1000)}"] if legend else []),
        ]
    )
    for rank, section in enumerate(ranked[:FEEDBACK_SECTIONS_SHOWN]):
        marker = "★ " if rank == 0 else ""
        counts = " · ".join(f"{item.emoji} {item.count}" for item in section.per_emoji[:10])
        embed.add_field(
            name=marker + _section_name(section.position, report.titles, limit=240),
            value=truncate(f"{counts} ({_plural(section.readers, 'reader')})", 250),
            inline=False,
        )
    if len(ranked) > FEEDBACK_SECTIONS_SHOWN:
        rest = len(ranked) - FEEDBACK_SECTIONS_SHOWN
        embed.set_footer(text=f"…and {rest} more sections with reactions: see the chart.")
    return fit(embed)


PREVIEW_SECTIONS_SHOWN = 5


def preview_embed(parsed: ParsedStory) -> discord.Embed:
    """What an upload would add: details, sections, words, and what the parser guessed."""
    embed = discord.Embed(
        title=truncate(" ".join(parsed.title.split()), TITLE_LIMIT), colour=discord.Colour.gold()
    )
    embed.add_field(
        name="Author", value=escaped(parsed.author, 200, one_line=True) or "(unknown)", inline=True
    )
    embed.add_field(name="Rating", value=rating_text(parsed.rating, cap=100), inline=True)
    embed.add_field(
        name="Length",
        value=f"{_plural(len(parsed.sections), 'section')} · {parsed.words:,} words",
        inline=True,
    )
    fields = [(k, v) for k, v in parsed.metadata.items() if k not in _PREVIEW_SKIPPED]
    for key, value in fields[:12]:
        embed.add_field(
            name=truncate(key.replace("_", " ").capitalize(), 60),
            value=escaped(value, 300, emphasis=key in _PROSE_FIELDS) or "—",
            inline=False,
        )
    shown = [
        section_label(number, section.title, escaped=True)
        for number, section in enumerate(parsed.sections[:PREVIEW_SECTIONS_SHOWN], start=1)
    ]
    if len(parsed.sections) > PREVIEW_SECTIONS_SHOWN:
        shown.append(f"…and {len(parsed.sections) - PREVIEW_SECTIONS_SHOWN} more")
    embed.add_field(name="Sections", value="\n".join(shown) or "(none)", inline=False)
    if parsed.warnings:
        embed.add_field(
            name="Please check",
            value=truncate("\n".join(f"• {escape_inline(w)}" for w in parsed.warnings), 1000),
            inline=False,
        )
    return fit(embed)


def settings_embed(settings: GuildSettings) -> discord.Embed:
    embed = discord.Embed(title="Storyshelf settings", colour=discord.Colour.dark_teal())
    embed.add_field(name="Feedback emoji", value=" ".join(settings.feedback_emoji), inline=False)
    embed.add_field(
        name="Highest rating outside age-restricted channels",
        value=f"{settings.max_rating.display} "
        "(Explicit and Not Rated: age-restricted channels only)",
        inline=False,
    )
    embed.add_field(
        name="Moderator notes (shown in /help)",
        value=escaped(settings.moderator_notes, FIELD_VALUE_LIMIT) or "(none)",
        inline=False,
    )
    return fit(embed)


def search_results(
    hits: Sequence[SearchHit], *, limit: int, common: Sequence[str] = (), ranked: bool = True
) -> tuple[str, int]:
    """The /search answer: each hit's story and section outside the spoiler, its snippet
    inside. Hits are added only while they fit `limit`: a cut never lands in a spoiler.
    `common` are searched words in most sections of the shelf; when nothing else was
    searched (`ranked` False) the answer says the hits are simply the first that hold
    them, and how to narrow it. Returns the message and how many hits it shows."""
    parts: list[str] = []
    used = 0
    if common and not ranked:
        words = ", ".join(f"“{escaped(word, 40, one_line=True)}”" for word in common[:4])
        note = (
            f"-# {words} {'is' if len(common) == 1 else 'are'} in most sections on this "
            "shelf, so these are simply the first sections that hold "
            f"{'it' if len(common) == 1 else 'them'}. Add a rarer word (a name, a place) "
            "to find a particular scene."
        )
        parts.append(note)
        used = len(note)
    for number, hit in enumerate(hits, start=1):
        part = (
            f"**{number}.** {escaped(hit.story_title, 80, one_line=True)}"
            f" · {section_label(hit.position, hit.section_title, limit=90, escaped=True)}\n"
            + render_snippet(hit.snippet)
        )
        cost = len(part) + (2 if parts else 0)
        if used + cost > limit:
            break
        parts.append(part)
        used += cost
    return "\n\n".join(parts), len(parts) - (1 if common and not ranked else 0)


def progress_embed(rows: Sequence[Progress]) -> discord.Embed:
    """What a reader is reading on this server: "section 12 of 366 · 3%"."""
    embed = discord.Embed(title="Your reading", colour=discord.Colour.dark_teal())
    if not rows:
        embed.description = "Nothing yet. Start a story with /read; /continue takes you back."
        return embed
    embed.description = "\n".join(
        f"**{escaped(row.title, 80, one_line=True)}** — section {row.section:,} of "
        f"{row.section_count:,} · {row.percent}%" + (f" · page {row.page}" if row.page > 1 else "")
        for row in rows
    )
    embed.set_footer(text="/continue picks up where you stopped · /progress forget erases this")
    return fit(embed)
