"""Two bot instances on one shelf (one SQLite file, or one PostgreSQL database on that
pass), with different SHARD_IDS, as while shards are rearranged: the first runs shard
0 of 2, the second shard 2 of 4, and the server is on both (its shard is 0 of 2 and 2
of 4), so both answer its commands for a while.

Each instance is the real bot in its own SimCord, on its own thread and event loop
(SimCord runs one Discord per loop), with the same server in both: what one stores
the other reads, a settings change made in one is obeyed by the other's next
command, and reactions given in both are all recorded, once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import discord
import simcord

from bot import create_bot
from bot.settings import PROJECT_ROOT, Settings
from tests.support import query, spoiler_text

# (GUILD_ID >> 22) % 2 == 0 and % 4 == 2: on shard 0 of 2 and on shard 2 of 4.
GUILD_ID = 770_999_999_994_527_745
SAMPLE = PROJECT_ROOT / "data" / "sample_story.txt"
TITLE = "The Lighthouse Lending Library"
READERS = 6  # per instance, each leaving two reactions
STEP_TIMEOUT_S = 60


class Steps:
    """Two scripts taking turns: `turn(n)` waits until step n may run, `done(n)` allows n + 1."""

    def __init__(self) -> None:
        self._step = 0
        self._changed = threading.Condition()
        self.failed: list[BaseException] = []

    async def turn(self, step: int) -> None:
        def wait() -> None:
            with self._changed:
                if not self._changed.wait_for(
                    lambda: self._step >= step or self.failed, timeout=STEP_TIMEOUT_S
                ):
                    raise TimeoutError(f"step {step} never came (at {self._step})")
            if self.failed:
                raise RuntimeError("the other instance failed")

        await asyncio.to_thread(wait)

    def done(self, step: int) -> None:
        with self._changed:
            self._step = max(self._step, step + 1)
            self._changed.notify_all()

    def fail(self, error: BaseException) -> None:
        with self._changed:
            self.failed.append(error)
            self._changed.notify_all()


def _run_instance(
    settings: Settings,
    steps: Steps,
    script: Callable[[simcord.Env, object, object], Awaitable[None]],
    *,
    later_by_s: float,
) -> None:
    async def main() -> None:
        bot = create_bot(settings)
        # Commands are synced once per application: the second instance finds them
        # synced (the stored hash) and, like a real second shard group, does not sync.
        async with simcord.run(bot, strict_sync=False) as env:
            # Snowflakes come from each SimCord's clock: set the two apart so message
            # ids are unique across them, as Discord's are.
            await env.advance_time(later_by_s)
            guild = env.create_guild(name="Book Club", id=GUILD_ID)
            mods = guild.create_role("Mods", permissions=discord.Permissions(manage_messages=True))
            channel = guild.create_text_channel("general")
            mod = guild.add_member(env.create_user("mod"), roles=[mods])
            try:
                await script(env, guild, (channel, mod))
            finally:
                # As the bot's shutdown does: the feedback writer's last flush, then close.
                await bot.close_resources()

    try:
        asyncio.run(main())
    except BaseException as error:
        steps.fail(error)
        raise


async def _readers_react(env, guild, channel, post, emoji: tuple[str, str], name: str) -> None:
    for n in range(READERS):
        reader = guild.add_member(env.create_user(f"{name}{n}"))
        for mark in emoji:
            await reader.react(post, mark)


def test_two_instances_share_one_shelf(tmp_path: Path, database_url: str | None):
    # The writer's heartbeat every five minutes: the second instance's clock is moved an
    # hour on (below) without a second-by-second hour of heartbeats; every reaction is
    # still written, at the latest when each instance closes.
    settings = Settings(
        token=None,
        database_path=tmp_path / "storyshelf.db",
        database_url=database_url,
        shard_count=2,
        shard_ids=(0,),
        feedback_flush_interval=300,
    )
    # Each instance keeps its feedback journal in a folder of its own, as on its machine.
    (tmp_path / "second").mkdir()
    other_settings = dataclasses.replace(
        settings,
        shard_count=4,
        shard_ids=(2,),
        database_path=tmp_path / "storyshelf.db"
        if database_url is None
        else tmp_path / "second" / "storyshelf.db",
    )
    steps = Steps()
    seen: dict[str, object] = {}

    async def first(env, guild, actors) -> None:
        channel, mod = actors
        seen["first shard"] = (env.bot.shard_count, env.bot.get_guild(guild.id).shard_id)
        # 0: a moderator adds the sample story here.
        result = await mod.slash(channel, "library add", file=(SAMPLE.name, SAMPLE.read_bytes()))
        await mod.click(result.response.message, label="Confirm")
        steps.done(0)
        # 2: the feedback emoji change here.
        await steps.turn(2)
        await mod.slash(channel, "library settings", emoji="👍 🎉")
        steps.done(2)
        # 4: the rating gate is lowered here (the story is General: still allowed).
        await steps.turn(4)
        await mod.slash(channel, "library settings", max_rating="general")
        post = await mod.slash(channel, "read", title=TITLE)
        await _readers_react(env, guild, channel, post.response.message, ("👍", "🎉"), "a")
        steps.done(4)
        await steps.turn(6)

    async def second(env, guild, actors) -> None:
        channel, mod = actors
        seen["second shard"] = (env.bot.shard_count, env.bot.get_guild(guild.id).shard_id)
        reader = guild.add_member(env.create_user("reader"))
        # 1: what the other instance stored is found and read here.
        await steps.turn(1)
        choices = await reader.autocomplete(channel, "read", "title", "light")
        seen["choices"] = [choice["name"] for choice in choices]
        first_read = await reader.slash(channel, "read", title=TITLE)
        seen["first read"] = spoiler_text(first_read.response.content)
        seen["first emoji"] = [r.emoji for r in first_read.response.message.reactions]
        steps.done(1)
        # 3: the emoji changed there are the ones added here, at the next command.
        await steps.turn(3)
        second_read = await reader.slash(channel, "read", title=TITLE)
        seen["second emoji"] = [r.emoji for r in second_read.response.message.reactions]
        await _readers_react(env, guild, channel, second_read.response.message, ("👍", "🎉"), "b")
        steps.done(3)
        # 5: the settings the other instance saved are the ones shown here.
        await steps.turn(5)
        shown = await mod.slash(channel, "library settings")
        seen["settings"] = {f.name: f.value for f in shown.response.embeds[0].fields}
        steps.done(5)

    other = threading.Thread(
        target=_run_instance, args=(other_settings, steps, second), kwargs={"later_by_s": 3_600}
    )
    other.start()
    try:
        _run_instance(settings, steps, first, later_by_s=0)
    finally:
        other.join(timeout=STEP_TIMEOUT_S * 4)
    assert not steps.failed, steps.failed

    assert seen["first shard"] == (2, 0) and seen["second shard"] == (4, 2)
    assert seen["choices"] == [TITLE]
    assert "harbour authority came to switch the lighthouse off" in str(seen["first read"])
    assert seen["first emoji"] == ["❤️", "😂", "😮", "😢", "🔥"]
    assert seen["second emoji"] == ["👍", "🎉"]
    assert seen["settings"]["Feedback emoji"] == "👍 🎉"
    assert "General" in seen["settings"]["Highest rating outside age-restricted channels"]
    # Every reaction from both instances, once: READERS readers x 2 emoji x 2 posts.
    posts = query(settings, "SELECT count(*) FROM excerpt_posts")[0][0]
    assert posts == 3  # the first read, the second read, and the first instance's post
    rows = query(settings, "SELECT emoji, count(*) FROM reactions GROUP BY emoji ORDER BY emoji")
    assert dict(rows) == {"👍": READERS * 2, "🎉": READERS * 2}
    assert query(settings, "SELECT count(*) FROM stories")[0][0] == 1
