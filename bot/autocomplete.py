"""Autocomplete callbacks for `title` and `section` options, backed by indexed queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.db import shelf
from bot.render import section_label, truncate

if TYPE_CHECKING:
    from bot.client import Storyshelf

__all__ = ("any_title", "readable_title", "section_of_title")


def _title_choice(choice: shelf.TitleChoice) -> app_commands.Choice[str]:
    # Discord caps names and values at 100 characters; a longer title goes by its id.
    value = choice.title if len(choice.title) <= 100 else f"#{choice.id}"
    return app_commands.Choice(name=truncate(choice.title, 100), value=value)


async def readable_title(
    interaction: discord.Interaction[Storyshelf], current: str
) -> list[app_commands.Choice[str]]:
    """Titles on this server's shelf that may be posted in this channel."""
    if interaction.guild_id is None:
        return []
    levels = await interaction.client.reader.levels_here(interaction)
    found = await shelf.autocomplete_titles(
        interaction.client.db, interaction.guild_id, current, levels
    )
    return [_title_choice(c) for c in found]


async def any_title(
    interaction: discord.Interaction[Storyshelf], current: str
) -> list[app_commands.Choice[str]]:
    """Every title on this server's shelf (moderators manage all of them)."""
    if interaction.guild_id is None:
        return []
    found = await shelf.autocomplete_titles(
        interaction.client.db, interaction.guild_id, current, None
    )
    return [_title_choice(c) for c in found]


async def section_of_title(
    interaction: discord.Interaction[Storyshelf], current: str
) -> list[app_commands.Choice[int]]:
    title = getattr(interaction.namespace, "title", None)
    if interaction.guild_id is None or not title:
        return []
    found = await shelf.autocomplete_sections(
        interaction.client.db, interaction.guild_id, str(title), str(current)
    )
    return [
        app_commands.Choice(name=section_label(s.position, s.title), value=s.position)
        for s in found
    ]
