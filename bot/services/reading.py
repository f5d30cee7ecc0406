"""Reading: find a story, check its rating against the channel, and render what to show.

Discord-free: every method takes a `Place` (the server, whether the channel is
age-restricted, who asks) and plain values, and returns records or rendered
text, or raises a `UserFacingError`. The reading cog turns the results into
messages and buttons; a button pressed after a restart takes the same path as
the slash command.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite
from rapidfuzz import fuzz, process, utils

from bot import render
from bot.db import feedback as feedback_db
from bot.db import search as search_db
from bot.db import sections as sections_db
from bot.db import stories as stories_db
from bot.db.guild_settings import GuildSettings, GuildSettingsStore
from bot.db.search import SearchResults
from bot.db.sections import SectionRecord, SectionSummary
from bot.db.stories import Reads, StoryRecord, TitleChoice
from bot.db.versions import GuildVersions
from bot.errors import RatingRefused, UnknownStory, UserFacingError
from bot.gate import allowed_levels
from bot.story import SCENE_BREAK, RatingLevel

__all__ = (
    "STORY_GONE",
    "Card",
    "Excerpt",
    "FeedbackReport",
    "Opened",
    "Place",
    "Reader",
    "ShelfPage",
)

STORY_GONE = "That story is no longer on this server's shelf."
SHELF_PAGE_SIZE = 10
SEARCH_HITS = 5
# Title autocomplete answers kept (each at most 25 short titles).
TITLE_ANSWERS_KEPT = 1_024
# A suggestion must be at least this similar (rapidfuzz WRatio, 0-100) to be offered.
SUGGESTION_CUTOFF = 60
SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class Place:
    """Where a request comes from: the server, whether its channel is age-restricted,
    and who asks."""

    guild_id: int
    nsfw: bool
    user_id: int


@dataclass(frozen=True, slots=True)
class Opened:
    """One page of one section, ready to post."""

    story: StoryRecord
    position: int
    pages: Sequence[render.Page]
    page: int

    @property
    def content(self) -> str:
        return self.pages[self.page - 1].content


@dataclass(frozen=True, slots=True)
class Excerpt:
    story: StoryRecord
    position: int
    content: str


@dataclass(frozen=True, slots=True)
class ShelfPage:
    stories: Sequence[StoryRecord]
    total: int
    offset: int
    readable: frozenset[RatingLevel]
    query: str
    rating: RatingLevel | None
    page_size: int = SHELF_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class Card:
    story: StoryRecord
    sections: Sequence[SectionSummary]
    totals: feedback_db.StoryTotals
    readable: bool


@dataclass(frozen=True, slots=True)
class FeedbackReport:
    story: StoryRecord
    totals: feedback_db.StoryTotals
    sections: Sequence[feedback_db.SectionFeedback]
    titles: dict[int, str]


def _with_notes(section: SectionRecord) -> str:
    """The section as a reader meets it: the author's chapter summary and notes first
    (inside the spoiler like the text, since they can give the chapter away), set off
    by a scene break."""
    if not section.notes.strip():
        return section.text
    return f"{section.notes.strip()}\n\n{SCENE_BREAK}\n\n{section.text}"


class Reader:
    """Everything a reader can do, over one database and the servers' settings."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        guild_settings: GuildSettingsStore,
        *,
        quick: Reads | None = None,
        versions: GuildVersions | None = None,
        cache_size: int = 256,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        # Point reads through an index (a section, a title, autocomplete) go to `quick`,
        # which reads on the event loop; search and aggregates stay on `db`'s thread.
        self.quick: Reads = quick if quick is not None else db
        self.guild_settings = guild_settings
        self._pages: OrderedDict[tuple[int, int, int], list[render.Page]] = OrderedDict()
        self._section_lists: OrderedDict[tuple[int, int], list[SectionSummary]] = OrderedDict()
        self._cache_size = cache_size
        # Title autocomplete answers by (server, levels, typed), with the shelf counter
        # they were read at (needs `versions`: another process may change the shelf).
        self.versions = versions
        # Kept as tuples of ints and strings, which the garbage collector stops scanning.
        self._title_answers: OrderedDict[
            tuple[int, tuple[str, ...] | None, str],
            tuple[int, tuple[tuple[int, str, str], ...]],
        ] = OrderedDict()
        # How many sections hold each searched word: decides which words rank (search).
        self.word_counts = search_db.WordCounts()
        self._rng = rng or random.Random()

    # ------------------------------------------------------------------ gate

    async def settings(self, place: Place) -> GuildSettings:
        return await self.guild_settings.get(place.guild_id)

    async def levels(self, place: Place) -> frozenset[RatingLevel]:
        settings = await self.guild_settings.get(place.guild_id)
        return allowed_levels(nsfw=place.nsfw, max_rating=settings.max_rating)

    async def readable(self, place: Place, story: StoryRecord) -> bool:
        return story.rating.level in await self.levels(place)

    async def require_readable(self, place: Place, story: StoryRecord) -> None:
        """Refuse, saying why, a story whose rating is not allowed here."""
        settings = await self.guild_settings.get(place.guild_id)
        if story.rating.level in allowed_levels(nsfw=place.nsfw, max_rating=settings.max_rating):
            return
        raise RatingRefused(story.title, story.rating, settings.max_rating)

    # ------------------------------------------------------------------ look-ups

    async def story(self, place: Place, title: str, *, gated: bool = True) -> StoryRecord:
        """The story a reader named, checked against this channel unless `gated` is False
        (moderators manage every story, wherever they are)."""
        found = await stories_db.find_story(self.quick, place.guild_id, title)
        if found is None:
            found = await self._by_clipped_title(place, title)
        if found is None:
            raise await self.unknown_story(place, title, gated=gated)
        if gated:
            await self.require_readable(place, found)
        return found

    async def _by_clipped_title(self, place: Place, title: str) -> StoryRecord | None:
        # Autocomplete values are at most 100 characters: a longer title arrives clipped
        # with "…", and is found by its start when exactly one title starts so.
        if not title.endswith(render.ELLIPSIS) or len(title) < 90:
            return None
        start = stories_db.title_key(title[: -len(render.ELLIPSIS)])
        choices = await stories_db.autocomplete_titles(
            self.quick, place.guild_id, start, None, limit=2
        )
        matching = [c for c in choices if stories_db.title_key(c.title).startswith(start)]
        if len(matching) != 1:
            return None
        return await stories_db.get_story(self.quick, place.guild_id, matching[0].id)

    async def unknown_story(self, place: Place, title: str, *, gated: bool) -> UnknownStory:
        """ "No story called …", with the closest titles on this shelf as suggestions."""
        titles = await stories_db.all_titles(self.db, place.guild_id)
        levels = await self.levels(place) if gated else frozenset(RatingLevel)
        close = process.extract(
            title,
            {choice.id: choice.title for choice in titles},
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=SUGGESTIONS * 2,
            score_cutoff=SUGGESTION_CUTOFF,
        )
        by_id = {choice.id: choice for choice in titles}
        readable = [by_id[key] for _, _, key in close if by_id[key].rating_level in levels]
        elsewhere = [by_id[key] for _, _, key in close if by_id[key].rating_level not in levels]
        shown = render.escape_inline(render.truncate(" ".join(title.split()), 100))
        message = f"There is no story called “{shown}” on this server's shelf."
        if readable:
            message += " Did you mean one of these?"
        elif elsewhere:
            message += (
                " A story with a similar title is on the shelf but is not shown in this "
                "channel; try an age-restricted channel."
            )
        else:
            message += " Try /stories to browse it."
        return UnknownStory(
            message,
            suggestions=[f"{c.id}:{c.title}" for c in readable[:SUGGESTIONS]],
            elsewhere=[c.title for c in elsewhere[:SUGGESTIONS]],
        )

    async def title_choices(
        self, place: Place, typed: str, *, every_rating: bool = False
    ) -> list[TitleChoice]:
        """Titles for autocomplete: those this channel may show (moderators: all).

        Discord asks at every keystroke, and readers type the same starts: an answer
        is kept while the server's shelf counter stands still.
        """
        levels = None if every_rating else await self.levels(place)
        if self.versions is None:
            return await stories_db.autocomplete_titles(self.quick, place.guild_id, typed, levels)
        shelf = (await self.versions.get(place.guild_id)).shelf
        key = (
            place.guild_id,
            None if levels is None else tuple(sorted(level.value for level in levels)),
            typed,
        )
        kept = self._title_answers.get(key)
        if kept is not None and kept[0] == shelf:
            self._title_answers.move_to_end(key)
            return [TitleChoice(n, title, RatingLevel(level)) for n, title, level in kept[1]]
        # Read after the counter: the answer is at least as new as `shelf`.
        found = await stories_db.autocomplete_titles(self.quick, place.guild_id, typed, levels)
        answer = tuple((choice.id, choice.title, choice.rating_level.value) for choice in found)
        self._title_answers[key] = (shelf, answer)
        self._title_answers.move_to_end(key)
        while len(self._title_answers) > TITLE_ANSWERS_KEPT:
            self._title_answers.popitem(last=False)
        return found

    async def section_choices(self, place: Place, title: str, typed: str) -> list[SectionSummary]:
        """Sections for autocomplete; none for a story this channel may not show."""
        story = await stories_db.find_story(self.quick, place.guild_id, title)
        if story is None or not await self.readable(place, story):
            return []
        return await sections_db.autocomplete_sections(self.quick, story.id, typed)

    async def sections(
        self, place: Place, story_id: int
    ) -> tuple[StoryRecord, list[SectionSummary]]:
        """A readable story's section list (for menus)."""
        story = await stories_db.get_story(self.quick, place.guild_id, story_id)
        if story is None:
            raise UserFacingError(STORY_GONE)
        await self.require_readable(place, story)
        return story, await self.section_list(story)

    # ------------------------------------------------------------------ pages

    def _render_pages(
        self, story: StoryRecord, position: int, section: SectionRecord | None
    ) -> list[render.Page]:
        """A section's pages, rendered once and kept while the story is unchanged.

        Keyed by story id and revision: ids are never reused and every change bumps
        the revision, so a cached page is always exactly the stored text.
        """
        key = (story.id, story.revision, position)
        cached = self._pages.get(key)
        if cached is not None:
            self._pages.move_to_end(key)
            return cached
        if section is None:
            raise UserFacingError(
                f"“{render.escape_inline(render.truncate(story.title, 100))}” has "
                f"{story.section_count} section{'s' if story.section_count != 1 else ''}; "
                f"there is no section {position}."
            )
        pages = render.render_section(
            story_title=story.title,
            author=story.author,
            rating=story.rating,
            warnings=story.warnings,
            section_number=position,
            section_total=story.section_count,
            section_title=section.title,
            text=_with_notes(section),
        )
        self._pages[key] = pages
        if len(self._pages) > self._cache_size:
            self._pages.popitem(last=False)
        return pages

    def forget_story(self, story_id: int) -> None:
        for key in [k for k in self._pages if k[0] == story_id]:
            del self._pages[key]
        for list_key in [k for k in self._section_lists if k[0] == story_id]:
            del self._section_lists[list_key]

    async def section_list(self, story: StoryRecord) -> list[SectionSummary]:
        """A story's sections (number, title, words), kept while the story is unchanged."""
        key = (story.id, story.revision)
        cached = self._section_lists.get(key)
        if cached is None:
            cached = await sections_db.list_sections(self.quick, story.id)
            self._section_lists[key] = cached
            if len(self._section_lists) > self._cache_size:
                self._section_lists.popitem(last=False)
        else:
            self._section_lists.move_to_end(key)
        return cached

    async def open(
        self, place: Place, story: str | int, position: int, page: int = 1, *, clamp: bool = False
    ) -> Opened:
        """One page of a section of a story (by title, or by id for buttons), gated here.

        `clamp` (buttons): a page past the end, after the story was replaced, shows
        the last page instead of refusing.
        """
        found, section = await sections_db.story_with_section(
            self.quick, place.guild_id, story, position
        )
        if found is None:
            if isinstance(story, int):
                raise UserFacingError(STORY_GONE)
            found = await self.story(place, story)
            found, section = await sections_db.story_with_section(
                self.quick, place.guild_id, found.id, position
            )
            if found is None:
                raise UserFacingError(STORY_GONE)
        await self.require_readable(place, found)
        pages = self._render_pages(found, position, section)
        if clamp:
            page = max(1, min(page, len(pages)))
        elif not 1 <= page <= len(pages):
            raise UserFacingError(
                f"Section {position} of “{render.escape_inline(render.truncate(found.title, 100))}”"
                f" has {len(pages)} page{'s' if len(pages) != 1 else ''}; there is no page {page}."
            )
        return Opened(found, position, pages, page)

    # ------------------------------------------------------------------ excerpts

    async def excerpt(self, place: Place, title: str | None) -> Excerpt:
        story_id = None
        if title:
            story_id = (await self.story(place, title)).id
        picked = await sections_db.random_section(
            self.db,
            place.guild_id,
            await self.levels(place),
            story_id=story_id,
            seed=self._rng.randrange(1 << 40),
        )
        if picked is None:
            raise UserFacingError(
                "There is no story on this server's shelf that can be posted in this channel."
            )
        story, section = await sections_db.story_with_section(
            self.quick, place.guild_id, picked[0], picked[1]
        )
        if story is None or section is None:
            raise UserFacingError(STORY_GONE)
        await self.require_readable(place, story)
        content = render.render_excerpt(
            story_title=story.title,
            author=story.author,
            rating=story.rating,
            warnings=story.warnings,
            section_number=section.position,
            section_total=story.section_count,
            section_title=section.title,
            passage=render.pick_excerpt(section.text, self._rng),
        )
        return Excerpt(story, section.position, content)

    # ------------------------------------------------------------------ browsing

    async def shelf(self, place: Place, offset: int, rating: str, query: str) -> ShelfPage:
        try:
            level = RatingLevel(rating) if rating else None
        except ValueError:
            raise UserFacingError("That button is not one of Storyshelf's.") from None
        levels = [level] if level else None
        total = await stories_db.count_stories(self.db, place.guild_id, query=query, levels=levels)
        last_page = max(total - 1, 0) // SHELF_PAGE_SIZE * SHELF_PAGE_SIZE
        offset = max(0, min(offset, last_page))
        stories = await stories_db.list_stories(
            self.db,
            place.guild_id,
            query=query,
            levels=levels,
            offset=offset,
            limit=SHELF_PAGE_SIZE,
        )
        return ShelfPage(stories, total, offset, await self.levels(place), query, level)

    async def card(self, place: Place, title: str) -> Card:
        """A story's card. A story this channel may not show gets a card too (private),
        which the cog shows without its summary, sections or first sentences."""
        return await self._card(place, await self.story(place, title, gated=False))

    async def card_by_id(self, place: Place, story_id: int) -> Card:
        story = await stories_db.get_story(self.quick, place.guild_id, story_id)
        if story is None:
            raise UserFacingError(STORY_GONE)
        return await self._card(place, story)

    async def _card(self, place: Place, story: StoryRecord) -> Card:
        readable = await self.readable(place, story)
        sections = await self.section_list(story) if readable else []
        totals = await feedback_db.story_totals(self.db, story.id)
        return Card(story, sections, totals, readable)

    # ------------------------------------------------------------------ search

    async def search(self, place: Place, query: str, title: str | None) -> SearchResults:
        story_id = (await self.story(place, title)).id if title else None
        if search_db.words_query(query) is None:
            raise UserFacingError("Search for at least one word (letters or digits).")
        return await search_db.search_sections(
            self.quick,
            place.guild_id,
            query,
            story_id=story_id,
            levels=await self.levels(place),
            limit=SEARCH_HITS,
            counts=self.word_counts,
        )

    # ------------------------------------------------------------------ feedback

    async def feedback(self, place: Place, title: str) -> FeedbackReport:
        """Reactions on a story's excerpts; gated like reading, since section names come
        from the story's own sentences."""
        story = await self.story(place, title)
        totals = await feedback_db.story_totals(self.db, story.id)
        sections = await feedback_db.section_feedback(self.db, story.id)
        titles = {s.position: s.title for s in await self.section_list(story)}
        return FeedbackReport(story, totals, sections, titles)
