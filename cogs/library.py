"""/library: moderators add, edit, replace, remove and export stories, and change settings.

The cog holds the Discord side — the commands, the preview with Confirm / Cancel,
the edit form — and calls the librarian service with plain values.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import cards
from bot.db.stories import StoredStory, StoryRecord
from bot.gate import MAX_RATING_CHOICES
from bot.parsing import ACCEPTED_DESCRIPTION
from bot.services.librarian import ExportFiles
from bot.story import ParsedStory, RatingLevel, parse_rating
from cogs._common import every_title, place_of, shown_title

if TYPE_CHECKING:
    from bot.client import Storyshelf

log = logging.getLogger(__name__)

PREVIEW_TIMEOUT = 600.0
MAX_RATING = [
    app_commands.Choice(name=level.display, value=level.value) for level in MAX_RATING_CHOICES
]
# The rating levels a moderator can pick in an upload preview.
PICKABLE_LEVELS = (
    RatingLevel.GENERAL,
    RatingLevel.TEEN,
    RatingLevel.MATURE,
    RatingLevel.EXPLICIT,
    RatingLevel.NOT_RATED,
)


def _size(stored: StoredStory) -> str:
    return f"{stored.sections} section{'s' if stored.sections != 1 else ''}, {stored.words:,} words"


def _files(export: ExportFiles) -> list[discord.File]:
    return [
        discord.File(io.BytesIO(export.story_text), export.story_name),
        discord.File(io.BytesIO(export.feedback_csv), export.feedback_name),
    ]


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
            "Only the moderator who started this can confirm or cancel it.", ephemeral=True
        )
        return False

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.success, row=1)
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        self.stop()
        await self.on_confirm(interaction)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, row=1)
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=self.cancelled_text, embed=None, view=None, attachments=[]
        )

    async def on_timeout(self) -> None:
        if self.origin is None:
            return
        try:
            await self.origin.edit_original_response(
                content=self.expired_text, embed=None, view=None, attachments=[]
            )
        except discord.HTTPException:
            log.info("could not mark an expired confirmation", exc_info=True)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        client: Any = interaction.client
        await client.tree.on_error(interaction, error)


class UploadPreview(Confirmation):
    """The upload preview: Confirm / Cancel, and a rating menu when the file had no rating
    (or one the parser guessed), so the moderator picks it before anything is stored."""

    def __init__(
        self,
        owner_id: int,
        parsed: ParsedStory,
        store: Callable[[discord.Interaction, ParsedStory], Awaitable[None]],
        *,
        heading: str,
        cancelled: str,
        ask_rating: bool,
    ) -> None:
        super().__init__(
            owner_id,
            self._confirmed,
            cancelled=cancelled,
            expired="This preview expired after 10 minutes: nothing was stored.",
        )
        self.parsed = parsed
        self.store = store
        self.heading = heading
        if ask_rating:
            menu: Any = self.rating
            menu.options = [
                discord.SelectOption(
                    label=level.display,
                    value=level.value,
                    default=level is parsed.rating.level,
                )
                for level in PICKABLE_LEVELS
            ]
        else:
            self.remove_item(self.rating)

    async def _confirmed(self, interaction: discord.Interaction) -> None:
        await self.store(interaction, self.parsed)

    @discord.ui.select(placeholder="Rating of this story", row=0)
    async def rating(
        self, interaction: discord.Interaction, select: discord.ui.Select[Any]
    ) -> None:
        client: Any = interaction.client
        level = RatingLevel(select.values[0])
        self.parsed = client.librarian.with_level(self.parsed, level)
        for option in select.options:
            option.default = option.value == level.value
        await interaction.response.edit_message(
            content=self.heading, embed=cards.preview_embed(self.parsed), view=self
        )


class StoryEditModal(discord.ui.Modal, title="Edit story"):
    def __init__(self, story: StoryRecord) -> None:
        super().__init__(timeout=PREVIEW_TIMEOUT)
        self.story = story
        self.title_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="title", label="Title", default=story.title[:200], max_length=200
        )
        self.author_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="author",
            label="Author",
            default=(story.author or "")[:200],
            max_length=200,
            required=False,
        )
        self.rating_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="rating",
            label="Rating (General, Teen, Mature, Explicit…)",
            default=story.rating.label[:100],
            max_length=100,
        )
        self.summary_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="summary",
            label="Summary",
            style=discord.TextStyle.paragraph,
            default=story.metadata.get("summary", "")[:4000],
            max_length=4000,
            required=False,
        )
        self.notes_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
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
        client: Any = interaction.client
        assert interaction.guild_id is not None
        new_title = await client.librarian.edit(
            interaction.guild_id,
            self.story.id,
            title=self.title_input.value,
            author=self.author_input.value,
            rating=self.rating_input.value,
            summary=self.summary_input.value,
            notes=self.notes_input.value,
            user_id=interaction.user.id,
        )
        await interaction.response.send_message(
            f"Saved the changes to “{shown_title(new_title)}”.", ephemeral=True
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:  # type: ignore[override]  # Modal's own signature has no item
        client: Any = interaction.client
        await client.tree.on_error(interaction, error)


def _needs_rating(parsed: ParsedStory) -> bool:
    """The file named no rating we recognise: the moderator should pick one."""
    return parse_rating(parsed.rating.label) is None or parsed.rating.level is RatingLevel.NOT_RATED


@app_commands.default_permissions(manage_messages=True)
class Library(
    commands.GroupCog, group_name="library", group_description="Manage this server's shelf"
):
    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot
        super().__init__()

    # ------------------------------------------------------------ uploads

    async def _read_upload(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        *,
        title: str | None = None,
        rating: str | None = None,
    ) -> ParsedStory:
        assert interaction.guild_id is not None
        librarian = self.bot.librarian
        librarian.check_upload(file.filename, file.size, file.content_type)
        async with librarian.upload_lock(interaction.guild_id):
            await interaction.response.defer(ephemeral=True, thinking=True)
            data = await file.read()
            return await librarian.parse(data, file.filename, title=title, rating=rating)

    async def _preview(
        self,
        interaction: discord.Interaction,
        parsed: ParsedStory,
        write: Callable[[ParsedStory, int], Awaitable[StoredStory]],
        done: Callable[[StoredStory], str],
        *,
        heading: str,
        cancelled: str,
        ask_rating: bool,
    ) -> None:
        """Show what an upload would store; store it (as `write` does) on Confirm."""

        async def store(press: discord.Interaction, final: ParsedStory) -> None:
            stored = await write(final, press.user.id)
            await press.response.edit_message(content=done(stored), embed=None, view=None)

        view = UploadPreview(
            interaction.user.id,
            parsed,
            store,
            heading=heading,
            cancelled=cancelled,
            ask_rating=ask_rating,
        )
        view.origin = interaction
        await interaction.followup.send(
            heading, embed=cards.preview_embed(parsed), view=view, ephemeral=True
        )

    @app_commands.command(name="add", description="Upload a story file; preview, then confirm")
    @app_commands.describe(
        file="The story: " + ACCEPTED_DESCRIPTION[:80],
        title="Use this title instead of the file's",
        rating="Use this rating instead of the file's (General, Teen, Mature, Explicit…)",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        title: app_commands.Range[str, 1, 200] | None = None,
        rating: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        librarian = self.bot.librarian
        if rating:
            librarian.check_rating(rating)
        parsed = await self._read_upload(interaction, file, title=title, rating=rating)
        await librarian.require_new_title(guild_id, parsed.title)

        await self._preview(
            interaction,
            parsed,
            lambda final, user_id: librarian.add(guild_id, final, user_id),
            lambda stored: (
                f"Added “{shown_title(stored.title)}” to the shelf: {_size(stored)}. "
                "Read it with /read."
            ),
            heading="Preview — nothing is stored until you confirm.",
            cancelled="Cancelled: nothing was stored.",
            ask_rating=not rating and _needs_rating(parsed),
        )

    @app_commands.command(name="replace", description="Upload a new version of a story's text")
    @app_commands.describe(title="The story", file="The new version")
    @app_commands.autocomplete(title=every_title)
    async def replace(
        self, interaction: discord.Interaction, title: str, file: discord.Attachment
    ) -> None:
        assert interaction.guild_id is not None
        guild_id = interaction.guild_id
        librarian = self.bot.librarian
        story = await self.bot.reader.story(place_of(interaction), title, gated=False)
        parsed = await self._read_upload(interaction, file)
        await librarian.require_new_title(guild_id, parsed.title, story_id=story.id)

        await self._preview(
            interaction,
            parsed,
            lambda final, user_id: librarian.replace(guild_id, story.id, final, user_id),
            lambda stored: (
                f"Replaced the text of “{shown_title(stored.title)}”: "
                f"{_size(stored)}. Its feedback stays with it."
            ),
            heading=f"Replacing “{shown_title(story.title)}” — nothing changes until you "
            "confirm. Feedback stays with the story.",
            cancelled="Cancelled: the story was not changed.",
            ask_rating=_needs_rating(parsed),
        )

    # ------------------------------------------------------------ edit, export, remove

    @app_commands.command(
        name="edit", description="Correct a story's title, author, rating, summary, notes"
    )
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=every_title)
    async def edit(self, interaction: discord.Interaction, title: str) -> None:
        assert interaction.guild_id is not None
        story = await self.bot.reader.story(place_of(interaction), title, gated=False)
        await interaction.response.send_modal(StoryEditModal(story))

    @app_commands.command(
        name="export", description="A story as a text file, and its feedback as CSV"
    )
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=every_title)
    async def export(self, interaction: discord.Interaction, title: str) -> None:
        assert interaction.guild_id is not None
        story = await self.bot.reader.story(place_of(interaction), title, gated=False)
        files = _files(await self.bot.librarian.export(story))
        await interaction.response.send_message(
            f"“{shown_title(story.title)}”: the story in Storyshelf's text format, "
            "and its feedback as CSV.",
            files=files,
            ephemeral=True,
        )

    @app_commands.command(name="remove", description="Remove a story (you get an export first)")
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=every_title)
    async def remove(self, interaction: discord.Interaction, title: str) -> None:
        assert interaction.guild_id is not None
        guild_id, user_id = interaction.guild_id, interaction.user.id
        librarian = self.bot.librarian
        story = await self.bot.reader.story(place_of(interaction), title, gated=False)
        counts = await librarian.removal_counts(story.id)
        files = _files(await librarian.export(story))

        async def confirm(press: discord.Interaction) -> None:
            await librarian.remove(guild_id, story.id, user_id)
            await press.response.edit_message(
                content=f"Removed “{shown_title(story.title)}” from the shelf. "
                "The export above is your copy.",
                view=None,
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
            f"Remove “{shown_title(story.title)}”? This deletes its "
            f"{counts.sections} sections, {counts.posts} excerpt posts and "
            f"{counts.reactions} feedback reactions. Here is an export of it first.",
            files=files,
            view=view,
            ephemeral=True,
        )

    # ------------------------------------------------------------ settings

    @app_commands.command(name="settings", description="Show or change this server's settings")
    @app_commands.describe(
        emoji="Feedback emoji added to every excerpt, separated by spaces (at most 5)",
        max_rating="Highest rating posted outside age-restricted channels",
        notes="A note from the moderators, shown in /help (a single space clears it)",
    )
    @app_commands.choices(max_rating=MAX_RATING)
    async def settings(
        self,
        interaction: discord.Interaction,
        emoji: str | None = None,
        max_rating: app_commands.Choice[str] | None = None,
        notes: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        guild = interaction.guild
        change = await self.bot.librarian.change_settings(
            interaction.guild_id,
            interaction.user.id,
            emoji=emoji,
            server_emoji_ids={e.id for e in guild.emojis} if guild else set(),
            max_rating=max_rating.value if max_rating else None,
            notes=notes,
        )
        await interaction.response.send_message(
            ("Saved. " if change.changed else "") + "Settings for this server:",
            embed=cards.settings_embed(change.settings),
            ephemeral=True,
        )


async def setup(bot: Storyshelf) -> None:
    await bot.add_cog(Library(bot))
