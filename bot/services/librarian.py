"""Library management for moderators: upload, edit, replace, remove, export, settings.

Discord-free: the library cog hands over bytes, ids and typed values, and shows
what comes back. Uploads take the same parse-and-store path as the command-line
importer (`bot.parsing.parse_story`, then `bot.db.stories`), in a worker thread
on a short-lived connection, so a novel never stalls the bot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import aiosqlite

from bot import export, render
from bot.db import feedback as feedback_db
from bot.db import sections as sections_db
from bot.db import stories as stories_db
from bot.db.connection import connect_sync
from bot.db.guild_settings import GuildSettings, GuildSettingsStore
from bot.db.pg import is_postgres
from bot.db.stories import DuplicateTitleError, RemovalCounts, StoredStory, StoryRecord
from bot.errors import UserFacingError
from bot.gate import MAX_RATING_CHOICES
from bot.parsing import ACCEPTED_DESCRIPTION, ACCEPTED_EXTENSIONS, parse_story
from bot.story import ParsedStory, Rating, RatingLevel, parse_rating

__all__ = (
    "ExportFiles",
    "Librarian",
    "parse_feedback_emoji",
    "unknown_rating",
)

log = logging.getLogger(__name__)

MAX_FEEDBACK_EMOJI = 5
MAX_MODERATOR_NOTES = 1000
_CUSTOM_EMOJI = re.compile(r"<(a?):(\w{2,32}):(\d{15,21})>")
_EMOJI_JOINERS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}
SQLITE_FULL = 13


def unknown_rating(rating: str) -> str:
    return (
        f"“{render.escape_inline(render.truncate(rating, 40))}” is not a rating I know. Use "
        "General, Teen, Mature, Explicit or Not Rated (or G, PG-13, T, M, R, NC-17, MA…)."
    )


def parse_feedback_emoji(text: str, server_emoji_ids: Collection[int]) -> list[str]:
    """Validate a space-separated emoji list: unicode emoji, or this server's custom emoji."""
    tokens = text.split()
    if not tokens:
        raise UserFacingError("Give at least one emoji, separated by spaces.")
    if len(tokens) > MAX_FEEDBACK_EMOJI:
        raise UserFacingError(f"At most {MAX_FEEDBACK_EMOJI} feedback emoji, please.")
    found: list[str] = []
    for token in tokens:
        shown = render.escape_inline(render.truncate(token, 40))
        custom = _CUSTOM_EMOJI.fullmatch(token)
        if custom:
            if int(custom[3]) not in server_emoji_ids:
                raise UserFacingError(f"{shown} is not an emoji of this server.")
        elif not _is_unicode_emoji(token):
            raise UserFacingError(f"“{shown}” is not an emoji. Separate emoji with spaces.")
        if token in found:
            raise UserFacingError(f"{shown} is listed twice.")
        found.append(token)
    return found


def _is_unicode_emoji(token: str) -> bool:
    if len(token) > 16:
        return False
    pictographs = 0
    for char in token:
        if (
            char in _EMOJI_JOINERS
            or 0x1F3FB <= ord(char) <= 0x1F3FF
            or 0xE0020 <= ord(char) <= 0xE007F
        ):
            continue
        category = unicodedata.category(char)
        if category == "So" or 0x1F1E6 <= ord(char) <= 0x1F1FF:
            pictographs += 1
        elif char.isdigit() or char in "#*":
            if "\u20e3" not in token:
                return False
        else:
            return False
    return pictographs > 0 or "\u20e3" in token


@dataclass(frozen=True, slots=True)
class ExportFiles:
    """The story in the bot's own text format, and its feedback as CSV."""

    story_name: str
    story_text: bytes
    feedback_name: str
    feedback_csv: bytes


@dataclass(frozen=True, slots=True)
class SettingsChange:
    settings: GuildSettings
    changed: tuple[str, ...]


