"""Reader commands: /stories, /story, /read, /excerpt, /search."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import readable_title, section_of_title
from bot.story import RatingLevel

if TYPE_CHECKING:
    from bot.client import Storyshelf

RATING_CHOICES = [
    app_commands.Choice(name=level.display, value=level.value) for level in RatingLevel
]
NONE = discord.AllowedMentions.none()


def _reader_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown:
    rate, per = interaction.client.settings.command_cooldown  # type: ignore[attr-defined]
    return app_commands.Cooldown(rate, per)


def per_user_cooldown():
    """A fresh cooldown for one command: each of /read, /excerpt and /search has its
    own budget per user, sized by COMMAND_COOLDOWN. The tree turns a refusal into a
    private message with the wait."""
    return app_commands.checks.dynamic_cooldown(
        _reader_cooldown, key=lambda interaction: interaction.user.id
    )


@app_commands.guild_only()
class Reading(commands.Cog):
    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot

    @app_commands.command(name="stories", description="Browse this server's shelf")
    @app_commands.describe(query="Words from the title", rating="Only stories with this rating")
    @app_commands.choices(rating=RATING_CHOICES)
    async def stories(
        self,
        interaction: discord.Interaction,
        query: str | None = None,
        rating: app_commands.Choice[str] | None = None,
    ) -> None:
        embed, view = await self.bot.reader.shelf_view(
            interaction, 0, rating.value if rating else "", (query or "").strip()
        )
        kwargs = {"view": view} if view else {}
        await interaction.response.send_message(embed=embed, allowed_mentions=NONE, **kwargs)

    @app_commands.command(name="story", description="A story's card: details, sections, feedback")
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=readable_title)
    async def story(self, interaction: discord.Interaction, title: str) -> None:
        await self.bot.reader.card(interaction, title)

    @per_user_cooldown()
    @app_commands.command(name="read", description="Read a section of a story, behind spoiler tags")
    @app_commands.describe(
        title="The story", section="Section number (default 1)", page="Page of the section"
    )
    @app_commands.autocomplete(title=readable_title, section=section_of_title)
    async def read(
        self,
        interaction: discord.Interaction,
        title: str,
        section: app_commands.Range[int, 1] = 1,
        page: app_commands.Range[int, 1] = 1,
    ) -> None:
        await self.bot.reader.read(interaction, title, section, page)

    @per_user_cooldown()
    @app_commands.command(name="excerpt", description="A short random passage, behind spoiler tags")
    @app_commands.describe(title="From this story (default: any story allowed here)")
    @app_commands.autocomplete(title=readable_title)
    async def excerpt(self, interaction: discord.Interaction, title: str | None = None) -> None:
        await self.bot.reader.excerpt(interaction, title)

    @per_user_cooldown()
    @app_commands.command(name="search", description="Find words in this server's stories")
    @app_commands.describe(query="Words to find", title="Only in this story")
    @app_commands.autocomplete(title=readable_title)
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        title: str | None = None,
    ) -> None:
        await self.bot.reader.search(interaction, query, title)


async def setup(bot: Storyshelf) -> None:
    await bot.add_cog(Reading(bot))
