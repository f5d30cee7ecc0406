"""Library management for moderators: upload with preview, edit, replace, remove, export, settings.

Uploads take the same parse-and-store path as the command-line importer
(`bot.parsing.parse_story` then `bot.db.library`), run in a worker thread on a
short-lived connection so a novel never stalls the bot.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import discord

from bot import cards, export, render
from bot.db import admin, shelf
from bot.db.connection import connect_sync
from bot.db.library import DuplicateTitleError, StoredStory, insert_story, replace_story_text
from bot.errors import UserFacingError
from bot.gate import MAX_RATING_CHOICES
from bot.parsing import parse_story
from bot.story import ParsedStory, RatingLevel, parse_rating

if TYPE_CHECKING:
    from bot.client import Storyshelf
    from bot.db.shelf import StoryRecord

__all__ = ("Librarian", "parse_feedback_emoji")

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
PREVIEW_TIMEOUT = 600.0
ACCEPTED_EXTENSIONS = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_FEEDBACK_EMOJI = 5
_CUSTOM_EMOJI = re.compile(r"<(a?):(\w{2,32}):(\d{15,21})>")
_EMOJI_JOINERS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"}


def parse_feedback_emoji(text: str, guild: discord.Guild | None) -> list[str]:
    """Validate a space-separated emoji list: unicode emoji, or this server's custom emoji."""
    tokens = text.split()
    if not tokens:
        raise UserFacingError("Give at least one emoji, separated by spaces.")
    if len(tokens) > MAX_FEEDBACK_EMOJI:
        raise UserFacingError(f"At most {MAX_FEEDBACK_EMOJI} feedback emoji, please.")
    own = {emoji.id for emoji in guild.emojis} if guild else set()
    found: list[str] = []
    for token in tokens:
        custom = _CUSTOM_EMOJI.fullmatch(token)
        if custom:
            if int(custom[3]) not in own:
                raise UserFacingError(f"{token} is not an emoji of this server.")
        elif not _is_unicode_emoji(token):
            raise UserFacingError(
                f"“{render.truncate(token, 40)}” is not an emoji. Separate emoji with spaces."
            )
        if token in found:
            raise UserFacingError(f"{token} is listed twice.")
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


class Confirmation(discord.ui.View):
    """Confirm / Cancel for one moderator; expires, saying so, after ten minutes."""

    def __init__(
        self,
        owner_id: int,
        on_confirm: Callable[[discord.Interaction], Awaitable[None]],
        *,
        cancelled: str,
        expired: str,
        confirm_label: str = "Confirm",
        confirm_style: discord.ButtonStyle = discord.ButtonStyle.success,
    ) -> None:
        super().__init__(timeout=PREVIEW_TIMEOUT)
        self.owner_id = owner_id
        self.on_confirm = on_confirm
        self.cancelled_text = cancelled
        self.expired_text = expired
        self.origin: discord.Interaction | None = None
        self.confirm.label = confirm_label
        self.confirm.style = confirm_style

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(
            "Only the moderator who started this can confirm or cancel it.",
            ephemeral=True,
            allowed_mentions=NONE,
        )
        return False

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.success)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        self.stop()
        await self.on_confirm(interaction)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=self.cancelled_text,
            embed=None,
            view=None,
            attachments=[],
            allowed_mentions=NONE,
        )

    async def on_timeout(self) -> None:
        if self.origin is None:
            return
        try:
            await self.origin.edit_original_response(
                content=self.expired_text,
                embed=None,
                view=None,
                attachments=[],
                allowed_mentions=NONE,
            )
        except discord.HTTPException:
            log.info("could not mark an expired confirmation", exc_info=True)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await interaction.client.tree.on_error(interaction, error)  # type: ignore[arg-type]


