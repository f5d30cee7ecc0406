"""Storyshelf: a Discord bot for reading communities — the application.

`settings.py` (configuration), `client.py` (the bot class: builds the services and
loads the cogs), `tree.py` (errors become replies), `services/` (the product's
behaviour, Discord-free), `db/` (all SQL), `parsing/` (story files in, `ParsedStory`
out), `render/` (story text as spoilered pages and snippets), `cards.py` and
`faults.py` (the only Discord message builders outside the cogs), `story.py` (the
domain: ratings, sections), `chart.py` (the feedback chart).
"""

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
