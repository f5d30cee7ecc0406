"""What bounds rare-word /search against the trivial reply: commands_bench's measure,
with the bot's work around the search statement taken away one part at a time.

At 10,000 stories (the commands bench's cached shelf), each sample searches for a
character's name once per step below, each step with its own name (so no step reads
pages another just read), each right after a /read (whose excerpt the feedback writer
commits at once, as in the commands bench, so every search starts after a commit) and
after the same-shape trivial reply, `/bench-results`. Steps are interleaved, in an
order rotated every sample, so all see the same machine. Each step keeps the ones
above it taken away:

- shipped: the bot as it is;
- no settings read: the channel's allowed ratings handed over, not read (one
  statement fewer on the event loop);
- no rendering: the answer's text made once and reused for every search;
- no ranking: the matches in index order instead of bm25's;
- no snippets: a fixed text instead of FTS5's snippet().

The parts are taken away by replacing functions in this process only, for this
measurement; nothing here is a way to run the bot. Figures: the bot's handling time
inside the command tree (as commands_bench measures it), p50, and its ratio to the
trivial reply's p50 in the same run; the search statement's own time on the event
loop (mean). Not a goal: it shows which parts the rare-word goal (≤ 2x) could be
met without, and which it cannot.

    .venv/bin/python bench/search_floor.py [--samples N] [--size 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


import bot.cards  # noqa: E402
import bot.db.search  # noqa: E402
from bench.commands_bench import Timer, bench_world, name  # noqa: E402
from bench.common import (  # noqa: E402
    SimulatorHeap,
    faster_settling,
    forget_harness_records,
    load_average,
)

STEPS = ("shipped", "no settings read", "no rendering", "no ranking", "no snippets")
_SNIPPET = re.compile(r"snippet\(section_fts[^)]*\)")
_FIXED_SNIPPET = "'…That was when \x02Myfanwy000\x03 came in from the rain. Pepper thunder…'"


class Steps:
    """The replaced functions, each doing the shipped work until its step is reached."""

    def __init__(self, client: Any) -> None:
        self.step = 0
        reader = client.reader
        shipped_levels = reader.levels
        shipped_results = bot.cards.search_results
        shipped_ranked = bot.db.search._ranked_at_once
        remembered: dict[str, Any] = {}

        async def levels(place: Any) -> Any:
            if self.step < 1 or "levels" not in remembered:
                remembered["levels"] = await shipped_levels(place)
            return remembered["levels"]

        def search_results(hits: Any, **kwargs: Any) -> tuple[str, int]:
            if self.step < 2 or "text" not in remembered:
                remembered["text"] = shipped_results(hits, **kwargs)
            text, shown = remembered["text"]
            return text, min(shown, len(hits))

        def ranked_at_once(details: str, match: str, level_sql: str) -> str:
            if self.step >= 4:
                details = _SNIPPET.sub(_FIXED_SNIPPET, details)
            sql: str = shipped_ranked(details, match, level_sql)
            return sql.replace("ORDER BY f.rank", "ORDER BY f.rowid") if self.step >= 3 else sql

        reader.levels = levels
        bot.cards.search_results = search_results
        bot.db.search._ranked_at_once = ranked_at_once


async def measure(size: int, samples: int) -> tuple[dict[str, list[Any]], list[float]]:
    searches: dict[str, list[Any]] = defaultdict(list)
    trivial: list[float] = []
    async with bench_world(size) as (env, client, channel, reader, titles):
        timer = Timer(client)
        steps = Steps(client)
        rng = random.Random(11)
        for _ in range(5):  # warm every path once
            await reader.slash(channel, "read", title=titles[0])
            await reader.slash(channel, "search", query=name(0))
        heap = SimulatorHeap()
        heap.start()
        for n in range(samples):
            order = list(range(len(STEPS)))
            order = order[n % len(order) :] + order[: n % len(order)]
            for step in order:
                steps.step = 0
                await reader.slash(channel, "read", title=rng.choice(titles), section=1)
                timer.last.clear()
                await reader.slash(channel, "bench-results")
                trivial.append(timer.last[0].handled)
                steps.step = step
                timer.last.clear()
                await reader.slash(channel, "search", query=name(rng.randrange(size)))
                searches[STEPS[step]].append(timer.last[0])
            if n % 10 == 9:
                await env.advance_time(15 * 60 + 1)
                forget_harness_records(env)
        heap.stop()
    return searches, trivial


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--size", type=int, default=10_000)
    args = parser.parse_args(argv)
    faster_settling()
    print(
        f"search floor: {args.size:,} stories, {args.samples} samples per step;"
        f" load average {load_average()}",
        flush=True,
    )
    searches, trivial = asyncio.run(measure(args.size, args.samples))
    base = statistics.median(trivial) * 1000
    print(f"  /bench-results (same shape, no work): p50 {base:.2f} ms over {len(trivial)}")
    print(f"  {'rare-word /search, taken away':<34}{'p50 ms':>8}{'x trivial':>10}{'SQL ms':>8}")
    for step in STEPS:
        mine = searches[step]
        p50 = statistics.median(s.handled for s in mine) * 1000
        sql = statistics.mean(s.on_loop for s in mine) * 1000
        print(f"  {step:<34}{p50:>8.2f}{p50 / base:>9.2f}x{sql:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
