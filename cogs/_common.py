"""What the cogs share at the Discord boundary: where a request comes from, title
autocomplete, and error replies for buttons and forms.

Not an extension (the leading underscore keeps it out of `extension_names`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.render import escape_inline, truncate
from bot.services.reading import Place

if TYPE_CHECKING:
    from bot.client import Storyshelf
    from bot.db.stories import TitleChoice

__all__ = (
    "answering_errors",
    "every_title",
    "is_private",
    "owns_message",
    "place_of",
    "readable_title",
    "shown_title",
    "title_choice",
)

# Discord caps autocomplete names and values at 100 characters.
CHOICE_LIMIT = 100


def channel_is_nsfw(channel: object) -> bool:
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False


def place_of(interaction: discord.Interaction) -> Place:
    """The server, the channel's age restriction, and the asker: all a service needs."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return Place(
        guild_id=interaction.guild_id,
        nsfw=channel_is_nsfw(interaction.channel),
        user_id=interaction.user.id,
    )


def owns_message(interaction: discord.Interaction) -> bool:
    """Is the presser the member this message was made for? A private (ephemeral)
    message is only ever seen by its owner; a post the bot made on its own (a reading
    club's) belongs to nobody, so every press on it gives a private copy."""
    message = interaction.message
    if message is None or message.flags.ephemeral:
        return True
    metadata = message.interaction_metadata
    return metadata is not None and metadata.user.id == interaction.user.id


def is_private(interaction: discord.Interaction) -> bool:
    message = interaction.message
    return message is not None and message.flags.ephemeral


def title_choice(choice: TitleChoice) -> app_commands.Choice[str]:
    # A title longer than a choice may be travels clipped with "…", and is found by
    # its start (see Reader.story).
    value = choice.title if len(choice.title) <= CHOICE_LIMIT else truncate(choice.title, 99)
    return app_commands.Choice(name=truncate(choice.title, CHOICE_LIMIT), value=value)


async def readable_title(
    interaction: discord.Interaction[Storyshelf], current: str
) -> list[app_commands.Choice[str]]:
    """Titles on this server's shelf that may be posted in this channel."""
    if interaction.guild_id is None:
        return []
    found = await interaction.client.reader.title_choices(place_of(interaction), current)
    return [title_choice(c) for c in found]


async def every_title(
    interaction: discord.Interaction[Storyshelf], current: str
) -> list[app_commands.Choice[str]]:
    """Every title on this server's shelf (moderators manage all of them)."""
    if interaction.guild_id is None:
        return []
    found = await interaction.client.reader.title_choices(
        place_of(interaction), current, every_rating=True
    )
    return [title_choice(c) for c in found]


async def answering_errors(interaction: discord.Interaction, action: Awaitable[None]) -> None:
    """Component and modal errors get the same replies as command errors (the tree's handler)."""
    try:
        await action
    except Exception as error:
        client: Any = interaction.client
        await client.tree.on_error(interaction, error)


def shown_title(title: str, limit: int = 80) -> str:
    return escape_inline(truncate(" ".join(title.split()), limit))
