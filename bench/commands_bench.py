"""Command latency through the real bot (SimCord), against a trivial command in the same run.

For shelves of 10, 1,000 and 10,000 stories in one server, measures `/read`,
`/search` and title autocomplete, each next to a trivial command registered
by this script alone that does no work but answers in the same shape
(`/bench-post`: a public 1,800-character post with three buttons and a
25-option menu, like /read's; `/bench-results`: a private answer with five buttons, like
/search's; `/bench-choose`: 25 fixed autocomplete choices), interleaved so
both see the same machine.

What is measured, per command: the bot's handling time inside the command
tree — from the moment discord.py hands the interaction to the tree until the
command or the autocomplete callback returns (its reply sent). SimCord's round
trip around it is not counted: its settling waits out an idle window, which
would flatter every ratio. Beside p50/p99 and the ratio to the trivial reply:

- trips: aiosqlite calls made by the command (each is a hop to the database
  thread and back); loop q: reads the bot ran synchronously on the event loop
  (`bot.db.quick`), which make no hop;
- on db: time all those queries ran (on the database thread, or on the loop);
- hop/queue: the rest of the time spent awaiting aiosqlite: the hop (waking
  the database thread and the loop again — on a machine with more runnable
  threads than cores each wake can wait milliseconds for a CPU, so this column
  follows the load average printed at the top), and waiting behind whatever
  else the one connection does (e.g. the feedback writer);
- python: everything else (rendering, discord.py, SimCord's handling of the
  reply). Mean milliseconds per command; the three add up to the mean total.

`/read` is measured in READ_PAIRS pairs per sample, interleaved: as shipped
(every read records the reader's place) and with progress recording replaced
by a no-op; their p50 ratio shows what recording costs a reader.

`search` looks for a character's name (in one section of every 400th
story, as a reader would search); `search-all` for two words that are in
every section of every story, the worst case.

Under load (the largest shelf, once more): while the commands run, reactions
stream into the Feedback cog's listeners at `--load-rate` per second from a
task of their own, and the feedback writer commits them every second of real
time, so a command's round trip may queue behind a write, as a real reader's
would. (In the quiet runs the bot's own writer heartbeat runs on SimCord's
virtual clock; the bench sets it to every five minutes so the quarter-hour jumps
between samples cost 3 heartbeats, not 900.)

Shelves are built once through the importer's path (`insert_story`) into a
cache folder and copied for each run; the cache is rebuilt when the schema
(`latest_version()`) or the story makers' source changes.

With `--database-url URL` (a PostgreSQL server the bench may create databases
on), the largest shelf is measured once more, quiet, on PostgreSQL: a fresh
database `bench_<random>` holding the same stories (written in one transaction
by COPY, not through the importer, so 10,000 stories take seconds), dropped at
the end. Its /read and /search figures are printed beside the SQLite run's of
the same size, each as a ratio to the trivial reply measured in its own run.
The trips/hop columns count aiosqlite calls and read 0 on PostgreSQL. These
extra lines are not goals.

Goals (issue 18), at 10,000 stories, quiet and under load: /read p50 ≤ 1.5x
the trivial reply, title autocomplete p99 ≤ 2x, /search p50 ≤ 2x (rare word)
and ≤ 3x (word in every section); /read with progress ≤ 1.05x without.

    .venv/bin/python bench/commands_bench.py [--samples N] [--sizes 10,1000,10000]
        [--load-rate R] [--no-load] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import inspect
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
import simcord  # noqa: E402
from discord import app_commands  # noqa: E402

from bench.common import (  # noqa: E402
    Goal,
    RoundTrips,
    SimulatorHeap,
    faster_settling,
    forget_harness_records,
    goal_line,
    load_average,
    pct,
)
from bot.client import create_bot  # noqa: E402
from bot.db.connection import latest_version  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.story import ParsedStory  # noqa: E402
from tests.support import WORDS, generated_story, shelve_many  # noqa: E402

GUILD_ID = 880_000_000_000_000_001  # fixed, so a cached shelf fits every run
NAMES = 400  # character names: each appears in one section of every 400th story
# Bump when the shelf changes in a way the makers' source does not show.
SHELF_FORMAT = 2
CACHE = Path(tempfile.gettempdir()) / "storyshelf-bench"
QUIET_HEARTBEAT = 300.0  # seconds of virtual time between writer heartbeats
WRITER_EVERY = 1.0  # real seconds between the concurrent writer's commits under load
STREAM_TICK = 0.01  # real seconds between bursts of the reaction stream

# Each real measure, the trivial one it is compared with, and the goals on it.
BASELINE = {
    "read": "post",
    "read-unrecorded": "post",
    "search": "results",
    "search-all": "results",
    "autocomplete": "choose",
}
LABEL = {
    "read": "/read",
    "read-unrecorded": "/read, progress off",
    "search": "/search rare word",
    "search-all": "/search every-section word",
    "autocomplete": "title autocomplete",
}
# (measure, percentile, limit) — issue 18's acceptance.
GOALS = (
    ("read", 0.5, 1.5),
    ("autocomplete", 0.99, 2.0),
    ("search", 0.5, 2.0),
    ("search-all", 0.5, 3.0),
)
PROGRESS_GOAL = 1.05
READ_PAIRS = 3  # /read with and without progress recording, per sample
# Title autocomplete beside the fixed choices, per sample. Its goal is on p99: with 3
# (300 of each per shelf) the p99 was the third-slowest of 300, and six runs on one
# day read 0.80x-2.05x (1.93x, 1.99x, 2.05x against the 2x goal; 2026-12-03); with 10
# it is the tenth-slowest of 1,000.
AUTOCOMPLETE_PAIRS = 10


def name(n: int) -> str:
    return f"Myfanwy{n % NAMES:03d}"


def shelf_story(n: int, rng: random.Random) -> ParsedStory:
    return generated_story(n, rng, lines={n % 3: f"That was when {name(n)} came in from the rain."})


# --------------------------------------------------------------------------- shelves


def cached_shelf(size: int) -> Path:
    """A database with `size` stories on GUILD_ID's shelf, built once per schema."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"shelf-{size}-schema{latest_version()}-{shelf_fingerprint()}.db"
    if path.is_file():
        return path
    for stale in CACHE.glob(f"shelf-{size}-*.db*"):
        stale.unlink()
    start = time.perf_counter()
    building = path.with_suffix(".building")
    for leftover in CACHE.glob(building.name + "*"):
        leftover.unlink()
    rng = random.Random(size)
    shelve_many(building, GUILD_ID, (shelf_story(n, rng) for n in range(size)))
    # A closed WAL database is one file again: safe to copy from now on.
    building.rename(path)
    print(f"built the {size:,}-story shelf in {time.perf_counter() - start:.1f} s ({path})")
    return path


