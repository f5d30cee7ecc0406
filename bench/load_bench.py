"""Load through the real bot (SimCord): 50 readers and a moderator in one server.

50 readers in one server send a mixed stream of at least 2,000 commands and
20,000 reactions while a moderator uploads a novel. The script prints commands
per second, p50/p99 latency for each kind of command, errors, reactions lost
(compared with what is stored in SQLite), and peak memory. Targets: zero errors
and zero reactions lost. Speed is compared with `/bench-ping` (a command that
only replies, registered by this script alone), measured in the same stream.

The shelf: the corpus novels in ../shared/corpus (with ratings a moderator would
give them; Alice and Pride and Prejudice as General, Carmilla as Teen, A Week in
the Life as Mature), plus 30 generated stories rated General to Explicit
(`tests.support.generated_story`). The moderator uploads Les Misérables (3.4 MB,
366 sections) with `/library add`; the file names no rating, so the preview asks
for one: the moderator picks General in its menu, reads the preview for half a
simulated minute (CONFIRM_AFTER) while the stream goes on, and presses Confirm;
readers read it from then on. Without the corpus, all stories are generated, and
so is a 200-chapter novel for the upload.

The stream (seeded, so runs are comparable). Reader commands (the 2,000): /read
(any section), Next page, Next section, Read the whole section (on /excerpt
posts and search results), /excerpt, /search, /stories (and its Next page),
/story, and title and section autocomplete. A reading post's own buttons are
pressed by the reader who asked for it (they turn the post's pages, or post the
next section); one press in five comes from another reader, who must get a
private copy while the post stays as it was. General and Teen stories are read
in #general; Mature, Explicit and unrated ones in the age-restricted
#after-dark. Reactions (the 20,000): readers add and remove the server's
feedback emoji, now and then another emoji, on excerpt posts (mostly recent
ones); about one in eight goes on messages that are not excerpts (readers' chat,
/stories and /story cards), and a few come from another bot. Neither of those
may be stored.

SimCord refuses overlapping operations ("operation overlaps active slash"), so
the actors take turns: one action at a time, the bot's own background work
(feedback emoji, the feedback writer) settling after each. The moderator's
upload is interleaved: `/library add` at 40% of the stream, Confirm half a
simulated minute later. (Confirm used to wait for 45% of the stream, about ten
simulated minutes, by which time the preview had expired as designed — "This
preview expired after 10 minutes" — and the bench reported "No matching
component (label='Confirm')".)

Time: the cooldown and the feedback writer run on SimCord's virtual clock (a
command's time is its interaction's snowflake). The bench moves it on by half
a simulated second per action, 5 s at a time, so each reader acts about every
25 s and the default stream covers about three hours; the writer flushes
every simulated second, as in production. A faster simulated pace would keep
more of the 15-minute timers discord.py gives every ephemeral view (search
results' Read buttons) alive at once, and SimCord's settling slows with the
square of the timers alive.

Cooldown: the bot's own setting (`command_cooldown`, 5 uses per 10 s by
default; `--cooldown USES/SECONDS` sets it), and readers keep within it as
people would: a reader who has used it up leaves the command to another
reader, or, if everyone has, time passes. Readers count /read, /excerpt and
/search together, which is stricter than the bot (a budget per command), so
they never hit the limit. Refusals are counted and printed apart from errors
(expected: 0).

Errors: an exception from SimCord, any error the command tree recorded
(user-facing refusals included: readers only ask for what exists and may be
read where they ask; cooldown refusals are counted separately), a reply with
the generic apology, an interaction left unanswered, an autocomplete offering
nothing for a title's prefix, and any ERROR logged by the bot or discord.py.

Latency: the bot's handling time (from discord.py handing over the interaction
to the end of the command, autocomplete or button callback, as in
commands_bench.py) and SimCord's round trip (until all the bot's work settled).
SimCord polls for settling every 50 ms when the only work left is a callback;
the bench lowers that poll to 1 ms (SETTLE_POLL), or every reaction would cost
50 ms of waiting.

Peak memory: the process's peak resident set (ru_maxrss), with the resident set
before the stream for comparison.

Event-loop stalls: a task of the bench's own sleeps 5 ms at a time on the real
clock during the stream and records how late it wakes; nothing else could run
on the loop meanwhile (a gateway heartbeat, a reaction). The figure is the part
of the lateness the process was busy (CPU time of any of its threads), not the
time a shared machine gave to other processes (printed beside it). SimCord's
own work runs on the same loop and counts too, so the figure is an upper bound
on the bot's; the longest stalls are printed with the action under way. Goal:
≤ 50 ms.

The garbage collector: SimCord keeps Discord's side of the stream (every message,
reaction and interaction) in this process, most of its heap by the end, which a
real bot's process never holds; a full pass of Python's collector over it took
46-80 ms on the loop, reported as the bot's stall. During the stream whatever
survives a full pass is frozen (`bench.common.SimulatorHeap`), so the passes scan
what is new since. What that hides is measured apart at the end: the objects
reachable from the bot (not through SimCord, not frozen by the bot at start-up)
and a full pass over them alone, estimated at the per-object cost of a timed full
pass over everything; its own goal line, ≤ 50 ms. The cyclic garbage the freezes
kept is counted too.

SQLite beside PostgreSQL (`--database-url URL`, a server the bench may create
databases on): the same workload runs twice, on one SQLite file and on a fresh
PostgreSQL database `bench_<random>` (dropped at the end), each time as four
shard groups: four processes, each the real bot with `shard_count=4,
shard_ids=(group,)` in its own SimCord, each with its own server on its shard
((guild_id >> 22) % 4), a quarter of the readers, commands and reactions, and
the seeded shelf; group 0's moderator uploads the novel. The parent seeds the
store, starts the four processes, lets their streams go at once, and when every
one has closed (its feedback writer's last flush) compares the `reactions` rows
with the reactions the readers left. It prints one side-by-side table: errors,
reactions lost, command and trivial-reply p50/p99, reactions given and written
per second, each process's peak memory (ru_maxrss), and GOAL lines for errors
and reactions lost on each store. Without `--database-url` the bench is the
single process described above, unchanged.

The last lines are machine-readable goals for `python -m bench`:
`GOAL <name>: <figure> (goal <x>) PASS|FAIL — <what was measured>`.

    .venv/bin/python bench/load_bench.py [--readers 50] [--commands 2000]
        [--reactions 20000] [--seed 1] [--cooldown USES/SECONDS] [--quick]
        [--database-url postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
import simcord  # noqa: E402
from discord import app_commands  # noqa: E402

from bench.common import (  # noqa: E402
    Goal,
    OwnHeap,
    SimulatorHeap,
    StallMonitor,
    faster_settling,
    forget_harness_records,
    load_average,
    pct,
)
from bot.client import create_bot  # noqa: E402
from bot.db.stories import list_stories  # noqa: E402
from bot.errors import UserFacingError  # noqa: E402
from bot.importer import read_story_file  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.story import ParsedStory, Rating, RatingLevel, StoryFileError  # noqa: E402
from bot.tree import GENERIC_APOLOGY  # noqa: E402
from tests.support import WORDS, generated_story, shelve_many  # noqa: E402

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
# Corpus files seeded onto the shelf, with the rating a moderator would give them.
SEEDED = {
    "alice_in_wonderland.txt": RatingLevel.GENERAL,
    "carmilla.txt": RatingLevel.TEEN,
    "pride_and_prejudice.txt": RatingLevel.GENERAL,
    "a_week_in_the_life.txt": None,  # keeps its own rating: R (language), Mature
}
UPLOADS = ("les_miserables.txt", "pride_and_prejudice.txt")  # the first one present
SAFE_HERE = {RatingLevel.GENERAL, RatingLevel.TEEN}  # posted in #general (max rating Teen)

SIMULATED_SECONDS_PER_ACTION = 0.5
CLOCK_STEP = 5.0  # simulated seconds the clock is moved at a time
COOLDOWN_MARGIN = 0.5  # seconds readers keep clear of their cooldown window
UPLOAD_AT = 0.40  # the moderator uploads when this fraction of reader commands is done
CONFIRM_AFTER = 30.0  # simulated seconds the moderator reads the preview before Confirm
UPLOAD_RATING = RatingLevel.GENERAL  # what the moderator picks for the novel
OTHERS_PRESS = 0.2  # share of a reading post's presses made by another reader
STALL_GOAL_MS = 50.0
SEARCH_WORDS = [
    *WORDS,
    "Alice", "rabbit", "Darcy", "Bennet", "Carmilla", "Laura", "Ianto", "kiss",
    "Valjean", "Cosette", "bishop", "barricade", "zeppelin",
]  # fmt: skip
CHAT = ["anyone reading tonight?", "that chapter!", "brb tea", "no spoilers please", "lol"]
EXTRA_EMOJI = ("👍", "👋", "⭐")

# Reader commands: kind -> weight (percent).
MIX = {
    "read": 24,
    "next-page": 8,
    "next-section": 8,
    "read-section": 4,
    "excerpt": 12,
    "search": 12,
    "stories": 8,
    "shelf-next": 2,
    "story": 8,
    "ac-title": 10,
    "ac-section": 4,
}
LIMITED = {"read", "excerpt", "search"}  # the commands under the per-reader cooldown


# --------------------------------------------------------------------------- shelf


def shelf_story(n: int, rng: random.Random, level: RatingLevel) -> ParsedStory:
    sections = rng.randint(2, 8)
    return generated_story(
        n, rng, level=level, sections=sections, paragraphs=(2, 12), words=(40, 120)
    )


def generated_novel() -> tuple[str, bytes]:
    chapter = ("The river ran past the lantern and the willow. " * 60 + "\n\n") * 4
    body = "".join(f"Chapter {i}\n\n{chapter}" for i in range(1, 201))
    return "big_novel.txt", f"Title: Big Novel\n\nRating: General\n\n{body}".encode()


def seed_shelf(settings: Settings, guild_id: int, upload: str | None) -> list[str]:
    """Put stories on the shelf the way the importer does; returns what was seeded."""
    rng = random.Random(99)
    stories: list[ParsedStory] = []
    for name, level in SEEDED.items():
        path = CORPUS / name
        if name == upload or not path.is_file():
            continue
        story = read_story_file(path, max_bytes=settings.max_upload_bytes)
        if level is not None:
            story = dataclasses.replace(story, rating=Rating(level.display, level))
        stories.append(story)
    levels = [RatingLevel.GENERAL, RatingLevel.TEEN, RatingLevel.TEEN, RatingLevel.MATURE]
    levels.append(RatingLevel.EXPLICIT)
    stories += [shelf_story(n, rng, levels[n % len(levels)]) for n in range(30)]
    shelve_many(settings, guild_id, stories)
    return [s.title for s in stories]


@dataclasses.dataclass(frozen=True)
class ShelfStory:
    title: str
    level: RatingLevel
    sections: int


async def shelf_stories(bot: Any, guild_id: int) -> list[ShelfStory]:
    """The shelf as the bot lists it."""
    stories = await list_stories(bot.db, guild_id, limit=1_000_000)
    return [ShelfStory(s.title, s.rating.level, s.section_count) for s in stories]


async def feedback_emoji(bot: Any, guild_id: int) -> tuple[str, ...]:
    """The server's feedback emoji, as the bot reads them (the default unless changed)."""
    return (await bot.guild_settings.get(guild_id)).feedback_emoji


