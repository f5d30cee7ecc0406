"""Reading: find a story, check its rating against the channel, render and post pages.

The reading cog and the persistent buttons both call into this service, so a
button pressed after a restart takes exactly the path a slash command takes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import Collection, Coroutine
from typing import TYPE_CHECKING

import discord

from bot import cards, faults, render
from bot.db import feedback, shelf
from bot.db.excerpts import ExcerptPost
from bot.errors import UserFacingError
from bot.gate import allowed_levels, refusal
from bot.story import RatingLevel
from bot.views import SectionButton, ShelfPageButton, reading_view

if TYPE_CHECKING:
    from bot.client import Storyshelf
    from bot.db.shelf import SectionRecord, StoryRecord

__all__ = ("Reader",)

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
STORY_GONE = "That story is no longer on this server's shelf."


def no_such_story(title: str) -> UserFacingError:
    return UserFacingError(
        f"There is no story called “{render.truncate(title, 100)}” on this server's "
        "shelf. Try /stories to browse it."
    )


def channel_is_nsfw(channel: object) -> bool:
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False


class Reader:
    """Everything a reader can do, on behalf of one bot."""

    def __init__(self, bot: Storyshelf, *, cache_size: int = 256) -> None:
        self.bot = bot
        self._pages: OrderedDict[tuple[int, int, str], list[render.Page]] = OrderedDict()
        self._cache_size = cache_size
        self._rng = random.Random()
        self._tasks: set[asyncio.Task[None]] = set()
        self._warned_channels: set[int] = set()

    @property
    def db(self):
        return self.bot.db

    # ------------------------------------------------------------------ lookups

    async def levels_here(self, interaction: discord.Interaction) -> frozenset[RatingLevel]:
        assert interaction.guild_id is not None
        settings = await self.bot.guild_settings.get(interaction.guild_id)
        return allowed_levels(
            nsfw=channel_is_nsfw(interaction.channel), max_rating=settings.max_rating
        )

    async def story_named(self, interaction: discord.Interaction, title: str) -> StoryRecord:
        assert interaction.guild_id is not None
        story = await shelf.find_story(self.db, interaction.guild_id, title)
        if story is None:
            raise no_such_story(title)
        return story

    async def require_readable(self, interaction: discord.Interaction, story: StoryRecord) -> None:
        """Refuse, saying why and where, a story whose rating is not allowed here."""
        assert interaction.guild_id is not None
        settings = await self.bot.guild_settings.get(interaction.guild_id)
        nsfw = channel_is_nsfw(interaction.channel)
        if story.rating.level in allowed_levels(nsfw=nsfw, max_rating=settings.max_rating):
            return
        raise UserFacingError(
            refusal(
                story.title,
                story.rating,
                max_rating=settings.max_rating,
                nsfw_channels=self._nsfw_channels(interaction),
            )
        )

    @staticmethod
    def _nsfw_channels(interaction: discord.Interaction) -> list[str]:
        guild, member = interaction.guild, interaction.user
        if guild is None:
            return []
        found = []
        for channel in guild.text_channels:
            if not channel.is_nsfw():
                continue
            if (
                isinstance(member, discord.Member)
                and not channel.permissions_for(member).view_channel
            ):
                continue
            found.append(channel.mention)
            if len(found) == 5:
                break
        return found

    def pages(
        self, story: StoryRecord, position: int, section: SectionRecord | None
    ) -> list[render.Page]:
        """A section's pages, rendered once and kept while the story is unchanged."""
        key = (story.id, position, story.updated_at or story.added_at)
        cached = self._pages.get(key)
        if cached is not None:
            self._pages.move_to_end(key)
            return cached
        if section is None:
            raise UserFacingError(
                f"“{render.truncate(story.title, 100)}” has {story.section_count} "
                f"section{'s' if story.section_count != 1 else ''}; there is no section {position}."
            )
        pages = render.render_section(
            story_title=story.title,
            author=story.author,
            rating=story.rating,
            warnings=story.warnings,
            section_number=position,
            section_total=story.section_count,
            section_title=section.title,
            text=section.text,
        )
        self._pages[key] = pages
        if len(self._pages) > self._cache_size:
            self._pages.popitem(last=False)
        return pages

    def forget_story(self, story_id: int) -> None:
        for key in [k for k in self._pages if k[0] == story_id]:
            del self._pages[key]

    async def _readable_section(
        self, interaction: discord.Interaction, story: str | int, position: int
    ) -> tuple[StoryRecord, SectionRecord | None]:
        """A story (by title, or by id for buttons) and one section, in one query, gated here."""
        assert interaction.guild_id is not None
        found, section = await shelf.story_with_section(
            self.db, interaction.guild_id, story, position
        )
        if found is None:
            raise UserFacingError(STORY_GONE) if isinstance(story, int) else no_such_story(story)
        await self.require_readable(interaction, found)
        return found, section

    # ------------------------------------------------------------------ posting

    async def read(
        self, interaction: discord.Interaction, title: str, section: int, page: int
    ) -> None:
        story, found = await self._readable_section(interaction, title, section)
        pages = self.pages(story, section, found)
        if not 1 <= page <= len(pages):
            raise UserFacingError(
                f"Section {section} of “{render.truncate(story.title, 100)}” has "
                f"{len(pages)} page{'s' if len(pages) != 1 else ''}; there is no page {page}."
            )
        await self._post_page(interaction, story, section, pages, page)

    async def _button_pages(
        self, interaction: discord.Interaction, story_id: int, section: int
    ) -> tuple[StoryRecord, list[render.Page]]:
        """A button's story, checked against this channel's gate again, and its pages."""
        story, found = await self._readable_section(interaction, story_id, section)
        return story, self.pages(story, section, found)

    async def post_section_from_button(
        self, interaction: discord.Interaction, story_id: int, section: int
    ) -> None:
        story, pages = await self._button_pages(interaction, story_id, section)
        await self._post_page(interaction, story, section, pages, 1)

    async def turn_page(
        self, interaction: discord.Interaction, story_id: int, section: int, page: int
    ) -> None:
        story, pages = await self._button_pages(interaction, story_id, section)
        page = max(1, min(page, len(pages)))  # the story may have been replaced meanwhile
        await interaction.response.edit_message(
            content=pages[page - 1].content,
            view=reading_view(story.id, section, page, len(pages), story.section_count),
            allowed_mentions=NONE,
        )

    async def _post_page(
        self,
        interaction: discord.Interaction,
        story: StoryRecord,
        section: int,
        pages: list[render.Page],
        page: int,
    ) -> None:
        view = reading_view(story.id, section, page, len(pages), story.section_count)
        await self._post(interaction, story, section, pages[page - 1].content, view)

    async def _post(
        self,
        interaction: discord.Interaction,
        story: StoryRecord,
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
            callback = await interaction.response.send_message(
                content, view=view, allowed_mentions=NONE
            )
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
        self.bot.feedback.excerpt_posted(
            ExcerptPost(
                message_id=message.id,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                story_id=story.id,
                section_position=section,
                posted_by=interaction.user.id,
            )
        )
        settings = await self.bot.guild_settings.get(interaction.guild_id)
        self._in_background(self._add_feedback_emoji(message, settings.feedback_emoji))

    def _in_background(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Let the feedback emoji still being added finish (briefly), then stop."""
        if not self._tasks:
            return
        _, unfinished = await asyncio.wait(list(self._tasks), timeout=5)
        for task in unfinished:
            task.cancel()

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

    # ------------------------------------------------------------------ excerpts

    async def excerpt(self, interaction: discord.Interaction, title: str | None) -> None:
        assert interaction.guild_id is not None
        story_id = None
        if title:
            story = await self.story_named(interaction, title)
            await self.require_readable(interaction, story)
            story_id = story.id
        levels = await self.levels_here(interaction)
        picked = await shelf.random_section(
            self.db,
            interaction.guild_id,
            levels,
            story_id=story_id,
            seed=self._rng.randrange(1 << 40),
        )
        if picked is None:
            raise UserFacingError(
                "There is no story on this server's shelf that can be posted in this channel."
            )
        story, section = await self._readable_section(interaction, picked[0], picked[1])
        if section is None:
            raise UserFacingError(STORY_GONE)
        passage = render.pick_excerpt(section.text, self._rng)
        content = render.render_excerpt(
            story_title=story.title,
            author=story.author,
            rating=story.rating,
            warnings=story.warnings,
            section_number=section.position,
            section_total=story.section_count,
            section_title=section.title,
            passage=passage,
        )
        view = discord.ui.View(timeout=None)
        view.add_item(SectionButton(story.id, section.position, label="Read the whole section"))
        await self._post(interaction, story, section.position, content, view)

    # ------------------------------------------------------------------ browsing

    async def shelf_view(
        self, interaction: discord.Interaction, offset: int, rating: str, query: str
    ) -> tuple[discord.Embed, discord.ui.View | None]:
        assert interaction.guild_id is not None
        level = RatingLevel(rating) if rating else None
        levels = [level] if level else None
        total = await shelf.count_stories(self.db, interaction.guild_id, query=query, levels=levels)
        offset = max(
            0, min(offset, max(total - 1, 0) // cards.SHELF_PAGE_SIZE * cards.SHELF_PAGE_SIZE)
        )
        stories = await shelf.list_stories(
            self.db,
            interaction.guild_id,
            query=query,
            levels=levels,
            offset=offset,
            limit=cards.SHELF_PAGE_SIZE,
        )
        readable = await self.levels_here(interaction)
        embed = cards.shelf_embed(
            stories, total=total, offset=offset, readable=readable, query=query, rating=level
        )
        if total <= cards.SHELF_PAGE_SIZE:
            return embed, None
        view = discord.ui.View(timeout=None)
        size = cards.SHELF_PAGE_SIZE
        view.add_item(
            ShelfPageButton(
                max(offset - size, 0), rating, query[:40], label="◀ Previous", disabled=offset == 0
            )
        )
        view.add_item(
            ShelfPageButton(
                offset + size, rating, query[:40], label="Next ▶", disabled=offset + size >= total
            )
        )
        return embed, view

    async def shelf_page(
        self, interaction: discord.Interaction, offset: int, rating: str, query: str
    ) -> None:
        embed, view = await self.shelf_view(interaction, offset, rating, query)
        await interaction.response.edit_message(embed=embed, view=view, allowed_mentions=NONE)

    async def card(self, interaction: discord.Interaction, title: str) -> None:
        story = await self.story_named(interaction, title)
        sections = await shelf.list_sections(self.db, story.id)
        readable = story.rating.level in await self.levels_here(interaction)
        embed = cards.story_embed(
            story,
            sections,
            readable=readable,
            totals=await feedback.story_totals(self.db, story.id),
        )
        # A card for a story that cannot be posted here stays private to the asker.
        await interaction.response.send_message(
            embed=embed, ephemeral=not readable, allowed_mentions=NONE
        )

    # ------------------------------------------------------------------ search

    async def search(self, interaction: discord.Interaction, query: str, title: str | None) -> None:
        assert interaction.guild_id is not None
        story_id = None
        if title:
            story = await self.story_named(interaction, title)
            await self.require_readable(interaction, story)
            story_id = story.id
        if shelf.fts_words_query(query) is None:
            raise UserFacingError("Search for at least one word (letters or digits).")
        levels = await self.levels_here(interaction)
        hits = await shelf.search_sections(
            self.db, interaction.guild_id, query, story_id=story_id, levels=levels, limit=5
        )
        if not hits:
            await interaction.response.send_message(
                f"Nothing found for “{render.escape_inline(render.truncate(query, 80))}”"
                " in the stories you can read in this channel.",
                ephemeral=True,
                allowed_mentions=NONE,
            )
            return
        lines = []
        view = discord.ui.View(timeout=None)
        for number, hit in enumerate(hits, start=1):
            lines.append(
                f"**{number}.** {render.escape_inline(render.truncate(hit.story_title, 80))}"
                f" · {render.section_label(hit.position, hit.section_title)}\n"
                + render.render_snippet(hit.snippet)
            )
            view.add_item(
                SectionButton(
                    hit.story_id,
                    hit.position,
                    label=f"Read {number}",
                    style=discord.ButtonStyle.secondary,
                )
            )
        await interaction.response.send_message(
            "\n\n".join(lines)[:2000], view=view, ephemeral=True, allowed_mentions=NONE
        )
