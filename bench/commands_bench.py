"""Command latency through the real bot (SimCord), against a trivial command in the same run.

For shelves of 10, 1,000 and 10,000 stories in one server, measures `/read`,
`/search` and title autocomplete, each next to a trivial command registered
by this script alone that does no work but answers in the same shape
(`/bench-post`: a public 1,800-character post with three buttons, like
/read's; `/bench-results`: a private answer with five buttons, like
/search's; `/bench-choose`: 25 fixed autocomplete choices), interleaved so
both see the same machine. Prints p50, p99 and the ratios, and the ratio to
a bare "pong" too.

The latency is the bot's: from the moment discord.py hands the interaction to
the command tree until the command (response sent, feedback emoji added, post
recorded) or the autocomplete has finished. SimCord's round trip around it is
not counted: its settling waits out a 50 ms idle window after commands that do
no I/O (such as the trivial one), which would flatter every ratio.

`search` looks for a character's name (in one section of every 400th
story, as a reader would search); `search-all` for two words that are in
every section of every story, the worst case, where at most
`SEARCH_CANDIDATES` (1,000) matches are ranked.

Targets at 10,000 stories: /read and /search p50 within 1.5x of the trivial
command; title autocomplete p99 within 2x.

    .venv/bin/python bench/commands_bench.py [--samples N] [--sizes 10,1000,10000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
import simcord  # noqa: E402
from discord import app_commands  # noqa: E402

from bot.client import create_bot  # noqa: E402
from bot.db.connection import connect_sync  # noqa: E402
from bot.db.library import insert_story  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.story import ParsedStory, Rating, RatingLevel, Section  # noqa: E402

WORDS = [
    "tea",
    "kettle",
    "river",
    "lantern",
    "winter",
    "garden",
    "letter",
    "harbour",
    "violin",
    "shadow",
    "meadow",
    "candle",
    "orchard",
    "thunder",
    "library",
    "ferry",
    "compass",
    "velvet",
    "ember",
    "willow",
    "falcon",
    "marble",
    "pepper",
    "quill",
]


NAMES = 400  # character names: each appears in one section of every 400th story


def name(n: int) -> str:
    return f"Myfanwy{n % NAMES:03d}"


def story(n: int, rng: random.Random) -> ParsedStory:
    sections = []
    for s in range(3):
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(6)
        ]
        if s == n % 3:
            paragraphs.insert(3, f"That was when {name(n)} came in from the rain.")
        sections.append(Section(f"Part {s + 1}", "\n\n".join(paragraphs)))
    title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {n:05d}"
    return ParsedStory(title, "Bench", Rating("G", RatingLevel.GENERAL), tuple(sections))


def fill(path: Path, guild_id: int, count: int) -> list[str]:
    rng = random.Random(count)
    conn = connect_sync(path)
    titles = []
    try:
        for n in range(count):
            titles.append(insert_story(conn, guild_id, story(n, rng)).title)
    finally:
        conn.close()
    return titles


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def trivial_commands() -> list[app_commands.Command]:
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
        view = discord.ui.View(timeout=None)
        for n in range(count):
            view.add_item(discord.ui.Button(label=f"Button {n}", custom_id=f"bench:{n}"))
        return view

    @app_commands.command(name="bench-post", description="a public post shaped like /read's")
    async def post(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "x" * 1_800, view=buttons(3), allowed_mentions=discord.AllowedMentions.none()
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
    async def fixed(interaction: discord.Interaction, current: str):
        return [app_commands.Choice(name=f"Title {n:02d}", value=f"#{n}") for n in range(25)]

    return [ping, post, results, choose]


# Each real measure and the trivial one it is compared with.
BASELINE = {
    "read": "post",
    "search": "results",
    "search-all": "results",
    "autocomplete": "choose",
}


async def measure(size: int, samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # One reader sends every command: lift the per-user cooldown, which
        # would otherwise answer most of them with "try again in".
        settings = Settings(
            database_path=Path(tmp, "bench.db"), shard_count=1, command_cooldown=(10**9, 1.0)
        )
        bot = create_bot(settings)
        for command in trivial_commands():
            bot.tree.add_command(command)
        # Advancing the clock a quarter of an hour runs 900 ticks of the feedback writer.
        async with simcord.run(bot, settle_timeout=120) as env:
            guild = env.create_guild(name="bench")
            channel = guild.create_text_channel("general")
            reader = guild.add_member(env.create_user("reader"))
            titles = fill(settings.database_path, guild.id, size)
            rng = random.Random(7)
            timings: dict[str, list[float]] = {
                k: [] for k in ("ping", "post", "results", "choose", *BASELINE)
            }
            handled: list[float] = []
            original_call = bot.tree._call

            async def timed_call(interaction: discord.Interaction) -> None:
                start = time.perf_counter()
                try:
                    await original_call(interaction)
                finally:
                    handled.append(time.perf_counter() - start)

            bot.tree._call = timed_call  # type: ignore[method-assign]

            async def timed(kind: str, action) -> None:
                handled.clear()
                await action
                assert len(handled) == 1, handled
                timings[kind].append(handled[0])

            def typed(title: str) -> str:
                return title.split()[0][: rng.randint(1, 4)].lower()

            for _ in range(5):  # warm up every path once
                await reader.slash(channel, "bench-post")
                await reader.slash(channel, "read", title=titles[0])
            for _ in range(samples):
                title = rng.choice(titles)
                await timed("ping", reader.slash(channel, "bench-ping"))
                await timed("post", reader.slash(channel, "bench-post"))
                await timed(
                    "read", reader.slash(channel, "read", title=title, section=rng.randint(1, 3))
                )
                await timed("results", reader.slash(channel, "bench-results"))
                await timed(
                    "search", reader.slash(channel, "search", query=name(rng.randrange(size)))
                )
                await timed("results", reader.slash(channel, "bench-results"))
                await timed(
                    "search-all",
                    reader.slash(channel, "search", query=" ".join(rng.sample(WORDS, 2))),
                )
                await timed(
                    "choose", reader.autocomplete(channel, "bench-choose", "title", typed(title))
                )
                await timed(
                    "autocomplete", reader.autocomplete(channel, "read", "title", typed(title))
                )
                # discord.py gives each private answer's buttons a 15-minute timer, and
                # SimCord looks at every live timer on each turn of the event loop, so
                # timers left by earlier samples would slow every later figure. A
                # quarter of an hour (simulated) between samples lets them expire.
                await env.advance_time(15 * 60 + 1)
            # SimCord never closes the bot; the database thread would keep the process alive.
            await bot.close_resources()

        def ms(values: list[float], q: float) -> float:
            return (statistics.median(values) if q == 0.5 else pct(values, q)) * 1000

        ping = timings["ping"]
        print(
            f"shelf of {size:,} stories ({samples} samples each); bare 'pong'"
            f" p50 {ms(ping, 0.5):.2f} ms, p99 {ms(ping, 0.99):.2f} ms"
        )
        for kind, base in BASELINE.items():
            ours, theirs = timings[kind], timings[base]
            print(
                f"  {kind:<13} p50 {ms(ours, 0.5):6.2f} ms vs {base:<7} {ms(theirs, 0.5):5.2f}"
                f" ({ms(ours, 0.5) / ms(theirs, 0.5):4.2f}x; vs pong"
                f" {ms(ours, 0.5) / ms(ping, 0.5):5.2f}x)"
                f"   p99 {ms(ours, 0.99):6.2f} ms vs {ms(theirs, 0.99):5.2f}"
                f" ({ms(ours, 0.99) / ms(theirs, 0.99):4.2f}x)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--sizes", default="10,1000,10000")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        asyncio.run(measure(size, args.samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