# --------------------------------------------------------------------------- measuring


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class LogCapture(logging.Handler):
    """Every WARNING and ERROR logged by the bot or discord.py, instead of stderr."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        self.records.append(record)


# A message readers see and can react to: the bot's replies, or readers' own chat.
Message = simcord.ResponseMessage | discord.Message


def buttons(env: Any, message: simcord.ResponseMessage) -> dict[str, bool]:
    """A message's buttons as they are now: label -> enabled."""
    stored = env.backend.get_message(message.channel_id, message.id)
    found: dict[str, bool] = {}
    for row in stored.components:
        for item in row.get("components", []):
            if item.get("type") == 2 and item.get("label"):
                found[item["label"]] = not item.get("disabled", False)
    return found


# --------------------------------------------------------------------------- the load


class Load:
    def __init__(
        self,
        env: Any,
        settings: Settings,
        args: argparse.Namespace,
        *,
        guild_id: int | None = None,
        seeded: bool = False,
        uploads: bool = True,
        ready: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.env = env
        self.guild_id = guild_id  # None: SimCord picks one
        self.seeded = seeded  # the shelf was seeded before the bot started
        self.uploads = uploads  # the moderator uploads the novel in this server
        self.ready = ready  # awaited just before the stream (a shard group's start line)
        self.stream_started = self.stream_ended = 0.0  # time.time(), for shard groups
        self.writes: list[tuple[int, float]] = []  # the feedback writer's (events, seconds)
        self.bot = env.bot
        self.settings = settings
        self.args = args
        self.rng = random.Random(args.seed)
        self.handled: list[float] = []
        self.bot_time: dict[str, list[float]] = collections.defaultdict(list)
        self.round_trip: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: list[str] = []
        self.cooldown_refusals: collections.Counter[str] = collections.Counter()
        self.cooldown_waits = 0
        self.refused = False  # the last action was refused by the cooldown
        self.cursor = 0
        self.virtual = 0.0  # simulated seconds since the stream began
        self.time_advancing = 0.0  # wall time spent in advance_time (writer ticks)
        self.uses: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)
        # What readers did, to check against the database.
        self.reading: list[Message] = []  # posts with page and section buttons
        self.excerpts: list[Message] = []  # /excerpt posts ("Read the whole section")
        self.posts: list[Message] = []  # every excerpt post
        self.others: list[Message] = []  # messages that are not excerpts
        self.shelves: list[Message] = []  # /stories posts
        self.searches: collections.deque[tuple[Any, simcord.ResponseMessage]] = collections.deque(
            maxlen=100
        )
        self.live: dict[bool, list[tuple[int, str, int]]] = {True: [], False: []}
        self.live_at: dict[bool, dict[tuple[int, str, int], int]] = {True: {}, False: {}}
        self.message_of: dict[int, Message] = {}
        self.owner_of: dict[int, Any] = {}  # reading post -> the reader who asked for it
        self.private_copies = 0  # presses by another reader, answered privately
        self.stalls = StallMonitor()
        self.heap = SimulatorHeap()
        self.own_heap: OwnHeap | None = None
        self.bot_reactions: set[tuple[int, str]] = set()
        self.reaction_counts: collections.Counter[str] = collections.Counter()
        self.upload: dict[str, Any] = {}

    # ------------------------------------------------------------------ world

    def arrange(self) -> None:
        env = self.env
        if self.guild_id is None:
            self.guild = env.create_guild(name="Book Club")
        else:
            self.guild = env.create_guild(name="Book Club", id=self.guild_id)
        mods = self.guild.create_role("Mods", permissions=discord.Permissions(manage_messages=True))
        self.general = self.guild.create_text_channel("general")
        self.after_dark = self.guild.create_text_channel("after-dark")
        # SimCord does not model age-restricted channels: flag the bot's cached one.
        env.bot.get_channel(self.after_dark.id).nsfw = True
        self.readers = [
            self.guild.add_member(env.create_user(f"reader{n:02d}"))
            for n in range(self.args.readers)
        ]
        self.by_id = {reader.id: reader for reader in self.readers}
        self.moderator = self.guild.add_member(env.create_user("moderator"), roles=[mods])
        self.other_bot = self.guild.add_member(env.create_user("otherbot", bot=True))

    def instrument(self) -> None:
        tree = self.bot.tree
        original_call = tree._call
        store = self.bot._connection._view_store
        original_item_call = store.schedule_dynamic_item_call

        async def timed_call(interaction: discord.Interaction) -> None:
            start = time.perf_counter()
            try:
                await original_call(interaction)
            finally:
                self.handled.append(time.perf_counter() - start)

        async def timed_item_call(*args: Any, **kwargs: Any) -> None:
            start = time.perf_counter()
            try:
                await original_item_call(*args, **kwargs)
            finally:
                self.handled.append(time.perf_counter() - start)

        tree._call = timed_call  # type: ignore[method-assign]
        store.schedule_dynamic_item_call = timed_item_call  # type: ignore[method-assign]

        # The feedback writer's commits: events written and the time each took.
        recorder = self.bot.feedback
        original_write = recorder._write

        async def timed_write() -> int:
            start = time.perf_counter()
            written = await original_write()
            self.writes.append((written, time.perf_counter() - start))
            return written

        recorder._write = timed_write

    # ------------------------------------------------------------------ acting

    async def act(
        self, kind: str, action: Awaitable[Any], *, timed: bool = True, detail: str = ""
    ) -> Any:
        """One SimCord action: time it, and note every way it could have gone wrong."""
        self.handled.clear()
        self.refused = False
        self.stalls.doing = kind
        problems: list[str] = []
        start = time.perf_counter()
        try:
            result = await action
        except Exception as error:
            result = None
            problems.append(f"{type(error).__name__}: {error}")
        else:
            self.round_trip[kind].append(time.perf_counter() - start)
        if timed and result is not None:
            if len(self.handled) == 1:
                self.bot_time[kind].append(self.handled[0])
            else:
                problems.append(f"handled {len(self.handled)} times, expected once")
        for error in self.env.errors_since(self.cursor):
            if isinstance(error, app_commands.CommandOnCooldown):
                self.cooldown_refusals[kind] += 1
                self.refused = True
                continue
            original = getattr(error, "original", error)
            expected = isinstance(original, UserFacingError | StoryFileError)
            label = "refused" if expected else "raised"
            problems.append(f"{label} {type(original).__name__}: {original}")
        self.cursor = self.env.error_cursor
        forget_harness_records(self.env)
        if isinstance(result, simcord.InteractionResult):
            if not result.acknowledged:
                problems.append("never answered")
            replies = [result.response] if result.response else []
            replies += result.followups
            if any(GENERIC_APOLOGY in reply.content for reply in replies):
                problems.append("answered with the generic apology")
        if problems:
            about = f" ({detail})" if detail else ""
            self.errors.append(f"{kind}{about}: " + "; ".join(problems))
        return result

    async def keep_time(self, step: int) -> None:
        """Advance the virtual clock so it keeps pace with the stream."""
        target = step * SIMULATED_SECONDS_PER_ACTION
        if target - self.virtual >= CLOCK_STEP:
            await self.advance(target - self.virtual)

    async def advance(self, seconds: float) -> None:
        start = time.perf_counter()
        await self.env.advance_time(seconds)
        self.time_advancing += time.perf_counter() - start
        self.virtual += seconds

    # ------------------------------------------------------------------ readers

    def readable(self, level: RatingLevel) -> Any:
        """A channel a reader would read a story of this rating in."""
        if level in SAFE_HERE and self.rng.random() < 0.7:
            return self.general
        return self.after_dark

    def pick_story(self, channel: Any | None = None) -> ShelfStory:
        if channel is self.general:
            return self.rng.choice([s for s in self.stories if s.level in SAFE_HERE])
        return self.rng.choice(self.stories)

    def within_cooldown(self, reader: Any) -> bool:
        rate, per = self.cooldown
        uses = self.uses[reader.id]
        while uses and uses[0] <= self.virtual - per - COOLDOWN_MARGIN:
            uses.popleft()
        return len(uses) < rate

    async def limited_reader(self) -> Any:
        """A reader who may use /read, /excerpt or /search now (others wait their turn)."""
        candidates = self.rng.sample(self.readers, len(self.readers))
        while True:
            for reader in candidates:
                if self.within_cooldown(reader):
                    self.uses[reader.id].append(self.virtual)
                    return reader
            # Everyone has used up their budget: time passes until someone may again.
            self.cooldown_waits += 1
            rate, per = self.cooldown
            soonest = min(self.uses[reader.id][0] for reader in self.readers)
            await self.advance(max(soonest + per + COOLDOWN_MARGIN - self.virtual, 0.1))

    def recent(self, posts: list[Message]) -> Message:
        if self.rng.random() < 0.7:
            return self.rng.choice(posts[-100:])
        return self.rng.choice(posts)

    def new_post(self, kind: str, result: Any, into: list[Message], reader: Any) -> None:
        response = result.response if result is not None else None
        if response is None or response.ephemeral:
            if result is not None and not self.refused:
                self.errors.append(f"{kind}: no public excerpt was posted")
            return
        into.append(response)
        self.posts.append(response)
        self.message_of[response.id] = response
        self.owner_of[response.id] = reader

    def presser(self, post: Message) -> tuple[Any, bool]:
        """Who presses a reading post's button: mostly its owner. Returns (reader, owns)."""
        owner = self.owner_of[post.id]
        if self.rng.random() >= OTHERS_PRESS:
            return owner, True
        return self.rng.choice([r for r in self.readers if r is not owner]), False

    def private_copy(self, kind: str, post: Message, before: str, result: Any) -> None:
        """Another reader's press: they get a private copy; the post stays as it was."""
        response = result.response if result is not None else None
        if response is None:
            return
        if not response.ephemeral:
            self.errors.append(f"{kind}: another reader's press was answered in public")
        stored = self.env.backend.get_message(post.channel_id, post.id)
        if stored.content != before:
            self.errors.append(f"{kind}: another reader's press changed the owner's post")
        self.private_copies += 1

    def new_other(self, result: Any) -> None:
        response = result.response if result is not None else None
        if response is not None and not response.ephemeral:
            self.others.append(response)
            self.message_of[response.id] = response

    async def command(self, kind: str) -> None:
        rng = self.rng
        if kind == "next-page":
            for _ in range(10):
                if not self.reading:
                    break
                post = self.recent(self.reading)
                if buttons(self.env, post).get("Next page ▶"):
                    reader, owns = self.presser(post)
                    before = self.env.backend.get_message(post.channel_id, post.id).content
                    result = await self.act(kind, reader.click(post, label="Next page ▶"))
                    if not owns:
                        self.private_copy(kind, post, before, result)
                    return
            kind = "read"
        if kind == "next-section":
            for _ in range(10):
                if not self.reading:
                    break
                post = self.recent(self.reading)
                if buttons(self.env, post).get("Next section ⏭"):
                    reader, owns = self.presser(post)
                    before = self.env.backend.get_message(post.channel_id, post.id).content
                    result = await self.act(kind, reader.click(post, label="Next section ⏭"))
                    if owns:
                        self.new_post(kind, result, self.reading, reader)
                    else:
                        self.private_copy(kind, post, before, result)
                    return
            kind = "read"
        if kind == "read-section":
            if self.searches and (rng.random() < 0.5 or not self.excerpts):
                reader, message = rng.choice(self.searches)
                labels = [label for label in buttons(self.env, message) if label.startswith("Read")]
                label = rng.choice(labels)
                result = await self.act(kind, reader.click(message, label=label))
                self.new_post(kind, result, self.reading, reader)
                return
            if self.excerpts:
                post = self.recent(self.excerpts)
                reader = rng.choice(self.readers)
                result = await self.act(kind, reader.click(post, label="Read the whole section"))
                self.new_post(kind, result, self.reading, reader)
                return
            kind = "read"
        if kind == "shelf-next":
            for _ in range(10):
                if not self.shelves:
                    break
                post = self.recent(self.shelves)
                if buttons(self.env, post).get("Next ▶"):
                    reader = rng.choice(self.readers)
                    await self.act(kind, reader.click(post, label="Next ▶"))
                    return
            kind = "stories"

        if kind in LIMITED:
            reader = await self.limited_reader()
        else:
            reader = rng.choice(self.readers)
        if kind == "read":
            story = self.pick_story()
            channel = self.readable(story.level)
            section = rng.randint(1, story.sections)
            result = await self.act(
                kind,
                reader.slash(channel, "read", title=story.title, section=section),
                detail=f"{story.title}, section {section}",
            )
            self.new_post(kind, result, self.reading, reader)
        elif kind == "excerpt":
            channel = rng.choice([self.general, self.after_dark])
            options = {}
            if rng.random() < 0.5:
                options["title"] = self.pick_story(channel).title
            result = await self.act(kind, reader.slash(channel, "excerpt", **options))
            self.new_post(kind, result, self.excerpts, reader)
        elif kind == "search":
            channel = rng.choice([self.general, self.after_dark])
            options = {"query": " ".join(rng.sample(SEARCH_WORDS, rng.choice((1, 1, 2))))}
            if rng.random() < 0.25:
                options["title"] = self.pick_story(channel).title
            result = await self.act(kind, reader.slash(channel, "search", **options))
            response = result.response if result is not None else None
            if response is not None and any(
                label.startswith("Read") for label in buttons(self.env, response)
            ):
                self.searches.append((reader, response))
        elif kind == "stories":
            channel = rng.choice([self.general, self.after_dark])
            options: dict[str, Any] = {}
            roll = rng.random()
            if roll < 0.25:
                options["rating"] = rng.choice(list(RatingLevel)).value
            elif roll < 0.5:
                options["query"] = rng.choice(WORDS)
            result = await self.act(kind, reader.slash(channel, "stories", **options))
            self.new_other(result)
            if result is not None and result.response and buttons(self.env, result.response):
                self.shelves.append(result.response)
        elif kind == "story":
            story = self.pick_story()
            channel = self.readable(story.level)
            result = await self.act(
                kind, reader.slash(channel, "story", title=story.title), detail=story.title
            )
            self.new_other(result)
        elif kind == "ac-title":
            story = self.pick_story()
            channel = self.readable(story.level)
            command = rng.choice(["read", "excerpt", "search", "story"])
            typed = story.title[: rng.randint(1, 4)].lower()
            choices = await self.act(kind, reader.autocomplete(channel, command, "title", typed))
            if choices is not None and not choices:
                self.errors.append(f"{kind}: nothing offered for {typed!r} ({story.title})")
        elif kind == "ac-section":
            story = self.pick_story()
            channel = self.readable(story.level)
            typed = rng.choice(["", str(rng.randint(1, story.sections))])
            choices = await self.act(
                kind, reader.autocomplete(channel, "read", "section", typed, title=story.title)
            )
            if choices is not None and not choices:
                self.errors.append(f"{kind}: nothing offered for {typed!r} ({story.title})")
        else:
            raise AssertionError(kind)

    async def ping(self) -> None:
        reader = self.rng.choice(self.readers)
        await self.act("ping", reader.slash(self.general, "bench-ping"))

    # ------------------------------------------------------------------ reactions

    def _remember(self, excerpt: bool, key: tuple[int, str, int]) -> None:
        self.live_at[excerpt][key] = len(self.live[excerpt])
        self.live[excerpt].append(key)

    def _forget(self, excerpt: bool, key: tuple[int, str, int]) -> None:
        live, index = self.live[excerpt], self.live_at[excerpt]
        at = index.pop(key)
        last = live.pop()
        if at < len(live):
            live[at] = last
            index[last] = at

    async def reaction(self) -> None:
        rng = self.rng
        excerpt = bool(self.posts) and rng.random() >= 0.12
        live = self.live[excerpt]
        if live and rng.random() < 0.3:
            key = rng.choice(live)
            message_id, emoji, user_id = key
            post = self.message_of[message_id]
            await self.act("unreact", self.by_id[user_id].unreact(post, emoji), timed=False)
            self._forget(excerpt, key)
            self.reaction_counts["removed"] += 1
            return
        pool = self.posts if excerpt else self.others
        for _ in range(20):
            post = self.recent(pool)
            emoji = rng.choice(self.emoji) if rng.random() < 0.9 else rng.choice(EXTRA_EMOJI)
            if excerpt and rng.random() < 0.01:
                if (post.id, emoji) in self.bot_reactions:
                    continue
                await self.act("react", self.other_bot.react(post, emoji), timed=False)
                self.bot_reactions.add((post.id, emoji))
                self.reaction_counts["by another bot"] += 1
                return
            reader = rng.choice(self.readers)
            key = (post.id, emoji, reader.id)
            if key in self.live_at[excerpt]:
                continue
            await self.act("react", reader.react(post, emoji), timed=False)
            self._remember(excerpt, key)
            self.reaction_counts["added"] += 1
            if not excerpt:
                self.reaction_counts["on non-excerpts"] += 1
            return
        raise RuntimeError("could not find a new reaction to add")

    async def chat(self) -> None:
        reader = self.rng.choice(self.readers)
        channel = self.rng.choice([self.general, self.after_dark])
        message = await reader.send(channel, self.rng.choice(CHAT))
        self.others.append(message)
        self.message_of[message.id] = message

    # ------------------------------------------------------------------ moderator

    async def upload_add(self) -> None:
        """`/library add`, and the rating menu when the preview asks for a rating."""
        filename, data = self.upload["file"]
        result = await self.act(
            "library add",
            self.moderator.slash(self.general, "library add", file=(filename, data)),
        )
        preview = result.response if result is not None else None
        self.upload["preview"] = preview
        self.upload["previewed_at"] = self.virtual
        if preview is None or "Confirm" not in buttons(self.env, preview):
            self.errors.append(f"library add: no preview to confirm ({preview!r})")
            return
        stored = self.env.backend.get_message(preview.channel_id, preview.id)
        if any(
            item.get("type") == 3 for row in stored.components for item in row.get("components", [])
        ):
            await self.act(
                "library rating",
                self.moderator.select(preview, [UPLOAD_RATING.value]),
                timed=False,
            )
            self.upload["picked"] = UPLOAD_RATING

    async def upload_confirm(self) -> None:
        preview = self.upload.get("preview")
        if preview is None:
            return
        self.upload["confirmed_after"] = self.virtual - self.upload["previewed_at"]
        await self.act(
            "library confirm", self.moderator.click(preview, label="Confirm"), timed=False
        )
        before = len(self.stories)
        self.stories = await shelf_stories(self.bot, self.guild.id)
        new = [s for s in self.stories if s.title not in self.seeded_titles]
        self.upload["stored"] = new
        if len(self.stories) != before + 1:
            self.errors.append("library confirm: the novel was not stored")
        elif "picked" in self.upload and new[0].level is not self.upload["picked"]:
            self.errors.append(
                f"library confirm: stored as {new[0].level.display}, picked"
                f" {self.upload['picked'].display} in the preview"
            )

    def confirm_due(self) -> bool:
        previewed = self.upload.get("previewed_at")
        return (
            previewed is not None
            and "stored" not in self.upload
            and self.virtual - previewed >= CONFIRM_AFTER
        )

    # ------------------------------------------------------------------ the stream

    async def run(self) -> None:
        rng = self.rng
        self.arrange()
        self.instrument()
        upload = next((CORPUS / n for n in UPLOADS if (CORPUS / n).is_file()), None)
        self.upload["file"] = (
            (upload.name, upload.read_bytes()) if upload is not None else generated_novel()
        )
        if self.seeded:
            self.stories = await shelf_stories(self.bot, self.guild.id)
            self.seeded_titles = {story.title for story in self.stories}
        else:
            self.seeded_titles = set(
                seed_shelf(self.settings, self.guild.id, upload.name if upload else None)
            )
            self.stories = await shelf_stories(self.bot, self.guild.id)
        self.emoji = await feedback_emoji(self.bot, self.guild.id)
        self.cooldown = self.settings.command_cooldown
        for _ in range(10):
            await self.chat()
        for _ in range(5):  # warm up the trivial command and /read
            await self.ping()
            story = self.pick_story(self.general)
            reader = await self.limited_reader()
            await self.act("warm-up", reader.slash(self.general, "read", title=story.title))
        self.round_trip.clear()
        self.bot_time.clear()

        kinds, weights = zip(*MIX.items(), strict=True)
        commands, reactions = self.args.commands, self.args.reactions
        done_commands = done_reactions = step = 0
        upload_at = int(commands * UPLOAD_AT) if self.uploads else -1
        if self.ready is not None:
            await self.ready()
        self.writes.clear()
        self.rss_before = rss_mb()
        self.heap.start()
        self.stalls.start()
        self.stream_started = time.time()
        start = time.perf_counter()
        while done_commands < commands or done_reactions < reactions:
            step += 1
            await self.keep_time(step)
            if self.confirm_due():
                await self.upload_confirm()
            left_c, left_r = commands - done_commands, reactions - done_reactions
            if rng.random() < left_c / (left_c + left_r):
                if done_commands == upload_at and "preview" not in self.upload:
                    await self.upload_add()
                await self.command(rng.choices(kinds, weights)[0])
                done_commands += 1
                if done_commands % 10 == 0:
                    await self.ping()
            else:
                await self.reaction()
                done_reactions += 1
                if done_reactions % 150 == 0:
                    await self.chat()
        if "preview" in self.upload and "stored" not in self.upload:
            # A stream too short for the moderator's half minute: confirm now.
            await self.upload_confirm()
        self.stream_seconds = time.perf_counter() - start
        await self.stalls.stop()
        self.heap.stop()
        self.done = (done_commands, done_reactions)

        flush_start = time.perf_counter()
        await self.bot.feedback.flush()
        await self.env.settle()
        self.flush_seconds = time.perf_counter() - flush_start
        self.stream_ended = time.time()
        self.own_heap = self.heap.own_heap(self.bot)
        if self.settings.database_url is None and not self.seeded:
            self.check_database()

    def check_database(self) -> None:
        conn = sqlite3.connect(self.settings.database_path)
        try:
            stored = set(conn.execute("SELECT message_id, emoji, user_id FROM reactions"))
            recorded = {row[0] for row in conn.execute("SELECT message_id FROM excerpt_posts")}
        finally:
            conn.close()
        expected = set(self.live[True])
        self.expected, self.stored = expected, stored
        self.posts_recorded = sum(1 for post in self.posts if post.id in recorded)