def shelf_fingerprint() -> str:
    """Changes whenever the stories would: the makers' source, and SHELF_FORMAT."""
    source = inspect.getsource(generated_story) + inspect.getsource(shelf_story)
    digest = hashlib.sha256(f"{SHELF_FORMAT}\n{source}".encode()).hexdigest()
    return f"shelf{digest[:12]}"


def shelf_titles(size: int) -> list[str]:
    rng = random.Random(size)
    return [shelf_story(n, rng).title for n in range(size)]


# --------------------------------------------------------------------------- trivial commands


def trivial_commands() -> list[app_commands.Command[Any, Any, Any]]:
    """Commands that do no work but answer in the shape of the real ones.

    SimCord's handling of a reply (copying and validating its components,
    storing the message) is part of every figure; answering with the same
    shape leaves the bot's own work as the difference. `bench-ping` is the
    bare "pong", for reference.
    """

    @app_commands.command(name="bench-ping", description="trivial reply")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    def buttons(count: int) -> discord.ui.View:
        # Stopped, as the bot's own reading views are (cogs/_reading_ui.Components):
        # discord.py then neither stores it nor gives a private reply's view its
        # 15-minute timer task, so the shape, and the work around it, are the same.
        view = discord.ui.View(timeout=None)
        view.stop()
        for n in range(count):
            view.add_item(discord.ui.Button(label=f"Button {n}", custom_id=f"bench:{n}"))
        return view

    def post_view() -> discord.ui.View:
        # /read's post: three buttons and its 25-option section menu.
        view = buttons(3)
        view.add_item(
            discord.ui.Select(
                custom_id="bench:menu",
                options=[
                    discord.SelectOption(label=f"{n} · Section {n}", value=f"s:{n}")
                    for n in range(1, 26)
                ],
            )
        )
        return view

    @app_commands.command(name="bench-post", description="a public post shaped like /read's")
    async def post(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "x" * 1_800, view=post_view(), allowed_mentions=discord.AllowedMentions.none()
        )

    @app_commands.command(name="bench-results", description="a private answer like /search's")
    async def results(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "x" * 1_500,
            view=buttons(5),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @app_commands.command(name="bench-choose", description="25 fixed autocomplete choices")
    async def choose(interaction: discord.Interaction, title: str) -> None:
        await interaction.response.send_message(title)

    @choose.autocomplete("title")
    async def fixed(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"Title {n:02d}", value=f"#{n}") for n in range(25)]

    return [ping, post, results, choose]


