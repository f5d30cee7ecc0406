"""Per-server settings: feedback emoji, the rating allowed outside age-restricted channels."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

from bot.db.audit import record
from bot.db.connection import transaction
from bot.db.versions import GuildVersions
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
    audit: tuple[int | None, str] | None = None,
) -> None:
    """Change the given settings; the ones passed as None stay as they are.

    `audit` (who, what changed) is logged in the same transaction.
    """
    async with transaction(db):
        if audit is not None:
            await record(db, guild_id, audit[0], "settings", detail=audit[1])
        await db.execute(
            "INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING", (guild_id,)
        )
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


class GuildSettingsStore:
    """Settings by server, kept in memory while they are current.

    Every command checks the rating gate, so this saves a database round trip
    on each of them. With `versions` (the bot's), each use first compares the
    server's settings counter: a change made in another process (another shard
    group, the command line) is seen by the next command, not after a restart.
    A change made with `update` takes effect at once either way.
    """

    def __init__(self, db: aiosqlite.Connection, *, versions: GuildVersions | None = None) -> None:
        self.db = db
        self.versions = versions
        self._cache: dict[int, tuple[int, GuildSettings]] = {}

    async def get(self, guild_id: int) -> GuildSettings:
        version = (await self.versions.get(guild_id)).settings if self.versions else 0
        cached = self._cache.get(guild_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        # Read after the counter: what is read is at least as new as `version`.
        settings = await get_guild_settings(self.db, guild_id)
        self._cache[guild_id] = (version, settings)
        return settings

    async def update(
        self,
        guild_id: int,
        *,
        max_rating: RatingLevel | None = None,
        feedback_emoji: Sequence[str] | None = None,
        moderator_notes: str | None = None,
        audit: tuple[int | None, str] | None = None,
    ) -> GuildSettings:
        self._cache.pop(guild_id, None)
        await update_guild_settings(
            self.db,
            guild_id,
            max_rating=max_rating,
            feedback_emoji=feedback_emoji,
            moderator_notes=moderator_notes,
            audit=audit,
        )
        return await self.get(guild_id)