# --------------------------------------------------------------------------- report


def report(load: Load, args: argparse.Namespace, elapsed: float, captured: LogCapture) -> bool:
    ms = 1000.0
    ping_bot, ping_trip = load.bot_time["ping"], load.round_trip["ping"]
    ping_p50, ping_p99 = statistics.median(ping_bot), pct(ping_bot, 0.99)
    commands = [k for k in MIX if load.round_trip.get(k)]
    n_commands, n_reactions = load.done
    filename, data = load.upload["file"]
    stored = load.upload.get("stored") or []
    rate, per = load.cooldown

    print(
        f"Storyshelf load: {args.readers} readers in one server, {n_commands:,} commands,"
        f" {n_reactions:,} reactions,"
        f" one moderator upload (SimCord {simcord.__version__}, discord.py {discord.__version__})"
    )
    print(
        f"shelf: {len(load.seeded_titles)} stories seeded"
        f" ({'corpus + generated' if CORPUS.is_dir() else 'generated; corpus absent'});"
        f" uploaded {filename} ({len(data) / 1e6:.1f} MB)"
        + (f" → “{stored[0].title}”, {stored[0].sections} sections" if stored else "")
    )
    print(
        f"cooldown: {rate} uses per {per:g} s per reader on /read, /excerpt and /search together"
        f" ({'the bot default' if args.cooldown is None else 'set with --cooldown'});"
        f" readers keep within it; simulated time {load.virtual / 3600:.1f} h"
    )
    print(
        f"elapsed {elapsed:.1f} s: stream {load.stream_seconds:.1f} s"
        f" (of which advancing the virtual clock {load.time_advancing:.1f} s),"
        f" final flush {load.flush_seconds * ms:.0f} ms"
    )
    print()
    print("latency           n   bot p50 ms (x ping)  bot p99 ms (x ping)  round trip p50 / p99 ms")

    def row(kind: str, bot: list[float], trip: list[float]) -> None:
        cells = f"{kind:<16}{len(trip):>5}"
        if bot:
            p50, p99 = statistics.median(bot), pct(bot, 0.99)
            cells += f"   {p50 * ms:7.2f} ({p50 / ping_p50:5.2f}x)   {p99 * ms:7.2f}"
            cells += f" ({p99 / ping_p99:5.2f}x)"
        else:
            cells += " " * 40
        cells += f"   {statistics.median(trip) * ms:7.2f} / {pct(trip, 0.99) * ms:7.2f}"
        print(cells)

    row("ping", ping_bot, ping_trip)
    for kind in commands:
        row(kind, load.bot_time[kind], load.round_trip[kind])
    all_bot = [t for k in commands for t in load.bot_time[k]]
    all_trip = [t for k in commands for t in load.round_trip[k]]
    row("all commands", all_bot, all_trip)
    for kind in ("react", "unreact", "library add", "library rating", "library confirm"):
        if load.round_trip.get(kind):
            row(kind, load.bot_time.get(kind, []), load.round_trip[kind])

    command_time = sum(all_trip)
    ping_rate = len(ping_trip) / sum(ping_trip)
    command_rate = n_commands / command_time
    reactions = load.round_trip["react"] + load.round_trip["unreact"]
    print()
    print(
        f"throughput: {n_commands / load.stream_seconds:,.0f} commands/s over the whole mixed"
        f" stream; {command_rate:,.0f} commands/s of command time, vs the trivial"
        f" command's {ping_rate:,.0f}/s in the same run ({command_rate / ping_rate:.2f}x)"
    )
    print(
        f"reactions: {len(reactions):,} ({load.reaction_counts['added']:,} added,"
        f" {load.reaction_counts['removed']:,} removed,"
        f" {load.reaction_counts['on non-excerpts']:,} of the adds on non-excerpt messages,"
        f" {load.reaction_counts['by another bot']:,} by another bot);"
        f" {len(reactions) / sum(reactions):,.0f}/s of reaction time"
    )

    errors = load.errors
    logged_errors = [r for r in captured.records if r.levelno >= logging.ERROR]
    warnings = [r for r in captured.records if r.levelno < logging.ERROR]
    print()
    print(
        f"errors: {len(errors)} interactions, {len(logged_errors)} ERROR log records (target: zero)"
    )
    for line, count in collections.Counter(errors).most_common(10):
        print(f"  {count} x {line}")
    for record in logged_errors[:2]:
        print(f"  logged by {record.name}: {record.getMessage()}")
        if record.exc_text:
            print("    " + record.exc_text.replace("\n", "\n    "))
    refusals = sum(load.cooldown_refusals.values())
    print(
        f"cooldown refusals: {refusals} (not errors; {dict(load.cooldown_refusals) or 'none'});"
        f" times every reader had used their budget: {load.cooldown_waits}"
    )
    if warnings:
        print(f"warnings logged: {len(warnings)}")
        for line, count in collections.Counter(
            f"{r.name}: {r.getMessage()[:120]}" for r in warnings
        ).most_common(5):
            print(f"  {count} x {line}")
    missing = load.expected - load.stored
    extra = load.stored - load.expected
    print(
        f"reactions lost: expected {len(load.expected):,} stored reactions, stored"
        f" {len(load.stored):,}, missing {len(missing)}, extra {len(extra)} (target: zero)"
    )
    for key in sorted(missing)[:5]:
        print(f"  missing {key}")
    for key in sorted(extra)[:5]:
        print(f"  extra {key}")
    print(
        f"excerpt posts: {len(load.posts):,} posted, {load.posts_recorded:,} recorded;"
        f" failed feedback flushes: {load.bot.feedback.failed_flushes}"
    )
    print(
        f"peak memory: {peak_rss_mb():.0f} MB resident (ru_maxrss);"
        f" {load.rss_before:.0f} MB before the stream"
    )
    picked = load.upload.get("picked")
    confirmed_after = load.upload.get("confirmed_after")
    print(
        "moderator upload: "
        + (f"picked {picked.display} in the preview's rating menu; " if picked else "")
        + (
            f"confirmed {confirmed_after:.0f} simulated s after the preview"
            if confirmed_after is not None
            else "never confirmed"
        )
    )
    print(f"presses on another reader's post: {load.private_copies} answered with a private copy")
    stalls = load.stalls
    print(
        f"event-loop stalls: longest {stalls.worst * ms:.1f} ms with the process busy"
        f" (wall-clock lateness {stalls.worst_wall * ms:.1f} ms, the machine's other work"
        f" included); p99 {pct(stalls.held, 0.99) * ms if stalls.held else 0:.1f} ms;"
        f" {stalls.over(STALL_GOAL_MS / ms)} of {stalls.wakes:,} wakes of a 5 ms timer"
        f" over {STALL_GOAL_MS:.0f} ms; load average {load_average()}"
    )
    for held, late, in_gc, doing in stalls.longest:
        print(
            f"  {held * ms:7.1f} ms busy ({late * ms:.1f} ms late, {in_gc * ms:.1f} ms of it in"
            f" the garbage collector) during {doing or 'the stream'}"
        )
    heap = load.own_heap
    assert heap is not None, "the stream ran"
    print(
        f"garbage collector: the simulated Discord kept out of full passes ({load.heap.freezes}"
        f" freezes after a full pass; {heap.frozen:,} objects frozen at the end, of which"
        f" {heap.kept_garbage:,} were cyclic garbage the freezes kept); a full pass over all"
        f" {heap.tracked:,} tracked objects {heap.full_pass * ms:.1f} ms; the bot's own"
        f" {heap.own:,} (reachable from it, not through SimCord, not frozen by it at start-up):"
        f" a full pass over them alone ~{heap.own_pass * ms:.1f} ms"
    )

    lost = len(missing) + len(extra) + (len(load.posts) - load.posts_recorded)
    error_count = len(errors) + len(logged_errors)
    goals = [
        Goal(
            "load errors",
            str(error_count),
            "0",
            error_count == 0,
            f"{len(errors)} interactions that raised, went unanswered or apologised, and"
            f" {len(logged_errors)} ERROR log records (one failure often makes both), over"
            f" {n_commands:,} commands, {n_reactions:,} reactions and one upload",
        ),
        Goal(
            "load reactions lost",
            str(lost),
            "0",
            lost == 0,
            "reactions in SQLite vs what readers left (missing + extra), and excerpt posts"
            " not recorded, after the final flush",
        ),
        Goal(
            "load event-loop stall",
            f"{stalls.worst * ms:.1f} ms",
            f"≤ {STALL_GOAL_MS:.0f} ms",
            stalls.worst * ms <= STALL_GOAL_MS,
            "longest lateness of a 5 ms timer on the bot's event loop during the stream,"
            " the process busy (SimCord's own work included: an upper bound on the bot's;"
            " the simulated Discord's objects frozen out of the collector's full passes)",
        ),
        Goal(
            "load full collector pass over the bot's own objects",
            f"~{heap.own_pass * ms:.1f} ms",
            f"≤ {STALL_GOAL_MS:.0f} ms",
            heap.own_pass * ms <= STALL_GOAL_MS,
            f"{heap.own:,} objects reachable from the bot at the end (not via SimCord, not"
            f" frozen by the bot at start-up), at the per-object cost of a full pass over"
            f" all {heap.tracked:,} tracked objects ({heap.full_pass * ms:.1f} ms); the"
            " stall above does not include such passes",
        ),
    ]
    ok = not errors and not logged_errors and not missing and not extra
    ok = ok and load.posts_recorded == len(load.posts)
    print(f"result: {'PASS' if ok else 'FAIL'} (zero errors, zero reactions lost)")
    for goal in goals:
        print(goal.line())
    return all(goal.passed for goal in goals)