def bench_bot(database: Path, database_url: str | None = None) -> Any:
    """The bot on `database` (or PostgreSQL at `database_url`), with the trivial commands."""
    # One reader sends every command: lift the per-user cooldown, which
    # would otherwise answer most of them with "try again in".
    settings = Settings(
        database_path=database,
        database_url=database_url,
        shard_count=1,
        command_cooldown=(10**9, 1.0),
        feedback_flush_interval=QUIET_HEARTBEAT,
    )
    bot = create_bot(settings)
    for command in trivial_commands():
        bot.tree.add_command(command)
    return bot


class World(NamedTuple):
    """The bot on a shelf, in a simulated server with one channel and one reader."""

    env: Any
    bot: Any
    channel: Any
    reader: Any
    titles: list[str]


@contextlib.asynccontextmanager
async def bench_world(size: int, database_url: str | None = None) -> AsyncIterator[World]:
    """`size` stories (a copy of the cached shelf, or the PostgreSQL database at
    `database_url`, already holding them: `build_pg_shelf`), the bot on them with the
    trivial commands and the round-trip counter installed. At the end the collector is
    unfrozen (the next bot freezes its own at start-up) and the bot's resources closed:
    SimCord never closes it, and its database thread would keep the process alive."""
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp, "bench.db")  # on PostgreSQL, where the feedback journal goes
        if database_url is None:
            shutil.copyfile(cached_shelf(size), database)
        bot = bench_bot(database, database_url)
        round_trips = RoundTrips()
        round_trips.install()
        try:
            async with simcord.run(bot, settle_timeout=120) as env:
                guild = env.create_guild(name="bench", id=GUILD_ID)
                channel = guild.create_text_channel("general")
                reader = guild.add_member(env.create_user("reader"))
                yield World(env, bot, channel, reader, shelf_titles(size))
                gc.unfreeze()
                gc.collect()
                await bot.close_resources()
        finally:
            round_trips.uninstall()


# --------------------------------------------------------------------------- samples


@dataclass
class Sample:
    handled: float  # the bot's handling time, s
    trips: int
    on_database: float  # SQL time, on the database thread and on the loop
    waited: float  # time awaiting aiosqlite
    loop_queries: int
    on_loop: float


@dataclass
class Run:
    size: int
    under_load: bool
    samples: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    reactions: int = 0  # streamed under load
    writes: int = 0  # writer commits under load
    backend: str = "SQLite"

    def times(self, kind: str) -> list[float]:
        return [s.handled for s in self.samples[kind]]

    def ms(self, kind: str, q: float) -> float:
        values = self.times(kind)
        return (statistics.median(values) if q == 0.5 else pct(values, q)) * 1000

    def ratio(self, kind: str, q: float) -> float:
        return self.ms(kind, q) / self.ms(BASELINE[kind], q)


class Timer:
    """The bot's handling time and round trips of each interaction, as the tree sees it."""

    def __init__(self, bot: Any) -> None:
        self.last: list[Sample] = []
        original_call = bot.tree._call

        async def timed_call(interaction: discord.Interaction) -> None:
            probe, token = RoundTrips.start()
            start = time.perf_counter()
            try:
                await original_call(interaction)
            finally:
                handled = time.perf_counter() - start
                RoundTrips.stop(probe, token)
                self.last.append(
                    Sample(
                        handled,
                        probe.trips,
                        probe.on_database + probe.on_loop,
                        probe.waited,
                        probe.loop_queries,
                        probe.on_loop,
                    )
                )

        bot.tree._call = timed_call


