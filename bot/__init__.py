"""Storyshelf: a Discord bot for reading communities — the application.

`settings.py` (configuration), `client.py` (the bot class: builds the services and
loads the cogs), `tree.py` (errors become replies), `services/` (the product's
behaviour, Discord-free), `db/` (all SQL), `parsing/` (story files in, `ParsedStory`
out), `render/` (story text as spoilered pages and snippets), `cards.py`, `faults.py`
and `help_text.py` (the Discord message builders outside the cogs), `command_sync.py`
(sending the command tree to Discord), `demo.py` (the browser demo), `story.py` (the
domain: ratings, sections), `chart.py` (the feedback chart). Nothing else here imports
`discord`.
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