class StoryEditModal(discord.ui.Modal, title="Edit story"):
    def __init__(self, librarian: Librarian, story: StoryRecord) -> None:
        super().__init__(timeout=PREVIEW_TIMEOUT)
        self.librarian = librarian
        self.story = story
        self.title_input = discord.ui.TextInput(
            custom_id="title", label="Title", default=story.title[:200], max_length=200
        )
        self.author_input = discord.ui.TextInput(
            custom_id="author",
            label="Author",
            default=(story.author or "")[:200],
            max_length=200,
            required=False,
        )
        self.rating_input = discord.ui.TextInput(
            custom_id="rating",
            label="Rating (General, Teen, Mature, Explicit…)",
            default=story.rating.label[:100],
            max_length=100,
        )
        self.summary_input = discord.ui.TextInput(
            custom_id="summary",
            label="Summary",
            style=discord.TextStyle.paragraph,
            default=story.metadata.get("summary", "")[:4000],
            max_length=4000,
            required=False,
        )
        self.notes_input = discord.ui.TextInput(
            custom_id="notes",
            label="Notes",
            style=discord.TextStyle.paragraph,
            default=story.metadata.get("notes", "")[:4000],
            max_length=4000,
            required=False,
        )
        for item in (
            self.title_input,
            self.author_input,
            self.rating_input,
            self.summary_input,
            self.notes_input,
        ):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.librarian.save_edit(
            interaction,
            self.story,
            title=self.title_input.value,
            author=self.author_input.value,
            rating=self.rating_input.value,
            summary=self.summary_input.value,
            notes=self.notes_input.value,
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await interaction.client.tree.on_error(interaction, error)  # type: ignore[arg-type]


class Librarian:
    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot
        self._upload_locks: dict[int, asyncio.Lock] = {}

    @property
    def db(self):
        return self.bot.db

    # ------------------------------------------------------------ uploads

    def check_attachment(self, file: discord.Attachment) -> None:
        """Refuse by size and type before downloading anything."""
        limit = self.bot.settings.max_upload_bytes
        name = render.truncate(file.filename, 80)
        if file.size > limit:
            raise UserFacingError(
                f"{name} is {file.size / 1_048_576:.1f} MB; the limit is "
                f"{limit / 1_048_576:.1f} MB."
            )
        if file.size == 0:
            raise UserFacingError(f"{name} is empty: there is no story in it.")
        extension = PurePath(file.filename).suffix.lower()
        content_type = (file.content_type or "").split(";")[0].strip().lower()
        textual = content_type.startswith("text/") or content_type in (
            "",
            "application/octet-stream",
        )
        if extension not in ACCEPTED_EXTENSIONS or not textual:
            raise UserFacingError(
                f"{name} is not a story file. Upload plain text (.txt), Markdown (.md) "
                "or an Archive of Our Own HTML download (.html)."
            )

    async def _parse_upload(
        self, interaction: discord.Interaction, file: discord.Attachment
    ) -> ParsedStory:
        assert interaction.guild_id is not None
        self.check_attachment(file)
        lock = self._upload_locks.setdefault(interaction.guild_id, asyncio.Lock())
        if lock.locked():
            raise UserFacingError(
                "Another upload is being read on this server; try again in a moment."
            )
        async with lock:
            await interaction.response.defer(ephemeral=True, thinking=True)
            data = await file.read()
            return await asyncio.to_thread(
                parse_story, data, file.filename, max_bytes=self.bot.settings.max_upload_bytes
            )

    @staticmethod
    def _override(parsed: ParsedStory, title: str | None, rating: str | None) -> ParsedStory:
        changes: dict[str, Any] = {}
        if title and title.strip():
            changes["title"] = " ".join(title.split())
        if rating:
            parsed_rating = parse_rating(rating)
            if parsed_rating is None:
                raise UserFacingError(_unknown_rating(rating))
            changes["rating"] = parsed_rating
        if not changes:
            return parsed
        from dataclasses import replace

        return replace(parsed, **changes)

    async def add(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        title: str | None,
        rating: str | None,
    ) -> None:
        assert interaction.guild_id is not None
        if rating and parse_rating(rating) is None:
            raise UserFacingError(_unknown_rating(rating))
        parsed = self._override(await self._parse_upload(interaction, file), title, rating)
        if await shelf.find_story(self.db, interaction.guild_id, parsed.title):
            raise UserFacingError(str(DuplicateTitleError(parsed.title)))
        guild_id, user_id = interaction.guild_id, interaction.user.id

        async def confirm(press: discord.Interaction) -> None:
            stored = await self._store(
                lambda conn: insert_story(conn, guild_id, parsed, added_by=user_id)
            )
            await press.response.edit_message(
                content=f"Added “{render.escape_inline(stored.title)}” to the shelf: "
                f"{_size(stored)}. Read it with /read.",
                embed=None,
                view=None,
                allowed_mentions=NONE,
            )

        await self._preview(
            interaction,
            parsed,
            confirm,
            heading="Preview — nothing is stored until you confirm.",
            cancelled="Cancelled: nothing was stored.",
        )

    async def replace(
        self, interaction: discord.Interaction, title: str, file: discord.Attachment
    ) -> None:
        assert interaction.guild_id is not None
        story = await self.bot.reader.story_named(interaction, title)
        parsed = await self._parse_upload(interaction, file)
        if parsed.title.casefold() != story.title.casefold():
            # The upload's own title must not collide with another story on the shelf.
            other = await shelf.find_story(self.db, interaction.guild_id, parsed.title)
            if other is not None and other.id != story.id:
                raise UserFacingError(str(DuplicateTitleError(parsed.title)))
        guild_id, user_id, story_id = interaction.guild_id, interaction.user.id, story.id

        async def confirm(press: discord.Interaction) -> None:
            try:
                stored = await self._store(
                    lambda conn: replace_story_text(
                        conn, guild_id, story_id, parsed, replaced_by=user_id
                    )
                )
            except LookupError:
                raise UserFacingError(
                    "That story was removed meanwhile; nothing changed."
                ) from None
            self.bot.reader.forget_story(story_id)
            await press.response.edit_message(
                content=f"Replaced the text of “{render.escape_inline(stored.title)}”: "
                f"{_size(stored)}. Its feedback stays with it.",
                embed=None,
                view=None,
                allowed_mentions=NONE,
            )

        await self._preview(
            interaction,
            parsed,
            confirm,
            heading=f"Replacing “{render.escape_inline(story.title)}” — nothing changes until "
            "you confirm. Feedback stays with the story.",
            cancelled="Cancelled: the story was not changed.",
        )

    async def _store(self, write: Callable[[Any], StoredStory]) -> StoredStory:
        path = self.bot.settings.database_path

        def run() -> StoredStory:
            conn = connect_sync(
                path,
                apply_migrations=False,
                busy_timeout_ms=self.bot.settings.busy_timeout_ms,
            )
            try:
                return write(conn)
            finally:
                conn.close()

        try:
            return await asyncio.to_thread(run)
        except DuplicateTitleError as error:
            raise UserFacingError(str(error)) from None

    async def _preview(
        self,
        interaction: discord.Interaction,
        parsed: ParsedStory,
        on_confirm: Callable[[discord.Interaction], Awaitable[None]],
        *,
        heading: str,
        cancelled: str,
    ) -> None:
        view = Confirmation(
            interaction.user.id,
            on_confirm,
            cancelled=cancelled,
            expired="This preview expired after 10 minutes: nothing was stored.",
        )
        view.origin = interaction
        await interaction.followup.send(
            heading,
            embed=cards.preview_embed(parsed),
            view=view,
            ephemeral=True,
            allowed_mentions=NONE,
        )

    # ------------------------------------------------------------ edit

    async def edit(self, interaction: discord.Interaction, title: str) -> None:
        story = await self.bot.reader.story_named(interaction, title)
        await interaction.response.send_modal(StoryEditModal(self, story))

    async def save_edit(
        self,
        interaction: discord.Interaction,
        story: StoryRecord,
        *,
        title: str,
        author: str,
        rating: str,
        summary: str,
        notes: str,
    ) -> None:
        assert interaction.guild_id is not None
        new_title = " ".join(title.split())
        if not new_title:
            raise UserFacingError("The title cannot be empty; nothing was changed.")
        parsed_rating = parse_rating(rating)
        if parsed_rating is None:
            raise UserFacingError(_unknown_rating(rating) + " Nothing was changed.")
        try:
            await admin.edit_story(
                self.db,
                interaction.guild_id,
                story.id,
                title=new_title,
                author=author.strip() or None,
                rating=parsed_rating,
                summary=summary.strip() or None,
                notes=notes.strip() or None,
                user_id=interaction.user.id,
            )
        except DuplicateTitleError as error:
            raise UserFacingError(f"{error} Nothing was changed.") from None
        except LookupError:
            raise UserFacingError("That story is no longer on this server's shelf.") from None
        self.bot.reader.forget_story(story.id)
        await interaction.response.send_message(
            f"Saved the changes to “{render.escape_inline(new_title)}”.",
            ephemeral=True,
            allowed_mentions=NONE,
        )

    # ------------------------------------------------------------ export and remove

    async def export_files(self, story: StoryRecord) -> list[discord.File]:
        texts = await shelf.section_texts(self.db, story.id)
        text = export.story_text(
            title=story.title,
            author=story.author,
            rating_label=story.rating.label,
            metadata=story.metadata,
            sections=texts,
        )
        rows = await admin.feedback_rows(self.db, story.id)
        return [
            discord.File(
                io.BytesIO(text.encode("utf-8")), export.export_filename(story.title, "txt")
            ),
            discord.File(
                io.BytesIO(export.feedback_csv(rows).encode("utf-8")),
                export.export_filename(story.title + "-feedback", "csv"),
            ),
        ]

    async def export(self, interaction: discord.Interaction, title: str) -> None:
        story = await self.bot.reader.story_named(interaction, title)
        await interaction.response.send_message(
            f"“{render.escape_inline(story.title)}”: the story in Storyshelf's text format, "
            "and its feedback as CSV.",
            files=await self.export_files(story),
            ephemeral=True,
            allowed_mentions=NONE,
        )

    async def remove(self, interaction: discord.Interaction, title: str) -> None:
        assert interaction.guild_id is not None
        story = await self.bot.reader.story_named(interaction, title)
        counts = await admin.removal_counts(self.db, story.id)
        guild_id, user_id = interaction.guild_id, interaction.user.id

        async def confirm(press: discord.Interaction) -> None:
            try:
                message_ids = await admin.remove_story(self.db, guild_id, story.id, user_id=user_id)
            except LookupError:
                raise UserFacingError("That story was already removed.") from None
            self.bot.feedback.excerpts_removed(message_ids)
            self.bot.reader.forget_story(story.id)
            await press.response.edit_message(
                content=f"Removed “{render.escape_inline(story.title)}” from the shelf. "
                "The export above is your copy.",
                view=None,
                allowed_mentions=NONE,
            )

        view = Confirmation(
            user_id,
            confirm,
            cancelled="Cancelled: nothing was removed. (The export files are yours to keep.)",
            expired="This confirmation expired after 10 minutes: nothing was removed.",
            confirm_label="Remove",
            confirm_style=discord.ButtonStyle.danger,
        )
        view.origin = interaction
        await interaction.response.send_message(
            f"Remove “{render.escape_inline(story.title)}”? This deletes its "
            f"{counts.sections} sections, {counts.posts} excerpt posts and "
            f"{counts.reactions} feedback reactions. Here is an export of it first.",
            files=await self.export_files(story),
            view=view,
            ephemeral=True,
            allowed_mentions=NONE,
        )

    # ------------------------------------------------------------ settings

    async def settings(
        self,
        interaction: discord.Interaction,
        emoji: str | None,
        max_rating: str | None,
    ) -> None:
        assert interaction.guild_id is not None
        changes = []
        new_emoji = parse_feedback_emoji(emoji, interaction.guild) if emoji is not None else None
        level = RatingLevel(max_rating) if max_rating else None
        if level is not None and level not in MAX_RATING_CHOICES:
            raise UserFacingError(
                "The highest rating outside age-restricted channels can be General, Teen or Mature."
            )
        if new_emoji is not None:
            changes.append("feedback emoji: " + " ".join(new_emoji))
        if level is not None:
            changes.append(f"highest rating outside age-restricted channels: {level.display}")
        if changes:
            await self.bot.guild_settings.update(
                interaction.guild_id,
                max_rating=level,
                feedback_emoji=new_emoji,
                audit=(interaction.user.id, "; ".join(changes)),
            )
        current = await self.bot.guild_settings.get(interaction.guild_id)
        await interaction.response.send_message(
            ("Saved. " if changes else "") + "Settings for this server:",
            embed=cards.settings_embed(current),
            ephemeral=True,
            allowed_mentions=NONE,
        )


def _unknown_rating(rating: str) -> str:
    return (
        f"“{render.truncate(rating, 40)}” is not a rating I know. Use General, Teen, Mature, "
        "Explicit or Not Rated (or G, PG-13, T, M, R, NC-17, MA…)."
    )


def _size(stored: StoredStory) -> str:
    return f"{stored.sections} section{'s' if stored.sections != 1 else ''}, {stored.words:,} words"