class ReactionStream:
    """Reactions from many readers on recent excerpts, at a steady rate, with the
    feedback writer committing them every second — concurrently with the commands."""

    def __init__(self, bot: Any, posts: list[int], rate: float) -> None:
        self.bot = bot
        self.posts = posts
        self.rate = rate
        self.sent = 0
        self.writes = 0
        self._tasks: list[asyncio.Task[None]] = []

    def _payload(self, n: int) -> discord.RawReactionActionEvent:
        data: Any = {
            "message_id": self.posts[n % len(self.posts)],
            "channel_id": 1,
            "user_id": 7_000_000 + n,
            "guild_id": GUILD_ID,
            "message_author_id": self.bot.user.id,
            "type": 0,
            "burst": False,
        }
        emoji = discord.PartialEmoji(name=("❤️", "😂", "😮", "😢", "🔥")[n % 5])
        return discord.RawReactionActionEvent(data, emoji, "REACTION_ADD")

    async def _stream(self) -> None:
        listener = self.bot.get_cog("Feedback").on_raw_reaction_add
        start = time.perf_counter()
        while True:
            due = int((time.perf_counter() - start) * self.rate)
            while self.sent < due:
                await listener(self._payload(self.sent))
                self.sent += 1
            await asyncio.sleep(STREAM_TICK)

    async def _writer(self) -> None:
        recorder = self.bot.feedback
        write = getattr(recorder, "tick", None) or recorder.flush
        while True:
            await asyncio.sleep(WRITER_EVERY)
            await write()
            self.writes += 1

    def start(self) -> None:
        # Started from the bench, not the bot: both run on the real clock.
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._stream()), loop.create_task(self._writer())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def measure(
    size: int,
    samples: int,
    *,
    under_load: bool,
    load_rate: float,
    database_url: str | None = None,
) -> Run:
    """`database_url`: a PostgreSQL database already holding the shelf (`build_pg_shelf`)."""
    run = Run(size, under_load, backend="PostgreSQL" if database_url else "SQLite")
    stream: ReactionStream | None = None
    async with bench_world(size, database_url) as (env, bot, channel, reader, titles):
        timer = Timer(bot)
        rng = random.Random(7)
        progress = bot.progress

        async def timed(kind: str, action: Any) -> Any:
            timer.last.clear()
            result = await action
            assert len(timer.last) == 1, (kind, timer.last)
            run.samples[kind].append(timer.last[0])
            return result

        def typed(title: str) -> str:
            return title.split()[0][: rng.randint(1, 4)].lower()

        async def read(kind: str, title: str) -> Any:
            if kind == "read-unrecorded":
                progress.record = lambda *args, **kwargs: None
            try:
                return await timed(
                    kind,
                    reader.slash(channel, "read", title=title, section=rng.randint(1, 3)),
                )
            finally:
                progress.__dict__.pop("record", None)

        posts: list[int] = []
        for _ in range(5):  # warm up every path once
            await reader.slash(channel, "bench-post")
            result = await reader.slash(channel, "read", title=titles[0])
            posts.append(result.response.id)
        # SimCord's store of Discord's side stays out of the collector's full
        # passes, as in the load bench (bench.common.SimulatorHeap): a pass over it
        # landing in one sample would be SimCord's time in that command's figure.
        heap = SimulatorHeap()
        heap.start()
        if under_load:
            stream = ReactionStream(bot, posts, load_rate)
            stream.start()
        for n in range(samples):
            title = rng.choice(titles)
            await timed("ping", reader.slash(channel, "bench-ping"))
            await timed("post", reader.slash(channel, "bench-post"))
            # Reads are cheap and leave no timers: several pairs per sample narrow
            # the on/off comparison. Which goes first alternates, so neither
            # always gets the warmer cache.
            for pair in range(READ_PAIRS):
                order = ("read", "read-unrecorded")
                first = (n * READ_PAIRS + pair) % 2 == 0
                pick = title if pair == 0 else rng.choice(titles)
                for kind in order if first else reversed(order):
                    await read(kind, pick)
            await timed("results", reader.slash(channel, "bench-results"))
            await timed("search", reader.slash(channel, "search", query=name(rng.randrange(size))))
            await timed("results", reader.slash(channel, "bench-results"))
            await timed(
                "search-all",
                reader.slash(channel, "search", query=" ".join(rng.sample(WORDS, 2))),
            )
            # Autocomplete's goal is on p99: several pairs per sample, so the p99 is
            # not one or two samples (it leaves no timers, like /read).
            for _pair in range(AUTOCOMPLETE_PAIRS):
                prefix = typed(rng.choice(titles))
                await timed("choose", reader.autocomplete(channel, "bench-choose", "title", prefix))
                await timed("autocomplete", reader.autocomplete(channel, "read", "title", prefix))
            # discord.py gives each private answer's buttons a 15-minute timer, and
            # SimCord looks at every live timer on each turn of the event loop, so
            # timers left by earlier samples would slow every later figure. A
            # quarter of an hour (simulated) between samples lets them expire.
            await env.advance_time(15 * 60 + 1)
            forget_harness_records(env)
        if stream is not None:
            await stream.stop()
            run.reactions, run.writes = stream.sent, stream.writes
        heap.stop()
    return run


