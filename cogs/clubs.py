"""/club: reading clubs. A story posted section by section on a schedule, each section
behind spoilers with the reading buttons and feedback emoji, and a discussion thread
on it (a forum post per section in a forum channel).

The schedule, the claim and the gate live in `bot.services.clubs`; this cog is the
Discord side: the commands, the opt-in role's join/leave button, and the scheduler
loop (a `discord.ext.tasks` loop that sleeps until the next club is due, and looks
at the database at least once a minute for clubs another process changed).
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import faults, render
from bot.errors import UserFacingError
from bot.services.clubs import (
    ClubService,
    Halt,
    Post,
    Schedule,
    build_schedule,
    zone_choices,
)
from bot.services.reading import Place
from cogs._common import answering_errors, channel_is_nsfw, every_title, place_of, shown_title
from cogs._reading_ui import reading_view

if TYPE_CHECKING:
    from bot.client import Storyshelf
    from bot.db.clubs import ClubRecord

__all__ = ("ClubRoleButton", "Clubs", "club_line")

log = logging.getLogger(__name__)

# How often the scheduler looks at the database when no club is due sooner: clubs
# changed by another process are seen within this time. (It sleeps until the next
# club's time otherwise; commands here, and a story replaced or removed in this
# process, wake it at once.)
POLL_SECONDS = 3600.0
# A discussion thread stays open a week without messages (Discord's longest).
THREAD_ARCHIVE_MINUTES: Literal[10080] = 10080  # a week
# How long a closing bot waits for a post in progress before cancelling it.
CLOSE_WAIT_SECONDS = 10.0
MESSAGE_LIMIT = render.MESSAGE_LIMIT
EVERY_SUGGESTIONS = (
    "daily",
    "every 2 days",
    "every 3 days",
    "weekly on Monday",
    "weekly on Friday",
    "weekly on Sunday",
    "every 2 weeks on Saturday",
)

ClubChannel = discord.TextChannel | discord.ForumChannel


def club_line(post: Post) -> str:
    """The line above a club post: it is a club's, who it pings, and when the next comes."""
    line = "📚 **Reading club**"
    if post.club.role_id:
        line += f" · <@&{post.club.role_id}>"
    if post.next_run_at is None:
        line += " · the last section"
    else:
        line += f" · next section <t:{post.next_run_at}:R>"
    return line


def _mentions(club: ClubRecord) -> discord.AllowedMentions:
    """The club's own role, and nobody else, ever."""
    if not club.role_id:
        return discord.AllowedMentions.none()
    return discord.AllowedMentions(
        everyone=False, users=False, roles=[discord.Object(club.role_id)], replied_user=False
    )


def _club_id(text: str) -> int:
    return int(text) if len(text) <= 18 else 0


class ClubRoleButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    # Its own prefix: the reading buttons answer every other `storyshelf:` id.
    template=r"storyshelf:club:role:(?P<club>\d+)",
):
    """Join or leave a club's opt-in role. The role comes from the database, never from
    the custom id, so a forged button cannot hand out any other role."""

    def __init__(self, club_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Join / leave this club's pings",
                emoji="🔔",
                style=discord.ButtonStyle.success,
                custom_id=f"storyshelf:club:role:{club_id}",
            )
        )
        self.club_id = club_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ClubRoleButton:
        return cls(_club_id(match["club"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        client: Any = interaction.client
        cog = client.get_cog("Clubs")
        action = (
            cog.toggle_role(interaction, self.club_id)
            if isinstance(cog, Clubs)
            else _refuse("Reading clubs are not available right now; please try again.")
        )
        await answering_errors(interaction, action)


async def _refuse(message: str) -> None:
    raise UserFacingError(message)


@app_commands.guild_only()
class Clubs(
    commands.GroupCog,
    group_name="club",
    group_description="Reading clubs: a story posted section by section on a schedule",
):
    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot
        # True while the scheduler is looking at the clubs or posting (not asleep).
        self._posting = False
        super().__init__()

    @property
    def service(self) -> ClubService:
        return self.bot.clubs

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ClubRoleButton)
        self.scheduler.start()

    async def cog_unload(self) -> None:
        """Let a post in progress finish (its claim is already taken), then stop."""
        self.bot.remove_dynamic_items(ClubRoleButton)
        task = self.scheduler.get_task()
        if task is None or task.done():
            return
        if not self._posting:
            self.scheduler.cancel()  # asleep: nothing to lose
            return
        self.scheduler.stop()
        _, pending = await asyncio.wait({task}, timeout=CLOSE_WAIT_SECONDS)
        if pending:
            self.scheduler.cancel()

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="start", description="Post a story section by section on a schedule")
    @app_commands.describe(
        title="The story",
        channel="Where to post (a text channel, or a forum: one post per section)",
        every="daily, every 3 days, weekly on Friday…",
        at="Time of day, e.g. 09:00 or 8pm (default: now, and the first section at once)",
        timezone="IANA time zone of that time, e.g. Europe/Paris (default UTC)",
        role="An opt-in role to ping with each section; members join it with a button",
    )
    @app_commands.autocomplete(title=every_title)
    @app_commands.checks.has_permissions(manage_messages=True)
    async def start(
        self,
        interaction: discord.Interaction,
        title: str,
        channel: ClubChannel,
        every: app_commands.Range[str, 1, 60],
        at: app_commands.Range[str, 1, 20] | None = None,
        timezone: app_commands.Range[str, 1, 60] | None = None,
        role: discord.Role | None = None,
    ) -> None:
        assert interaction.guild is not None
        cached = self.bot.get_channel(channel.id)
        target = (
            cached if isinstance(cached, discord.TextChannel | discord.ForumChannel) else channel
        )
        now = discord.utils.utcnow()
        schedule = build_schedule(every, at, timezone, now=now)
        self._check_channel(interaction.guild, target)
        if role is not None:
            self._check_role(interaction.guild, role)
        place = Place(interaction.guild.id, channel_is_nsfw(target), interaction.user.id)
        club = await self.service.start(
            place,
            channel_id=target.id,
            title=title,
            schedule=schedule,
            role_id=role.id if role else None,
            now=now,
            at_given=at is not None,
        )
        first = club.next_run_at
        pings = (
            f" Each post pings {role.mention}; members join it with the button on the first post."
            if role
            else ""
        )
        await interaction.response.send_message(
            f"📚 Reading club started: “{shown_title(club.story_title)}” in {target.mention}, "
            f"{schedule.describe()}, one section a time, each with its discussion thread. "
            f"Section 1 of {club.section_count} comes <t:{first}:F> (<t:{first}:R>).{pings}",
            ephemeral=True,
        )
        self._wake()

    @app_commands.command(name="status", description="The reading clubs in this server")
    async def status(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        clubs = await self.service.clubs(interaction.guild_id)
        await interaction.response.send_message(embed=status_embed(clubs), ephemeral=True)

    @app_commands.command(name="pause", description="Pause a reading club")
    @app_commands.describe(club="The club (its story)")
    @app_commands.checks.has_permissions(manage_messages=True)
    async def pause(self, interaction: discord.Interaction, club: str) -> None:
        place = place_of(interaction)
        paused = await self.service.pause(place.guild_id, club, place.user_id)
        await interaction.response.send_message(
            f"⏸ The club reading “{shown_title(paused.story_title)}” in <#{paused.channel_id}> "
            "is paused. /club resume goes on with the next section at its next time.",
            ephemeral=True,
        )

    @app_commands.command(name="resume", description="Resume a paused reading club")
    @app_commands.describe(club="The club (its story)")
    @app_commands.checks.has_permissions(manage_messages=True)
    async def resume(self, interaction: discord.Interaction, club: str) -> None:
        place = place_of(interaction)
        found = await self.service.find(place.guild_id, club)
        target = self.bot.get_channel(found.channel_id)
        if target is None:
            raise UserFacingError("That club's channel is gone; /club stop ends the club.")
        there = Place(place.guild_id, channel_is_nsfw(target), place.user_id)
        resumed = await self.service.resume(there, str(found.id), now=discord.utils.utcnow())
        await interaction.response.send_message(
            f"▶ The club reading “{shown_title(resumed.story_title)}” goes on: section "
            f"{resumed.next_section} comes <t:{resumed.next_run_at}:F> "
            f"(<t:{resumed.next_run_at}:R>).",
            ephemeral=True,
        )
        self._wake()

    @app_commands.command(name="skip", description="Post a club's next section now")
    @app_commands.describe(club="The club (its story)")
    @app_commands.checks.has_permissions(manage_messages=True)
    async def skip(self, interaction: discord.Interaction, club: str) -> None:
        place = place_of(interaction)
        found = await self.service.find(place.guild_id, club)
        target = self.bot.get_channel(found.channel_id)
        if not isinstance(target, ClubChannel):
            raise UserFacingError("That club's channel is gone; /club stop ends the club.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        there = Place(place.guild_id, channel_is_nsfw(target), place.user_id)
        outcome = await self.service.skip(there, str(found.id), now=discord.utils.utcnow())
        done = await self.carry_out(target, outcome)
        if isinstance(outcome, Halt):
            answer = outcome.message
        elif done:
            answer = f"Posted section {outcome.section} in {target.mention}."
        else:
            answer = (
                f"Section {outcome.section} could not be posted; the club is paused "
                f"(see {target.mention})."
            )
        await interaction.followup.send(answer, ephemeral=True)

    @app_commands.command(name="stop", description="End a reading club")
    @app_commands.describe(club="The club (its story)")
    @app_commands.checks.has_permissions(manage_messages=True)
    async def stop(self, interaction: discord.Interaction, club: str) -> None:
        place = place_of(interaction)
        stopped = await self.service.stop(place.guild_id, club, place.user_id)
        await interaction.response.send_message(
            f"⏹ The club reading “{shown_title(stopped.story_title)}” in "
            f"<#{stopped.channel_id}> has stopped. Its posts and threads stay.",
            ephemeral=True,
        )

    @start.autocomplete("every")
    async def every_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        found = [s for s in EVERY_SUGGESTIONS if typed in s.lower()] or [current.strip()]
        return [app_commands.Choice(name=s, value=s) for s in found if s][:25]

    @start.autocomplete("timezone")
    async def timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in zone_choices(current)]

    @pause.autocomplete("club")
    @resume.autocomplete("club")
    @skip.autocomplete("club")
    @stop.autocomplete("club")
    async def club_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        typed = current.strip().casefold()
        choices = []
        for club in await self.service.clubs(interaction.guild_id):
            channel = self.bot.get_channel(club.channel_id)
            where = f"#{getattr(channel, 'name', club.channel_id)}"
            name = f"{club.story_title} · {where}" + (" · paused" if club.state == "paused" else "")
            if typed and typed not in name.casefold():
                continue
            choices.append(app_commands.Choice(name=render.truncate(name, 100), value=str(club.id)))
        return choices[:25]

    # ------------------------------------------------------------------ checks

    def _check_channel(self, guild: discord.Guild, channel: Any) -> None:
        """Refuse, saying what is missing, a channel the bot cannot run a club in."""
        if not isinstance(channel, ClubChannel):
            raise UserFacingError("A club posts in a text channel or a forum channel.")
        me = guild.me
        if me is None:
            return
        permissions = channel.permissions_for(me)
        needed = [
            ("view_channel", "View Channel"),
            ("send_messages", "Send Messages"),
        ]
        if isinstance(channel, discord.TextChannel):
            needed.append(("create_public_threads", "Create Public Threads"))
        missing = [name for attr, name in needed if not getattr(permissions, attr)]
        if missing:
            names = " and ".join(f"**{name}**" for name in missing)
            raise UserFacingError(
                f"I can't run a club in {channel.mention}: I'm missing {names} there. "
                "A moderator can grant it in the channel settings."
            )

    def _check_role(self, guild: discord.Guild, role: discord.Role) -> None:
        if role.is_default():
            raise UserFacingError(
                "@everyone can't be a club's role: pick (or create) a role members opt into."
            )
        if role.managed:
            raise UserFacingError(
                f"{role.mention} belongs to an integration; pick a role members can join."
            )
        me = guild.me
        if me is not None and not me.guild_permissions.manage_roles:
            raise UserFacingError(
                "I need the **Manage Roles** permission to let members join the club's role."
            )
        if me is not None and role >= me.top_role:
            raise UserFacingError(
                f"{role.mention} is above my highest role, so I can't give it to members. "
                "Move my role above it in the server settings, or pick another role."
            )

    # ------------------------------------------------------------------ role button

    async def toggle_role(self, interaction: discord.Interaction, club_id: int) -> None:
        guild, member = interaction.guild, interaction.user
        if guild is None or not isinstance(member, discord.Member):
            raise UserFacingError("Club roles work in a server.")
        club = await self.service.club(guild.id, club_id) if club_id else None
        role = guild.get_role(club.role_id) if club and club.role_id else None
        if role is None:
            raise UserFacingError("That club has no role to join any more.")
        try:
            if member.get_role(role.id) is not None:
                await member.remove_roles(role, reason="left a reading club's pings")
                answer = f"You left {role.mention}: no more pings for this club."
            else:
                await member.add_roles(role, reason="joined a reading club's pings")
                answer = f"You joined {role.mention}: each new section pings you."
        except discord.HTTPException as error:
            log.warning(
                "club role %s could not be changed: %s %s", role.id, error.status, error.text
            )
            raise UserFacingError(
                "I couldn't change your roles (I may lack **Manage Roles**, or the role is "
                "above mine). Please tell a moderator."
            ) from error
        await interaction.response.send_message(
            answer, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )

    # ------------------------------------------------------------------ scheduler

    def _wake(self) -> None:
        """Look at the clubs now (a command changed one): the loop then sleeps until the
        next is due."""
        if self.scheduler.is_running():
            self.scheduler.change_interval(seconds=0)

    @commands.Cog.listener()
    async def on_storyshelf_story_changed(self, story_id: int) -> None:
        # A removed story's clubs are due at once (a trigger); a re-rated one is checked
        # at its next post anyway, but looking now costs one indexed query.
        self._wake()

    @tasks.loop(seconds=POLL_SECONDS)
    async def scheduler(self) -> None:
        self._posting = True
        try:
            wait = await self.run_due(discord.utils.utcnow())
        except Exception:
            # A busy or briefly unavailable database: the next look retries.
            log.exception("reading clubs: the scheduler's look at the clubs failed")
            wait = None
        finally:
            self._posting = False
        interval = POLL_SECONDS if wait is None else min(POLL_SECONDS, max(1.0, wait))
        self.scheduler.change_interval(seconds=interval)

    @scheduler.before_loop
    async def _before_scheduler(self) -> None:
        await self.bot.wait_until_ready()

    def _shards(self) -> tuple[int, list[int]] | None:
        count = self.bot.shard_count or 1
        ids = self.bot.shard_ids
        return None if count == 1 or ids is None else (count, list(ids))

    async def run_due(self, now: datetime) -> float | None:
        """Post every club of this process's servers whose time has come (once each,
        whoever else is looking); the seconds until the next one is due."""
        due, wait = await self.service.due(now, shards=self._shards())
        acted = False
        for club in due:
            try:
                acted = await self._run_club(club, now) or acted
            except Exception:
                log.exception("reading club %s: its post failed", club.id)
        # After acting, look again at once (more may be due than one look returns); a
        # club that must wait (its server unavailable) is looked at on the next poll.
        return 0.0 if acted else wait

    async def _run_club(self, club: ClubRecord, now: datetime) -> bool:
        """Post the club's next section (or halt it); False if it must wait."""
        channel = self.bot.get_channel(club.channel_id)
        if channel is None:
            if self.bot.get_guild(club.guild_id) is None:
                return False  # the server is unavailable (or gone): the club waits
            if await self.service.pause_for(club, "its channel is gone"):
                log.warning("reading club %s paused: channel %s is gone", club.id, club.channel_id)
            return True
        if not isinstance(channel, ClubChannel):
            await self.service.pause_for(club, "its channel is not a text or forum channel")
            return True
        outcome = await self.service.claim(club, nsfw=channel_is_nsfw(channel), now=now)
        if outcome is not None:
            await self.carry_out(channel, outcome)
        return True

    async def carry_out(
        self, channel: discord.TextChannel | discord.ForumChannel, outcome: Post | Halt
    ) -> bool:
        """Post a claimed section, or tell the channel why its club halted; True if a
        section was posted. (Also how another instance's claim is delivered in tests.)"""
        if isinstance(outcome, Halt):
            await self._tell(channel, outcome.club, outcome.message)
            return False
        return await self._post(channel, outcome)

    async def _post(self, channel: discord.TextChannel | discord.ForumChannel, post: Post) -> bool:
        """Send a claimed section and open its thread; True if the section was posted."""
        club = post.club
        place = Place(club.guild_id, channel_is_nsfw(channel), 0)
        try:
            opened = await self.bot.reader.open(place, post.story.id, post.section)
        except UserFacingError as error:
            await self.service.not_posted(post, "the section could not be opened")
            await self._tell(channel, club, f"📚 The reading club is paused: {error.message}")
            return False
        view = await reading_view(self.bot.reader, opened)
        if post.first and club.role_id:
            view.add_item(ClubRoleButton(club.id))
        header = club_line(post)
        together = len(header) + 1 + len(opened.content) <= MESSAGE_LIMIT
        content = f"{header}\n{opened.content}" if together else opened.content
        # The header goes separately only when the page leaves no room for it.
        lead = None if together else header
        mentions = _mentions(club)
        name = await self._thread_name(post)
        thread: discord.Thread | None = None
        try:
            if isinstance(channel, discord.ForumChannel):
                created = await channel.create_thread(
                    name=name,
                    content=content,
                    view=view,
                    allowed_mentions=mentions,
                    auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                )
                thread, message = created.thread, created.message
                if lead:
                    await thread.send(lead, allowed_mentions=mentions)
            else:
                if lead:
                    await channel.send(lead, allowed_mentions=mentions)
                message = await channel.send(
                    content,
                    view=view,
                    allowed_mentions=discord.AllowedMentions.none() if lead else mentions,
                )
        except discord.HTTPException as error:
            log.warning(
                "reading club %s: section %s not posted in channel %s: %s %s",
                club.id,
                post.section,
                channel.id,
                error.status,
                error.text,
            )
            await self.service.not_posted(post, f"Discord refused the post ({error.status})")
            await self._tell(
                channel,
                club,
                "📚 "
                + faults.post_failure(
                    error,
                    channel=channel.mention,
                    permissions=self._permissions(channel),
                    nothing=(
                        f"Section {post.section} of “{shown_title(post.story.title)}” was not "
                        "posted and the reading club is paused; a moderator can /club resume it."
                    ),
                ),
            )
            return False
        await self._record(message, post)
        if thread is None:
            thread = await self._open_thread(channel, message, post, name)
        await self.service.posted(
            post, message_id=message.id, thread_id=thread.id if thread else None
        )
        return True

    async def _open_thread(
        self,
        channel: discord.TextChannel | discord.ForumChannel,
        message: discord.Message,
        post: Post,
        name: str,
    ) -> discord.Thread | None:
        try:
            return await message.create_thread(
                name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except discord.HTTPException as error:
            log.warning(
                "reading club %s: no thread for section %s in channel %s: %s %s",
                post.club.id,
                post.section,
                channel.id,
                error.status,
                error.text,
            )
        if await self.service.pause_for(post.club, "could not open discussion threads"):
            why = (
                "I'm missing the **Create Public Threads** permission there"
                if not self._permissions(channel).create_public_threads
                else "Discord refused it"
            )
            await self._tell(
                channel,
                post.club,
                f"📚 Section {post.section} is posted, but I couldn't open its discussion "
                f"thread: {why}. The reading club is paused; a moderator can /club resume it.",
            )
        return None

    async def _thread_name(self, post: Post) -> str:
        titles = {s.position: s.title for s in await self.bot.reader.section_list(post.story)}
        return render.section_label(post.section, titles.get(post.section, ""), limit=100)

    async def _record(self, message: discord.Message, post: Post) -> None:
        """The post is an excerpt: readers' reactions count as feedback, and it gets the
        feedback emoji, as every excerpt does."""
        from cogs.reading import Reading

        reading = self.bot.get_cog("Reading")
        if not isinstance(reading, Reading):
            log.warning("club post %s: the reading cog is not loaded; not recorded", message.id)
            return
        await reading.record_excerpt(
            message,
            guild_id=post.club.guild_id,
            story_id=post.story.id,
            section=post.section,
            posted_by=None,
        )

    def _permissions(self, channel: discord.abc.GuildChannel) -> discord.Permissions:
        me = channel.guild.me
        return channel.permissions_for(me) if me is not None else discord.Permissions.none()

    async def _tell(
        self, channel: discord.TextChannel | discord.ForumChannel, club: ClubRecord, text: str
    ) -> None:
        """Say something to the club's channel (in a forum: the club's latest thread),
        once; if that is impossible too, the log says it."""
        target: Any = channel
        if isinstance(channel, discord.ForumChannel):
            target = await self._latest_thread(club)
        if target is None:
            log.warning("reading club %s (channel %s): %s", club.id, channel.id, text)
            return
        try:
            await target.send(text[:MESSAGE_LIMIT], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            log.warning(
                "reading club %s could not tell channel %s (%s %s): %s",
                club.id,
                channel.id,
                error.status,
                error.text,
                text,
            )

    async def _latest_thread(self, club: ClubRecord) -> discord.Thread | None:
        latest = await self.service.latest_thread(club)
        found = self.bot.get_channel(latest) if latest else None
        return found if isinstance(found, discord.Thread) else None


def status_embed(clubs: list[ClubRecord]) -> discord.Embed:
    embed = discord.Embed(title="Reading clubs", colour=discord.Colour.dark_teal())
    if not clubs:
        embed.description = (
            "No reading club here yet. Moderators start one with /club start: a story posted "
            "section by section on a schedule, each section with its discussion thread."
        )
        return embed
    lines = []
    for club in clubs:
        lines.append(_status_line(club))
    text = ""
    for number, line in enumerate(lines):
        if len(text) + len(line) + 40 > 4000:
            text += f"\n…and {len(lines) - number} more."
            break
        text += ("\n\n" if text else "") + line
    embed.description = text
    return embed


def _status_line(club: ClubRecord) -> str:
    schedule = Schedule.of(club).describe()
    title = f"**{shown_title(club.story_title)}** in <#{club.channel_id}>"
    total = club.section_count
    if club.next_section > total:
        upcoming = f"all {total} sections posted"
    else:
        upcoming = f"section {club.next_section} of {total}"
    pings = f" · pings <@&{club.role_id}>" if club.role_id else ""
    if club.state == "paused":
        why = f" ({render.truncate(club.state_reason, 120)})" if club.state_reason else ""
        return f"⏸ {title} · paused{why}\nNext: {upcoming} · {schedule}{pings}"
    when = f"<t:{club.next_run_at}:F> (<t:{club.next_run_at}:R>)"
    return f"▶ {title}\nNext: {upcoming}, {when} · {schedule}{pings}"


async def setup(bot: Storyshelf) -> None:
    await bot.add_cog(Clubs(bot))
