"""Feedback: reaction listeners, reconciliation after reconnects, and /feedback."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import cards
from bot.chart import legend_text, plan_chart, render_png
from bot.emoji import emoji_key
from cogs._common import place_of, readable_title

if TYPE_CHECKING:
    from bot.client import Storyshelf


class Feedback(commands.Cog):
    def __init__(self, bot: Storyshelf) -> None:
        self.bot = bot

    def _counts(self, user_id: int, member: discord.Member | None) -> bool:
        # Bots' reactions, the bot's own included, are not feedback.
        if user_id == self.bot.user_id:
            return False
        return not (member is not None and member.bot)

    # Raw events arrive whether or not the message is cached. The recorder drops
    # reactions on messages that are not excerpts at the cost of a set look-up.
    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        # Excerpts are the bot's own messages: a reaction on anyone else's is dropped
        # at the cost of one comparison.
        author = payload.message_author_id
        if author is not None and author != self.bot.user_id:
            return
        if payload.guild_id is None or not self._counts(payload.user_id, payload.member):
            return
        self.bot.feedback.reaction_added(
            payload.message_id, payload.user_id, emoji_key(payload.emoji)
        )

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        if payload.guild_id is None or not self._counts(payload.user_id, None):
            return
        self.bot.feedback.reaction_removed(
            payload.message_id, payload.user_id, emoji_key(payload.emoji)
        )

    @commands.Cog.listener()
    async def on_raw_reaction_clear(self, payload: discord.RawReactionClearEvent) -> None:
        self.bot.feedback.reactions_cleared(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_reaction_clear_emoji(
        self, payload: discord.RawReactionClearEmojiEvent
    ) -> None:
        self.bot.feedback.emoji_cleared(payload.message_id, emoji_key(payload.emoji))

    # A shard that (re)connected may have missed reaction events: ask Discord.
    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self.bot.reconciler.schedule(shard_id)

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        self.bot.reconciler.schedule(shard_id)

    @app_commands.command(name="feedback", description="Readers' reactions on a story's excerpts")
    @app_commands.describe(title="The story")
    @app_commands.autocomplete(title=readable_title)
    async def feedback(self, interaction: discord.Interaction, title: str) -> None:
        place = place_of(interaction)
        await self.bot.feedback.flush()  # show what readers just did, too
        report = await self.bot.reader.feedback(place, title)
        if not report.sections:
            await interaction.response.send_message(embed=cards.feedback_embed(report))
            return
        await interaction.response.defer(thinking=True)
        plan = plan_chart(
            [(s.position, [(e.emoji, e.count) for e in s.per_emoji]) for s in report.sections],
            report.story.section_count,
        )
        embed = cards.feedback_embed(report, legend=legend_text(plan))
        png = await asyncio.to_thread(render_png, plan)
        embed.set_image(url="attachment://feedback.png")
        await interaction.followup.send(
            embed=embed, file=discord.File(io.BytesIO(png), filename="feedback.png")
        )


async def setup(bot: Storyshelf) -> None:
    await bot.add_cog(Feedback(bot))