# --------------------------------------------------------------------------- PostgreSQL


async def build_pg_shelf(url: str, size: int) -> float:
    """The shelf `cached_shelf(size)` holds, in the (empty) PostgreSQL database at `url`:
    the same stories, the rows `store_story_pg` would write, in one transaction by COPY
    (the schema's triggers still run: story ids past the high-water mark, the shelf's
    version counter; `sections.search` is generated by the server). Returns seconds."""
    from bot.db.pg import open_pg
    from bot.db.stories import _section_rows, _story_row

    start = time.perf_counter()
    db = await open_pg(url)  # applies the migrations
    try:
        rng = random.Random(size)
        stories = [shelf_story(n, rng) for n in range(size)]
        rows = [_story_row(story) for story in stories]
        names = list(rows[0])
        async with db.pool.acquire() as conn, conn.transaction():
            first = int(await conn.fetchval("SELECT last + 1 FROM story_id_high_water FOR UPDATE"))
            ids = range(first, first + size)
            await conn.copy_records_to_table(
                "stories",
                columns=["id", "guild_id", "added_by", *names],
                records=[
                    (i, GUILD_ID, None, *row.values()) for i, row in zip(ids, rows, strict=True)
                ],
            )
            await conn.copy_records_to_table(
                "sections",
                columns=["story_id", "position", "title", "body", "notes", "word_count"],
                records=[
                    section
                    for i, story in zip(ids, stories, strict=True)
                    for section in _section_rows(i, story)
                ],
            )
            await conn.execute(
                "UPDATE story_id_high_water SET last = greatest(last, $1)", first + size - 1
            )
        async with db.pool.acquire() as conn:
            await conn.execute("ANALYZE")
    finally:
        await db.close()
    return time.perf_counter() - start


def measure_pg(database_url: str, size: int, samples: int) -> tuple[Run, float]:
    """The quiet run of `size` stories on a fresh database on the server at `database_url`."""
    import psycopg

    from tests.pg import with_database

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = with_database(database_url, name)
        built = asyncio.run(build_pg_shelf(url, size))
        print(f"built the {size:,}-story shelf on PostgreSQL in {built:.1f} s", flush=True)
        run = asyncio.run(measure(size, samples, under_load=False, load_rate=0, database_url=url))
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return run, built


def compare(sqlite: Run, postgres: Run) -> None:
    """/read and /search on both, each against the trivial reply of its own run."""
    print(
        f"PostgreSQL beside SQLite at {sqlite.size:,} stories, quiet (bot handling time;"
        " x = ratio to the same-shape trivial reply measured in the same run):"
    )
    for kind in ("read", "search", "search-all"):
        base = BASELINE[kind]
        cells = [
            f"{run.backend} p50 {run.ms(kind, 0.5):.2f} ms ({run.ratio(kind, 0.5):.2f}x),"
            f" p99 {run.ms(kind, 0.99):.2f} ms ({run.ratio(kind, 0.99):.2f}x)"
            f" [/bench-{base} p50 {run.ms(base, 0.5):.2f} ms]"
            for run in (sqlite, postgres)
        ]
        slower = postgres.ms(kind, 0.5) / sqlite.ms(kind, 0.5)
        print(f"  {LABEL[kind]:<27} {cells[0]};  {cells[1]};  PostgreSQL/SQLite p50 {slower:.2f}x")


# --------------------------------------------------------------------------- report


