"""Per-server settings: feedback emoji, the rating allowed outside age-restricted channels."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.db.connection import transaction
from bot.story import RatingLevel

__all__ = ("DEFAULT_FEEDBACK_EMOJI", "GuildSettings", "get_guild_settings", "update_guild_settings")

DEFAULT_FEEDBACK_EMOJI: tuple[str, ...] = ("❤️", "😂", "😮", "😢", "🔥")


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    max_rating: RatingLevel = RatingLevel.TEEN
    feedback_emoji: tuple[str, ...] = DEFAULT_FEEDBACK_EMOJI
    moderator_notes: str | None = None


async def get_guild_settings(db: aiosqlite.Connection, guild_id: int) -> GuildSettings:
    async with db.execute(
        "SELECT max_rating, feedback_emoji, moderator_notes FROM guild_settings WHERE guild_id = ?",
        (guild_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return GuildSettings(guild_id)
    emoji = tuple(json.loads(row[1])) if row[1] else DEFAULT_FEEDBACK_EMOJI
    return GuildSettings(guild_id, RatingLevel(row[0]), emoji, row[2])


async def update_guild_settings(
    db: aiosqlite.Connection,
    guild_id: int,
    *,
    max_rating: RatingLevel | None = None,
    feedback_emoji: Sequence[str] | None = None,
    moderator_notes: str | None = None,
) -> None:
    """Change the given settings; the ones passed as None stay as they are."""
    async with transaction(db):
        await db.execute("INSERT OR IGNORE INTO guild_settings (guild_id) VALUES (?)", (guild_id,))
        await db.execute(
            "UPDATE guild_settings SET max_rating = coalesce(?, max_rating),"
            " feedback_emoji = coalesce(?, feedback_emoji),"
            " moderator_notes = coalesce(?, moderator_notes) WHERE guild_id = ?",
            (
                max_rating.value if max_rating else None,
                json.dumps(list(feedback_emoji), ensure_ascii=False) if feedback_emoji else None,
                moderator_notes,
                guild_id,
            ),
        )
