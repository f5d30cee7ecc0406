"""The command tree: one place where command errors become replies."""

from __future__ import annotations

import logging
import math

import discord
from discord import app_commands

from bot.db.connection import is_busy
from bot.errors import UserFacingError
from bot.story import StoryFileError

__all__ = ("BUSY_REPLY", "GENERIC_APOLOGY", "StoryshelfTree", "send_ephemeral")

log = logging.getLogger(__name__)

GENERIC_APOLOGY = "Sorry, something went wrong on our side. The error was logged; please try again."
BUSY_REPLY = (
    "The shelf is busy right now (another process is writing to it). "
    "Nothing was changed; please try again in a moment."
)
# Discord's "Unknown interaction": the 3 s to answer passed, or it was answered elsewhere.
UNKNOWN_INTERACTION = 10062


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Reply privately, as a follow-up when the interaction was already answered.

    Never raises: a reply that cannot be delivered is logged, not thrown back
    into the event loop.
    """
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await interaction.response.send_message(
                content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except (discord.HTTPException, discord.InteractionResponded) as error:
        # The interaction may have expired, or been answered meanwhile; either
        # way there is no one left to tell.
        log.warning(
            "could not send a reply to interaction %s: %s", interaction.id, _describe(error)
        )
    except Exception:
        # This is the last stop for an error: raising from here would only reach
        # the event loop's "exception never retrieved" log, without context.
        log.exception("could not send a reply to interaction %s", interaction.id)


def _describe(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"{error.status} {error.text or type(error).__name__} (code {error.code})"
    return str(error) or type(error).__name__


def _where(interaction: discord.Interaction) -> str:
    """What the user was doing, for the log: a command, or a button's custom id."""
    if interaction.command is not None:
        return f"command {interaction.command.qualified_name}"
    custom_id = (interaction.data or {}).get("custom_id")
    return f"component {custom_id}" if custom_id else f"interaction {interaction.id}"


class StoryshelfTree(app_commands.CommandTree["Storyshelf"]):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        where = _where(interaction)
        if isinstance(original, UserFacingError):
            message = original.message
        elif isinstance(original, StoryFileError):
            message = str(original)
        elif is_busy(original):
            # Expected when another process (an import, a backup) holds the write
            # lock past the busy timeout: the statement did not run, nothing changed.
            log.warning("%s: the database is busy (%s); asked the user to retry", where, original)
            message = BUSY_REPLY
        elif isinstance(original, discord.NotFound) and original.code == UNKNOWN_INTERACTION:
            # Too late to answer this one at all: any reply would fail the same way.
            log.warning("%s: the interaction expired before it was answered", where)
            return
        elif isinstance(error, app_commands.CommandOnCooldown):
            seconds = max(1, math.ceil(error.retry_after))
            name = f" with /{interaction.command.qualified_name}" if interaction.command else ""
            message = (
                f"Slow down a little{name}: try again in {seconds} "
                f"second{'s' if seconds != 1 else ''}."
            )
        elif isinstance(error, app_commands.NoPrivateMessage):
            message = "This command works in a server, not in direct messages."
        elif isinstance(error, app_commands.MissingPermissions):
            message = "You need the Manage Messages permission for that."
        elif isinstance(error, app_commands.CheckFailure):
            message = "You can't use this command here."
        else:
            log.error("%s failed", where, exc_info=original)
            message = GENERIC_APOLOGY
        await send_ephemeral(interaction, message)