class Librarian:
    def __init__(
        self,
        db: aiosqlite.Connection,
        guild_settings: GuildSettingsStore,
        *,
        database_path: Path,
        busy_timeout_ms: int,
        max_upload_bytes: int,
        on_story_changed: Callable[[int], None],
        on_excerpts_removed: Callable[[Iterable[int]], None],
    ) -> None:
        self.db: Any = db  # aiosqlite.Connection or bot.db.pg.PgDatabase
        self.guild_settings = guild_settings
        self.database_path = database_path
        self.busy_timeout_ms = busy_timeout_ms
        self.max_upload_bytes = max_upload_bytes
        self._on_story_changed = on_story_changed
        self._on_excerpts_removed = on_excerpts_removed
        self._upload_locks: dict[int, asyncio.Lock] = {}

    # ------------------------------------------------------------ uploads

    def check_upload(self, filename: str, size: int, content_type: str | None) -> None:
        """Refuse by size and type before downloading anything."""
        name = render.escape_inline(render.truncate(filename, 80))
        limit = self.max_upload_bytes
        if size > limit:
            raise UserFacingError(
                f"{name} is {size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.1f} MB."
            )
        if size == 0:
            raise UserFacingError(f"{name} is empty: there is no story in it.")
        extension = PurePath(filename).suffix.lower()
        kind = (content_type or "").split(";")[0].strip().lower()
        plausible = (
            kind.startswith("text/")
            or kind in ("", "application/octet-stream", "application/xhtml+xml")
            or (extension == ".epub" and kind in ("application/epub+zip", "application/zip"))
        )
        if extension not in ACCEPTED_EXTENSIONS or not plausible:
            raise UserFacingError(f"{name} is not a story file. Upload {ACCEPTED_DESCRIPTION}.")

    def upload_lock(self, guild_id: int) -> asyncio.Lock:
        """One upload read at a time per server; a second is refused, not queued."""
        lock = self._upload_locks.setdefault(guild_id, asyncio.Lock())
        if lock.locked():
            raise UserFacingError(
                "Another upload is being read on this server; try again in a moment."
            )
        return lock

    async def parse(
        self, data: bytes, filename: str, *, title: str | None = None, rating: str | None = None
    ) -> ParsedStory:
        parsed = await asyncio.to_thread(_parse_and_count, data, filename, self.max_upload_bytes)
        return self.override(parsed, title=title, rating=rating)

    @staticmethod
    def check_rating(rating: str) -> None:
        """Refuse an unknown rating option before the file is even downloaded."""
        if parse_rating(rating) is None:
            raise UserFacingError(unknown_rating(rating))

    @staticmethod
    def override(
        parsed: ParsedStory, *, title: str | None = None, rating: str | None = None
    ) -> ParsedStory:
        if title and title.strip():
            parsed = dataclasses.replace(parsed, title=" ".join(title.split()))
        if rating:
            parsed_rating = parse_rating(rating)
            if parsed_rating is None:
                raise UserFacingError(unknown_rating(rating))
            parsed = dataclasses.replace(parsed, rating=parsed_rating)
        return parsed

    @staticmethod
    def with_level(parsed: ParsedStory, level: RatingLevel) -> ParsedStory:
        """The moderator picked the rating in the preview."""
        return dataclasses.replace(parsed, rating=Rating(level.display, level))

    async def require_new_title(self, guild_id: int, title: str, *, story_id: int | None = None):
        other = await stories_db.find_story(self.db, guild_id, title)
        if other is not None and other.id != story_id:
            raise UserFacingError(str(DuplicateTitleError(title)))

    async def add(self, guild_id: int, parsed: ParsedStory, user_id: int) -> StoredStory:
        if is_postgres(self.db):
            return await self._store_pg(guild_id, parsed, user_id)
        return await self._store(
            lambda conn: stories_db.insert_story(conn, guild_id, parsed, added_by=user_id)
        )

    async def replace(
        self, guild_id: int, story_id: int, parsed: ParsedStory, user_id: int
    ) -> StoredStory:
        try:
            if is_postgres(self.db):
                stored = await self._store_pg(guild_id, parsed, user_id, story_id=story_id)
            else:
                stored = await self._store(
                    lambda conn: stories_db.replace_story_text(
                        conn, guild_id, story_id, parsed, replaced_by=user_id
                    )
                )
        except LookupError:
            raise UserFacingError("That story was removed meanwhile; nothing changed.") from None
        self._on_story_changed(story_id)
        return stored

    async def _store_pg(
        self, guild_id: int, parsed: ParsedStory, user_id: int, *, story_id: int | None = None
    ) -> StoredStory:
        try:
            return await stories_db.store_story_pg(
                self.db, guild_id, parsed, user_id=user_id, story_id=story_id
            )
        except DuplicateTitleError as error:
            raise UserFacingError(str(error)) from None

    async def _store(self, write: Callable[[sqlite3.Connection], StoredStory]) -> StoredStory:
        def run() -> StoredStory:
            conn = connect_sync(
                self.database_path, apply_migrations=False, busy_timeout_ms=self.busy_timeout_ms
            )
            try:
                return write(conn)
            finally:
                conn.close()

        try:
            return await asyncio.to_thread(run)
        except DuplicateTitleError as error:
            raise UserFacingError(str(error)) from None
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) == SQLITE_FULL or "full" in str(error):
                log.error("storing a story failed: the disk is full (%s)", error)
                raise UserFacingError(
                    "The bot's disk is full, so the story could not be stored. Nothing was "
                    "stored; please tell the bot's owner."
                ) from None
            raise

    # ------------------------------------------------------------ edit

    async def edit(
        self,
        guild_id: int,
        story_id: int,
        *,
        title: str,
        author: str,
        rating: str,
        summary: str,
        notes: str,
        user_id: int,
    ) -> str:
        """Save the edit form; returns the new title."""
        new_title = " ".join(title.split())
        if not new_title:
            raise UserFacingError("The title cannot be empty; nothing was changed.")
        parsed_rating = parse_rating(rating)
        if parsed_rating is None:
            raise UserFacingError(unknown_rating(rating) + " Nothing was changed.")
        try:
            await stories_db.edit_story(
                self.db,
                guild_id,
                story_id,
                title=new_title,
                author=author.strip() or None,
                rating=parsed_rating,
                summary=summary.strip() or None,
                notes=notes.strip() or None,
                user_id=user_id,
            )
        except DuplicateTitleError as error:
            raise UserFacingError(f"{error} Nothing was changed.") from None
        except LookupError:
            raise UserFacingError("That story is no longer on this server's shelf.") from None
        self._on_story_changed(story_id)
        return new_title

    # ------------------------------------------------------------ export and remove

    async def export(self, story: StoryRecord) -> ExportFiles:
        texts = await sections_db.section_texts(self.db, story.id)
        text = export.story_text(
            title=story.title,
            author=story.author,
            rating=story.rating,
            metadata=story.metadata,
            sections=texts,
            source_format=story.source_format,
        )
        rows = await feedback_db.export_rows(self.db, story.id)
        return ExportFiles(
            export.export_filename(story.title, "txt"),
            text.encode("utf-8"),
            export.export_filename(story.title + "-feedback", "csv"),
            export.feedback_csv(rows).encode("utf-8"),
        )

    async def removal_counts(self, story_id: int) -> RemovalCounts:
        return await stories_db.removal_counts(self.db, story_id)

    async def remove(self, guild_id: int, story_id: int, user_id: int) -> None:
        try:
            message_ids = await stories_db.remove_story(
                self.db, guild_id, story_id, user_id=user_id
            )
        except LookupError:
            raise UserFacingError("That story was already removed.") from None
        self._on_excerpts_removed(message_ids)
        self._on_story_changed(story_id)

    # ------------------------------------------------------------ settings

    async def change_settings(
        self,
        guild_id: int,
        user_id: int,
        *,
        emoji: str | None,
        server_emoji_ids: Collection[int],
        max_rating: str | None,
        notes: str | None,
    ) -> SettingsChange:
        new_emoji = parse_feedback_emoji(emoji, server_emoji_ids) if emoji is not None else None
        level = None
        if max_rating:
            try:
                level = RatingLevel(max_rating)
            except ValueError:
                level = None
            if level not in MAX_RATING_CHOICES:
                raise UserFacingError(
                    "The highest rating outside age-restricted channels can be General, "
                    "Teen or Mature."
                )
        if notes is not None and len(notes) > MAX_MODERATOR_NOTES:
            raise UserFacingError(
                f"Moderator notes can be at most {MAX_MODERATOR_NOTES:,} characters."
            )
        changes: list[str] = []
        if new_emoji is not None:
            changes.append("feedback emoji: " + " ".join(new_emoji))
        if level is not None:
            changes.append(f"highest rating outside age-restricted channels: {level.display}")
        if notes is not None:
            changes.append("moderator notes" if notes.strip() else "moderator notes cleared")
        if changes:
            settings = await self.guild_settings.update(
                guild_id,
                max_rating=level,
                feedback_emoji=new_emoji,
                moderator_notes=notes.strip() if notes is not None else None,
                audit=(user_id, "; ".join(changes)),
            )
        else:
            settings = await self.guild_settings.get(guild_id)
        return SettingsChange(settings, tuple(changes))


def _parse_and_count(data: bytes, filename: str, max_bytes: int) -> ParsedStory:
    """Parse in the worker thread, and count the words there too: each section keeps
    its count, and the preview, the store and the summary line all show it (a novel's
    count is tens of milliseconds that would otherwise stall the event loop)."""
    parsed = parse_story(data, filename, max_bytes=max_bytes)
    for section in parsed.sections:
        section.words  # noqa: B018 — counted (and kept) off the loop
    return parsed
