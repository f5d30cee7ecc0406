from __future__ import annotations

import sqlite3

from bot.db.connection import latest_version
from tests.support import restart


def _command_syncs(env) -> list:
    return [
        entry for entry in env.http_requests if entry.method == "PUT" and "/commands" in entry.path
    ]


async def test_help_answers_through_the_real_bot(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    reader = guild.add_member(simcord_env.create_user("reader"))

    result = await reader.slash(channel, "help")

    assert result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title == "Storyshelf"
    text = " ".join(field.value for field in embed.fields)
    assert "/read" in text and "/library add" in text


async def test_second_start_on_same_database_does_not_sync_again(simcord_env, settings):
    assert len(_command_syncs(simcord_env)) == 1

    await restart(simcord_env, settings)

    assert len(_command_syncs(simcord_env)) == 1
    assert simcord_env.bot.synced_commands is False
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    reader = guild.add_member(simcord_env.create_user("reader"))
    result = await reader.slash(channel, "help")
    assert result.response.embeds[0].title == "Storyshelf"
    with sqlite3.connect(settings.database_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()
