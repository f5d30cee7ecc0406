"""Reading clubs: a story posted section by section on a schedule. Discord-free.

A schedule is "every `period_days` days from an anchor date, at a time of day in
an IANA time zone": daily is 1 day, every N days is N, weekly on a weekday is 7
from a date on that weekday. Times are computed in the zone with `zoneinfo`, so a
club at 09:00 in New York posts at 09:00 local time on both sides of a DST change.

The scheduler asks for the clubs that are due, then claims each one's next
section before anything is sent (see `bot.db.clubs`): two processes sharing the
database never post a section twice. A club that was due while the bot was down
gets one catch-up post, and its next time is the next regular one after now: never
a flood of missed sections.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import aiosqlite

from bot import render
from bot.db import clubs as clubs_db
from bot.db.clubs import ACTIVE, FINISHED, PAUSED, RUNNING, STOPPED, ClubRecord
from bot.db.stories import StoryRecord, get_story
from bot.errors import RatingRefused, UserFacingError
from bot.services.reading import Place, Reader
from bot.titles import title_key

__all__ = (
    "ClubService",
    "Halt",
    "Post",
    "Schedule",
    "build_schedule",
    "next_after",
    "parse_at",
    "parse_every",
    "parse_zone",
    "zone_choices",
)

log = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_PERIOD_DAYS = 366
EVERY_EXAMPLES = "daily, every 3 days, weekly on Friday, every 2 weeks on Sunday"
AT_EXAMPLES = "09:00, 9am, 18:30, 8:15 pm"


# --------------------------------------------------------------------------- schedules


@dataclass(frozen=True, slots=True)
class Schedule:
    period_days: int
    # The weekday of weekly schedules (0 = Monday); None: any day.
    weekday: int | None
    at: time
    zone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    def describe(self) -> str:
        days = self.period_days
        if self.weekday is not None and days % 7 == 0:
            weeks = days // 7
            every = "weekly" if weeks == 1 else f"every {weeks} weeks"
            every += f" on {WEEKDAYS[self.weekday].capitalize()}"
        else:
            every = "daily" if days == 1 else f"every {days} days"
        return f"{every} at {self.at:%H:%M} ({self.zone})"

    def occurrence(self, day: date) -> datetime:
        """When the club posts on local `day`, in UTC.

        A time that does not exist that day (skipped by a DST change) is read with the
        offset before the change, i.e. as late as the clocks jumped; a time that
        happens twice is the first of the two.
        """
        return datetime.combine(day, self.at, tzinfo=self.tz).astimezone(UTC)

    def first_day(self, not_before: datetime) -> date:
        """The anchor: the first local day on the schedule whose post is not before
        `not_before`."""
        day = not_before.astimezone(self.tz).date()
        if self.weekday is not None:
            day += timedelta(days=(self.weekday - day.weekday()) % 7)
        step = 7 if self.weekday is not None else 1
        while self.occurrence(day) < not_before:
            day += timedelta(days=step)
        return day

    @classmethod
    def of(cls, club: ClubRecord) -> Schedule:
        return cls(
            club.period_days,
            club.weekday,
            time(club.at_minute // 60, club.at_minute % 60),
            club.timezone,
        )


def build_schedule(every: str, at: str | None, zone: str | None, *, now: datetime) -> Schedule:
    """A schedule from /club start's options. Without `at`, the time is now (to the
    minute); "weekly" without a day is on the weekday it starts."""
    period, weekday = parse_every(every)
    name = parse_zone(zone)
    local = now.astimezone(ZoneInfo(name))
    moment = parse_at(at) if at is not None else time(local.hour, local.minute)
    if weekday is None and period % 7 == 0:
        weekday = local.weekday()
    return Schedule(period, weekday, moment, name)


def next_after(schedule: Schedule, anchor: date, after: datetime) -> datetime:
    """The first post of the schedule (days `anchor` + k·period) strictly after `after`."""
    period = schedule.period_days
    local_day = after.astimezone(schedule.tz).date()
    steps = max(0, (local_day - anchor).days // period)
    day = anchor + timedelta(days=steps * period)
    while (when := schedule.occurrence(day)) <= after:
        day += timedelta(days=period)
    return when


_EVERY_N = re.compile(
    r"(?:every|each)?\s*(?:(?P<n>\d{1,3})\s*)?(?P<unit>days?|weeks?)"
    r"(?:\s+on\s+(?P<day>[a-z]+))?"
)
_WEEKLY = re.compile(r"(?:weekly|every\s+week)(?:\s+on)?(?:\s+(?P<day>[a-z]+))?")
_ON_DAY = re.compile(r"(?:every|each|on)?\s*(?P<day>[a-z]+?)s?")


def _weekday(word: str | None) -> int | None:
    if not word:
        return None
    word = word.strip().lower()
    for number, name in enumerate(WEEKDAYS):
        if len(word) >= 3 and name.startswith(word.rstrip("s") or word):
            return number
    raise UserFacingError(f"“{render.escape_inline(word[:20])}” is not a day of the week.")


def parse_every(text: str) -> tuple[int, int | None]:
    """`every:` as (period in days, weekday or None): daily, every N days, weekly on a day."""
    words = " ".join(text.lower().replace(",", " ").split())
    if words in ("daily", "every day", "each day", "day"):
        return 1, None
    if words == "fortnightly":
        return 14, None
    if match := _WEEKLY.fullmatch(words):
        return 7, _weekday(match["day"])
    if match := _EVERY_N.fullmatch(words):
        count = int(match["n"] or 1)
        days = count * (7 if match["unit"].startswith("week") else 1)
        if not 1 <= days <= MAX_PERIOD_DAYS:
            raise UserFacingError(
                f"A club posts at least once a year and at most once a day; {days} days "
                "does not fit."
            )
        weekday = _weekday(match["day"])
        if weekday is not None and days % 7:
            raise UserFacingError(
                "A weekday only goes with weeks: try “weekly on Friday” or “every 2 weeks "
                "on Friday”."
            )
        return days, weekday
    if (match := _ON_DAY.fullmatch(words)) and match["day"]:
        try:
            weekday = _weekday(match["day"])
        except UserFacingError:
            weekday = None
        if weekday is not None:
            return 7, weekday
    raise UserFacingError(
        f"I don't understand “every: {render.escape_inline(text[:40])}”. Try {EVERY_EXAMPLES}."
    )


_AT = re.compile(r"(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s*(?P<half>am|pm|a\.m\.|p\.m\.)?")


def parse_at(text: str) -> time:
    """`at:` as a time of day: 24-hour or 12-hour with am/pm, noon, midnight."""
    words = " ".join(text.lower().split())
    if words == "noon":
        return time(12, 0)
    if words == "midnight":
        return time(0, 0)
    match = _AT.fullmatch(words)
    if match:
        hour, minute = int(match["h"]), int(match["m"] or 0)
        half = (match["half"] or "").replace(".", "")
        if half and 1 <= hour <= 12:
            hour = hour % 12 + (12 if half == "pm" else 0)
        elif half:
            hour = 99
        if 0 <= hour <= 23 and 0 <= minute <= 59:
            return time(hour, minute)
    raise UserFacingError(
        f"“{render.escape_inline(text[:40])}” is not a time of day. Try {AT_EXAMPLES}."
    )


@functools.cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(text: str | None) -> str:
    """An IANA time zone name (any case), as the time zone database spells it."""
    name = (text or "").strip()
    if not name or name.upper() in ("UTC", "GMT", "Z"):
        return "UTC"
    found = _zones().get(name.lower())
    if found is None:
        raise UserFacingError(
            f"“{render.escape_inline(name[:60])}” is not a time zone I know. Use an IANA name "
            "such as Europe/Paris, America/New_York or Asia/Tokyo (the autocomplete lists them)."
        )
    return found


def zone_choices(typed: str, limit: int = 25) -> list[str]:
    """Time zone names containing what was typed (autocomplete), best matches first."""
    typed = typed.strip().lower().replace(" ", "_")
    zones = sorted(_zones().values())
    if not typed:
        common = ["UTC", "Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo"]
        return common[:limit]
    starts = [z for z in zones if z.lower().startswith(typed)]
    inside = [z for z in zones if typed in z.lower() and z not in starts]
    return (starts + inside)[:limit]


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class Post:
    """A section the club claimed: post it now."""

    club: ClubRecord
    story: StoryRecord
    section: int
    # When the club posts next (None after the last section).
    next_run_at: int | None
    # Whether this is the club's first post (it carries the role's join button).
    first: bool


@dataclass(frozen=True, slots=True)
class Halt:
    """The club paused, stopped or finished on its own; tell its channel why."""

    club: ClubRecord
    message: str


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _title(club: ClubRecord | StoryRecord) -> str:
    title = club.story_title if isinstance(club, ClubRecord) else club.title
    return render.escape_inline(render.truncate(" ".join(title.split()), 80))


class ClubService:
    """Reading clubs over one database, gated by the reader's rules."""

    def __init__(self, db: aiosqlite.Connection, reader: Reader) -> None:
        self.db = db
        self.reader = reader

    # ------------------------------------------------------------------ commands

    async def start(
        self,
        place: Place,
        *,
        channel_id: int,
        title: str,
        schedule: Schedule,
        role_id: int | None,
        now: datetime,
        at_given: bool,
    ) -> ClubRecord:
        """Start a club in the channel `place` describes (its age restriction included).

        Without an `at` time the club posts its first section now and later ones at
        this time of day.
        """
        story = await self.reader.story(place, title)
        if story.section_count < 1:
            raise UserFacingError(f"“{_title(story)}” has no sections to read.")
        not_before = now if at_given else now.replace(second=0, microsecond=0)
        anchor = schedule.first_day(not_before)
        try:
            club_id = await clubs_db.insert_club(
                self.db,
                clubs_db.NewClub(
                    guild_id=place.guild_id,
                    channel_id=channel_id,
                    story_id=story.id,
                    story_title=story.title,
                    period_days=schedule.period_days,
                    weekday=schedule.weekday,
                    at_minute=schedule.at.hour * 60 + schedule.at.minute,
                    timezone=schedule.zone,
                    anchor_date=anchor.isoformat(),
                    role_id=role_id,
                    next_run_at=_unix(schedule.occurrence(anchor)),
                    started_by=place.user_id,
                ),
            )
        except clubs_db.ClubAlreadyRunning:
            raise UserFacingError(
                f"“{_title(story)}” already has a club in <#{channel_id}>: see /club status."
            ) from None
        club = await clubs_db.get_club(self.db, place.guild_id, club_id)
        assert club is not None
        return club

    async def club(self, guild_id: int, club_id: int) -> ClubRecord | None:
        return await clubs_db.get_club(self.db, guild_id, club_id)

    async def latest_thread(self, club: ClubRecord) -> int | None:
        """The discussion thread of the club's latest post (where a forum club is told things)."""
        return await clubs_db.latest_thread(self.db, club.id)

    async def clubs(self, guild_id: int) -> list[ClubRecord]:
        return await clubs_db.list_clubs(self.db, guild_id)

    async def find(self, guild_id: int, reference: str) -> ClubRecord:
        """The running club a moderator named: by id (autocomplete) or by story title."""
        reference = reference.strip()
        if reference.isdigit() and len(reference) <= 18:
            club = await clubs_db.get_club(self.db, guild_id, int(reference))
            if club is not None and club.state in RUNNING:
                return club
        key = title_key(reference)
        matching = [c for c in await self.clubs(guild_id) if title_key(c.story_title) == key]
        if len(matching) == 1:
            return matching[0]
        shown = render.escape_inline(render.truncate(reference, 80))
        if matching:
            raise UserFacingError(
                f"Several clubs read “{shown}”: pick one from the list as you type."
            )
        raise UserFacingError(f"No running club reads “{shown}” here. /club status lists them.")

    async def pause(self, guild_id: int, reference: str, user_id: int) -> ClubRecord:
        club = await self.find(guild_id, reference)
        if club.state == PAUSED:
            raise UserFacingError(f"The club reading “{_title(club)}” is already paused.")
        await clubs_db.set_state(
            self.db, club.id, PAUSED, reason=f"paused by <@{user_id}>", expected=(ACTIVE,)
        )
        return await self._reload(club)

    async def resume(self, place: Place, reference: str, *, now: datetime) -> ClubRecord:
        """Resume at the next regular time after now (the gate is checked again first)."""
        club = await self.find(place.guild_id, reference)
        if club.state == ACTIVE:
            raise UserFacingError(f"The club reading “{_title(club)}” is not paused.")
        story = await self._story(club)
        await self.reader.require_readable(place, story)
        next_run = next_after(Schedule.of(club), date.fromisoformat(club.anchor_date), now)
        await clubs_db.set_state(
            self.db, club.id, ACTIVE, next_run_at=_unix(next_run), expected=(PAUSED,)
        )
        return await self._reload(club)

    async def stop(self, guild_id: int, reference: str, user_id: int) -> ClubRecord:
        club = await self.find(guild_id, reference)
        await clubs_db.set_state(self.db, club.id, STOPPED, reason=f"stopped by <@{user_id}>")
        return club

    async def _story(self, club: ClubRecord) -> StoryRecord:
        story = await get_story(self.db, club.guild_id, club.story_id) if club.story_id else None
        if story is None:
            raise UserFacingError(
                f"“{_title(club)}” is no longer on this server's shelf; /club stop ends its club."
            )
        return story

    async def _reload(self, club: ClubRecord) -> ClubRecord:
        fresh = await clubs_db.get_club(self.db, club.guild_id, club.id)
        return fresh or club

    # ------------------------------------------------------------------ scheduler

    async def due(
        self, now: datetime, *, shards: tuple[int, Collection[int]] | None = None
    ) -> tuple[list[ClubRecord], float | None]:
        """The clubs of these shards' servers that are due now, and the seconds until the
        next of the others (None: no other club is active)."""
        due, upcoming = await clubs_db.due_clubs(self.db, _unix(now), shards=shards)
        wait = None if upcoming is None else max(0.0, upcoming - now.timestamp())
        return due, wait

    async def claim(
        self, club: ClubRecord, *, nsfw: bool, now: datetime, scheduled: bool = True
    ) -> Post | Halt | None:
        """Claim the club's next section for posting, or halt the club, or nothing (another
        process got there first, or it is not due after all).

        `scheduled` claims move the club to its next regular time after now (one
        catch-up after downtime, never more); a moderator's "post the next one now"
        (`scheduled=False`) leaves the schedule as it was.
        """
        if scheduled:
            if club.state != ACTIVE or club.next_run_at > _unix(now):
                return None
        elif club.state not in RUNNING:
            return None
        story = await get_story(self.db, club.guild_id, club.story_id) if club.story_id else None
        if story is None:
            return await self._halt(
                club,
                STOPPED,
                "story removed",
                f"📚 “{_title(club)}” was removed from this server's shelf, so its reading "
                "club has stopped.",
            )
        if club.next_section > story.section_count:
            return await self._halt(
                club,
                FINISHED,
                "all sections posted",
                f"📚 The reading club of “{_title(story)}” has finished: all "
                f"{story.section_count} sections are posted. Thank you for reading together!",
            )
        try:
            await self.reader.require_readable(Place(club.guild_id, nsfw, 0), story)
        except RatingRefused as refused:
            return await self._halt(
                club,
                PAUSED,
                "rating not allowed in this channel",
                f"📚 The reading club of “{_title(story)}” is paused: {refused.message} "
                "A moderator can change the channel or the story, then /club resume.",
            )
        next_run = (
            _unix(next_after(Schedule.of(club), date.fromisoformat(club.anchor_date), now))
            if scheduled
            else club.next_run_at
        )
        if not await clubs_db.claim_section(self.db, club, now=_unix(now), next_run_at=next_run):
            return None
        last = club.next_section >= story.section_count
        return Post(
            club=club,
            story=story,
            section=club.next_section,
            next_run_at=None if last else next_run,
            first=club.first_message_id is None,
        )

    async def skip(self, place: Place, reference: str, *, now: datetime) -> Post | Halt:
        """A moderator's "post the next section now"."""
        club = await self.find(place.guild_id, reference)
        outcome = await self.claim(club, nsfw=place.nsfw, now=now, scheduled=False)
        if outcome is None:
            raise UserFacingError("That club just moved on; look at /club status and try again.")
        return outcome

    async def _halt(self, club: ClubRecord, state: str, reason: str, message: str) -> Halt | None:
        # Only the process that changes the state tells the channel: said once.
        expected = (ACTIVE,) if club.state == ACTIVE else RUNNING
        if not await clubs_db.set_state(self.db, club.id, state, reason=reason, expected=expected):
            return None
        return Halt(club, message)

    async def posted(self, post: Post, *, message_id: int, thread_id: int | None) -> None:
        await clubs_db.mark_posted(
            self.db, post.club.id, post.section, message_id=message_id, thread_id=thread_id
        )

    async def not_posted(self, post: Post, reason: str) -> None:
        """Discord did not take the post: the section is unclaimed and the club paused, so
        it is posted when a moderator resumes the club."""
        await clubs_db.release_section(
            self.db, post.club.id, post.section, state=PAUSED, reason=reason
        )

    async def pause_for(self, club: ClubRecord, reason: str) -> bool:
        return await clubs_db.set_state(self.db, club.id, PAUSED, reason=reason)
