"""What one process remembers about a server follows changes made by any other.

Each "other process" here is a connection of its own on the same database (the
SQLite file, or the PostgreSQL database on that pass), as another shard group or the
command line would have: the bot is never told.
"""

from __future__ import annotations

from bot.story import RatingLevel
from tests.support import execute, make_story, query, shelve, spoiler_text


def _versions(settings, guild_id: int) -> tuple[int, int]:
    rows = query(
        settings, "SELECT shelf, settings FROM guild_versions WHERE guild_id = ?", guild_id
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)


def test_every_change_a_cache_depends_on_bumps_its_counter(settings):
    stored = shelve(settings, 5, make_story("Tea at Five"))
    assert _versions(settings, 5) == (1, 0)
    execute(settings, "UPDATE stories SET title = 'Tea at Six' WHERE id = ?", stored.id)
    assert _versions(settings, 5) == (2, 0)
    execute(settings, "UPDATE stories SET rating_level = 'mature' WHERE id = ?", stored.id)
    assert _versions(settings, 5) == (3, 0)
    # What no cache holds (a summary) leaves the counter alone.
    execute(settings, "UPDATE stories SET summary = 'new' WHERE id = ?", stored.id)
    assert _versions(settings, 5) == (3, 0)
    execute(settings, "UPDATE stories SET guild_id = 6 WHERE id = ?", stored.id)
    assert _versions(settings, 5) == (4, 0) and _versions(settings, 6) == (1, 0)
    execute(settings, "DELETE FROM stories WHERE id = ?", stored.id)
    assert _versions(settings, 6) == (2, 0)
    execute(settings, "INSERT INTO guild_settings (guild_id, max_rating) VALUES (5, 'general')")
    execute(settings, "UPDATE guild_settings SET moderator_notes = 'hi' WHERE guild_id = 5")
    assert _versions(settings, 5) == (4, 2)
    execute(settings, "DELETE FROM guild_settings WHERE guild_id = 5")
    assert _versions(settings, 5) == (4, 3)
    assert _versions(settings, 7) == (0, 0)  # a server never changed has no row


async def test_a_rating_lowered_in_another_process_is_enforced_at_once(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Grown Up", level=RatingLevel.MATURE))
    await env.bot.guild_settings.update(guild.id, max_rating=RatingLevel.MATURE)
    allowed = await reader.slash(general, "read", title="Grown Up")
    assert "The kettle sang" in spoiler_text(allowed.response.content)

    execute(settings, "UPDATE guild_settings SET max_rating = 'teen' WHERE guild_id = ?", guild.id)

    refused = await reader.slash(general, "read", title="Grown Up")
    assert refused.ephemeral
    assert "This server posts stories up to Teen outside age-restricted channels" in (
        refused.response.content
    )
    assert "The kettle sang" not in refused.response.content


async def test_title_autocomplete_follows_another_process(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    first = shelve(settings, guild.id, make_story("Tea at Five"))

    async def titles(typed: str) -> list[str]:
        result = await reader.autocomplete(general, "read", "title", typed)
        return [choice["name"] for choice in result]

    assert await titles("tea") == ["Tea at Five"]
    assert await titles("tea") == ["Tea at Five"]  # kept: the shelf did not change

    shelve(settings, guild.id, make_story("Tea for Two"))
    assert await titles("tea") == ["Tea at Five", "Tea for Two"]

    execute(
        settings,
        "UPDATE stories SET title = 'Coffee at Five', title_key = 'coffee at five' WHERE id = ?",
        first.id,
    )
    assert await titles("tea") == ["Tea for Two"]
    execute(settings, "UPDATE stories SET rating_level = 'explicit' WHERE title = 'Tea for Two'")
    assert await titles("tea") == []  # no longer shown in an ordinary channel
    assert await titles("co") == ["Coffee at Five"]
    execute(settings, "DELETE FROM stories WHERE id = ?", first.id)
    assert await titles("co") == []