def add_ping(bot: discord.Client) -> None:
    """The trivial command every figure is compared with; only this script has it."""

    @app_commands.command(name="bench-ping", description="trivial reply")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    bot.tree.add_command(ping)  # type: ignore[attr-defined]


async def main_async(args: argparse.Namespace) -> bool:
    captured = LogCapture()
    logging.getLogger().addHandler(captured)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        cooldown = {"command_cooldown": args.cooldown} if args.cooldown else {}
        settings = Settings(database_path=Path(tmp, "load.db"), shard_count=1, **cooldown)
        bot = create_bot(settings)
        add_ping(bot)
        async with simcord.run(bot, check_errors=False) as env:
            load = Load(env, settings, args)
            await load.run()
        if bot.feedback is not None and bot._db is not None:
            await bot.close_resources()
    return report(load, args, time.perf_counter() - start, captured)


# --------------------------------------------------------------------------- shard groups

GROUPS = 4  # shard groups beside each other with --database-url, one process each
_GUILD_MS = (770_999_999_994_527_745 >> 22) // GROUPS * GROUPS  # a 2021 millisecond


def group_guild(group: int) -> int:
    """Shard group `group`'s server: (id >> 22) % GROUPS == group, as Discord shards."""
    return ((_GUILD_MS + group) << 22) | 1


