"""Arrange helpers shared by the SimCord tests."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from bot import create_bot
from bot.db.connection import connect_sync
from bot.db.stories import StoredStory, insert_story
from bot.settings import Settings
from bot.story import ParsedStory, Rating, RatingLevel, Section

SPOILER = re.compile(r"\|\|(.*)\|\|", re.DOTALL)


def make_story(
    title: str = "Tea at Five",
    *,
    level: RatingLevel = RatingLevel.GENERAL,
    label: str | None = None,
    sections: list[tuple[str, str]] | None = None,
    author: str | None = "Tester",
    metadata: dict[str, str] | None = None,
) -> ParsedStory:
    sections = sections or [
        ("The kettle", "The kettle sang at five.\n\nNobody came."),
        ("The cups", "Two cups waited on the tray.\n\nThen the door opened."),
    ]
    return ParsedStory(
        title=title,
        author=author,
        rating=Rating(label or level.display, level),
        sections=tuple(Section(t, body) for t, body in sections),
        metadata=dict(metadata or {}),
    )


def shelve(settings: Settings, guild_id: int, story: ParsedStory | Path) -> StoredStory:
    """Put a story on a guild's shelf through the same path the importer uses."""
    if isinstance(story, Path):
        from bot.parsing import parse_story

        story = parse_story(story.read_bytes(), story.name)
    if settings.database_url:
        return shelve_many(settings, guild_id, [story])[0]
    conn = connect_sync(settings.database_path)
    try:
        return insert_story(conn, guild_id, story)
    finally:
        conn.close()


# Plain words for generated stories: every one is in many sections of a generated shelf.
WORDS = (
    "tea", "kettle", "river", "lantern", "winter", "garden", "letter", "harbour",
    "violin", "shadow", "meadow", "candle", "orchard", "thunder", "library", "ferry",
    "compass", "velvet", "ember", "willow", "falcon", "marble", "pepper", "quill",
)  # fmt: skip


def generated_story(
    n: int,
    rng: random.Random,
    *,
    level: RatingLevel = RatingLevel.GENERAL,
    sections: int = 3,
    paragraphs: tuple[int, int] = (6, 6),
    words: tuple[int, int] = (40, 40),
    lines: Mapping[int, str] | None = None,
    author: str = "Bench",
) -> ParsedStory:
    """Story number `n` of a generated shelf: `sections` parts of prose made of WORDS.

    The title ("Tea Kettle 00042") is unique by its number and starts with words a
    reader would type. `lines` puts a sentence as the fourth paragraph of the
    section at that index (0-based), e.g. a rare name for search to find. The same
    `rng` state gives the same story, so shelves are reproducible.
    """
    parts = []
    for s in range(sections):
        prose = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(*words))).capitalize() + "."
            for _ in range(rng.randint(*paragraphs))
        ]
        if lines and s in lines:
            prose.insert(3, lines[s])
        parts.append(Section(f"Part {s + 1}", "\n\n".join(prose)))
    title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {n:05d}"
    return ParsedStory(title, author, Rating(level.display, level), tuple(parts))


def shelve_many(
    path: Settings | Path, guild_id: int, stories: Iterable[ParsedStory]
) -> list[StoredStory]:
    """Put many stories on a guild's shelf through the importer's path, on one connection."""
    if isinstance(path, Settings) and path.database_url:
        return _shelve_pg(path.database_url, guild_id, list(stories))
    database = path.database_path if isinstance(path, Settings) else path
    conn = connect_sync(database)
    try:
        return [insert_story(conn, guild_id, story) for story in stories]
    finally:
        conn.close()


def _shelve_pg(url: str, guild_id: int, stories: list[ParsedStory]) -> list[StoredStory]:
    from bot.db.pg import open_pg
    from bot.db.stories import store_story_pg
    from tests import pg

    async def store() -> list[StoredStory]:
        db = await open_pg(url)
        try:
            return [await store_story_pg(db, guild_id, story, user_id=None) for story in stories]
        finally:
            await db.close()

    return pg.run_async(store)


def query(settings: Settings, sql: str, *params: object) -> list[tuple]:
    """Rows from the test's database (SQLite or PostgreSQL), SQLite placeholders."""
    if settings.database_url:
        from tests import pg

        return pg.query(settings.database_url, sql, params)
    conn = connect_sync(settings.database_path, apply_migrations=False)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def execute(settings: Settings, sql: str, *params: object) -> None:
    """A change made behind the bot's back (another process, an operator's tool)."""
    if settings.database_url:
        from tests import pg

        pg.query(settings.database_url, sql, params)
        return
    conn = connect_sync(settings.database_path, apply_migrations=False)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def search_rows(settings: Settings, word: str) -> int:
    """How many sections the full-text index finds `word` in."""
    if settings.database_url:
        sql = "SELECT count(*) FROM sections WHERE search @@ plainto_tsquery('storyshelf', ?)"
    else:
        sql = "SELECT count(*) FROM section_fts WHERE section_fts MATCH ?"
    return int(query(settings, sql, word)[0][0])


def spoiler_text(content: str) -> str:
    match = SPOILER.search(content)
    assert match, f"no spoiler in {content!r}"
    return match.group(1)


def outside_spoiler(content: str) -> str:
    return SPOILER.sub("", content)


def set_nsfw(env, channel) -> None:
    """SimCord does not model age-restricted channels: flag the bot's cached channel."""
    env.bot.get_channel(channel.id).nsfw = True


async def restart(env, settings: Settings):
    """Stop the running bot cleanly, then start a new one on the same database."""
    old = env.bot
    await old.close_resources()
    await env.restart_bot(create_bot(settings))
    return env.bot


class UnauthorizedDiscord(BaseHTTPRequestHandler):
    """Discord's REST API on loopback, refusing every token (401).

    Requests are recorded in the server's `requests` list when it has one.
    """

    def do_GET(self) -> None:
        requests = getattr(self.server, "requests", None)
        if requests is not None:
            requests.append(f"{self.command} {self.path}")
        body = b'{"message": "401: Unauthorized", "code": 0}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass
