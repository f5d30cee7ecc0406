"""Import speed: parse, store and index each corpus file, against a floor measured in the same run.

The floor is the least any importer must do: read the file, split it into
paragraphs, and insert them into a plain table and an FTS5 index in one
transaction. The figure that matters is the ratio ours / floor (target: ≤ 3x
for Les Misérables, and under 2 s).

    .venv/bin/python bench/import_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.db.connection import connect_sync  # noqa: E402
from bot.db.library import insert_story  # noqa: E402
from bot.parsing import parse_story  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def ours(path: Path, db: Path) -> tuple[float, int, int]:
    conn = connect_sync(db)
    try:
        start = time.perf_counter()
        parsed = parse_story(path.read_bytes(), path.name, max_bytes=64 * 1024 * 1024)
        stored = insert_story(conn, 1, parsed)
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return elapsed, stored.words, stored.sections


def floor(path: Path, db: Path) -> float:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE paragraphs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.execute("CREATE VIRTUAL TABLE paragraphs_fts USING fts5 (body)")
    try:
        start = time.perf_counter()
        text = path.read_bytes().decode("utf-8-sig")
        paragraphs = [(p,) for p in re.split(r"\r?\n\s*\n", text) if p.strip()]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO paragraphs (body) VALUES (?)", paragraphs)
        conn.executemany("INSERT INTO paragraphs_fts (body) VALUES (?)", paragraphs)
        conn.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the best is kept")
    args = parser.parse_args()
    files = sorted(CORPUS.glob("*.txt")) if CORPUS.is_dir() else []
    if not files:
        print(f"no corpus at {CORPUS}; nothing to measure")
        return 0
    print(
        f"{'file':<28}{'words':>10}{'sections':>10}{'ours s':>9}{'floor s':>9}"
        f"{'ratio':>7}{'words/s':>12}{'floor w/s':>12}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            best_ours = best_floor = float("inf")
            words = sections = 0
            for run in range(args.repeat):
                # Alternate the order so neither side always gets the warmer cache.
                pair = [
                    ("o", Path(tmp, f"o{run}{path.stem}.db")),
                    ("f", Path(tmp, f"f{run}{path.stem}.db")),
                ]
                for kind, db in pair if run % 2 == 0 else reversed(pair):
                    if kind == "o":
                        elapsed, words, sections = ours(path, db)
                        best_ours = min(best_ours, elapsed)
                    else:
                        best_floor = min(best_floor, floor(path, db))
            print(
                f"{path.name:<28}{words:>10,}{sections:>10}{best_ours:>9.3f}{best_floor:>9.3f}"
                f"{best_ours / best_floor:>6.2f}x"
                f"{words / best_ours:>12,.0f}{words / best_floor:>12,.0f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
