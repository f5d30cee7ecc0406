"""Reading clubs: a story posted section by section on a schedule, each in its own thread.

SimCord's clock starts at 2026-01-01 00:00 UTC (a Thursday). The bot's feedback
heartbeat is slowed to a minute here, so a simulated week takes seconds.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from bot.services.clubs import Schedule, next_after, parse_at, parse_every, parse_zone
from bot.settings import Settings
from bot.story import RatingLevel
from tests.support import make_story, outside_spoiler, query, restart, shelve, spoiler_text

HOUR = 3600
DAY = 24 * HOUR
SECTIONS = [(f"Chapter {n}", f"Text of chapter {n}.\n\nIt goes on.") for n in range(1, 8)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        token=None,
        database_path=tmp_path / "storyshelf.db",
        shard_count=1,
        feedback_flush_interval=3600.0,
    )


@pytest.fixture
def club_world(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    moderator = guild.add_member(
        env.create_user("mod"), roles=[guild.create_role("Mods", permissions=_manage())]
    )
    shelve(settings, guild.id, make_story("Seven Days", sections=SECTIONS))
    return env, guild, general, lounge, reader, moderator


def _manage():
    import discord

    return discord.Permissions(manage_messages=True)


def club_posts(channel) -> list:
    """The channel's club posts (the ones with a section behind a spoiler)."""
    return [m for m in channel.history() if "Reading club" in m.content and "||" in m.content]


def section_of(message) -> int:
    head = outside_spoiler(message.content)
    marker = head.index("Section ")
    return int(head[marker + len("Section ") :].split("/")[0])


async def advance(env, seconds: float, step: float = 6 * HOUR) -> None:
    while seconds > 0:
        await env.advance_time(min(step, seconds))
        seconds -= step


# --------------------------------------------------------------------------- schedules


def test_every_understands_days_weeks_and_weekdays():
    assert parse_every("daily") == (1, None)
    assert parse_every("every 3 days") == (3, None)
    assert parse_every("Weekly on Friday") == (7, 4)
    assert parse_every("every monday") == (7, 0)
    assert parse_every("every 2 weeks on Sunday") == (14, 6)
    assert parse_at("9am") == time(9, 0) and parse_at("21:30") == time(21, 30)
    assert parse_at("12 am") == time(0, 0) and parse_at("8.15 pm") == time(20, 15)
    assert parse_zone("europe/paris") == "Europe/Paris" and parse_zone(None) == "UTC"


@pytest.mark.parametrize(
    "bad", ["hourly", "every 0 days", "every 400 days", "every 3 days on monday"]
)
def test_every_refuses_what_it_cannot_do(bad):
    from bot.errors import UserFacingError

    with pytest.raises(UserFacingError):
        parse_every(bad)


def test_an_unknown_time_zone_is_refused_clearly():
    from bot.errors import UserFacingError

    with pytest.raises(UserFacingError, match="not a time zone"):
        parse_zone("Mars/Olympus_Mons")
    with pytest.raises(UserFacingError):
        parse_zone("../../etc/passwd")


def test_nine_in_new_york_stays_nine_across_daylight_saving():
    schedule = Schedule(1, None, time(9, 0), "America/New_York")
    anchor = date(2026, 3, 1)
    # 2026-03-08: clocks go forward in New York; 09:00 EST is 14:00 UTC, 09:00 EDT 13:00 UTC.
    before = next_after(schedule, anchor, datetime(2026, 3, 7, 15, 0, tzinfo=UTC))
    after = next_after(schedule, anchor, datetime(2026, 3, 8, 15, 0, tzinfo=UTC))
    assert before == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert next_after(schedule, anchor, datetime(2026, 3, 6, 15, 0, tzinfo=UTC)) == datetime(
        2026, 3, 7, 14, 0, tzinfo=UTC
    )


