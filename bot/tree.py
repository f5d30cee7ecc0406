"""The command tree: one place where command errors become replies."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.story import StoryFileError

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

GENERIC_APOLOGY = "Sorry, something went wrong on our side. The error was logged; please try again."


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Reply privately, as a follow-up when the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await interaction.response.send_message(
                content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except discord.HTTPException:
        # The interaction may have expired; there is no one left to tell.
        log.warning("could not send a reply to interaction %s", interaction.id, exc_info=True)


class StoryshelfTree(app_commands.CommandTree["Storyshelf"]):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        if isinstance(original, UserFacingError):
            message = original.message
        elif isinstance(original, StoryFileError):
            message = str(original)
        elif isinstance(error, app_commands.CommandOnCooldown):
            message = f"Slow down a little: try again in {error.retry_after:.0f} s."
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = "This command works in a server, not in direct messages."
        elif isinstance(error, app_commands.MissingPermissions):
            message = "You need the Manage Messages permission for that."
        elif isinstance(error, app_commands.CheckFailure):
            message = "You can't use this command here."
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command %s failed", command, exc_info=original)
            message = GENERIC_APOLOGY
        await send_ephemeral(interaction, message)
