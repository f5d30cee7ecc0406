"""Syncing application commands with Discord only when they changed, per application and scope.

What was last sent is recorded in `bot_meta`, keyed by the application id and
the scope (`global` or a guild id): reusing a database with another
application (a test bot, a new token from another app) syncs that
application's commands instead of believing they are already there.

Guild copies (`DEV_GUILD_ID`, `python -m bot sync --guild`) are recorded too,
so that when the configuration no longer names a guild its copy is cleared
(an empty list sent once): otherwise every command would show twice in the
development server, once global and once from the stale guild copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import TYPE_CHECKING

import discord

from bot.db import meta

if TYPE_CHECKING:
    import aiosqlite
    from discord import app_commands

__all__ = ("command_digest", "guild_copies", "sync_commands")

log = logging.getLogger(__name__)


def _hash_key(application_id: int, scope: int | None) -> str:
    return f"command_hash:{application_id}:{scope if scope is not None else 'global'}"


def _copies_key(application_id: int) -> str:
    return f"command_guild_copies:{application_id}"


def command_digest(tree: app_commands.CommandTree, guild_id: int | None) -> str:
    """A hash of exactly what `tree.sync` would send for that scope."""
    guild = discord.Object(guild_id) if guild_id is not None else None
    payload = sorted(
        (command.to_dict(tree) for command in tree.get_commands(guild=guild)),
        key=lambda data: str(data["name"]),
    )
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def guild_copies(db: aiosqlite.Connection, application_id: int) -> set[int]:
    """Guilds holding a copy of this application's commands sent by this bot."""
    stored = await meta.get(db, _copies_key(application_id)) or ""
    return {int(part) for part in stored.split(",") if part.strip().isdigit()}


async def _store_copies(db: aiosqlite.Connection, application_id: int, guilds: set[int]) -> None:
    await meta.put(db, _copies_key(application_id), ",".join(str(g) for g in sorted(guilds)))


async def sync_commands(
    tree: app_commands.CommandTree,
    db: aiosqlite.Connection,
    *,
    application_id: int,
    dev_guild_id: int | None,
    force: bool = False,
    clear_stale: bool = True,
) -> bool:
    """Send the tree's commands to Discord when they changed (or `force`); True if sent.

    With `dev_guild_id` the global commands are copied to that guild and sent
    there (they show at once); without it they are sent globally. With
    `clear_stale`, guild copies recorded earlier for this application in
    other guilds are cleared. `python -m bot sync --guild` passes False: one
    extra guild copy is asked for, the configured ones stay.
    """
    copies = await guild_copies(db, application_id)
    cleared = await _clear_copies(tree, db, application_id, copies - {dev_guild_id}, clear_stale)
    copies -= cleared

    guild = discord.Object(dev_guild_id) if dev_guild_id is not None else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    key = _hash_key(application_id, dev_guild_id)
    digest = command_digest(tree, dev_guild_id)
    if not force and await meta.get(db, key) == digest:
        log.info("application commands unchanged (%s); not syncing", _scope(dev_guild_id))
        if cleared:
            await _store_copies(db, application_id, copies)
        return bool(cleared)

    await tree.sync(guild=guild)
    await meta.put(db, key, digest)
    if dev_guild_id is not None:
        copies.add(dev_guild_id)
    if dev_guild_id is not None or cleared:
        await _store_copies(db, application_id, copies)
    log.info(
        "application commands synced (%s, application %d)", _scope(dev_guild_id), application_id
    )
    return True


async def _clear_copies(
    tree: app_commands.CommandTree,
    db: aiosqlite.Connection,
    application_id: int,
    stale: set[int],
    enabled: bool,
) -> set[int]:
    """Send an empty command list to each stale guild; the guilds whose copy is gone."""
    if not enabled:
        return set()
    cleared: set[int] = set()
    for guild_id in sorted(stale):
        guild = discord.Object(guild_id)
        # What the tree holds for that guild is only ever a copy of the global
        # commands (this bot defines no guild-specific ones): drop it, send [].
        tree.clear_commands(guild=guild)
        try:
            await tree.sync(guild=guild)
        except (discord.Forbidden, discord.NotFound):
            # The bot left that server or lost access: nothing there to clear for us.
            log.warning(
                "could not clear the command copy in guild %d (no access); forgot it", guild_id
            )
        except discord.HTTPException as error:
            log.warning(
                "could not clear the command copy in guild %d (%s); will try at next start",
                guild_id,
                error.status,
            )
            continue
        else:
            log.info("cleared the development copy of the commands in guild %d", guild_id)
        await meta.delete(db, _hash_key(application_id, guild_id))
        cleared.add(guild_id)
    return cleared


def _scope(guild_id: int | None) -> str:
    return "global" if guild_id is None else f"guild {guild_id}"
