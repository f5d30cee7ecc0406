"""Reading clubs and the sections they claimed: the scheduler's state, shared by every process.

A post is claimed before it is sent, in one transaction that both inserts the
`club_posts` row (its primary key is the claim) and moves the club on with a
compare-and-set on the values the claimer read. Two processes on one database
file can both see a club due; only one of them gets to post its section.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, fields

import aiosqlite
import asyncpg

from bot.db.connection import transaction
from bot.db.stories import fetch_all, fetch_one

__all__ = (
    "ACTIVE",
    "FINISHED",
    "PAUSED",
    "RUNNING",
    "STOPPED",
    "ClubAlreadyRunning",
    "ClubRecord",
    "NewClub",
    "claim_section",
    "due_clubs",
    "get_club",
    "insert_club",
    "latest_thread",
    "list_clubs",
    "mark_posted",
    "post_of",
    "release_section",
    "set_state",
)

ACTIVE, PAUSED, FINISHED, STOPPED = "active", "paused", "finished", "stopped"
RUNNING = (ACTIVE, PAUSED)

_COLUMNS = (
    "c.id, c.guild_id, c.channel_id, c.story_id, c.story_title, c.period_days, c.weekday,"
    " c.at_minute, c.timezone, c.anchor_date, c.role_id, c.next_section, c.next_run_at,"
    " c.state, c.state_reason, c.first_message_id, c.started_by,"
    " coalesce(s.section_count, 0) AS section_count"
)
_FROM = "FROM reading_clubs c LEFT JOIN stories s ON s.id = c.story_id"


class ClubAlreadyRunning(ValueError):
    """That story already has a running club in that channel."""


@dataclass(frozen=True, slots=True)
class NewClub:
    guild_id: int
    channel_id: int
    story_id: int
    story_title: str
    period_days: int
    weekday: int | None
    at_minute: int
    timezone: str
    anchor_date: str
    role_id: int | None
    next_run_at: int
    started_by: int | None


@dataclass(frozen=True, slots=True)
class ClubRecord:
    id: int
    guild_id: int
    channel_id: int
    story_id: int | None
    story_title: str
    period_days: int
    weekday: int | None
    at_minute: int
    timezone: str
    anchor_date: str
    role_id: int | None
    next_section: int
    next_run_at: int
    state: str
    state_reason: str | None
    first_message_id: int | None
    started_by: int | None
    # the story's sections now (0 once it is gone)
    section_count: int

    @classmethod
    def from_row(cls, row: aiosqlite.Row | sqlite3.Row) -> ClubRecord:
        return cls(**{field.name: row[field.name] for field in fields(cls)})


async def insert_club(db: aiosqlite.Connection, club: NewClub) -> int:
    try:
        async with transaction(db):
            cursor = await db.execute(
                "INSERT INTO reading_clubs (guild_id, channel_id, story_id, story_title,"
                " period_days, weekday, at_minute, timezone, anchor_date, role_id, next_run_at,"
                " started_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    club.guild_id,
                    club.channel_id,
                    club.story_id,
                    club.story_title,
                    club.period_days,
                    club.weekday,
                    club.at_minute,
                    club.timezone,
                    club.anchor_date,
                    club.role_id,
                    club.next_run_at,
                    club.started_by,
                ),
            )
            row = await cursor.fetchone()
            await cursor.close()
            club_id = None if row is None else int(row[0])
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError) as error:
        if "reading_clubs" in str(error) or "UNIQUE" in str(error).upper():
            raise ClubAlreadyRunning(club.story_title) from None
        raise
    assert club_id is not None
    return club_id


async def get_club(db: aiosqlite.Connection, guild_id: int, club_id: int) -> ClubRecord | None:
    row = await fetch_one(
        db, f"SELECT {_COLUMNS} {_FROM} WHERE c.id = ? AND c.guild_id = ?", (club_id, guild_id)
    )
    return None if row is None else ClubRecord.from_row(row)


async def list_clubs(
    db: aiosqlite.Connection, guild_id: int, states: Collection[str] = RUNNING
) -> list[ClubRecord]:
    marks = ", ".join("?" * len(states))
    rows = await fetch_all(
        db,
        f"SELECT {_COLUMNS} {_FROM} WHERE c.guild_id = ? AND c.state IN ({marks})"
        " ORDER BY c.state, c.next_run_at, c.id",
        (guild_id, *states),
    )
    return [ClubRecord.from_row(row) for row in rows]


def _shard_sql(alias: str, shards: tuple[int, Collection[int]] | None) -> tuple[str, list[int]]:
    """Only the servers of these shards (Discord puts a server on shard (id >> 22) % count)."""
    if shards is None:
        return "", []
    count, ids = shards
    marks = ", ".join("?" * len(ids)) or "NULL"
    return f" AND (({alias}.guild_id >> 22) % ?) IN ({marks})", [count, *ids]


async def due_clubs(
    db: aiosqlite.Connection,
    now: int,
    *,
    shards: tuple[int, Collection[int]] | None = None,
    limit: int = 50,
) -> tuple[list[ClubRecord], int | None]:
    """Active clubs whose time has come (a removed story's clubs are due at once: see the
    V6 trigger), and when the next of the others is due: in one query of two index
    ranges, since the scheduler asks this every time it wakes."""
    shard_c, shard_params = _shard_sql("c", shards)
    shard_n, _ = _shard_sql("n", shards)
    rows = await fetch_all(
        db,
        f"SELECT {_COLUMNS}, u.upcoming FROM"
        " (SELECT min(n.next_run_at) AS upcoming FROM reading_clubs n"
        f"  WHERE n.state = 'active' AND n.next_run_at > ?{shard_n}) u"
        " LEFT JOIN reading_clubs c ON c.state = 'active'"
        f" AND c.next_run_at <= ?{shard_c}"
        " LEFT JOIN stories s ON s.id = c.story_id"
        " ORDER BY c.next_run_at LIMIT ?",
        (now, *shard_params, now, *shard_params, limit),
    )
    upcoming = rows[0]["upcoming"] if rows else None
    due = [ClubRecord.from_row(row) for row in rows if row["id"] is not None]
    return due, upcoming


async def claim_section(
    db: aiosqlite.Connection,
    seen: ClubRecord,
    *,
    now: int,
    next_run_at: int,
) -> bool:
    """Claim `seen.next_section` for posting and move the club on, if nobody did meanwhile.

    The club must still be exactly as `seen` (state, section, time): otherwise
    another process (or command) got there first, and nothing changes. A section
    claimed before is never claimed again.
    """
    try:
        async with transaction(db):
            cursor = await db.execute(
                "UPDATE reading_clubs SET next_section = next_section + 1, next_run_at = ?"
                " WHERE id = ? AND state = ? AND next_section = ? AND next_run_at = ?",
                (next_run_at, seen.id, seen.state, seen.next_section, seen.next_run_at),
            )
            moved = cursor.rowcount
            await cursor.close()
            if moved != 1:
                return False
            cursor = await db.execute(
                "INSERT INTO club_posts (club_id, section, claimed_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (seen.id, seen.next_section, now),
            )
            inserted = cursor.rowcount
            await cursor.close()
            if inserted != 1:
                raise _ClaimedBefore()
    except _ClaimedBefore:
        return False
    return True


class _ClaimedBefore(Exception):
    """Rolls the claim's transaction back: the section has a post row already."""


