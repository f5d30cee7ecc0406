"""Reader commands: /stories, /story, /read, /continue, /progress, /excerpt, /search.

The buttons and menus that go with them live in `cogs/_reading_ui.py`; they call
back into this cog, so a press after a restart takes the same path as a command.

Whose post is it: a public reading post belongs to the member who asked for it.
They turn its pages in place; anyone else pressing its buttons gets a private
copy to continue from, and the post stays as it was for everybody else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import cards, faults
from bot.db.excerpts import ExcerptPost
from bot.errors import UnknownStory, UserFacingError
from bot.render import section_label
from bot.services.reading import STORY_GONE, Opened, Place
from bot.story import RatingLevel
from cogs._common import is_private, owns_message, place_of, readable_title, shown_title
from cogs._reading_ui import (
    DYNAMIC_ITEMS,
    card_view,
    jump_view,
    reading_view,
    search_view,
    shelf_view,
    suggestions_view,
)

if TYPE_CHECKING:
    from bot.client import Storyshelf

log = logging.getLogger(__name__)

RATING_CHOICES = [
    app_commands.Choice(name=level.display, value=level.value) for level in RatingLevel
]
MESSAGE_LIMIT = 2000


def _reader_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown:
    client: Any = interaction.client
    rate, per = client.settings.command_cooldown
    return app_commands.Cooldown(rate, per)


def per_user_cooldown() -> Any:
    """A fresh cooldown for one command: each of /read, /excerpt and /search has its
    own budget per user, sized by COMMAND_COOLDOWN. The tree turns a refusal into a
    private message with the wait."""
    return app_commands.checks.dynamic_cooldown(
        _reader_cooldown, key=lambda interaction: interaction.user.id
    )


class Reading(commands.Cog):
    progress = app_commands.Group(name="progress", description="Where you stopped reading")

    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot
        self._tasks: set[asyncio.Task[None]] = set()
        self._warned_channels: set[int] = set()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.tree.error_views[UnknownStory] = suggestions_view

    async def cog_unload(self) -> None:
        """Let the feedback emoji still being added finish (briefly); Discord's HTTP
        session is still open, since the bot unloads its cogs before it closes."""
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.tree.error_views.pop(UnknownStory, None)
        if self._tasks:
            _, unfinished = await asyncio.wait(list(self._tasks), timeout=5)
            for task in unfinished:
                task.cancel()

    # ------------------------------------------------------------------ commands

    @app_commands.command(name="stories", description="Browse this server's shelf")
    @app_commands.describe(query="Words from the title", rating="Only stories with this rating")
    @app_commands.choices(rating=RATING_CHOICES)
    async def stories(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 0, 100] | None = None,
        rating: app_commands.Choice[str] | None = None,
    ) -> None:
        embed, view = await self.shelf_message(
            interaction, 0, rating.value if rating else "", (query or "").strip()
        )
        if view is None:
            await interaction.response.send_message(embed=embed)
        else:
            await interaction.response.send_message(embed=embed, view=view)

    @app_commands.command(name="story", description="A story's card: details, sections, feedback")
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=readable_title)
    async def story(self, interaction: discord.Interaction, title: str) -> None:
        card = await self.bot.reader.card(place_of(interaction), title)
        await self.send_card(interaction, card)

    @per_user_cooldown()
    @app_commands.command(name="read", description="Read a section of a story, behind spoiler tags")
    @app_commands.describe(
        title="The story",
        section="Section number, or words of its title (default 1)",
        page="Page of the section",
        private="Read in a message only you can see (no feedback reactions)",
    )
    @app_commands.autocomplete(title=readable_title)
    async def read(
        self,
        interaction: discord.Interaction,
        title: str,
        section: app_commands.Range[int, 1, 1_000_000] = 1,
        page: app_commands.Range[int, 1, 1_000_000] = 1,
        private: bool = False,
    ) -> None:
        opened = await self.bot.reader.open(place_of(interaction), title, section, page)
        await self.show(interaction, opened, public=not private)

    @read.autocomplete("section")
    async def read_section(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        title = getattr(interaction.namespace, "title", None)
        if interaction.guild_id is None or not title:
            return []
        found = await self.bot.reader.section_choices(place_of(interaction), str(title), current)
        return [
            app_commands.Choice(name=section_label(s.position, s.title), value=s.position)
            for s in found
        ]

    @per_user_cooldown()
    @app_commands.command(name="continue", description="Continue reading where you stopped")
    @app_commands.describe(
        title="The story (default: the one you read last)",
        private="Read in a message only you can see",
    )
    @app_commands.autocomplete(title=readable_title)
    async def continue_(
        self, interaction: discord.Interaction, title: str | None = None, private: bool = False
    ) -> None:
        place = place_of(interaction)
        story_id = (await self.bot.reader.story(place, title)).id if title else None
        await self.continue_reading(interaction, story_id, public=not private)

    @progress.command(name="list", description="The stories you are reading, and where you are")
    async def progress_list(self, interaction: discord.Interaction) -> None:
        place = place_of(interaction)
        rows = await self.bot.progress.reading_list(place.guild_id, place.user_id)
        await interaction.response.send_message(embed=cards.progress_embed(rows), ephemeral=True)

    @progress.command(name="forget", description="Erase your reading history on this server")
    async def progress_forget(self, interaction: discord.Interaction) -> None:
        place = place_of(interaction)
        erased = await self.bot.progress.forget(place.guild_id, place.user_id)
        await interaction.response.send_message(
            f"Erased your reading history on this server ({erased} "
            f"{'story' if erased == 1 else 'stories'}).",
            ephemeral=True,
        )

    @per_user_cooldown()
    @app_commands.command(name="excerpt", description="A short random passage, behind spoiler tags")
    @app_commands.describe(title="From this story (default: any story allowed here)")
    @app_commands.autocomplete(title=readable_title)
    async def excerpt(self, interaction: discord.Interaction, title: str | None = None) -> None:
        found = await self.bot.reader.excerpt(place_of(interaction), title)
        view = jump_view(found.story.id, found.position)
        await self.post(interaction, found.story.id, found.position, found.content, view)

    @per_user_cooldown()
    @app_commands.command(name="search", description="Find words in this server's stories")
    @app_commands.describe(query="Words to find", title="Only in this story")
    @app_commands.autocomplete(title=readable_title)
    async def search(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        title: str | None = None,
    ) -> None:
        found = await self.bot.reader.search(place_of(interaction), query, title)
        hits = found.hits
        if not hits:
            await interaction.response.send_message(
                f"Nothing found for “{shown_title(query)}” in the stories you can read in "
                "this channel.",
                ephemeral=True,
            )
            return
        content, shown = cards.search_results(
            hits, limit=MESSAGE_LIMIT, common=found.common, ranked=found.ranked
        )
        await interaction.response.send_message(
            content, view=search_view(hits[:shown]), ephemeral=True
        )

    # ------------------------------------------------------------------ actions (buttons)

    async def open_section(
        self, interaction: discord.Interaction, story_id: int, section: int, *, follow: bool
    ) -> None:
        """Post a section: `follow` (a reading post's own buttons and menus) follows the
        post — public for its owner, private for anyone else and on private posts;
        otherwise (search results, excerpts, cards) it is posted for the presser."""
        if not story_id or not section:
            raise UserFacingError(STORY_GONE)
        opened = await self.bot.reader.open(place_of(interaction), story_id, section)
        public = (owns_message(interaction) and not is_private(interaction)) if follow else True
        await self.show(interaction, opened, public=public)

    async def turn_page(
        self, interaction: discord.Interaction, story_id: int, section: int, page: int
    ) -> None:
        if not story_id or not section:
            raise UserFacingError(STORY_GONE)
        opened = await self.bot.reader.open(
            place_of(interaction), story_id, section, page, clamp=True
        )
        if not owns_message(interaction):
            await self.show(interaction, opened, public=False)
            return
        view = await reading_view(self.bot.reader, opened)
        try:
            await interaction.response.edit_message(content=opened.content, view=view)
        except discord.HTTPException as error:
            log.warning(
                "page turn failed in channel %s: %s %s",
                interaction.channel_id,
                error.status,
                error.text,
            )
            raise UserFacingError(
                faults.edit_failure(
                    error,
                    channel=f"<#{interaction.channel_id}>",
                    permissions=interaction.app_permissions,
                )
            ) from error
        self._bookmark(place_of(interaction), opened)

    async def continue_reading(
        self, interaction: discord.Interaction, story_id: int | None, *, public: bool
    ) -> None:
        place = place_of(interaction)
        bookmark = await self.bot.progress.latest(place.guild_id, place.user_id, story_id)
        if bookmark is None:
            raise UserFacingError(
                "You have not read that story here yet: start with /read."
                if story_id
                else "You have not read anything on this server yet: start with /read."
            )
        opened = await self.bot.reader.open(
            place, bookmark.story_id, bookmark.section, bookmark.page, clamp=True
        )
        await self.show(interaction, opened, public=public)

    async def show_card(self, interaction: discord.Interaction, story_id: int) -> None:
        if not story_id:
            raise UserFacingError(STORY_GONE)
        card = await self.bot.reader.card_by_id(place_of(interaction), story_id)
        await self.send_card(interaction, card, private=True)

    async def shelf_page(
        self, interaction: discord.Interaction, offset: int, rating: str, query: str
    ) -> None:
        embed, view = await self.shelf_message(interaction, offset, rating, query)
        await interaction.response.edit_message(embed=embed, view=view)

    # ------------------------------------------------------------------ messages

    async def send_card(
        self, interaction: discord.Interaction, card: Any, *, private: bool = False
    ) -> None:
        embed = cards.story_embed(card)
        # A card for a story that cannot be posted here stays private to the asker.
        if card.readable:
            view = card_view(card.story, card.sections)
            await interaction.response.send_message(embed=embed, view=view, ephemeral=private)
        else:
            await interaction.response.send_message(embed=embed, ephemeral=True)

    async def shelf_message(
        self, interaction: discord.Interaction, offset: int, rating: str, query: str
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        page = await self.bot.reader.shelf(place_of(interaction), offset, rating, query)
        return cards.shelf_embed(page), shelf_view(page, rating, query)

    def _bookmark(self, place: Place, opened: Opened) -> None:
        self.bot.progress.record(
            place.guild_id, place.user_id, opened.story.id, opened.position, opened.page
        )

    async def show(self, interaction: discord.Interaction, opened: Opened, *, public: bool) -> None:
        """A page of a section for the presser: a public post (an excerpt, with feedback
        emoji), or a private message with the same buttons. Either way it is where they
        now are in the story."""
        view = await reading_view(self.bot.reader, opened)
        if public:
            await self.post(interaction, opened.story.id, opened.position, opened.content, view)
        else:
            await interaction.response.send_message(opened.content, view=view, ephemeral=True)
        self._bookmark(place_of(interaction), opened)

    async def post(
        self,
        interaction: discord.Interaction,
        story_id: int,
        section: int,
        content: str,
        view: discord.ui.View,
    ) -> None:
        """Post a public excerpt; once Discord accepted it, record it and add feedback emoji.

        Recording and the emoji happen after the reader has the excerpt: the post
        row is queued with the feedback writer (which writes it ahead of any
        reaction to it, at once), and the emoji are added by a background task.
        """
        assert interaction.guild_id is not None and interaction.channel_id is not None
        try:
            callback = await interaction.response.send_message(content, view=view)
        except discord.HTTPException as error:
            log.warning(
                "excerpt post failed in channel %s: %s %s",
                interaction.channel_id,
                error.status,
                error.text,
            )
            raise UserFacingError(
                faults.post_failure(
                    error,
                    channel=f"<#{interaction.channel_id}>",
                    permissions=interaction.app_permissions,
                )
            ) from error
        message = callback.resource
        if not isinstance(message, discord.InteractionMessage):
            log.warning("interaction %s created no message", interaction.id)
            return
        await self.record_excerpt(
            message,
            guild_id=interaction.guild_id,
            story_id=story_id,
            section=section,
            posted_by=interaction.user.id,
        )

    async def record_excerpt(
        self,
        message: discord.Message,
        *,
        guild_id: int,
        story_id: int,
        section: int,
        posted_by: int | None,
    ) -> None:
        """A post Discord accepted is an excerpt (a reading post, a club's): readers'
        reactions on it count for that section from now on, and it gets the server's
        feedback emoji, added in the background."""
        self.bot.feedback.excerpt_posted(
            ExcerptPost(
                message_id=message.id,
                guild_id=guild_id,
                channel_id=message.channel.id,
                story_id=story_id,
                section_position=section,
                posted_by=posted_by,
            )
        )
        settings = await self.bot.guild_settings.get(guild_id)
        self._in_background(self._add_feedback_emoji(message, settings.feedback_emoji))

    def _in_background(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _add_feedback_emoji(self, message: discord.Message, emoji: Collection[str]) -> None:
        for item in emoji:
            try:
                await message.add_reaction(item)
            except discord.HTTPException as error:
                # Once per channel: a channel without Add Reactions would otherwise
                # log on every post. The excerpt stays and is recorded either way.
                if message.channel.id not in self._warned_channels:
                    self._warned_channels.add(message.channel.id)
                    log.warning(
                        "cannot add feedback emoji in channel %s (%s %s); excerpts there "
                        "are posted without them",
                        message.channel.id,
                        error.status,
                        error.text,
                    )
                return


async def setup(bot: Storyshelf) -> None:
    await bot.add_cog(Reading(bot))
