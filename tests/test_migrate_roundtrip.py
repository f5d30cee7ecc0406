"""`python -m bot migrate`, end to end: readers get the same answers after the move.

The bot runs on a SQLite shelf (the reference story, excerpts read, reactions given),
is stopped, the shelf is copied into PostgreSQL, and the bot starts again on it: the
same /read, /search (the hits and the marked words; the snippet's window is cut by each
backend's own function) and /feedback answers, and the buttons of excerpts posted
before the move still work. Runs on the PostgreSQL pass (TEST_DATABASE_URL).
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot import create_bot
from bot.db.transfer import copy_shelf
from tests import pg
from tests.conftest import corpus_file
from tests.support import set_nsfw, shelve

pytestmark = pytest.mark.skipif(not pg.enabled(), reason="needs PostgreSQL (TEST_DATABASE_URL)")

TITLE = "A Week in the Life"


@pytest.fixture
def settings(settings):
    """The bot starts on SQLite; the test's PostgreSQL database is the target."""
    return dataclasses.replace(settings, database_url=None)


def _embed(result):
    """The feedback card: the reply itself, or its follow-up when the chart took a moment."""
    return (result.followups[-1] if result.followups else result.response).embeds[0]


async def _answers(reader, lounge) -> dict[str, object]:
    read = await reader.slash(lounge, "read", title=TITLE, section=3, private=True)
    search = (await reader.slash(lounge, "search", query="Myfanwy")).response.content
    embed = _embed(await reader.slash(lounge, "feedback", title=TITLE))
    return {
        "read": read.response.content,
        # The hits, and the word marked in each snippet. The words around it differ:
        # FTS5's snippet() centres the match in its window, ts_headline starts near it.
        "search hits": [line for line in search.splitlines() if line.startswith("**")],
        "search marks": [
            re.findall(r"(?<!\*)\*\*(\w+)\*\*", line)
            for line in search.splitlines()
            if line.startswith("||")
        ],
        "feedback": (embed.description, [(f.name, f.value) for f in embed.fields]),
    }


async def test_readers_get_the_same_answers_after_migrating(reading_world, settings, database_url):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, corpus_file("a_week_in_the_life.txt"))
    posted = await reader.slash(lounge, "read", title=TITLE)
    for n, emoji in enumerate(["❤️", "😂", "❤️", "🔥"]):
        await guild.add_member(env.create_user(f"fan{n}")).react(posted.response.message, emoji)
    await env.bot.feedback.tick()
    before = await _answers(reader, lounge)
    assert "❤️ 2" in str(before["feedback"])  # the reactions are in what is compared
    assert before["search marks"] == [["Myfanwy"]]
    await env.bot.close_resources()

    report = await copy_shelf(settings.database_path, database_url)
    assert "verified" in report.summary()
    await env.restart_bot(create_bot(dataclasses.replace(settings, database_url=database_url)))
    set_nsfw(env, lounge)  # the new bot's cache: SimCord does not model the flag

    assert await _answers(reader, lounge) == before
    # An excerpt posted before the move: its buttons and its reactions carry on.
    pressed = await reader.click(posted.response.message, label="Next section ⏭")
    assert not pressed.ephemeral
    await guild.add_member(env.create_user("late")).react(posted.response.message, "🔥")
    await env.bot.feedback.tick()
    after = _embed(await reader.slash(lounge, "feedback", title=TITLE))
    assert "🔥 2" in after.description
