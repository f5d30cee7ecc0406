"""Reaction handling speed through the real listeners, against a raw SQLite floor.

Payloads are built the way discord.py's gateway parser builds them
(RawReactionActionEvent from the event dict, PartialEmoji.from_dict, a Member
from the member dict) and handed to the Feedback cog's listeners directly.

Reports, all measured in this run:
  (a) reactions on messages that are not excerpts: events/s (target > 200,000/s);
  (b) a burst of reactions on excerpts, ingested and written to disk: events/s
      (target > 50,000/s sustained, and >= 1/5 of the floor: raw sqlite3
      executemany of the same rows in one transaction);
  (c) a sustained stream at a fixed rate with the writer on its own timer:
      the time from an event to its row being committed (target: max < 1 s).

    .venv/bin/python bench/reactions_bench.py [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

from bot.client import create_bot  # noqa: E402
from bot.db.connection import connect_sync, open_database  # noqa: E402
from bot.db.library import insert_story  # noqa: E402
from bot.feedback import FeedbackRecorder  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.story import ParsedStory, Rating, RatingLevel, Section  # noqa: E402
from cogs.feedback import Feedback  # noqa: E402

GUILD, CHANNEL, BOT_ID, OTHER_AUTHOR = 1000, 2000, 3000, 4000
EMOJI = ["❤️", "😂", "😮", "😢", "🔥"]
EXCERPTS = 200


def arrange_database(path: Path) -> list[int]:
    conn = connect_sync(path)
    story = ParsedStory(
        "Bench",
        "B",
        Rating("G", RatingLevel.GENERAL),
        tuple(Section(f"S{n}", f"text {n}") for n in range(1, 11)),
    )
    stored = insert_story(conn, GUILD, story)
    ids = [10_000_000 + n for n in range(EXCERPTS)]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO excerpt_posts (message_id, guild_id, channel_id, story_id, section_position)"
        " VALUES (?, ?, ?, ?, ?)",
        [(m, GUILD, CHANNEL, stored.id, 1 + n % 10) for n, m in enumerate(ids)],
    )
    conn.execute("COMMIT")
    conn.close()
    return ids


def make_bot(settings: Settings, recorder: FeedbackRecorder) -> tuple[discord.Client, Feedback]:
    bot = create_bot(settings)
    state = bot._connection
    state.user = discord.ClientUser(
        state=state,
        data={
            "id": BOT_ID,
            "username": "storyshelf",
            "discriminator": "0",
            "avatar": None,
            "bot": True,
        },
    )
    bot.feedback = recorder
    return bot, Feedback(bot)


def build_payloads(bot: discord.Client, n: int, message_ids: list[int], author: int | None):
    """n add events, as discord.py's parse_message_reaction_add builds them."""
    state = bot._connection
    guild = discord.Guild(data={"id": GUILD, "name": "bench"}, state=state)
    payloads = []
    for i in range(n):
        user_id = 5_000_000 + i // len(EMOJI)
        data = {
            "user_id": str(user_id),
            "channel_id": str(CHANNEL),
            "message_id": str(message_ids[i % len(message_ids)]),
            "guild_id": str(GUILD),
            "emoji": {"id": None, "name": EMOJI[i % len(EMOJI)]},
            "type": 0,
            "burst": False,
            "member": {
                "user": {
                    "id": str(user_id),
                    "username": f"u{user_id}",
                    "discriminator": "0",
                    "avatar": None,
                },
                "roles": [],
                "joined_at": "2026-01-01T00:00:00+00:00",
                "deaf": False,
                "flags": 0,
                "mute": False,
            },
        }
        if author is not None:
            data["message_author_id"] = str(author)
        emoji = discord.PartialEmoji.from_dict(data["emoji"])
        raw = discord.RawReactionActionEvent(data, emoji, "REACTION_ADD")
        raw.member = discord.Member(data=data["member"], guild=guild, state=state)
        payloads.append(raw)
    return payloads


def floor_rows(payloads) -> list[tuple[int, str, int]]:
    return [(p.message_id, str(p.emoji), p.user_id) for p in payloads]


