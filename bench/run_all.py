"""Every benchmark in one command, one line per goal: `python -m bench`.

Runs commands, load, reactions, import and hostile benchmarks one after the
other (never side by side: each would disturb the others' timings), each as its
own process with settings that finish in well under 15 minutes in all on a
2-core machine. Their output is shown as it comes; then every goal is printed
again, together, as one line:

    GOAL <name>: <figure> (goal <x>) PASS|FAIL — <what was measured>

then a summary line; the exit status is 1 if any goal failed, a benchmark
crashed or timed out, or a benchmark printed no goal line at all.

Each benchmark prints its own GOAL lines. For one that does not (yet), the
goal is derived here from its usual output and says so ("derived by run_all");
a benchmark that exits non-zero without a FAIL goal gets one for its exit
status. Figures are ratios to a baseline measured in the same run wherever the
benchmark has one.

    .venv/bin/python -m bench [--only commands,load] [--quick] [--list]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Goal, load_average, parse_goal  # noqa: E402

BENCH = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    args: tuple[str, ...]  # the settings `python -m bench` runs it with
    quick: tuple[str, ...]  # a smoke run's settings
    timeout: float  # seconds before it is stopped and failed
    # Goals read from the usual output of a benchmark that prints no GOAL line.
    derive: Callable[[str], list[Goal]] | None = None
    # What the goals are, for --list and the README.
    goals: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- derived goals

_DERIVED = "derived by run_all from its output"


def _hostile_goals(output: str) -> list[Goal]:
    """hostile_bench: every case parsed or refused within its goal (under 1 s, issue 19).

    Read from the table's PASS/FAIL column when it has one, else from its
    "worst: … of the budget" line."""
    rows = [
        line
        for line in output.splitlines()
        if line.rstrip().endswith((" PASS", " FAIL"))
        and not line.startswith(("GOAL ", "worst"))
        and "result:" not in line
    ]
    if rows:
        failed = [" ".join(row.split()[:6]) for row in rows if row.rstrip().endswith("FAIL")]
        return [
            Goal(
                "hostile cases over their goal",
                f"{len(failed)} of {len(rows)}",
                "0",
                not failed,
                "parse_story wall time per hostile file against the bench's own goal column"
                + (f" (first: {failed[0]}…)" if failed else "")
                + f"; {_DERIVED}",
            )
        ]
    budget = re.search(r"budget (\d+(?:\.\d+)?) s", output)
    worst = re.search(r"^worst: (\d+(?:\.\d+)?) of the budget; over budget: (.*)$", output, re.M)
    if budget is None or worst is None:
        return []
    seconds = float(worst[1]) * float(budget[1])
    return [
        Goal(
            "hostile worst case",
            f"{seconds:.2f} s",
            "< 1 s",
            seconds < 1.0,
            f"slowest hostile file's parse_story wall time (over its own {budget[1]} s budget:"
            f" {worst[2]}); {_DERIVED}",
        )
    ]


def _reactions_goals(output: str) -> list[Goal]:
    """reactions_bench (c): event-to-disk latency of a sustained stream."""
    found = re.search(
        r"\(c\) sustained ([\d,]+)/s .*?event→disk latency p50 (\d+(?:\.\d+)?) s,"
        r" max (\d+(?:\.\d+)?) s \(target < (\d+(?:\.\d+)?) s\)",
        output,
    )
    if found is None:
        return []
    rate, p50, worst, target = found[1], float(found[2]), float(found[3]), float(found[4])
    return [
        Goal(
            "reactions event-to-disk max",
            f"{worst:.3f} s",
            f"< {target:g} s",
            worst < target,
            f"a sustained {rate}/s stream through the listeners, event to committed row"
            f" (p50 {p50:.3f} s); {_DERIVED}",
        )
    ]


def _import_goals(output: str) -> list[Goal]:
    """import_bench: AO3 HTML costs no more per MB than plain text.

    The figure and the verdict are the bench's own, from its unrounded times: the s/MB
    it prints are rounded, and two that print alike may still be a ratio over 1."""
    found = re.search(
        r"ratio: AO3 HTML (\d+(?:\.\d+)?) s/MB vs plain text (\d+(?:\.\d+)?) s/MB"
        r" = (\d+(?:\.\d+)?)x \(([^)]*)\)",
        output,
    )
    if found is None:
        return []
    html, text, ratio, verdict = found[1], found[2], float(found[3]), found[4]
    return [
        Goal(
            "import HTML per MB vs plain text per MB",
            f"{ratio:.3f}x",
            "≤ 1x",
            verdict == "ok" and ratio <= 1,
            f"parse time per MB, AO3 HTML {html} s/MB vs plain text {text} s/MB in the"
            f" same run; {_DERIVED}",
        )
    ]


BENCHMARKS = (
    Benchmark(
        "commands",
        "commands_bench.py",
        ("--samples", "100"),
        ("--samples", "10", "--sizes", "10,1000"),
        480,
        goals=(
            "/read p50 ≤ 1.5x, title autocomplete p99 ≤ 2x, /search p50 ≤ 2x (rare word) and"
            " ≤ 3x (word in every section), each vs a same-shape trivial reply, at 10,000"
            " stories, quiet and under a concurrent reaction stream",
            "/read p50 with progress recording ≤ 1.05x without",
        ),
    ),
    Benchmark(
        "load",
        "load_bench.py",
        ("--commands", "1000", "--reactions", "10000"),
        ("--quick",),
        480,
        goals=(
            "0 errors",
            "0 reactions lost",
            "longest event-loop stall ≤ 50 ms",
            "a full collector pass over the bot's own objects ≤ 50 ms",
        ),
    ),
    Benchmark(
        "reactions",
        "reactions_bench.py",
        (),
        ("--events", "20000"),
        240,
        derive=_reactions_goals,
        goals=("event-to-disk latency (the goal the bench prints)",),
    ),
    Benchmark(
        "import",
        "import_bench.py",
        ("--repeat", "2"),
        ("--repeat", "1"),
        240,
        derive=_import_goals,
        goals=("HTML per MB ≤ plain text per MB",),
    ),
    Benchmark(
        "hostile",
        "hostile_bench.py",
        # Best of three timed runs a case: one run the shared machine slowed is not the
        # parser's time. The same code measured 0.70 s and 1.02 s for one case in
        # consecutive runs, and 0.56 s and 0.77 s in consecutive processes; two runs
        # back to back were both slowed often enough to fail a goal (2026-12-03).
        ("--repeat", "3"),
        (),
        600,
        derive=_hostile_goals,
        goals=("every hostile case < 1 s",),
    ),
)


# --------------------------------------------------------------------------- running


@dataclass
class Outcome:
    bench: Benchmark
    status: int | None  # None: timed out
    seconds: float
    goals: list[Goal]


def run(bench: Benchmark, *, quick: bool) -> Outcome:
    command = [sys.executable, str(BENCH / bench.script), *(bench.quick if quick else bench.args)]
    print(f"\n=== {bench.name}: {' '.join(command[1:])} (load average {load_average()})")
    sys.stdout.flush()
    start = time.perf_counter()
    lines: list[str] = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        assert process.stdout is not None
        # A benchmark that hangs, even silently, is stopped at its timeout.
        watchdog = threading.Timer(bench.timeout, process.kill)
        watchdog.start()
        try:
            for line in process.stdout:
                lines.append(line.rstrip("\n"))
                print("  " + lines[-1], flush=True)
            status: int | None = process.wait()
        finally:
            watchdog.cancel()
        if watchdog.finished.is_set() and status is not None and status < 0:
            status = None  # killed by the watchdog
    seconds = time.perf_counter() - start
    output = "\n".join(lines)
    return Outcome(bench, status, seconds, goals_of(bench, output, status, seconds))


def goals_of(bench: Benchmark, output: str, status: int | None, seconds: float) -> list[Goal]:
    goals = [goal for line in output.splitlines() if (goal := parse_goal(line))]
    if not goals and bench.derive is not None:
        goals = bench.derive(output)
    if not goals:
        goals.append(
            Goal(
                f"{bench.name} goal line",
                "none printed",
                "one GOAL line per goal",
                False,
                f"{bench.script} printed no GOAL line and run_all could not derive one",
            )
        )
    if status is None:
        goals.append(
            Goal(
                f"{bench.name} finished",
                f"stopped after {seconds:.0f} s",
                f"≤ {bench.timeout:.0f} s",
                False,
                "the benchmark did not finish in time",
            )
        )
    elif status != 0 and all(goal.passed for goal in goals):
        goals.append(
            Goal(
                f"{bench.name} exit status",
                str(status),
                "0",
                False,
                f"{bench.script} exited with an error although its goals passed",
            )
        )
    return goals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--quick", action="store_true", help="a smoke run with small settings")
    parser.add_argument("--list", action="store_true", help="list benchmarks and goals")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only.split(",")]
    if args.list:
        for bench in chosen:
            print(f"{bench.name}: {bench.script} {' '.join(bench.args)}")
            for goal in bench.goals:
                print(f"  goal: {goal}")
        return 0
    print(
        f"python -m bench: {', '.join(b.name for b in chosen)}"
        f"{' (quick settings)' if args.quick else ''}; {os.cpu_count()} CPUs;"
        f" load average {load_average()}"
    )
    start = time.perf_counter()
    outcomes = [run(bench, quick=args.quick) for bench in chosen]
    elapsed = time.perf_counter() - start

    print("\n=== goals")
    goals = [goal for outcome in outcomes for goal in outcome.goals]
    for goal in goals:
        print(goal.line())
    failed = [goal for goal in goals if not goal.passed]
    timing = ", ".join(f"{o.bench.name} {o.seconds:.0f} s" for o in outcomes)
    print(
        f"SUMMARY: {len(goals) - len(failed)} of {len(goals)} goals PASS, {len(failed)} FAIL;"
        f" {elapsed / 60:.1f} min ({timing}); load average {load_average()}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