def partition_snowflakes(group: int, groups: int) -> None:
    """Each shard group's SimCord hands out ids from its own quarter of a millisecond's
    22 sequence bits, so message ids are unique across the groups' Discords (as Discord's
    are) while their timestamps, which the cooldown reads, stay those of the clock."""
    from simcord.backend.ops.base import BackendBase

    original = BackendBase._allocate_at
    floor = group * ((1 << 22) // groups)

    def allocate(self: Any, milliseconds: int) -> int:
        if self._sequences.get(milliseconds, 0) < floor:
            self._sequences[milliseconds] = floor
        return original(self, milliseconds)

    BackendBase._allocate_at = allocate  # type: ignore[method-assign]


@dataclasses.dataclass(frozen=True)
class Store:
    """Where the shard groups' shelf is: a SQLite file or a PostgreSQL database."""

    label: str
    path: Path | None = None
    url: str | None = None

    def settings(self, **fields: Any) -> Settings:
        if self.url is not None:
            return Settings(database_url=self.url, **fields)
        assert self.path is not None
        return Settings(database_path=self.path, **fields)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.url is not None:
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                return [tuple(row) for row in conn.execute(sql).fetchall()]
        conn = sqlite3.connect(self.path)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()


def share(total: int, group: int) -> int:
    return total // GROUPS + (1 if group < total % GROUPS else 0)


def worker(args: argparse.Namespace) -> None:
    """One shard group: the real bot on shard `args.worker` of GROUPS, in its own SimCord,
    on the shelf the parent seeded; its figures go to `args.worker_out` as JSON."""
    group = args.worker
    partition_snowflakes(group, GROUPS)
    own = Path(args.worker_out).with_suffix(".d")  # this process's folder (its journal)
    own.mkdir(parents=True, exist_ok=True)
    fields: dict[str, Any] = {"shard_count": GROUPS, "shard_ids": (group,)}
    if args.cooldown:
        fields["command_cooldown"] = args.cooldown
    if args.worker_db.startswith("postgres"):
        settings = Settings(database_url=args.worker_db, database_path=own / "load.db", **fields)
    else:
        settings = Settings(database_path=Path(args.worker_db), **fields)
    result = asyncio.run(worker_async(args, settings))
    database = settings.database_path
    result["journals"] = [
        str(path)
        for folder in {own, database.parent}
        for path in folder.glob("*.journal")
        if path.name.startswith(database.name)
    ]
    Path(args.worker_out).write_text(json.dumps(result))


async def worker_async(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    captured = LogCapture()
    logging.getLogger().addHandler(captured)
    group = args.worker

    async def ready() -> None:
        print("READY", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # the parent's start line

    bot = create_bot(settings)
    add_ping(bot)
    # Commands are synced once per application (a stored hash): the other groups find
    # them synced, as a real second shard group would, and do not sync.
    async with simcord.run(bot, check_errors=False, strict_sync=False) as env:
        load = Load(
            env,
            settings,
            args,
            guild_id=group_guild(group),
            seeded=True,
            uploads=group == 0,
            ready=ready,
        )
        await load.run()
    if bot.feedback is not None and bot._db is not None:
        await bot.close_resources()
    stored = load.upload.get("stored") or []
    return {
        "group": group,
        "guild": load.guild.id,
        "done": list(load.done),
        "bot_time": load.bot_time,
        "round_trip": load.round_trip,
        "errors": load.errors,
        "logged_errors": [
            f"{r.name}: {r.getMessage()}" + (f"\n{r.exc_text}" if r.exc_text else "")
            for r in captured.records
            if r.levelno >= logging.ERROR
        ],
        "warnings": [
            f"{r.name}: {r.getMessage()[:160]}"
            for r in captured.records
            if r.levelno < logging.ERROR
        ],
        "cooldown_refusals": sum(load.cooldown_refusals.values()),
        "reaction_counts": dict(load.reaction_counts),
        "expected": sorted(load.live[True]),
        "posts": [post.id for post in load.posts],
        "stream": [load.stream_started, load.stream_ended],
        "stream_seconds": load.stream_seconds,
        "writes": load.writes,
        "failed_flushes": load.bot.feedback.failed_flushes,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_mb": load.rss_before,
        "stall_ms": load.stalls.worst * 1000,
        "stall_wall_ms": load.stalls.worst_wall * 1000,
        "virtual": load.virtual,
        "upload": [stored[0].title, stored[0].sections] if stored else None,
        "seeded": len(load.seeded_titles),
    }


@dataclasses.dataclass
class GroupsRun:
    """Four shard groups' results on one store, checked against the store at the end."""

    store: Store
    results: list[dict[str, Any]]
    seconds: float  # wall time from the start line to the last group's final flush
    elapsed: float  # everything: seeding, start-up, the stream, shut-down
    seeding: float
    expected: set[tuple[int, str, int]]
    stored: set[tuple[int, str, int]]
    unrecorded: int  # excerpt posts the readers saw that are not in excerpt_posts
    crashed: list[str]

    def all(self, field: str, kinds: Any = None) -> list[float]:
        return [
            value
            for result in self.results
            for kind, values in result[field].items()
            if kinds is None or kind in kinds
            for value in values
        ]

    def commands(self, field: str = "bot_time") -> list[float]:
        return self.all(field, MIX)

    def ping(self, field: str = "bot_time") -> list[float]:
        return self.all(field, ("ping",))

    @property
    def errors(self) -> list[str]:
        found = [e for r in self.results for e in r["errors"] + r["logged_errors"]]
        return found + self.crashed

    @property
    def lost(self) -> int:
        return len(self.expected - self.stored) + len(self.stored - self.expected) + self.unrecorded


def run_groups(store: Store, args: argparse.Namespace, tmp: Path) -> GroupsRun:
    """Seed every group's server, start GROUPS worker processes, start their streams
    together, and check the store once every one of them has closed."""
    start = time.perf_counter()
    upload = next((n for n in UPLOADS if (CORPUS / n).is_file()), None)
    for group in range(GROUPS):
        seed_shelf(store.settings(), group_guild(group), upload)
    seeding = time.perf_counter() - start
    folder = tmp / store.label.split()[0].lower()
    folder.mkdir()
    processes: list[subprocess.Popen[str]] = []
    outs = [folder / f"group-{group}.json" for group in range(GROUPS)]
    logs = [folder / f"group-{group}.stderr" for group in range(GROUPS)]
    database = store.url or str(store.path)
    crashed: list[str] = []
    try:
        for group in range(GROUPS):
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--worker",
                str(group),
                "--worker-db",
                database,
                "--worker-out",
                str(outs[group]),
                "--readers",
                str(-(-args.readers // GROUPS)),
                "--commands",
                str(share(args.commands, group)),
                "--reactions",
                str(share(args.reactions, group)),
                "--seed",
                str(args.seed + group),
            ]
            if args.cooldown:
                command += ["--cooldown", f"{args.cooldown[0]}/{args.cooldown[1]:g}"]
            with logs[group].open("w") as stderr:
                processes.append(
                    subprocess.Popen(
                        command,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=stderr,
                        text=True,
                        cwd=ROOT,
                    )
                )
        for group, process in enumerate(processes):
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.strip() != "READY":
                crashed.append(f"group {group} did not start: {line.strip() or 'no output'}")
        go = time.perf_counter()
        for process in processes:
            assert process.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write("go\n")
                process.stdin.flush()
        for group, process in enumerate(processes):
            status = process.wait()
            if status != 0:
                tail = logs[group].read_text(errors="replace").strip().splitlines()[-3:]
                crashed.append(f"group {group} exited with {status}: {' | '.join(tail)}")
        seconds = time.perf_counter() - go
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    results = [json.loads(out.read_text()) for out in outs if out.is_file()]
    expected = {tuple(key) for r in results for key in r["expected"]}
    stored = set(store.rows("SELECT message_id, emoji, user_id FROM reactions"))
    recorded = {row[0] for row in store.rows("SELECT message_id FROM excerpt_posts")}
    posts = [post for r in results for post in r["posts"]]
    unrecorded = sum(1 for post in posts if post not in recorded)
    if results:
        seconds = max(r["stream"][1] for r in results) - min(r["stream"][0] for r in results)
    return GroupsRun(
        store,
        results,
        seconds,
        time.perf_counter() - start,
        seeding,
        expected,  # type: ignore[arg-type]
        stored,
        unrecorded,
        crashed,
    )


def report_groups(runs: list[GroupsRun], args: argparse.Namespace) -> bool:
    ms = 1000.0
    print(
        f"Storyshelf load, SQLite beside PostgreSQL: {GROUPS} shard groups on each, one process"
        f" per group (the real bot, shard_count={GROUPS}, shard_ids=(group,), its own SimCord),"
        f" all groups on one store: SQLite on one file, PostgreSQL on one database."
    )
    print(
        f"each group: its own server (shard = (guild_id >> 22) % {GROUPS} = the group),"
        f" {-(-args.readers // GROUPS)} readers, its share of {args.commands:,} commands and"
        f" {args.reactions:,} reactions ({share(args.commands, 0):,} and"
        f" {share(args.reactions, 0):,} in group 0), seed {args.seed} + group; the shelf seeded"
        f" into every server; group 0's moderator uploads the novel. The streams start together"
        f" (a start line once every group is ready). SimCord {simcord.__version__},"
        f" discord.py {discord.__version__}; {os.cpu_count()} CPUs, load average"
        f" {load_average()}"
    )
    print()
    width = 44
    print(f"{'':<30}" + "".join(f"{run.store.label:>{width}}" for run in runs))

    def line(label: str, cells: list[str]) -> None:
        print(f"{label:<30}" + "".join(f"{cell:>{width}}" for cell in cells))

    def p50_99(values: list[float], base: list[float] | None = None) -> str:
        if not values:
            return "-"
        p50, p99 = statistics.median(values), pct(values, 0.99)
        text = f"{p50 * ms:.2f} / {p99 * ms:.2f}"
        if base:
            text += f" ({p50 / statistics.median(base):.2f}x/{p99 / pct(base, 0.99):.2f}x)"
        return text

    line("errors", [str(len(run.errors)) for run in runs])
    line("reactions lost", [str(run.lost) for run in runs])
    line(
        "  stored / expected",
        [f"{len(run.stored):,} / {len(run.expected):,}" for run in runs],
    )
    line(
        "  missing / extra / unrecorded",
        [
            f"{len(run.expected - run.stored)} / {len(run.stored - run.expected)}"
            f" / {run.unrecorded}"
            for run in runs
        ],
    )
    line("commands, reactions done", [_done(run) for run in runs])
    line("command p50 / p99 ms (x ping)", [p50_99(run.commands(), run.ping()) for run in runs])
    line("trivial reply p50 / p99 ms", [p50_99(run.ping()) for run in runs])
    line(
        "  round trip, commands",
        [p50_99(run.commands("round_trip")) for run in runs],
    )
    for kind in [*MIX, "react", "unreact"]:
        if any(any(r["round_trip"].get(kind) for r in run.results) for run in runs):
            field = "round_trip" if kind in ("react", "unreact") else "bot_time"
            label = f"  {kind} {'round trip' if field == 'round_trip' else 'bot'} p50/p99"
            line(label, [p50_99(run.all(field, (kind,))) for run in runs])

    def written(run: GroupsRun) -> str:
        events = sum(n for r in run.results for n, _ in r["writes"])
        busy = sum(t for r in run.results for _, t in r["writes"])
        return (
            f"{events / run.seconds:,.0f}/s ({events / busy if busy else 0:,.0f}/s of write time)"
        )

    def commits(run: GroupsRun) -> str:
        events = sum(n for r in run.results for n, _ in r["writes"])
        commits = sum(1 for r in run.results for n, _ in r["writes"] if n)
        return f"{events:,} / {commits:,}"

    def given(run: GroupsRun) -> str:
        reactions = run.all("round_trip", ("react", "unreact"))
        return f"{len(reactions) / run.seconds:,.0f}/s of stream wall time"

    line("reactions given", [given(run) for run in runs])
    line("reactions written", [written(run) for run in runs])
    line("  events written / commits", [commits(run) for run in runs])
    line("stream wall time s", [f"{run.seconds:.1f}" for run in runs])
    line(
        "peak memory per process MB",
        [", ".join(f"{r['peak_rss_mb']:.0f}" for r in run.results) or "-" for run in runs],
    )
    line(
        "  resident before stream MB",
        [", ".join(f"{r['rss_before_mb']:.0f}" for r in run.results) or "-" for run in runs],
    )
    line(
        "longest loop stall ms (busy)",
        [", ".join(f"{r['stall_ms']:.0f}" for r in run.results) or "-" for run in runs],
    )
    line(
        "failed flushes, journals left",
        [
            f"{sum(r['failed_flushes'] for r in run.results)},"
            f" {sum(len(r['journals']) for r in run.results)}"
            for run in runs
        ],
    )
    line(
        "cooldown refusals (not errors)",
        [str(sum(r["cooldown_refusals"] for r in run.results)) for run in runs],
    )
    line(
        "upload (group 0)",
        [
            next((f"{r['upload'][1]} sections" for r in run.results if r["upload"]), "none")
            for run in runs
        ],
    )
    line(
        "seeding s, total s",
        [f"{run.seeding:.1f}, {run.elapsed:.1f}" for run in runs],
    )
    print()
    print(
        "command: bot handling time of reader commands (all kinds, all groups), x ping = ratio to"
        " the trivial /bench-ping in the same groups; reactions given: adds and removes sent to"
        " the bots per second of the streams' wall time (first start to last final flush);"
        " reactions written: events the groups' feedback writers committed per second of that"
        " time; lost = reactions expected (readers' live reactions on excerpts) vs rows in"
        " `reactions` after every group closed (missing + extra), plus excerpt posts not"
        " recorded; peak memory: each process's ru_maxrss, group 0 first."
    )
    goals: list[Goal] = []
    for run in runs:
        for problem, count in collections.Counter(run.errors).most_common(8):
            print(f"  {run.store.label}: {count} x {problem[:400]}")
        for key in sorted(run.expected - run.stored)[:5]:
            print(f"  {run.store.label}: missing {key}")
        for key in sorted(run.stored - run.expected)[:5]:
            print(f"  {run.store.label}: extra {key}")
        warnings = collections.Counter(w for r in run.results for w in r["warnings"])
        for warning, count in warnings.most_common(3):
            print(f"  {run.store.label}: warning {count} x {warning}")
        name = run.store.label.split()[0]
        goals.append(
            Goal(
                f"load errors ({name}, {GROUPS} groups)",
                str(len(run.errors)),
                "0",
                not run.errors,
                f"interactions that failed and ERROR log records in {GROUPS} shard-group"
                f" processes on one {name} store",
            )
        )
        goals.append(
            Goal(
                f"load reactions lost ({name}, {GROUPS} groups)",
                str(run.lost),
                "0",
                run.lost == 0 and bool(run.results),
                "reactions readers left vs rows in `reactions` after every group closed"
                " (missing + extra), and excerpt posts not recorded",
            )
        )
    ok = all(goal.passed for goal in goals)
    print(f"result: {'PASS' if ok else 'FAIL'} (zero errors, zero reactions lost, on each store)")
    for goal in goals:
        print(goal.line())
    return ok


def _done(run: GroupsRun) -> str:
    commands = sum(r["done"][0] for r in run.results)
    reactions = sum(r["done"][1] for r in run.results)
    return f"{commands:,}, {reactions:,} ({len(run.results)} groups)"


def main_groups(args: argparse.Namespace) -> bool:
    """--database-url: the same shard groups on SQLite (one file) and on PostgreSQL."""
    import psycopg

    from tests.pg import with_database

    name = f"bench_{uuid.uuid4().hex[:12]}"
    url = with_database(args.database_url, name)
    runs: list[GroupsRun] = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(
            run_groups(
                Store(f"SQLite ({GROUPS} processes, one file)", path=Path(tmp, "load.db")),
                args,
                Path(tmp),
            )
        )
        with psycopg.connect(args.database_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            runs.append(
                run_groups(
                    Store(f"PostgreSQL ({GROUPS} processes, one database)", url=url),
                    args,
                    Path(tmp),
                )
            )
        finally:
            with psycopg.connect(args.database_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return report_groups(runs, args)


def cooldown(value: str) -> tuple[int, float]:
    uses, _, seconds = value.partition("/")
    return int(uses), float(seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--reactions", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cooldown",
        type=cooldown,
        default=None,
        metavar="USES/SECONDS",
        help="the bot's command_cooldown (default: the Settings default)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 200 commands, 2,000 reactions"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help=f"also run on PostgreSQL: the workload in {GROUPS} shard-group processes on a"
        " fresh database on this server (and on one SQLite file), side by side",
    )
    # A shard group's process (started by --database-url): which group, its store, its output.
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-db", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.commands, args.reactions = 200, 2000
    faster_settling()
    if args.worker is not None:
        worker(args)
        return 0
    if args.database_url:
        return 0 if main_groups(args) else 1
    return 0 if asyncio.run(main_async(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
