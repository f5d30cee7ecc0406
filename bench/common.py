"""What the benchmarks share: percentiles, goal lines, and two probes on the bot's loop.

- `goal_line` / `parse_goal`: the one machine-readable line per goal that
  `python -m bench` collects from every benchmark:
  `GOAL <name>: <figure> (goal <x>) PASS|FAIL — <what was measured>`.
- `RoundTrips`: counts the aiosqlite round trips made on behalf of one piece
  of work (a command), and splits their time into SQL on the database thread
  and the rest of the wait (the hop to the thread and back, and queueing
  behind whatever else the one connection is doing).
- `StallMonitor`: the event loop's longest stall — a task that sleeps 5 ms at
  a time and records how late it woke (and how much of that the process was
  busy, not waiting for a CPU). Nothing else can run on the loop while it is
  late, so a gateway heartbeat or a reaction would have waited as long.
- `faster_settling` / `forget_harness_records`: SimCord tuned for thousands of
  actions (a 1 ms settle poll; its HTTP log and transcript, kept for test
  assertions, dropped as they grow, so its records are not in the figures).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

__all__ = (
    "GOAL_LINE",
    "Goal",
    "Probe",
    "RoundTrips",
    "StallMonitor",
    "faster_settling",
    "forget_harness_records",
    "goal_line",
    "load_average",
    "parse_goal",
    "pct",
)


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile by rank (q=0.5 is the upper median), as every bench reports it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_average() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------- goal lines

GOAL_LINE = re.compile(
    r"^GOAL (?P<name>[^:]+): (?P<figure>.+?) \(goal (?P<goal>[^)]*)\) (?P<verdict>PASS|FAIL)"
    r"(?: — (?P<what>.*))?$"
)


@dataclass(frozen=True, slots=True)
class Goal:
    name: str
    figure: str
    goal: str
    passed: bool
    what: str = ""

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        tail = f" — {self.what}" if self.what else ""
        return f"GOAL {self.name}: {self.figure} (goal {self.goal}) {verdict}{tail}"


def goal_line(
    name: str, figure: float, limit: float, what: str, *, unit: str = "x", at_least: bool = False
) -> Goal:
    """A goal met when `figure` ≤ `limit` (or ≥ with `at_least`), figures to two places."""
    passed = figure >= limit if at_least else figure <= limit
    sign = "≥" if at_least else "≤"
    return Goal(name, f"{figure:.2f}{unit}", f"{sign} {limit:g}{unit}", passed, what)


def parse_goal(line: str) -> Goal | None:
    match = GOAL_LINE.match(line.strip())
    if match is None:
        return None
    return Goal(
        match["name"].strip(),
        match["figure"].strip(),
        match["goal"].strip(),
        match["verdict"] == "PASS",
        (match["what"] or "").strip(),
    )


# --------------------------------------------------------------------------- round trips


@dataclass(slots=True)
class Probe:
    """The database round trips of one piece of work."""

    trips: int = 0  # hops to aiosqlite's thread
    waited: float = 0.0  # wall time awaiting aiosqlite, hop and queue included
    on_database: float = 0.0  # time the calls ran on the database thread
    loop_queries: int = 0  # reads run synchronously on the event loop (bot.db.quick)
    on_loop: float = 0.0  # their time, which blocks the loop
    closed: bool = False  # background work the command left behind is not its own


_CURRENT: contextvars.ContextVar[Probe | None] = contextvars.ContextVar(
    "bench_round_trip_probe", default=None
)


class RoundTrips:
    """Wraps `aiosqlite.Connection._execute`, the one door of every aiosqlite call
    (execute, fetches on a cursor, executemany, commit…), while installed; and, when
    the bot has one, the on-loop reader's `execute_fetchall` (`bot.db.quick`), whose
    queries make no hop but hold the event loop while they run.

    Only work run inside `measure()` is counted, in a context variable, so the
    feedback writer's concurrent round trips are not charged to a command; they
    show as queueing in the command's wait instead.
    """

    def __init__(self) -> None:
        self._original: Callable[..., Any] | None = None
        self._quick: tuple[type, Callable[..., Any]] | None = None
        self._pg: list[tuple[type, str, Callable[..., Any]]] = []

    def install(self) -> None:
        self._install_quick()
        self._install_pg()
        original = self._original = aiosqlite.Connection._execute

        async def _execute(conn: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
            probe = _CURRENT.get()
            if probe is None or probe.closed:
                return await original(conn, fn, *args, **kwargs)
            start = time.perf_counter()
            try:
                return await original(
                    conn, functools.partial(_on_thread, probe, fn), *args, **kwargs
                )
            finally:
                probe.waited += time.perf_counter() - start
                probe.trips += 1

        aiosqlite.Connection._execute = _execute  # type: ignore[method-assign]

    def _install_quick(self) -> None:
        try:
            from bot.db.quick import QuickReader
        except ImportError:  # a bot without on-loop reads
            return
        original = QuickReader.execute_fetchall
        self._quick = (QuickReader, original)

        async def execute_fetchall(reader: Any, *args: Any, **kwargs: Any) -> Any:
            probe = _CURRENT.get()
            if probe is None or probe.closed:
                return await original(reader, *args, **kwargs)
            start = time.perf_counter()
            try:
                return await original(reader, *args, **kwargs)
            finally:
                probe.on_loop += time.perf_counter() - start
                probe.loop_queries += 1

        QuickReader.execute_fetchall = execute_fetchall  # type: ignore[method-assign]

    def _install_pg(self) -> None:
        """On PostgreSQL, each statement `PgDatabase` sends is a trip; the time awaiting
        it (pool, network and the server's work together) is counted as `on_database`
        and as `waited`, so the hop/queue column reads 0 there."""
        try:
            from bot.db.pg import PgDatabase
        except ImportError:
            return
        for name in ("_run", "execute_fetchall", "executemany"):
            original = getattr(PgDatabase, name)
            self._pg.append((PgDatabase, name, original))
            setattr(PgDatabase, name, _pg_counted(original))

    def uninstall(self) -> None:
        for cls, name, original in self._pg:
            setattr(cls, name, original)
        self._pg.clear()
        if self._quick is not None:
            cls, original = self._quick
            cls.execute_fetchall = original  # type: ignore[attr-defined]
            self._quick = None
        if self._original is not None:
            aiosqlite.Connection._execute = self._original  # type: ignore[method-assign]
            self._original = None

    @staticmethod
    def start() -> tuple[Probe, contextvars.Token[Probe | None]]:
        probe = Probe()
        return probe, _CURRENT.set(probe)

    @staticmethod
    def stop(probe: Probe, token: contextvars.Token[Probe | None]) -> Probe:
        probe.closed = True
        _CURRENT.reset(token)
        return probe


def _pg_counted(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def counted(db: Any, *args: Any, **kwargs: Any) -> Any:
        probe = _CURRENT.get()
        if probe is None or probe.closed:
            return await original(db, *args, **kwargs)
        start = time.perf_counter()
        try:
            return await original(db, *args, **kwargs)
        finally:
            if not probe.closed:  # a task the command left behind is not its own
                spent = time.perf_counter() - start
                probe.trips += 1
                probe.waited += spent
                probe.on_database += spent

    return counted


def _on_thread(probe: Probe, fn: Any, *args: Any, **kwargs: Any) -> Any:
    # Runs on aiosqlite's thread; the future is resolved only after this returns.
    start = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        probe.on_database += time.perf_counter() - start


# --------------------------------------------------------------------------- loop stalls


class StallMonitor:
    """The longest time the event loop could not run a task that asked to wake.

    Start it from the benchmark's own code (outside the bot), so its timer runs
    on the real clock even under SimCord's virtual one. Set `doing` to what the
    benchmark is doing, and the longest stalls are kept with it.

    A wake can be late because this process was busy (synchronous work on the
    loop, or another thread holding the interpreter) or because the machine ran
    something else. The stall counted is the lateness the process spent on the
    CPU (`min(late, process CPU time over the sleep)`); the wall-clock lateness,
    which includes time the operating system gave to other processes, is kept
    beside it. Time in Python's garbage collector during each stall is noted too.
    """

    def __init__(self, interval: float = 0.005, keep: int = 5) -> None:
        self.interval = interval
        self.keep = keep
        self.doing = ""
        self.wakes = 0
        self.held: list[float] = []  # per wake: lateness spent busy, s
        self.worst_wall = 0.0
        # The `keep` longest, longest first: (busy lateness, wall lateness, in gc, doing).
        self.longest: list[tuple[float, float, float, str]] = []
        self._task: asyncio.Task[None] | None = None
        self._gc_total = 0.0
        self._gc_started = 0.0

    def _gc_callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self._gc_total += time.perf_counter() - self._gc_started

    @property
    def worst(self) -> float:
        return self.longest[0][0] if self.longest else 0.0

    async def _watch(self) -> None:
        while True:
            wall, cpu, in_gc = time.perf_counter(), time.process_time(), self._gc_total
            await asyncio.sleep(self.interval)
            late = max(0.0, time.perf_counter() - wall - self.interval)
            held = min(late, time.process_time() - cpu)
            in_gc = self._gc_total - in_gc
            self.wakes += 1
            self.held.append(held)
            self.worst_wall = max(self.worst_wall, late)
            if len(self.longest) < self.keep or held > self.longest[-1][0]:
                self.longest.append((held, late, in_gc, self.doing))
                self.longest.sort(key=lambda stall: -stall[0])
                del self.longest[self.keep :]

    def start(self) -> None:
        gc.callbacks.append(self._gc_callback)
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._gc_callback in gc.callbacks:
            gc.callbacks.remove(self._gc_callback)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def over(self, limit: float) -> int:
        return sum(1 for held in self.held if held > limit)


class SimulatorHeap:
    """Keeps the simulated Discord out of the garbage collector's full passes.

    SimCord keeps, in the bench's own process, Discord's side of everything the
    stream does: every message, reaction and interaction, with their lists and
    dicts (74k objects by the end of a load bench, most of the heap). A real bot's
    process holds none of it, yet each full pass of Python's collector scans it on
    the bot's event loop: 46-80 ms by the end of a stream, which the stall figure
    would report as the bot's. So, while `start`ed, whatever survives a full pass
    is frozen (gc.freeze), as the bot freezes what it builds at start-up.

    That freezes the bot's own live objects of the moment too, and keeps them (and
    the cycles among them that die later) out of later passes. So `own_heap` says
    what the bench hides: it unfreezes everything, collects (the cyclic garbage the
    freezes kept, counted), finds the objects reachable from the bot without going
    through SimCord, and estimates a full pass over those alone, at the per-object
    cost a full pass over the whole heap measures there and then.
    """

    def __init__(self) -> None:
        self.freezes = 0
        self._at_start: set[int] = set()

    def _after_pass(self, phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            gc.freeze()
            self.freezes += 1

    def start(self) -> None:
        # What the bot froze at start-up it keeps out of full passes in production too:
        # noted, so `own_heap` does not count it. (get_objects lists unfrozen ones only.)
        unfrozen = {id(o) for o in gc.get_objects()}
        gc.unfreeze()
        self._at_start = {id(o) for o in gc.get_objects()} - unfrozen
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self._after_pass)

    def stop(self) -> None:
        if self._after_pass in gc.callbacks:
            gc.callbacks.remove(self._after_pass)

    def own_heap(self, bot: Any) -> OwnHeap:
        """After `stop`: the bot's own objects (all but those it froze at start-up), and
        an estimate of a full pass over them."""
        frozen = gc.get_freeze_count()
        gc.unfreeze()
        kept_garbage = gc.collect()
        tracked = gc.get_objects()
        started = time.perf_counter()
        gc.collect()
        full_pass = time.perf_counter() - started
        cut = {id(vars(m)) for m in list(sys.modules.values()) if m is not None}
        seen: set[int] = set()
        stack: list[Any] = [bot]
        while stack:
            obj = stack.pop()
            if id(obj) in seen or id(obj) in cut or not gc.is_tracked(obj):
                continue
            kind = type(obj)
            if isinstance(obj, type) or kind.__module__.split(".")[0] == "simcord":
                continue  # classes lead everywhere; the simulator is not the bot
            seen.add(id(obj))
            stack.extend(gc.get_referents(obj))
        own = len(seen - self._at_start)
        gc.freeze()
        return OwnHeap(
            frozen=frozen,
            kept_garbage=kept_garbage,
            tracked=len(tracked),
            full_pass=full_pass,
            own=own,
        )


@dataclass(frozen=True)
class OwnHeap:
    frozen: int  # objects frozen at the end of the stream
    kept_garbage: int  # cyclic garbage the freezes had kept, collected by `own_heap`
    tracked: int  # every tracked object then, the simulator's included
    full_pass: float  # s, a full pass over all of them
    own: int  # of them, the bot's own (reachable from it, not via SimCord; not frozen by it)

    @property
    def own_pass(self) -> float:
        """A full pass over the bot's own objects alone, s (at the measured cost per object)."""
        return self.full_pass * self.own / max(self.tracked, 1)


