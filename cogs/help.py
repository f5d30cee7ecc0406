"""/help: what the bot does and how to use it, with this server's moderator notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.help_text import help_embed

if TYPE_CHECKING:
    from bot.client import Storyshelf


class Help(commands.Cog):
    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Storyshelf does and how to use it")
    async def help(self, interaction: discord.Interaction) -> None:
        notes = None
        if interaction.guild_id is not None:
            notes = (await self.bot.guild_settings.get(interaction.guild_id)).moderator_notes
        await interaction.response.send_message(embed=help_embed(notes), ephemeral=True)


async def setup(bot: Storyshelf) -> None:
    await bot.add_cog(Help(bot))