def test_every_three_days_keeps_its_rhythm_after_a_gap():
    schedule = Schedule(3, None, time(18, 0), "UTC")
    anchor = date(2026, 1, 1)
    # Down from the 1st to the 8th at noon: the next post is the 10th (1, 4, 7, 10), not the 8th.
    got = next_after(schedule, anchor, datetime(2026, 1, 8, 12, 0, tzinfo=UTC))
    assert got == datetime(2026, 1, 10, 18, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- the club


async def start_daily(moderator, channel, **options):
    options = {
        "title": "Seven Days",
        "channel": channel,
        "every": "daily",
        "at": "09:00",
        **options,
    }
    return await moderator.slash(channel, "club start", **options)


async def test_a_daily_club_posts_one_section_a_day_at_local_time_each_with_a_thread(club_world):
    env, guild, general, lounge, reader, moderator = club_world
    started = await start_daily(moderator, general, timezone="America/New_York")
    assert started.ephemeral and "Reading club started" in started.response.content

    # 09:00 in New York is 14:00 UTC in January.
    await advance(env, 14 * HOUR - 60)
    assert club_posts(general) == []
    for day in range(3):
        await advance(env, 2 * 60)  # to 14:01 UTC
        posts = club_posts(general)
        assert [section_of(p) for p in posts] == list(range(1, day + 2))
        newest = posts[-1]
        moment = newest.created_at.astimezone(parse_zone_info("America/New_York"))
        assert (moment.hour, moment.minute) == (9, 0)
        assert spoiler_text(newest.content).strip()
        await advance(env, DAY - 2 * 60)

    threads = general.threads
    assert [t.name for t in sorted(threads, key=lambda t: t.id)] == [
        "1 · Chapter 1",
        "2 · Chapter 2",
        "3 · Chapter 3",
    ]


def parse_zone_info(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


# --------------------------------------------------------------------------- helpers


async def start_club(moderator, channel, *, title="Seven Days", at="01:00", **options):
    """A daily club at 01:00 UTC (an hour after SimCord's clock starts)."""
    result = await moderator.slash(
        channel, "club start", title=title, channel=channel, every="daily", at=at, **options
    )
    assert result.ephemeral
    return result.response.content


def sections_posted(channel) -> list[int]:
    return [section_of(p) for p in club_posts(channel)]


def club_state(settings) -> list[tuple]:
    return query(settings, "SELECT state, next_section FROM reading_clubs ORDER BY id")


def mentions_sent(env) -> list[dict]:
    """Every allowed_mentions the bot sent, wherever in a request body it was."""
    found: list[dict] = []

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "allowed_mentions" and isinstance(inner, dict):
                    found.append(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    for request in env.http_requests:
        body = request.json
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                continue
        walk(body)
    return found


# --------------------------------------------------------------------------- behaviour


async def test_reactions_on_a_club_post_count_as_feedback(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    await advance(env, HOUR + 60)
    (post,) = club_posts(general)

    await reader.react(post, "❤️")
    await env.bot.feedback.flush()

    rows = query(
        settings,
        "SELECT e.section_position, r.emoji, r.user_id FROM reactions r"
        " JOIN excerpt_posts e ON e.message_id = r.message_id",
    )
    assert rows == [(1, "❤️", reader.id)]
    shown = await reader.slash(general, "feedback", title="Seven Days")
    assert "❤️ 1" in shown.response.embeds[0].description


async def test_status_shows_each_club_with_its_next_section_and_time(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general, timezone="Europe/Paris")  # 01:00 Paris = 00:00 UTC
    await advance(env, 60)

    status = await reader.slash(general, "club status")

    text = status.response.embeds[0].description
    tomorrow = int(datetime(2026, 1, 2, 0, 0, tzinfo=UTC).timestamp())
    assert "Seven Days" in text and f"<#{general.id}>" in text
    assert "section 2 of 7" in text and f"<t:{tomorrow}:F>" in text
    assert "daily at 01:00 (Europe/Paris)" in text


async def test_pause_resume_skip_and_stop(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    await advance(env, HOUR + 60)
    assert sections_posted(general) == [1]

    refused = await reader.slash(general, "club pause", club="Seven Days")
    assert refused.ephemeral and "Manage Messages" in refused.response.content

    paused = await moderator.slash(general, "club pause", club="Seven Days")
    assert "paused" in paused.response.content
    await advance(env, DAY)
    assert sections_posted(general) == [1]

    resumed = await moderator.slash(general, "club resume", club="Seven Days")
    assert "section 2" in resumed.response.content
    assert "<t:" in resumed.response.content
    await advance(env, DAY)
    assert sections_posted(general) == [1, 2]

    skipped = await moderator.slash(general, "club skip", club="Seven Days")
    said = [m.content for m in skipped.followups] + [skipped.response.content or ""]
    assert any("Posted section 3" in text for text in said)
    assert sections_posted(general) == [1, 2, 3]
    await advance(env, DAY)  # the schedule is unchanged: the next day brings section 4
    assert sections_posted(general) == [1, 2, 3, 4]

    stopped = await moderator.slash(general, "club stop", club="Seven Days")
    assert "stopped" in stopped.response.content
    await advance(env, DAY)
    assert sections_posted(general) == [1, 2, 3, 4]
    status = await reader.slash(general, "club status")
    assert "No reading club" in status.response.embeds[0].description


async def test_a_restart_in_the_middle_loses_no_post_and_posts_no_duplicate(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    await advance(env, HOUR + 60)
    await advance(env, DAY - 2 * 60)  # just before section 2 is due
    await restart(env, settings)
    await advance(env, 2 * 60)
    await restart(env, settings)  # just after it
    await advance(env, DAY)

    assert sections_posted(general) == [1, 2, 3]
    assert query(settings, "SELECT section FROM club_posts ORDER BY section") == [(1,), (2,), (3,)]


async def test_after_three_days_down_exactly_one_catch_up_post(club_world, settings):
    from bot import create_bot

    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    await advance(env, HOUR + 60)
    assert sections_posted(general) == [1]

    await env.bot.close()  # the bot is down for three days and a bit
    await env.advance_time(3 * DAY + 3 * HOUR)
    await env.restart_bot(create_bot(settings))
    await env.advance_time(60)

    assert sections_posted(general) == [1, 2]  # one catch-up (at 04:01), not three
    await advance(env, 20 * HOUR)  # the next is at its regular time, 01:00 the next day
    assert sections_posted(general) == [1, 2]
    await advance(env, 2 * HOUR)
    assert sections_posted(general) == [1, 2, 3]


async def test_two_instances_on_one_database_post_each_section_once_in_a_week(club_world, settings):
    """SimCord runs one bot per Env, so the second instance is the club service on its own
    connection to the same file, claiming at the same moments as the bot; its claims are
    posted through the bot (the same Discord). On even days it claims first, on odd days
    it saw the club due at the same time as the bot but claims after it."""
    from bot.db.connection import close_database, open_database
    from bot.db.guild_settings import GuildSettingsStore
    from bot.services.clubs import ClubService, Post
    from bot.services.reading import Reader

    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    db = await open_database(settings.database_path, busy_timeout_ms=2000)
    other = ClubService(db, Reader(db, GuildSettingsStore(db)))
    cog = env.bot.get_cog("Clubs")
    channel = env.bot.get_channel(general.id)
    lost = 0
    try:
        await advance(env, HOUR - 60)
        for day in range(8):
            due_at = env.now().replace(hour=1, minute=0, second=0)
            seen, _ = await other.due(due_at)
            assert len(seen) == 1
            if day % 2 == 0:
                outcome = await other.claim(seen[0], nsfw=False, now=due_at)
                if isinstance(outcome, Post):
                    assert await cog.carry_out(channel, outcome)
                await advance(env, 2 * 60)
            else:
                await advance(env, 2 * 60)
                outcome = await other.claim(seen[0], nsfw=False, now=due_at)
                lost += outcome is None
            await advance(env, DAY - 2 * 60)
    finally:
        await close_database(db)

    assert sections_posted(general) == [1, 2, 3, 4, 5, 6, 7]
    assert lost == 4  # every time the other instance came second, its claim failed
    rows = query(settings, "SELECT section, message_id IS NOT NULL FROM club_posts")
    assert sorted(rows) == [(n, 1) for n in range(1, 8)]
    assert club_state(settings) == [("finished", 8)]
    assert "has finished" in general.last_message.content


async def test_a_claim_raced_by_two_connections_is_won_once(settings, tmp_path):
    import asyncio

    from bot.db import clubs as clubs_db
    from bot.db.connection import close_database, open_database

    stored = shelve(settings, 1, make_story("Race", sections=SECTIONS))
    first = await open_database(settings.database_path, busy_timeout_ms=5000)
    second = await open_database(settings.database_path, busy_timeout_ms=5000)
    try:
        club_id = await clubs_db.insert_club(
            first,
            clubs_db.NewClub(
                1, 2, stored.id, "Race", 1, None, 60, "UTC", "2026-01-01", None, 100, 3
            ),
        )
        wins = 0
        for _ in range(5):
            (seen,), _ = await clubs_db.due_clubs(first, 10**10)
            results = await asyncio.gather(
                clubs_db.claim_section(first, seen, now=200, next_run_at=seen.next_run_at + 1),
                clubs_db.claim_section(second, seen, now=200, next_run_at=seen.next_run_at + 1),
            )
            assert sorted(results) == [False, True]
            wins += 1
        rows = await clubs_db.get_club(first, 1, club_id)
        assert rows is not None and rows.next_section == 6
    finally:
        await close_database(first)
        await close_database(second)
    assert wins == 5


# --------------------------------------------------------------------------- the gate


async def test_a_mature_story_cannot_start_a_club_in_an_ordinary_channel(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    shelve(settings, guild.id, make_story("Grown Ups", level=RatingLevel.MATURE))

    refused = await moderator.slash(
        general, "club start", title="Grown Ups", channel=general, every="daily"
    )

    assert refused.ephemeral and "Mature" in refused.response.content
    assert query(settings, "SELECT count(*) FROM reading_clubs") == [(0,)]
    allowed = await start_club(moderator, lounge, title="Grown Ups")
    assert "Reading club started" in allowed


async def test_re_rating_to_explicit_mid_club_pauses_it_and_says_so(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    await advance(env, HOUR + 60)
    story_id = query(settings, "SELECT id FROM stories WHERE title = 'Seven Days'")[0][0]
    await env.bot.librarian.edit(
        guild.id,
        story_id,
        title="Seven Days",
        author="Tester",
        rating="Explicit",
        summary="",
        notes="",
        user_id=moderator.id,
    )

    await advance(env, DAY)

    assert sections_posted(general) == [1]
    notice = general.last_message.content
    assert "paused" in notice and "Explicit" in notice
    assert club_state(settings) == [("paused", 2)]
    await advance(env, DAY)  # said once
    assert general.last_message.content == notice
    assert sum("paused" in m.content for m in general.history()) == 1


async def test_a_channel_that_is_no_longer_age_restricted_pauses_its_club(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    shelve(settings, guild.id, make_story("Grown Ups", level=RatingLevel.MATURE, sections=SECTIONS))
    await start_club(moderator, lounge, title="Grown Ups")
    await advance(env, HOUR + 60)
    assert sections_posted(lounge) == [1]

    env.bot.get_channel(lounge.id).nsfw = False
    await advance(env, DAY)

    assert sections_posted(lounge) == [1]
    assert "paused" in lounge.last_message.content
    assert club_state(settings) == [("paused", 2)]


# --------------------------------------------------------------------------- pings


async def test_only_the_clubs_role_is_ever_pinged_and_members_opt_in_with_a_button(
    club_world, settings
):
    env, guild, general, lounge, reader, moderator = club_world
    readers = guild.create_role("Readers")
    shelve(
        settings,
        guild.id,
        make_story("Loud", sections=[("@everyone", "Hey @everyone and <@&1> and <@1>.")] * 3),
    )
    await start_club(moderator, general, title="Loud", role=readers)
    await advance(env, HOUR + 60)
    await advance(env, DAY)

    posts = club_posts(general)
    assert len(posts) == 2
    assert all(f"<@&{readers.id}>" in outside_spoiler(p.content) for p in posts)
    joined = await reader.click(posts[0], label="Join / leave this club's pings")
    assert joined.ephemeral and "You joined" in joined.response.content
    assert readers.id in env.backend.get_member(guild.id, reader.id).role_ids
    left = await reader.click(posts[0], label="Join / leave this club's pings")
    assert "You left" in left.response.content
    assert readers.id not in env.backend.get_member(guild.id, reader.id).role_ids

    sent = mentions_sent(env)
    assert sent, "the bot sent no allowed_mentions at all"
    for mentions in sent:
        assert mentions.get("parse", []) == []
        assert [int(r) for r in mentions.get("roles", [])] in ([], [readers.id])
        assert not mentions.get("users")
    assert sum(bool(m.get("roles")) for m in sent) == 2  # the two club posts


async def test_a_club_without_a_role_pings_nobody(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    await advance(env, HOUR + 60)
    assert sections_posted(general) == [1]
    assert all(not m.get("roles") and m.get("parse", []) == [] for m in mentions_sent(env))


# --------------------------------------------------------------------------- places


async def test_in_a_forum_each_section_is_a_forum_post(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    forum = guild.create_forum_channel("book-club")
    await start_club(moderator, forum)
    await advance(env, HOUR + 60)
    await advance(env, DAY)

    threads = sorted(forum.threads, key=lambda t: t.id)
    assert [t.name for t in threads] == ["1 · Chapter 1", "2 · Chapter 2"]
    starter = threads[0].history()[0]
    assert "Text of chapter 1" in spoiler_text(starter.content)
    assert query(settings, "SELECT count(*) FROM excerpt_posts") == [(2,)]


async def test_a_replaced_story_goes_on_at_the_same_section(club_world, settings):
    from bot.story import ParsedStory

    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    await advance(env, HOUR + 60)
    await advance(env, DAY)
    story_id = query(settings, "SELECT id FROM stories WHERE title = 'Seven Days'")[0][0]
    new: ParsedStory = make_story(
        "Seven Days", sections=[(f"New {n}", f"Rewritten chapter {n}.") for n in range(1, 9)]
    )
    await env.bot.librarian.replace(guild.id, story_id, new, moderator.id)

    await advance(env, DAY)

    assert sections_posted(general) == [1, 2, 3]
    assert "Rewritten chapter 3." in spoiler_text(club_posts(general)[-1].content)


async def test_a_removed_story_stops_its_club_saying_so(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    await advance(env, HOUR + 60)
    story_id = query(settings, "SELECT id FROM stories WHERE title = 'Seven Days'")[0][0]

    await env.bot.librarian.remove(guild.id, story_id, moderator.id)
    await advance(env, HOUR)  # seen within a poll, not only at the next post time

    assert "removed" in general.last_message.content and "stopped" in general.last_message.content
    assert club_state(settings) == [("stopped", 2)]


# --------------------------------------------------------------------------- Discord faults


@pytest.mark.discord_faults
async def test_a_refused_post_is_reported_once_and_the_club_pauses(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    env.inject_error("POST", f"/channels/{general.id}/messages", status=503, times=1)

    await advance(env, HOUR + 60)

    assert sections_posted(general) == []
    notice = general.last_message.content
    assert "paused" in notice and "503" in notice
    assert club_state(settings) == [("paused", 1)]
    await advance(env, DAY)
    assert general.last_message.content == notice  # no retry, no second report

    await moderator.slash(general, "club resume", club="Seven Days")
    await advance(env, DAY)
    assert sections_posted(general) == [1]  # the section Discord refused is not lost


@pytest.mark.discord_faults
async def test_no_permission_to_post_is_logged_once_and_not_retried(club_world, settings, caplog):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    env.inject_error("POST", f"/channels/{general.id}/messages", status=403, code=50013, times=None)

    with caplog.at_level("WARNING", logger="cogs.clubs"):
        await advance(env, HOUR + 60)
        await advance(env, 2 * DAY)

    attempts = [
        r
        for r in env.http_requests
        if r.method == "POST" and r.path == f"/channels/{general.id}/messages"
    ]
    assert len(attempts) == 2  # the post, and the one try to say why
    assert club_state(settings) == [("paused", 1)]
    assert any("could not tell" in r.getMessage() for r in caplog.records)


@pytest.mark.discord_faults
async def test_no_permission_to_open_threads_keeps_the_post_and_pauses(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await start_club(moderator, general)
    env.inject_error("POST", "/channels/*/messages/*/threads", status=403, code=50013, times=None)

    await advance(env, HOUR + 60)

    assert sections_posted(general) == [1]
    assert "discussion thread" in general.last_message.content
    assert club_state(settings) == [("paused", 2)]


async def test_start_refuses_an_unknown_time_zone_and_a_bad_schedule(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    zone = await moderator.slash(
        general,
        "club start",
        title="Seven Days",
        channel=general,
        every="daily",
        timezone="Atlantis/Capital",
    )
    assert "not a time zone" in zone.response.content
    every = await moderator.slash(
        general, "club start", title="Seven Days", channel=general, every="hourly"
    )
    assert "daily, every 3 days" in every.response.content
    assert query(settings, "SELECT count(*) FROM reading_clubs") == [(0,)]


def test_weekly_on_a_day_starts_on_the_next_such_day():
    from bot.services.clubs import build_schedule

    thursday = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    schedule = build_schedule("weekly on Friday", "20:00", "Asia/Tokyo", now=thursday)
    assert schedule.describe() == "weekly on Friday at 20:00 (Asia/Tokyo)"
    first = schedule.first_day(thursday)
    assert first == date(2026, 1, 2)
    assert next_after(schedule, first, schedule.occurrence(first)) == datetime(
        2026, 1, 9, 11, 0, tzinfo=UTC
    )


async def test_without_a_time_the_first_section_comes_at_once(club_world, settings):
    env, guild, general, lounge, reader, moderator = club_world
    await advance(env, 5 * 60 + 20)  # 00:05:20

    started = await moderator.slash(
        general, "club start", title="Seven Days", channel=general, every="every 2 days"
    )
    await env.advance_time(2)

    assert "every 2 days at 00:05 (UTC)" in started.response.content
    assert sections_posted(general) == [1]
    await advance(env, 2 * DAY - 60)
    assert sections_posted(general) == [1]
    await advance(env, 2 * 60)
    assert sections_posted(general) == [1, 2]