def report(run: Run) -> None:
    where = (
        f"under load: {run.reactions:,} reactions streamed concurrently"
        f" ({run.reactions / max(run.writes, 1):,.0f} per writer commit, {run.writes} commits)"
        if run.under_load
        else "quiet"
    )
    n = len(run.samples["ping"])
    print(
        f"{'' if run.backend == 'SQLite' else run.backend + ': '}"
        f"shelf of {run.size:,} stories, {where}; {n} samples each"
        f" ({n * READ_PAIRS} of /read, {n * AUTOCOMPLETE_PAIRS} of autocomplete); bare 'pong'"
        f" p50 {run.ms('ping', 0.5):.2f} ms, p99 {run.ms('ping', 0.99):.2f} ms"
    )
    print(
        f"  {'command':<27}{'p50 ms':>8}{'p99 ms':>8}  {'trivial':<8}{'p50':>6}{'p99':>7}"
        f"{'x p50':>7}{'x p99':>7}  {'trips':>5}{'loop q':>7}{'on db':>7}{'hop/q':>7}{'python':>7}"
        "  (mean ms)"
    )
    for kind, base in BASELINE.items():
        mine = run.samples[kind]
        trips = statistics.mean(s.trips for s in mine)
        loop_queries = statistics.mean(s.loop_queries for s in mine)
        on_db = statistics.mean(s.on_database for s in mine) * 1000
        hop = statistics.mean(s.waited - (s.on_database - s.on_loop) for s in mine) * 1000
        python = statistics.mean(s.handled - s.waited - s.on_loop for s in mine) * 1000
        print(
            f"  {LABEL[kind]:<27}{run.ms(kind, 0.5):>8.2f}{run.ms(kind, 0.99):>8.2f}"
            f"  {base:<8}{run.ms(base, 0.5):>6.2f}{run.ms(base, 0.99):>7.2f}"
            f"{run.ratio(kind, 0.5):>6.2f}x{run.ratio(kind, 0.99):>6.2f}x"
            f"  {trips:>5.1f}{loop_queries:>7.1f}{on_db:>7.2f}{hop:>7.2f}{python:>7.2f}"
        )
    recorded, unrecorded = run.ms("read", 0.5), run.ms("read-unrecorded", 0.5)
    print(
        f"  /read with progress recording p50 {recorded:.2f} ms, without {unrecorded:.2f} ms:"
        f" {recorded / unrecorded:.2f}x"
    )


def goals(run: Run) -> list[Goal]:
    found = []
    suffix = " under load" if run.under_load else ""
    shelf = f"{run.size:,} stories"
    for kind, q, limit in GOALS:
        base = BASELINE[kind]
        found.append(
            goal_line(
                f"commands {LABEL[kind]} p{round(q * 100)} @{shelf}{suffix}",
                run.ratio(kind, q),
                limit,
                f"bot handling time inside the command tree vs /bench-{base} (same shape,"
                f" no work) in the same run; {run.ms(kind, q):.2f} vs {run.ms(base, q):.2f} ms",
            )
        )
    if not run.under_load:
        recorded, unrecorded = run.ms("read", 0.5), run.ms("read-unrecorded", 0.5)
        found.append(
            goal_line(
                f"commands /read p50 progress on/off @{shelf}",
                recorded / unrecorded,
                PROGRESS_GOAL,
                f"/read handling time with progress recording vs with it a no-op,"
                f" interleaved in the same run; {recorded:.2f} vs {unrecorded:.2f} ms",
            )
        )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument(
        "--load-rate", type=float, default=2000.0, help="reactions per second under load"
    )
    parser.add_argument("--no-load", action="store_true", help="skip the run under load")
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="also measure the largest shelf on PostgreSQL (a fresh database on this server)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    faster_settling()
    print(
        f"commands bench: sizes {', '.join(f'{s:,}' for s in sizes)}; {args.samples} samples;"
        f" load average {load_average()}",
        flush=True,
    )
    runs = []
    for size in sizes:
        runs.append(asyncio.run(measure(size, args.samples, under_load=False, load_rate=0)))
        report(runs[-1])
    if not args.no_load:
        runs.append(
            asyncio.run(
                measure(max(sizes), args.samples, under_load=True, load_rate=args.load_rate)
            )
        )
        report(runs[-1])
    largest = [run for run in runs if run.size == max(sizes)]
    if args.database_url:
        postgres, _ = measure_pg(args.database_url, max(sizes), args.samples)
        report(postgres)
        compare(largest[0], postgres)
    results = [goal for run in largest for goal in goals(run)]
    for goal in results:
        print(goal.line())
    return 0 if all(goal.passed for goal in results) else 1


if __name__ == "__main__":
    sys.exit(main())
