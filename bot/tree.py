"""The command tree: one place where command, button and form errors become replies."""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.db.connection import is_busy
from bot.errors import RatingRefused, UserFacingError
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

ErrorView = Callable[[Any], discord.ui.View | None]


async def send_ephemeral(
    interaction: discord.Interaction, content: str, view: discord.ui.View | None = None
) -> None:
    """Reply privately, as a follow-up when the interaction was already answered.

    Never raises: a reply that cannot be delivered is logged, not thrown back
    into the event loop.
    """
    extra: dict[str, Any] = {"view": view} if view is not None else {}
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True, **extra)
        else:
            await interaction.response.send_message(content, ephemeral=True, **extra)
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
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = data.get("custom_id")
    return f"component {custom_id}" if custom_id else f"interaction {interaction.id}"


def _is_disk_full(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and (
        getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        or "database or disk is full" in str(error)
    )


def _nsfw_channels(interaction: discord.Interaction, limit: int = 5) -> list[str]:
    """Age-restricted channels of this server the asker can see, as mentions."""
    guild, member = interaction.guild, interaction.user
    if guild is None:
        return []
    found = []
    for channel in guild.text_channels:
        if not channel.is_nsfw():
            continue
        if isinstance(member, discord.Member) and not channel.permissions_for(member).view_channel:
            continue
        found.append(channel.mention)
        if len(found) == limit:
            break
    return found


class StoryshelfTree(app_commands.CommandTree[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Buttons to offer with an expected error (e.g. "did you mean" for an unknown
        # title), registered by the cog that owns the buttons.
        self.error_views: dict[type[Exception], ErrorView] = {}

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError | Exception
    ) -> None:
        original = getattr(error, "original", error)
        where = _where(interaction)
        view = None
        if isinstance(original, RatingRefused):
            message = original.with_channels(_nsfw_channels(interaction))
        elif isinstance(original, UserFacingError):
            message = original.message
            factory = self.error_views.get(type(original))
            view = factory(original) if factory else None
        elif isinstance(original, StoryFileError):
            message = str(original)
        elif is_busy(original):
            # Expected when another process (an import, a backup) holds the write
            # lock past the busy timeout: the statement did not run, nothing changed.
            log.warning("%s: the database is busy (%s); asked the user to retry", where, original)
            message = BUSY_REPLY
        elif _is_disk_full(original):
            log.error("%s: the disk is full (%s)", where, original)
            message = (
                "The bot's disk is full, so nothing could be saved. Nothing was changed; "
                "please tell the bot's owner."
            )
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
        elif isinstance(original, app_commands.NoPrivateMessage):
            message = "Storyshelf works in a server, not in direct messages."
        elif isinstance(error, app_commands.MissingPermissions):
            message = "You need the Manage Messages permission for that."
        elif isinstance(error, app_commands.CheckFailure):
            message = "You can't use this command here."
        else:
            log.error("%s failed", where, exc_info=original)
            message = GENERIC_APOLOGY
        await send_ephemeral(interaction, message, view)