async def mark_posted(
    db: aiosqlite.Connection,
    club_id: int,
    section: int,
    *,
    message_id: int,
    thread_id: int | None,
) -> None:
    async with transaction(db):
        await db.execute(
            "UPDATE club_posts SET message_id = ?, thread_id = ? WHERE club_id = ? AND section = ?",
            (message_id, thread_id, club_id, section),
        )
        await db.execute(
            "UPDATE reading_clubs SET first_message_id = ?"
            " WHERE id = ? AND first_message_id IS NULL",
            (message_id, club_id),
        )


async def release_section(
    db: aiosqlite.Connection, club_id: int, section: int, *, state: str, reason: str
) -> None:
    """A claimed section Discord did not take: unclaim it, so the club posts it when it
    goes on, and leave the club in `state` saying why."""
    async with transaction(db):
        await db.execute(
            "DELETE FROM club_posts WHERE club_id = ? AND section = ? AND message_id IS NULL",
            (club_id, section),
        )
        await db.execute(
            "UPDATE reading_clubs SET next_section = ?, state = ?, state_reason = ?"
            " WHERE id = ? AND next_section = ?",
            (section, state, reason, club_id, section + 1),
        )


async def set_state(
    db: aiosqlite.Connection,
    club_id: int,
    state: str,
    *,
    reason: str | None = None,
    next_run_at: int | None = None,
    expected: Collection[str] = RUNNING,
) -> bool:
    """Change a club's state (and optionally its next time) if it is in one of `expected`."""
    marks = ", ".join("?" * len(expected))
    async with transaction(db):
        cursor = await db.execute(
            "UPDATE reading_clubs SET state = ?, state_reason = ?,"
            f" next_run_at = coalesce(?, next_run_at) WHERE id = ? AND state IN ({marks})",
            (state, reason, next_run_at, club_id, *expected),
        )
        changed = cursor.rowcount
        await cursor.close()
    return changed == 1


async def post_of(
    db: aiosqlite.Connection, club_id: int, section: int
) -> tuple[int | None, int | None] | None:
    """(message id, thread id) of a section the club claimed, or None if never claimed."""
    row = await fetch_one(
        db,
        "SELECT message_id, thread_id FROM club_posts WHERE club_id = ? AND section = ?",
        (club_id, section),
    )
    return None if row is None else (row[0], row[1])


async def latest_thread(db: aiosqlite.Connection, club_id: int) -> int | None:
    row = await fetch_one(
        db,
        "SELECT thread_id FROM club_posts WHERE club_id = ? AND thread_id IS NOT NULL"
        " ORDER BY section DESC LIMIT 1",
        (club_id,),
    )
    return None if row is None else row[0]
