"""/library: moderators add, edit, replace, remove and export stories, and change settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import any_title
from bot.gate import MAX_RATING_CHOICES

if TYPE_CHECKING:
    from bot.client import Storyshelf

MAX_RATING = [
    app_commands.Choice(name=level.display, value=level.value) for level in MAX_RATING_CHOICES
]


@app_commands.guild_only()
@app_commands.default_permissions(manage_messages=True)
class Library(
    commands.GroupCog, group_name="library", group_description="Manage this server's shelf"
):
    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add", description="Upload a story file; preview, then confirm")
    @app_commands.describe(
        file="The story: .txt, .md or an AO3 .html download",
        title="Use this title instead of the file's",
        rating="Use this rating instead of the file's (General, Teen, Mature, Explicit…)",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        title: app_commands.Range[str, 1, 200] | None = None,
        rating: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        await self.bot.librarian.add(interaction, file, title, rating)

    @app_commands.command(
        name="edit", description="Correct a story's title, author, rating, summary, notes"
    )
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=any_title)
    async def edit(self, interaction: discord.Interaction, title: str) -> None:
        await self.bot.librarian.edit(interaction, title)

    @app_commands.command(name="replace", description="Upload a new version of a story's text")
    @app_commands.describe(title="The story", file="The new version")
    @app_commands.autocomplete(title=any_title)
    async def replace(
        self, interaction: discord.Interaction, title: str, file: discord.Attachment
    ) -> None:
        await self.bot.librarian.replace(interaction, title, file)

    @app_commands.command(name="remove", description="Remove a story (you get an export first)")
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=any_title)
    async def remove(self, interaction: discord.Interaction, title: str) -> None:
        await self.bot.librarian.remove(interaction, title)

    @app_commands.command(
        name="export", description="A story as a text file, and its feedback as CSV"
    )
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=any_title)
    async def export(self, interaction: discord.Interaction, title: str) -> None:
        await self.bot.librarian.export(interaction, title)

    @app_commands.command(name="settings", description="Show or change this server's settings")
    @app_commands.describe(
        emoji="Feedback emoji added to every excerpt, separated by spaces (at most 5)",
        max_rating="Highest rating posted outside age-restricted channels",
    )
    @app_commands.choices(max_rating=MAX_RATING)
    async def settings(
        self,
        interaction: discord.Interaction,
        emoji: str | None = None,
        max_rating: app_commands.Choice[str] | None = None,
    ) -> None:
        await self.bot.librarian.settings(
            interaction, emoji, max_rating.value if max_rating else None
        )


async def setup(bot: Storyshelf) -> None:
    await bot.add_cog(Library(bot))
