"""Embeds that describe the shelf and its stories (no story text: that goes behind spoilers)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import discord

from bot.render import escape_inline, section_label, truncate
from bot.story import RatingLevel

if TYPE_CHECKING:
    from bot.db.feedback import SectionFeedback, StoryTotals
    from bot.db.guild_settings import GuildSettings
    from bot.db.shelf import SectionSummary, StoryRecord
    from bot.story import ParsedStory

__all__ = (
    "SHELF_PAGE_SIZE",
    "feedback_embed",
    "preview_embed",
    "rating_text",
    "settings_embed",
    "shelf_embed",
    "story_embed",
)

SHELF_PAGE_SIZE = 10
RESTRICTED_MARK = "🔞 age-restricted channels only"
_CARD_FIELDS = (
    ("pairing", "Pairing"),
    ("fandom", "Fandom"),
    ("warnings", "Warnings"),
    ("characters", "Characters"),
    ("tags", "Tags"),
    ("disclaimer", "Disclaimer"),
    ("notes", "Notes"),
)


def rating_text(story: StoryRecord) -> str:
    display = story.rating.level.display
    label = story.rating.label
    return display if label.casefold() == display.casefold() else f"{display} ({label})"


def _line(story: StoryRecord, readable: bool) -> str:
    by = f" by {escape_inline(truncate(story.author, 60))}" if story.author else ""
    line = (
        f"**{escape_inline(truncate(story.title, 90))}**{by} · {rating_text(story)}"
        f" · {story.section_count} section{'s' if story.section_count != 1 else ''}"
        f" · {story.word_count:,} words"
    )
    return line if readable else f"{line} · {RESTRICTED_MARK}"


def shelf_embed(
    stories: Sequence[StoryRecord],
    *,
    total: int,
    offset: int,
    readable: Collection[RatingLevel],
    query: str | None,
    rating: RatingLevel | None,
) -> discord.Embed:
    heading = "This server's shelf"
    filters = []
    if query:
        filters.append(f"matching “{escape_inline(truncate(query, 50))}”")
    if rating:
        filters.append(f"rated {rating.display}")
    embed = discord.Embed(title=heading, colour=discord.Colour.dark_teal())
    if not stories:
        embed.description = (
            "No stories " + " and ".join(filters) + "."
            if filters
            else "The shelf is empty. Moderators can add stories with /library add."
        )
        return embed
    embed.description = "\n".join(_line(s, s.rating.level in readable) for s in stories)
    first, last = offset + 1, offset + len(stories)
    pages = (total + SHELF_PAGE_SIZE - 1) // SHELF_PAGE_SIZE
    footer = f"Stories {first}–{last} of {total} · page {offset // SHELF_PAGE_SIZE + 1}/{pages}"
    if filters:
        footer += " · " + ", ".join(f.replace("**", "") for f in filters)
    embed.set_footer(text=footer)
    return embed


def story_embed(
    story: StoryRecord,
    sections: Sequence[SectionSummary],
    *,
    readable: bool,
    totals: StoryTotals | None = None,
) -> discord.Embed:
    embed = discord.Embed(
        title=truncate(story.title, 256),
        description=truncate(escape_inline(story.metadata.get("summary", "")), 1500) or None,
        colour=discord.Colour.dark_teal(),
    )
    if story.author:
        embed.set_author(name=truncate(story.author, 256))
    embed.add_field(name="Rating", value=rating_text(story), inline=True)
    embed.add_field(
        name="Length",
        value=f"{story.section_count} sections · {story.word_count:,} words",
        inline=True,
    )
    for key, name in _CARD_FIELDS:
        value = story.metadata.get(key)
        if value:
            embed.add_field(name=name, value=truncate(escape_inline(value), 500), inline=False)
    embed.add_field(name="Sections", value=_section_list(sections), inline=False)
    embed.add_field(name="Feedback", value=feedback_text(totals), inline=False)
    if not readable:
        embed.add_field(
            name="Reading", value=f"Not posted in this channel: {RESTRICTED_MARK}.", inline=False
        )
    embed.add_field(name="Added", value=_added_text(story), inline=False)
    return embed


def feedback_text(totals: StoryTotals | None) -> str:
    if totals is None or not totals.per_emoji:
        return "No reactions yet. React to an excerpt to leave feedback."
    emoji = " · ".join(f"{item.emoji} {item.count}" for item in totals.per_emoji[:15])
    readers = f"{totals.readers} reader{'s' if totals.readers != 1 else ''}"
    return truncate(f"{emoji} — {totals.total} reactions from {readers}", 1000)


def _added_text(story: StoryRecord) -> str:
    when = story.added_at[:10]
    text = f"{when} by <@{story.added_by}>" if story.added_by else f"{when} (imported)"
    if story.updated_at:
        text += f" · updated {story.updated_at[:10]}"
    return text


def _section_list(sections: Sequence[SectionSummary], limit: int = 1000) -> str:
    lines: list[str] = []
    used = 0
    for index, section in enumerate(sections):
        title = escape_inline(truncate(section.title, 60))
        line = f"{section.position}. {title} ({section.words:,} words)"
        if used + len(line) + 1 > limit - 40:
            lines.append(f"…and {len(sections) - index} more (see /read's section list)")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) or "(none)"


FEEDBACK_SECTIONS_SHOWN = 15


def feedback_embed(
    story: StoryRecord,
    totals: StoryTotals,
    sections: Sequence[SectionFeedback],
    titles: dict[int, str],
) -> discord.Embed:
    """Totals, unique readers and the per-section breakdown, most-reacted first."""
    embed = discord.Embed(
        title=truncate(f"Feedback · {story.title}", 256), colour=discord.Colour.dark_teal()
    )
    if not totals.per_emoji:
        embed.description = "No reactions yet. React to an excerpt of this story to leave feedback."
        return embed
    ranked = sorted(sections, key=lambda s: (-s.total, s.position))
    best = ranked[0]
    lines = [
        f"**Totals:** {feedback_text(totals)}",
        f"**Most reacted:** {_section_name(best.position, titles)} — {best.total} "
        f"reaction{'s' if best.total != 1 else ''}",
    ]
    embed.description = "\n".join(lines)
    for rank, section in enumerate(ranked[:FEEDBACK_SECTIONS_SHOWN]):
        marker = "★ " if rank == 0 else ""
        counts = " · ".join(f"{item.emoji} {item.count}" for item in section.per_emoji[:10])
        readers = f"{section.readers} reader{'s' if section.readers != 1 else ''}"
        embed.add_field(
            name=truncate(marker + _section_name(section.position, titles), 250),
            value=truncate(f"{counts} ({readers})", 250),
            inline=False,
        )
    if len(ranked) > FEEDBACK_SECTIONS_SHOWN:
        rest = len(ranked) - FEEDBACK_SECTIONS_SHOWN
        embed.set_footer(text=f"…and {rest} more sections with reactions: see the chart.")
    return embed


def _section_name(position: int, titles: dict[int, str]) -> str:
    title = titles.get(position)
    if title is None:
        return f"{position} · (no longer in the story)"
    return section_label(position, title)


PREVIEW_SECTIONS_SHOWN = 5


def preview_embed(parsed: ParsedStory) -> discord.Embed:
    """What an upload would add: details, sections, words, and what the parser guessed."""
    embed = discord.Embed(title=truncate(parsed.title, 256), colour=discord.Colour.gold())
    embed.add_field(name="Author", value=truncate(parsed.author or "(unknown)", 200), inline=True)
    rating = parsed.rating
    embed.add_field(name="Rating", value=f"{rating.label} → {rating.level.display}", inline=True)
    embed.add_field(
        name="Length",
        value=f"{len(parsed.sections)} sections · {parsed.words:,} words",
        inline=True,
    )
    for key, value in list(parsed.metadata.items())[:12]:
        embed.add_field(
            name=truncate(key.replace("_", " ").capitalize(), 60),
            value=truncate(escape_inline(value), 300) or "—",
            inline=False,
        )
    shown = [
        section_label(number, section.title)
        for number, section in enumerate(parsed.sections[:PREVIEW_SECTIONS_SHOWN], start=1)
    ]
    if len(parsed.sections) > PREVIEW_SECTIONS_SHOWN:
        shown.append(f"…and {len(parsed.sections) - PREVIEW_SECTIONS_SHOWN} more")
    embed.add_field(name="Sections", value="\n".join(escape_inline(s) for s in shown), inline=False)
    if parsed.warnings:
        embed.add_field(
            name="Please check",
            value=truncate("\n".join(f"• {w}" for w in parsed.warnings), 1000),
            inline=False,
        )
    return embed


def settings_embed(settings: GuildSettings) -> discord.Embed:
    embed = discord.Embed(title="Storyshelf settings", colour=discord.Colour.dark_teal())
    embed.add_field(name="Feedback emoji", value=" ".join(settings.feedback_emoji), inline=False)
    embed.add_field(
        name="Highest rating outside age-restricted channels",
        value=f"{settings.max_rating.display} "
        "(Explicit and Not Rated: age-restricted channels only)",
        inline=False,
    )
    return embed
