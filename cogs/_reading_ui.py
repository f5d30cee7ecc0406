"""The reading cog's buttons and menus. Each carries its state in its custom id
(`storyshelf:page:<story>:<section>:<page>`), so it works after a restart; a press
calls back into the reading cog. Ids are checked like any user input: a forged
or stale id gets a polite answer, never a wrong story.

Not an extension (the leading underscore keeps it out of `extension_names`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.db.stories import parse_story_id
from bot.errors import UnknownStory, UserFacingError
from bot.render import section_label, truncate
from cogs._common import answering_errors, owns_message, place_of

if TYPE_CHECKING:
    from bot.db.search import SearchHit
    from bot.db.sections import SectionSummary
    from bot.db.stories import StoryRecord
    from bot.services.reading import Opened, Reader, ShelfPage
    from cogs.reading import Reading

__all__ = (
    "DYNAMIC_ITEMS",
    "card_view",
    "jump_view",
    "reading_view",
    "search_view",
    "shelf_view",
    "suggestions_view",
)

MENU_OPTIONS = 25  # Discord's limit on a select menu
# Every kind of `storyshelf:` custom id a cog answers (the reading club cog: `club`).
_KINDS = ("page", "section", "next", "card", "continue", "shelf", "jump", "club")


def _small(text: str) -> int:
    """A section, page or offset from a custom id; 0 (which opens nothing) if absurd."""
    return int(text) if len(text) <= 9 else 0


def _story(text: str) -> int:
    return parse_story_id(text) or 0


def _cog(interaction: discord.Interaction) -> Reading:
    from cogs.reading import Reading

    client: Any = interaction.client
    cog = client.get_cog("Reading")
    if not isinstance(cog, Reading):
        raise UserFacingError("Reading is not available right now; please try again.")
    return cog


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:page:(?P<story>\d+):(?P<section>\d+):(?P<page>\d+)",
):
    """Turn to another page of the same section (in place for the post's owner)."""

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
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> PageButton:
        return cls(
            _story(match["story"]),
            _small(match["section"]),
            _small(match["page"]),
            label=getattr(item, "label", None) or "",
            disabled=False,
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering_errors(
            interaction,
            _cog(interaction).turn_page(interaction, self.story_id, self.section, self.page),
        )


class SectionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:(?P<kind>section|next):(?P<story>\d+):(?P<section>\d+)",
):
    """Post a whole section as a new message (so reactions belong to one section).

    `section` buttons (search results, excerpts, cards) post for the presser; `next`
    buttons on a reading post follow the post: public for its owner, private for
    anyone else.
    """

    def __init__(
        self,
        story_id: int,
        section: int,
        *,
        label: str,
        follow: bool = False,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
    ):
        kind = "next" if follow else "section"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                custom_id=f"storyshelf:{kind}:{story_id}:{section}",
                disabled=disabled,
            )
        )
        self.story_id, self.section, self.follow = story_id, section, follow

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SectionButton:
        return cls(
            _story(match["story"]),
            _small(match["section"]),
            label=getattr(item, "label", None) or "",
            follow=match["kind"] == "next",
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering_errors(
            interaction,
            _cog(interaction).open_section(
                interaction, self.story_id, self.section, follow=self.follow
            ),
        )


class CardButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:card:(?P<story>\d+)",
):
    """Show a story's card privately (the "did you mean" suggestions)."""

    def __init__(self, story_id: int, *, label: str):
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"storyshelf:card:{story_id}",
            )
        )
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CardButton:
        return cls(_story(match["story"]), label=getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering_errors(interaction, _cog(interaction).show_card(interaction, self.story_id))


class ContinueButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:continue:(?P<story>\d+)",
):
    """Continue this story where the presser stopped."""

    def __init__(self, story_id: int):
        super().__init__(
            discord.ui.Button(
                label="Continue",
                style=discord.ButtonStyle.primary,
                custom_id=f"storyshelf:continue:{story_id}",
            )
        )
        self.story_id = story_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ContinueButton:
        return cls(_story(match["story"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        if not self.story_id:
            await answering_errors(interaction, _raise(UserFacingError("That story is gone.")))
            return
        await answering_errors(
            interaction, _cog(interaction).continue_reading(interaction, self.story_id, public=True)
        )


class ShelfPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:shelf:(?P<offset>\d+):(?P<rating>[^:]*):(?P<query>.*)",
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
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ShelfPageButton:
        return cls(
            _small(match["offset"]),
            match["rating"],
            match["query"],
            label=getattr(item, "label", None) or "",
            disabled=False,
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering_errors(
            interaction,
            _cog(interaction).shelf_page(interaction, self.offset, self.rating, self.query),
        )


def jump_options(
    sections: Sequence[SectionSummary], low: int, high: int
) -> list[discord.SelectOption]:
    """Sections low..high as options when they fit in one menu, else ranges of them."""
    by_position = {s.position: s for s in sections}
    count = high - low + 1
    options: list[discord.SelectOption] = []
    if count <= MENU_OPTIONS:
        for position in range(low, high + 1):
            section = by_position.get(position)
            title = section.title if section else ""
            options.append(
                discord.SelectOption(
                    label=section_label(position, title),
                    value=f"s:{position}",
                    description=f"{section.words:,} words" if section else None,
                )
            )
        return options
    size = math.ceil(count / (MENU_OPTIONS - 1))  # one option is kept for "back"
    for start in range(low, high + 1, size):
        end = min(high, start + size - 1)
        first = by_position.get(start)
        options.append(
            discord.SelectOption(
                label=f"Sections {start}–{end}",
                value=f"r:{start}:{end}",
                description=truncate(f"From “{first.title}”", 100)
                if first and first.title
                else None,
            )
        )
    return options


class JumpSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"storyshelf:jump:(?P<mode>[fo]):(?P<story>\d+):(?P<low>\d+):(?P<high>\d+)",
):
    """Jump to any section: a menu of sections, or of ranges leading to one.

    Mode `f` follows the post it is on (like "Next section"); mode `o` opens the
    section for the presser (on a story card).
    """

    def __init__(
        self,
        story_id: int,
        low: int,
        high: int,
        *,
        follow: bool,
        options: list[discord.SelectOption] | None = None,
        placeholder: str = "Jump to a section…",
    ):
        mode = "f" if follow else "o"
        super().__init__(
            discord.ui.Select(
                custom_id=f"storyshelf:jump:{mode}:{story_id}:{low}:{high}",
                placeholder=placeholder,
                options=options or [discord.SelectOption(label="…", value="none")],
            )
        )
        self.story_id, self.low, self.high, self.follow = story_id, low, high, follow

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> JumpSelect:
        return cls(
            _story(match["story"]),
            _small(match["low"]),
            _small(match["high"]),
            follow=match["mode"] == "f",
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering_errors(interaction, self._chosen(interaction))

    async def _chosen(self, interaction: discord.Interaction) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        values = data.get("values") or [""]
        choice = str(values[0])
        cog = _cog(interaction)
        if choice.startswith("s:") and choice[2:].isdigit():
            await cog.open_section(
                interaction, self.story_id, _small(choice[2:]), follow=self.follow
            )
            return
        parts = choice.split(":")
        if len(parts) != 3 or parts[0] != "r" or not (parts[1].isdigit() and parts[2].isdigit()):
            raise UserFacingError("That menu is not one of Storyshelf's, or no longer works.")
        story, sections = await cog.bot.reader.sections(place_of(interaction), self.story_id)
        low = max(1, _small(parts[1]))
        high = min(story.section_count, _small(parts[2]))
        if low > high:
            raise UserFacingError("Those sections are no longer in the story.")
        narrower = jump_select(story, sections, low, high, follow=self.follow)
        if owns_message(interaction) and interaction.message is not None:
            view = discord.ui.View.from_message(interaction.message, timeout=None)
            for item in list(view.children):
                if str(getattr(item, "custom_id", "")).startswith("storyshelf:jump:"):
                    view.remove_item(item)
            view.add_item(narrower)
            view.stop()  # as Components: its presses reach DYNAMIC_ITEMS by custom id
            await interaction.response.edit_message(view=view)
        else:
            view = Components()
            view.add_item(narrower)
            await interaction.response.send_message(
                f"Sections {low}–{high} of “{truncate(story.title, 80)}”:",
                view=view,
                ephemeral=True,
            )


def jump_select(
    story: StoryRecord, sections: Sequence[SectionSummary], low: int, high: int, *, follow: bool
) -> JumpSelect:
    options = jump_options(sections, low, high)
    total = story.section_count
    if (low, high) != (1, total) and len(options) < MENU_OPTIONS:
        options.append(discord.SelectOption(label="↩ All sections", value=f"r:1:{total}"))
    return JumpSelect(
        story.id,
        low,
        high,
        follow=follow,
        options=options,
        placeholder="Jump to a section…" if high - low < MENU_OPTIONS else "Choose sections…",
    )


class RetiredButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"storyshelf:(?!(?:" + "|".join(_KINDS) + r"):).*",
):
    """Any other `storyshelf:` component (forged, or from a retired version) gets an answer."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(discord.ui.Button(label="…", custom_id=custom_id[:100]))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RetiredButton:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction) -> None:
        await answering_errors(
            interaction,
            _raise(UserFacingError("That button is not one of Storyshelf's, or no longer works.")),
        )


async def _raise(error: Exception) -> None:
    raise error


DYNAMIC_ITEMS = (
    PageButton,
    SectionButton,
    CardButton,
    ContinueButton,
    ShelfPageButton,
    JumpSelect,
    RetiredButton,
)


# --------------------------------------------------------------------------- views


class Components(discord.ui.View):
    """A message's buttons and menus, every one a DynamicItem (DYNAMIC_ITEMS): the
    client answers a press by its custom id, whichever message, process or restart it
    came from, so this object never needs to listen. It is stopped from the start, and
    discord.py then keeps nothing for it when it is sent: no view-store entry, and no
    15-minute timer task, which it otherwise gives the view of every private reply."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.stop()


async def reading_view(reader: Reader, opened: Opened) -> discord.ui.View:
    story, section, page = opened.story, opened.position, opened.page
    total_pages, section_total = len(opened.pages), story.section_count
    view = Components()
    view.add_item(
        PageButton(story.id, section, page - 1, label="◀ Previous page", disabled=page <= 1)
    )
    view.add_item(
        PageButton(story.id, section, page + 1, label="Next page ▶", disabled=page >= total_pages)
    )
    view.add_item(
        SectionButton(
            story.id,
            section + 1,
            label="Next section ⏭",
            follow=True,
            disabled=section >= section_total,
        )
    )
    if section_total > 1:
        sections = await reader.section_list(story)
        view.add_item(jump_select(story, sections, 1, section_total, follow=True))
    return view


def jump_view(story_id: int, position: int) -> discord.ui.View:
    """An excerpt's button: read the whole section."""
    view = Components()
    view.add_item(SectionButton(story_id, position, label="Read the whole section"))
    return view


def card_view(story: StoryRecord, sections: Sequence[SectionSummary]) -> discord.ui.View:
    view = Components()
    view.add_item(SectionButton(story.id, 1, label="Start reading"))
    view.add_item(ContinueButton(story.id))
    if story.section_count > 1:
        view.add_item(jump_select(story, sections, 1, story.section_count, follow=False))
    return view


def search_view(hits: Sequence[SearchHit]) -> discord.ui.View:
    view = Components()
    for number, hit in enumerate(hits, start=1):
        view.add_item(
            SectionButton(
                hit.story_id,
                hit.position,
                label=f"Read {number}",
                style=discord.ButtonStyle.secondary,
            )
        )
    return view


def shelf_view(page: ShelfPage, rating: str, query: str) -> discord.ui.View | None:
    if page.total <= page.page_size:
        return None
    view = Components()
    size, offset = page.page_size, page.offset
    view.add_item(
        ShelfPageButton(
            max(offset - size, 0), rating, query[:40], label="◀ Previous", disabled=offset == 0
        )
    )
    view.add_item(
        ShelfPageButton(
            offset + size, rating, query[:40], label="Next ▶", disabled=offset + size >= page.total
        )
    )
    return view


def suggestions_view(error: UnknownStory) -> discord.ui.View | None:
    """ "Did you mean" buttons, each opening that story's card."""
    if not error.suggestions:
        return None
    view = Components()
    for suggestion in error.suggestions:
        story_id, _, title = suggestion.partition(":")
        view.add_item(CardButton(int(story_id), label=truncate(title, 80)))
    return view
