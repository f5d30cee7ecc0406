from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import discord
import pytest
import pytest_asyncio
from discord import app_commands
from simcord import Env

from bot import create_bot
from bot.db.connection import is_busy
from bot.errors import UserFacingError
from bot.settings import Settings
from bot.story import StoryFileError
from tests import pg

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SAMPLE = CORPUS / "a_week_in_the_life.txt"


def corpus_file(name: str) -> Path:
    """A file from ../shared/corpus, or skip the test when the corpus is absent."""
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} not available")
    return path


@pytest.fixture(autouse=True)
def no_developer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests (and the bot processes they start) never read a developer's real `.env`."""
    monkeypatch.setenv("STORYSHELF_ENV_FILE", os.devnull)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[bool]:
    """With TEST_DATABASE_URL, the migrated template every test's database copies."""
    if not pg.enabled():
        yield False
        return
    pg.prepare_template()
    try:
        yield True
    finally:
        pg.drop_template()


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test, or None (SQLite) without TEST_DATABASE_URL."""
    if not pg.enabled():
        yield None
        return
    request.getfixturevalue("pg_template")
    name = pg.create_database()
    try:
        yield pg.with_database(pg.TEST_DATABASE_URL or "", name)
    finally:
        pg.drop_database(name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        token=None,
        database_path=tmp_path / "storyshelf.db",
        database_url=database_url,
        shard_count=1,
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, tests of SQLite itself (its files, locks, pragmas) skip."""
    if not pg.enabled():
        return
    skip = pytest.mark.skip(reason="about SQLite itself; this is the PostgreSQL pass")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture
def simcord_bot(settings: Settings):
    return create_bot(settings)


# Errors the bot answers on purpose with a short message to the user: the tree's
# error handler turning them into replies is the design, not a failure.
EXPECTED_ERRORS = (UserFacingError, StoryFileError, app_commands.CheckFailure)


def _expected(error: BaseException, *, discord_faults: bool = False) -> bool:
    """Answered by design: a user-facing error, or a busy database ("try again").

    With `discord_faults` (tests that make Discord fail on purpose, marked
    `@pytest.mark.discord_faults`), a Discord HTTP error is expected too.
    """
    original = getattr(error, "original", error)
    if isinstance(original, EXPECTED_ERRORS) or is_busy(original):
        return True
    return discord_faults and isinstance(original, discord.HTTPException)


@pytest_asyncio.fixture
async def simcord_env(simcord_bot, request):
    """SimCord's own fixture, failing the test on any error the bot did not mean to answer."""
    marker = request.node.get_closest_marker("simcord")
    options = dict(marker.kwargs) if marker else {}
    env = Env(simcord_bot, **{**options, "check_errors": False})
    await env.start()
    try:
        yield env
    finally:
        await env.shutdown()
        faults = request.node.get_closest_marker("discord_faults") is not None
        unexpected = [e for e in env.errors if not _expected(e, discord_faults=faults)]
        if unexpected:
            raise ExceptionGroup(f"bot raised {len(unexpected)} unexpected error(s)", unexpected)
        await env.bot.close_resources()


@pytest.fixture
def reading_world(simcord_env):
    """A server with an ordinary and an age-restricted channel, and one reader."""
    from tests.support import set_nsfw

    env = simcord_env
    guild = env.create_guild(name="Book Club")
    general = guild.create_text_channel("general")
    lounge = guild.create_text_channel("after-dark")
    set_nsfw(env, lounge)
    reader = guild.add_member(env.create_user("reader"))
    return env, guild, general, lounge, reader