def raw_floor(path: Path, rows: list[tuple[int, str, int]]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT OR IGNORE INTO reactions (message_id, emoji, user_id) VALUES (?, ?, ?)", rows
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.execute("DELETE FROM reactions")
    conn.close()
    return elapsed


async def run(events: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "bench.db")
        settings = Settings(database_path=path, shard_count=1)
        message_ids = arrange_database(path)
        db = await open_database(path)
        recorder = FeedbackRecorder(db, flush_interval=1.0)
        await recorder.start()
        bot, cog = make_bot(settings, recorder)

        # (a) not excerpts: another author's messages, and unknown messages without an author.
        others = build_payloads(bot, events, [1, 2, 3], OTHER_AUTHOR)
        unknown = build_payloads(bot, events // 2, [7, 8, 9], None)
        start = time.perf_counter()
        for payload in others:
            await cog.on_raw_reaction_add(payload)
        for payload in unknown:
            await cog.on_raw_reaction_add(payload)
        elapsed = time.perf_counter() - start
        assert recorder.pending == 0
        print(
            f"(a) non-excerpt reactions: {len(others) + len(unknown):,} events in {elapsed:.3f} s"
            f" = {(len(others) + len(unknown)) / elapsed:,.0f} events/s (target > 200,000)"
        )

        # (b) a burst on excerpts: listener intake plus the flush to disk.
        burst = build_payloads(bot, events, message_ids, BOT_ID)
        rows = floor_rows(burst)
        floor_times = []
        ours_times = []
        for _ in range(3):
            floor_times.append(raw_floor(path, rows))
            start = time.perf_counter()
            for payload in burst:
                await cog.on_raw_reaction_add(payload)
            await recorder.flush()
            ours_times.append(time.perf_counter() - start)
            stored = (await (await db.execute("SELECT count(*) FROM reactions")).fetchone())[0]
            assert stored == len(set(rows)), (stored, len(set(rows)))
            await db.execute("DELETE FROM reactions")
        ours, floor = min(ours_times), min(floor_times)
        print(
            f"(b) excerpt reactions: {events:,} events; ours {ours:.3f} s = {events / ours:,.0f}/s;"
            f" raw floor {floor:.3f} s = {events / floor:,.0f}/s; ours/floor speed"
            f" = {floor / ours:.2f} (target >= 0.20, and > 50,000/s)"
        )

        # (c) sustained stream at ~50,000 events/s for 3 s with the writer on its own timer.
        rate, seconds = 50_000, 3.0
        stream = build_payloads(bot, int(rate * seconds), message_ids, BOT_ID)
        chunk = 500
        submitted: list[tuple[float, int]] = []  # (time, cumulative count), oldest first
        latencies: list[float] = []
        done_streaming = False

        async def watch_disk() -> None:
            # A second connection sees only committed rows: what is really on disk.
            watcher = sqlite3.connect(path)
            try:
                while not done_streaming or submitted:
                    count = watcher.execute("SELECT count(*) FROM reactions").fetchone()[0]
                    now = time.perf_counter()
                    while submitted and submitted[0][1] <= count:
                        latencies.append(now - submitted.pop(0)[0])
                    await asyncio.sleep(0.01)
            finally:
                watcher.close()

        watcher_task = asyncio.create_task(watch_disk())
        start = time.perf_counter()
        for i in range(0, len(stream), chunk):
            for payload in stream[i : i + chunk]:
                await cog.on_raw_reaction_add(payload)
            submitted.append((time.perf_counter(), i + chunk))
            target = start + (i + chunk) / rate
            await asyncio.sleep(max(0.0, target - time.perf_counter()))
        done_streaming = True
        await watcher_task
        print(
            f"(c) sustained {rate:,}/s for {seconds:.0f} s: event→disk latency p50"
            f" {statistics.median(latencies):.3f} s, max {max(latencies):.3f} s (target < 1 s);"
            f" failed flushes {recorder.failed_flushes}"
        )
        await recorder.stop()
        await db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(run(args.events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