# --------------------------------------------------------------------------- SimCord

SETTLE_POLL = 0.001  # SimCord's settle poll interval, down from 50 ms


# SimCord HTTP log entries kept before a bench drops the log (and the transcript).
HARNESS_RECORDS = 500


def forget_harness_records(env: Any) -> None:
    """Drop SimCord's log of every HTTP request and its transcript, which it keeps for
    test assertions (no bench reads them). They live in the bench's process only
    because Discord is simulated there: left to grow over thousands of actions, they
    make every full garbage-collector pass scan copied JSON payloads that a real
    bot's process never holds, and the stall and p99 figures would be SimCord's."""
    backend = env.backend
    if len(backend.http_requests) > HARNESS_RECORDS:
        backend.http_requests.clear()
        backend.transcript.clear()


def faster_settling() -> None:
    """Poll for settling every SETTLE_POLL seconds instead of SimCord's 50 ms.

    SimCord waits out an idle window after each action whose remaining work is a
    callback; at 50 ms a bench of thousands of actions spends most of its time
    waiting. The bot's own handling time, which the benches report, is unaffected.
    """
    import simcord

    original: Callable[..., Any] = simcord.Env._settle_internal
    if getattr(original, "bench_faster", False):
        return

    async def settle(self: Any, *, idle: float = SETTLE_POLL, **kwargs: Any) -> None:
        await original(self, idle=min(idle, SETTLE_POLL), **kwargs)

    settle.bench_faster = True  # type: ignore[attr-defined]
    simcord.Env._settle_internal = settle  # type: ignore[method-assign]
