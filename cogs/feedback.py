"""Feedback: reaction listeners and /feedback."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import cards
from bot.autocomplete import any_title
from bot.chart import reactions_chart
from bot.db import feedback as feedback_db
from bot.db import shelf

if TYPE_CHECKING:
    from bot.client import Storyshelf


@app_commands.guild_only()
class Feedback(commands.Cog):
    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot

    # Raw events arrive whether or not the message is cached.
    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self.bot.feedback.reaction_added(payload, self.bot.user_id)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self.bot.feedback.reaction_removed(payload, self.bot.user_id)

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        self.bot.feedback.reactions_cleared(payload)

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        self.bot.feedback.emoji_cleared(payload)

    # A shard that (re)connected may have missed reaction events: ask Discord.
    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self.bot.reconciler.schedule(shard_id)

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        self.bot.reconciler.schedule(shard_id)

    @app_commands.command(name="feedback", description="Readers' reactions on a story's excerpts")
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=any_title)
    async def feedback(self, interaction: discord.Interaction, title: str) -> None:
        story = await self.bot.reader.story_named(interaction, title)
        await self.bot.feedback.flush()  # show what readers just did, too
        db = self.bot.db
        totals = await feedback_db.story_totals(db, story.id)
        sections = await feedback_db.section_feedback(db, story.id)
        titles = {s.position: s.title for s in await shelf.list_sections(db, story.id)}
        embed = cards.feedback_embed(story, totals, sections, titles)
        if not sections:
            await interaction.response.send_message(
                embed=embed, allowed_mentions=discord.AllowedMentions.none()
            )
            return
        png = reactions_chart(
            story.title, [(s.position, s.total) for s in sections], story.section_count
        )
        embed.set_image(url="attachment://feedback.png")
        await interaction.response.send_message(
            embed=embed,
            file=discord.File(io.BytesIO(png), filename="feedback.png"),
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: Storyshelf) -> None:
    await bot.add_cog(Feedback(bot))
