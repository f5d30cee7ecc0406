"""Hostile input: time and peak memory of every case in tests/test_hostile_input.py.

Every case is built at its full hostile size (100,000 scene breaks, 100,000 chained
headings, 10 MB lines); the tests build the same cases smaller. The goals: the
100,000-break and 100,000-heading cases (plain text, Markdown, Gutenberg) parse in under
1 s (issue 19); every other case parses, or is refused, in under 2 s. Timings on a
shared machine drift (run it quiet: the load average is printed), so each case is printed
beside a baseline measured in the same run: a normal story of the same format and byte
size (prose from the corpus novel at ../shared/corpus, or generated prose when the
corpus is absent). The columns:

    s        wall time of parse_story, best of --repeat runs, without tracemalloc
    budget   s / the case's goal (1 s or 2 s); over 1.00 misses it
    peak MB  peak memory Python allocated by parse_story (a separate tracemalloc run)
    base s   a normal story of the same format and size, same run
    x base   s / base s
    result   PASS or FAIL against the goal

The last line says how many cases failed; the exit status is 1 when any did.

    .venv/bin/python bench/hostile_bench.py [--repeat N] [--only TEXT]
"""

from __future__ import annotations

import argparse
import gc
import html
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.parsing import parse_story  # noqa: E402
from bot.story import StoryFileError  # noqa: E402
from tests.hostile_epubs import CASES as EPUB_CASES  # noqa: E402
from tests.test_hostile_input import CASES, LIMIT  # noqa: E402

# Seconds allowed per case: 100,000 scene breaks or chained headings in a text,
# Markdown or Gutenberg file 1 s (issue 19); anything else 2 s.
FAST_BUDGET = 1.0
BUDGET = 2.0
_FAST_MARK = "100,000"
_MARKUP = (".html", ".htm", ".xhtml", ".epub")
CORPUS_NOVEL = ROOT.parent / "shared" / "corpus" / "les_miserables.txt"
OUTCOME_WIDTH = 58


def run(data: bytes, name: str) -> str:
    """Parse once; the outcome as the uploader would see it, in brief."""
    try:
        story = parse_story(data, name, max_bytes=LIMIT)
    except StoryFileError as error:
        return f"refused: {error}"
    sections = len(story.sections)
    return f"{sections:,} section{'s' if sections != 1 else ''}, {story.words:,} words"


def timed(data: bytes, name: str, repeat: int) -> tuple[float, str]:
    best = float("inf")
    outcome = ""
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        outcome = run(data, name)
        best = min(best, time.perf_counter() - start)
    return best, outcome


def budget_for(case: str, name: str) -> float:
    if _FAST_MARK in case and not name.lower().endswith(_MARKUP):
        return FAST_BUDGET
    return BUDGET


def peak_megabytes(data: bytes, name: str) -> float:
    """Peak memory of parse_story alone (not of counting the words of its result)."""
    gc.collect()
    tracemalloc.start()
    try:
        parse_story(data, name, max_bytes=LIMIT)
    except StoryFileError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 1_048_576


# --- baselines: a normal story of a given format and size ----------------------------------


def _paragraphs() -> list[str]:
    """Paragraphs of real prose: the corpus novel, unwrapped; else generated sentences."""
    if CORPUS_NOVEL.is_file():
        text = CORPUS_NOVEL.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        start = text.find("\n", text.find("*** START OF")) + 1
        end = text.find("*** END OF")
        body = text[start : end if end > 0 else len(text)]
        return [" ".join(part.split()) for part in body.split("\n\n") if part.strip()]
    words = ("the", "a", "of", "and", "to", "in", "he", "she", "it", "was", "said", "that")
    words += ("morning", "river", "letter", "garden", "window", "silence", "lantern", "road")
    rng = random.Random(7)
    sentences = (
        " ".join(rng.choice(words) for _ in range(rng.randint(6, 20))).capitalize() + "."
        for _ in range(200_000)
    )
    paragraphs, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if rng.random() < 0.3:
            paragraphs.append(" ".join(current))
            current = []
    return paragraphs


