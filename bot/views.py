"""Persistent buttons. Each carries its state in its custom id, so it works after a restart."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.client import Storyshelf

__all__ = ("DYNAMIC_ITEMS", "PageButton", "SectionButton", "ShelfPageButton", "reading_view")


async def _answering_errors(
    interaction: discord.Interaction[Storyshelf], action: Awaitable[None]
) -> None:
    """Button errors get the same replies as command errors (the tree's handler)."""
    try:
        await action
    except Exception as error:
        await interaction.client.tree.on_error(interaction, error)  # type: ignore[arg-type]


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:page:(?P<story>\d+):(?P<section>\d+):(?P<page>\d+)",
):
    """Turn to another page of the same section: edits the message in place."""

    def __init__(self, story_id: int, section: int, page: int, *, label: str, disabled: bool):
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"storyshelf:page:{story_id}:{section}:{page}",
                disabled=disabled,
            )
        )
        self.story_id, self.section, self.page = story_id, section, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> PageButton:
        return cls(
            int(match["story"]),
            int(match["section"]),
            int(match["page"]),
            label=item.label or "",
            disabled=False,
        )

    async def callback(self, interaction: discord.Interaction[Storyshelf]) -> None:
        await _answering_errors(
            interaction,
            interaction.client.reader.turn_page(
                interaction, self.story_id, self.section, self.page
            ),
        )


class SectionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:section:(?P<story>\d+):(?P<section>\d+)",
):
    """Post a whole section as a new message (so reactions belong to one section)."""

    def __init__(
        self,
        story_id: int,
        section: int,
        *,
        label: str,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
    ):
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                custom_id=f"storyshelf:section:{story_id}:{section}",
                disabled=disabled,
            )
        )
        self.story_id, self.section = story_id, section

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> SectionButton:
        return cls(int(match["story"]), int(match["section"]), label=item.label or "")

    async def callback(self, interaction: discord.Interaction[Storyshelf]) -> None:
        await _answering_errors(
            interaction,
            interaction.client.reader.post_section_from_button(
                interaction, self.story_id, self.section
            ),
        )


class ShelfPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:shelf:(?P<offset>\d+):(?P<rating>[a-z_]*):(?P<query>.*)",
):
    """Page through /stories; the filter rides along in the custom id."""

    def __init__(self, offset: int, rating: str, query: str, *, label: str, disabled: bool):
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"storyshelf:shelf:{offset}:{rating}:{query}"[:100],
                disabled=disabled,
            )
        )
        self.offset, self.rating, self.query = offset, rating, query

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> ShelfPageButton:
        return cls(
            int(match["offset"]),
            match["rating"],
            match["query"],
            label=item.label or "",
            disabled=False,
        )

    async def callback(self, interaction: discord.Interaction[Storyshelf]) -> None:
        await _answering_errors(
            interaction,
            interaction.client.reader.shelf_page(interaction, self.offset, self.rating, self.query),
        )


DYNAMIC_ITEMS = (PageButton, SectionButton, ShelfPageButton)


def reading_view(
    story_id: int, section: int, page: int, total_pages: int, section_total: int
) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(
        PageButton(story_id, section, page - 1, label="◀ Previous page", disabled=page <= 1)
    )
    view.add_item(
        PageButton(story_id, section, page + 1, label="Next page ▶", disabled=page >= total_pages)
    )
    view.add_item(
        SectionButton(
            story_id, section + 1, label="Next section ⏭", disabled=section >= section_total
        )
    )
    return view
