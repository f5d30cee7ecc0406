"""Storyshelf: a Discord bot for reading communities."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.client import Storyshelf
    from bot.settings import Settings

__all__ = ("create_bot",)


def create_bot(settings: Settings) -> Storyshelf:
    """Build the bot (see `bot.client.create_bot`); imported lazily so the parser
    and the command line do not pay for importing discord.py."""
    from bot.client import create_bot as _create_bot

    return _create_bot(settings)
