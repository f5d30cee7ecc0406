"""Reaction handling speed through the real listeners, against a raw SQLite floor;
and two processes on one database file losing nothing.

Payloads are built the way discord.py's gateway parser builds them
(RawReactionActionEvent from the event dict, PartialEmoji.from_dict, a Member
from the member dict) and handed to the Feedback cog's listeners directly.

Reports, all measured in this run:
  (a) reactions on messages that are not excerpts: events/s (target > 200,000/s),
      for messages older than every excerpt (one comparison) and for newer ones
      already looked up once (the per-process cache of non-excerpts);
  (b) a burst of reactions on excerpts, ingested and written to disk: events/s
      (target > 50,000/s sustained, and >= 1/5 of the floor: raw sqlite3
      executemany of the same rows in one transaction);
  (c) a sustained stream at a fixed rate with the writer on its own timer:
      the time from an event to its row being committed (target: max < 1 s);
  (d) memory: excerpt ids held after many posts (bounded), and a reaction on the
      oldest excerpt still counting (the database is the source of truth);
  (e) two shard processes on one file for a few seconds, each streaming excerpt
      posts and reactions; one stores an upload the way /library add does (its
      own short-lived connection) and the other restarts its connection, over
      and over: events handed in vs rows stored (target: 0 lost), integrity_check;
  (f) shutdown while another process holds the write lock past the shutdown
      budget: the time to keep the events in the journal, the time the next start
      takes to write them, and how many were lost (target 0).

    .venv/bin/python bench/reactions_bench.py [--events N] [--seconds S] [--control]

`--control` runs (e) once more with the old hazard put back (a Python open() and
close() of the database file before each upload's connection), to show that (e)
does see lost rows when the hazard is there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

from bot.client import create_bot  # noqa: E402
from bot.db.connection import close_database, connect_sync, open_database  # noqa: E402
from bot.db.excerpts import ExcerptPost  # noqa: E402
from bot.db.stories import insert_story  # noqa: E402
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
    bot._feedback = recorder
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
        db = await open_database(path, busy_timeout_ms=settings.busy_timeout_ms)
        recorder = FeedbackRecorder(db, flush_interval=1.0)
        await recorder.start()
        bot, cog = make_bot(settings, recorder)

        # (a) not excerpts: messages older than every excerpt, and newer unknown ones.
        older = build_payloads(bot, events, [1, 2, 3], OTHER_AUTHOR)
        newer_ids = [90_000_000 + n for n in range(50)]
        newer = build_payloads(bot, events, newer_ids, None)
        for payload in newer[: len(newer_ids)]:  # each looked up once, in one query
            await cog.on_raw_reaction_add(payload)
        await recorder.flush()
        assert recorder.pending == 0
        for label, payloads in (("older than every excerpt", older), ("newer, seen once", newer)):
            start = time.perf_counter()
            for payload in payloads:
                await cog.on_raw_reaction_add(payload)
            elapsed = time.perf_counter() - start
            assert recorder.pending == 0
            print(
                f"(a) non-excerpt reactions, {label}: {len(payloads):,} events in"
                f" {elapsed:.3f} s = {len(payloads) / elapsed:,.0f} events/s (target > 200,000)"
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
        await close_database(db)

        await memory_bound(path, story_id=_story_id(path))
        await shutdown_under_lock(path, settings, events)


def _story_id(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT min(id) FROM stories").fetchone()[0]


async def memory_bound(path: Path, *, story_id: int, posts: int = 200_000) -> None:
    """(d) Many posts; the ids held in memory stay bounded, and old excerpts still count."""
    db = await open_database(path, busy_timeout_ms=2_000)
    recorder = FeedbackRecorder(db, flush_interval=None)
    await recorder.start()
    first = 500_000_000
    for n in range(posts):
        recorder.excerpt_posted(ExcerptPost(first + n, GUILD, CHANNEL, story_id, 1, None))
    await recorder.flush()
    held = len(recorder._recent)
    recorder.reaction_added(first, 77, "❤️")  # the oldest of them: not in memory any more
    await recorder.flush()
    counted = (
        await (
            await db.execute("SELECT count(*) FROM reactions WHERE message_id = ?", (first,))
        ).fetchone()
    )[0]
    await recorder.stop()
    await close_database(db)
    print(
        f"(d) after {posts:,} excerpt posts: {held:,} excerpt ids held in memory"
        f" (bounded); a reaction on the oldest counted: {counted == 1}"
    )


async def shutdown_under_lock(path: Path, settings: Settings, events: int) -> None:
    """(f) Stop while another process holds the write lock; the next start writes it all."""
    db = await open_database(path, busy_timeout_ms=settings.busy_timeout_ms)
    recorder = FeedbackRecorder(db, flush_interval=None, shutdown_budget=1.0)
    await recorder.start()
    story_id = _story_id(path)
    first = 700_000_000
    posts = 100
    for n in range(posts):
        recorder.excerpt_posted(ExcerptPost(first + n, GUILD, CHANNEL, story_id, 1, None))
    await recorder.flush()
    locker = _start_locker(path)
    assert locker.stdout is not None and locker.stdout.readline().strip() == b"locked"
    for n in range(events):
        recorder.reaction_added(first + n % posts, 10_000 + n, "🔥")
    start = time.perf_counter()
    await recorder.stop()
    stopped = time.perf_counter() - start
    await close_database(db)
    assert locker.stdin is not None
    locker.stdin.write(b"\n")
    locker.stdin.close()
    locker.wait()
    journals = sorted(path.parent.glob(f"{path.name}.*.journal"))
    size = sum(j.stat().st_size for j in journals)

    start = time.perf_counter()
    db = await open_database(path, busy_timeout_ms=settings.busy_timeout_ms)
    recorder = FeedbackRecorder(db, flush_interval=None)
    await recorder.start()
    replayed = time.perf_counter() - start
    stored = (
        await (
            await db.execute(
                "SELECT count(*) FROM reactions WHERE message_id BETWEEN ? AND ?",
                (first, first + posts - 1),
            )
        ).fetchone()
    )[0]
    await recorder.stop()
    await close_database(db)
    left = sorted(path.parent.glob(f"{path.name}.*.journal"))
    print(
        f"(f) shutdown under another process's lock (budget 1 s): {events:,} events kept in"
        f" {len(journals)} journal ({size / 1e6:.1f} MB) in {stopped:.2f} s; next start"
        f" (open + replay) {replayed:.2f} s; lost {events - stored:,} (target 0);"
        f" journals left {len(left)}"
    )


LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


# ---------------------------------------------------------------------- (e) two processes


async def shard(path: Path, name: str, story_id: int, seconds: float, control: bool) -> None:
    """One shard process: stream posts and reactions; upload (a) or restart (b) now and then."""
    if control:
        from bot.db import connection

        checked = connection.check_database

        def stray_open(target: Path, *, thorough: bool = True) -> None:
            with open(target, "rb") as handle:  # the old header check's open() and close()
                handle.read(16)
            checked(target, thorough=thorough)

        connection.check_database = stray_open
    busy = 2_000
    base = {"a": 3_000_000_000, "b": 4_000_000_000}[name]
    db = await open_database(path, busy_timeout_ms=busy)
    recorder = FeedbackRecorder(db, flush_interval=0.05)
    await recorder.start()
    posted = reacted = uploads = restarts = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    next_twist = loop.time() + 0.2

    def upload(number: int) -> None:
        conn = connect_sync(path, apply_migrations=False, busy_timeout_ms=busy)
        try:
            story = ParsedStory(
                f"Upload {name} {number}",
                "B",
                Rating("G", RatingLevel.GENERAL),
                tuple(Section(f"S{n}", "words " * 2000) for n in range(20)),
            )
            insert_story(conn, GUILD, story)
        finally:
            conn.close()

    def report(final: bool = False) -> None:
        # Printed after every commit, so a shard that dies still says what it committed.
        fields = {"posted": posted, "reacted": reacted, "uploads": uploads, "restarts": restarts}
        print(json.dumps({"base": base, "final": final, **fields}), flush=True)

    while loop.time() < deadline:
        for _ in range(20):
            message = base + posted + 1
            recorder.excerpt_posted(ExcerptPost(message, GUILD, CHANNEL, story_id, 1, None))
            for user in range(5):
                recorder.reaction_added(message, user, "❤️")
            posted += 1
            reacted += 5
        await recorder.flush()  # committed once this returns
        report()
        await asyncio.sleep(0.01)
        if loop.time() >= next_twist:
            next_twist = loop.time() + 0.2
            if name == "a":
                await asyncio.to_thread(upload, uploads + 1)
                uploads += 1
            else:
                await recorder.stop()
                await close_database(db)
                db = await open_database(path, busy_timeout_ms=busy)
                recorder = FeedbackRecorder(db, flush_interval=0.05)
                await recorder.start()
                restarts += 1
            report()
    await recorder.stop()
    await close_database(db)
    report(final=True)


def _last_report(output: str) -> dict | None:
    for line in reversed(output.strip().splitlines()):
        with contextlib.suppress(ValueError):
            return json.loads(line)
    return None


def _shard_options(path: Path, story_id: int, seconds: float) -> list[str]:
    return ["--db", str(path), "--story", str(story_id), "--seconds", str(seconds)]


def _start_locker(path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )


def two_processes(seconds: float, *, control: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "shared.db")
        arrange_database(path)
        story_id = _story_id(path)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, str(Path(__file__).resolve()), "--shard"]
        flags = ["--control"] if control else []
        shards = [
            subprocess.Popen(
                [*command, name, *_shard_options(path, story_id, seconds), *flags],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
                text=True,
            )
            for name in ("a", "b")
        ]
        results = []
        for process in shards:
            try:
                out, _ = process.communicate(timeout=seconds + 60)
            except subprocess.TimeoutExpired:
                process.kill()  # stuck (a damaged database can keep its writer retrying)
                out, _ = process.communicate()
            results.append(_last_report(out))
        try:
            with contextlib.closing(sqlite3.connect(path)) as conn:
                integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
                lost_posts = lost_reactions = 0
                for result in results:
                    if result is None:
                        continue
                    low, high = result["base"], result["base"] + result["posted"]
                    stored = conn.execute(
                        "SELECT count(*) FROM excerpt_posts WHERE message_id BETWEEN ? AND ?",
                        (low + 1, high),
                    ).fetchone()[0]
                    reactions = conn.execute(
                        "SELECT count(*) FROM reactions WHERE message_id BETWEEN ? AND ?",
                        (low + 1, high),
                    ).fetchone()[0]
                    lost_posts += result["posted"] - stored
                    lost_reactions += result["reacted"] - reactions
        except sqlite3.DatabaseError as error:
            integrity, lost_posts, lost_reactions = f"unreadable ({error})", -1, -1
        handed = [r for r in results if r is not None]
        label = "with the old stray open() (control)" if control else "as shipped"
        print(
            f"(e) two shard processes on one file for {seconds:g} s, {label}:"
            f" {sum(r['posted'] for r in handed):,} excerpt posts and"
            f" {sum(r['reacted'] for r in handed):,} reactions committed,"
            f" {sum(r['uploads'] for r in handed)} uploads in a,"
            f" {sum(r['restarts'] for r in handed)} restarts of b;"
            f" shards that did not finish {sum(not r['final'] for r in handed)};"
            f" lost {lost_posts:,} posts and {lost_reactions:,} reactions (target 0);"
            f" integrity_check {integrity}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of (e)")
    parser.add_argument("--control", action="store_true", help="also run (e) with the hazard")
    parser.add_argument("--shard", choices=("a", "b"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--story", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.shard:
        asyncio.run(shard(args.db, args.shard, args.story, args.seconds, args.control))
        return 0
    asyncio.run(run(args.events))
    two_processes(args.seconds, control=False)
    if args.control:
        two_processes(args.seconds, control=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