def _normal_text(paragraphs: list[str], size: int, *, markdown: bool) -> bytes:
    parts = [b"Title: Baseline\nAuthor: Someone\nRating: T\n\n"]
    total = len(parts[0])
    chapter = 0
    index = 0
    while total < size:
        if index % 150 == 0:
            chapter += 1
            heading = f"## Chapter {chapter}" if markdown else f"Chapter {chapter}"
            piece = f"{heading}\n\n".encode()
        else:
            piece = paragraphs[index % len(paragraphs)].encode() + b"\n\n"
        parts.append(piece)
        total += len(piece)
        index += 1
    data = b"".join(parts)
    return data[: data.rfind(b"\n", 0, size) + 1]  # whole lines: never half a character


def _normal_ao3(paragraphs: list[str], size: int) -> bytes:
    head = (
        '<html><body><div id="preface"><div class="meta"><dl class="tags"><dt>Rating:</dt>'
        "<dd>Teen And Up Audiences</dd></dl><h1>Baseline</h1>"
        '<div class="byline">by <a rel="author" href="/users/someone">someone</a></div>'
        '</div></div><div id="chapters">'
    )
    tail = "</div></div></body></html>"
    parts = [head]
    total = len(head) + len(tail)
    chapter = index = 0
    while True:
        if index % 150 == 0:
            chapter += 1
            piece = (
                f'{"</div>" if chapter > 1 else ""}<div class="meta group">'
                f'<h2 class="heading">Chapter {chapter}</h2></div>'
                '<div class="userstuff module" role="article">\n'
            )
        else:
            words = html.escape(paragraphs[index % len(paragraphs)]).split(" ")
            if len(words) > 6:
                words[3] = f"<em>{words[3]}</em>"
            piece = f"<p>{' '.join(words)}</p>\n"
        if total + len(piece.encode()) > size:
            break
        parts.append(piece)
        total += len(piece.encode())
        index += 1
    return ("".join(parts) + tail).encode()


class Baselines:
    """Normal stories by (format, size), built once and timed once per run."""

    def __init__(self, repeat: int) -> None:
        self.repeat = repeat
        self.paragraphs = _paragraphs()
        self.times: dict[tuple[str, int], float] = {}

    def seconds(self, name: str, size: int) -> float:
        kind = name.rsplit(".", 1)[-1]
        # Sizes rounded to 0.1 MB: cases of about the same size share a baseline.
        rounded = max(1, round(size / 104_857.6))
        key = (kind, rounded)
        if key not in self.times:
            target = min(LIMIT, int(rounded * 104_857.6))
            if kind == "html":
                data = _normal_ao3(self.paragraphs, target)
            else:
                data = _normal_text(self.paragraphs, target, markdown=kind == "md")
            self.times[key], _ = timed(data, f"baseline.{kind}", self.repeat)
        return self.times[key]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per case; best kept")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args()

    source = "corpus novel" if CORPUS_NOVEL.is_file() else "generated prose"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"Python {sys.version.split()[0]}, load average {load}; goal {FAST_BUDGET:.0f} s for "
        f"100,000 breaks or headings in text, {BUDGET:.0f} s for the rest; "
        f"best of {args.repeat}; baselines from the {source}"
    )
    print(
        f"{'case':<48}{'MB':>6}  {'outcome':<{OUTCOME_WIDTH}}{'s':>7}{'budget':>8}"
        f"{'peak MB':>9}{'base s':>8}{'x base':>8}  result"
    )
    baselines = Baselines(args.repeat)
    worst = 0.0
    over: list[str] = []
    for case, build in {**CASES, **EPUB_CASES}.items():
        if args.only.lower() not in case.lower():
            continue
        data, name = build()
        seconds, outcome = timed(data, name, args.repeat)
        peak = peak_megabytes(data, name)
        base = baselines.seconds(name, len(data))
        if len(outcome) > OUTCOME_WIDTH - 1:
            outcome = outcome[: OUTCOME_WIDTH - 2] + "…"
        ratio = seconds / budget_for(case, name)
        worst = max(worst, ratio)
        if ratio > 1:
            over.append(case)
        print(
            f"{case[:47]:<48}{len(data) / 1_048_576:>6.1f}  {outcome:<{OUTCOME_WIDTH}}"
            f"{seconds:>7.2f}{ratio:>8.2f}{peak:>9.1f}{base:>8.2f}{seconds / base:>7.1f}x"
            f"  {'FAIL' if ratio > 1 else 'PASS'}",
            flush=True,
        )
    print(
        f"worst: {worst:.2f} of its goal; {len(over)} case{'s' if len(over) != 1 else ''} "
        f"over: {', '.join(over) or 'none'}; result: {'FAIL' if over else 'PASS'}"
    )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
