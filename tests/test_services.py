"""The services without Discord: plain values in, records out, over a real SQLite file."""

from __future__ import annotations

import pytest

from bot.db.backend import open_backend
from bot.db.guild_settings import GuildSettingsStore
from bot.errors import RatingRefused, UnknownStory, UserFacingError
from bot.services.librarian import Librarian, parse_feedback_emoji
from bot.services.progress import ProgressBook
from bot.services.reading import Place, Reader
from bot.story import RatingLevel
from tests.support import make_story, shelve

GUILD = 42
ORDINARY = Place(GUILD, nsfw=False, user_id=7)
RESTRICTED = Place(GUILD, nsfw=True, user_id=7)


@pytest.fixture
async def services(settings):
    backend = await open_backend(settings)
    db, quick = backend.db, backend.quick
    store = GuildSettingsStore(db)
    reader = Reader(db, store, quick=quick)
    changed: list[int] = []
    removed: list[int] = []
    librarian = Librarian(
        db,
        store,
        database_path=settings.database_path,
        busy_timeout_ms=settings.busy_timeout_ms,
        max_upload_bytes=settings.max_upload_bytes,
        on_story_changed=changed.append,
        on_excerpts_removed=removed.extend,
    )
    try:
        yield reader, librarian, ProgressBook(db), changed
    finally:
        await backend.close()


async def test_reader_opens_pages_and_gates_by_channel(services, settings):
    reader, _, _, _ = services
    shelve(settings, GUILD, make_story("Open Door"))
    shelve(settings, GUILD, make_story("Closed Door", level=RatingLevel.EXPLICIT))

    opened = await reader.open(ORDINARY, "open door", 2)
    assert opened.story.title == "Open Door" and opened.position == 2
    assert "Two cups waited" in opened.content

    with pytest.raises(RatingRefused) as refused:
        await reader.open(ORDINARY, "Closed Door", 1)
    assert "age-restricted" in refused.value.with_channels(["<#1>"])
    assert (await reader.open(RESTRICTED, "Closed Door", 1)).story.title == "Closed Door"


async def test_reader_suggests_close_titles_it_may_show(services, settings):
    reader, _, _, _ = services
    shelve(settings, GUILD, make_story("Alice's Adventures in Wonderland"))
    shelve(settings, GUILD, make_story("Alice After Dark", level=RatingLevel.EXPLICIT))

    with pytest.raises(UnknownStory) as unknown:
        await reader.story(ORDINARY, "Alice in Wonderlnd")

    titles = [s.partition(":")[2] for s in unknown.value.suggestions]
    assert titles[0] == "Alice's Adventures in Wonderland"
    assert "Alice After Dark" not in titles


async def test_reader_pages_follow_edits(services, settings):
    reader, librarian, _, changed = services
    stored = shelve(settings, GUILD, make_story("Edited"))
    before = await reader.open(ORDINARY, "Edited", 1)

    await librarian.edit(
        GUILD,
        stored.id,
        title="Edited Again",
        author="Someone Else",
        rating="Teen",
        summary="",
        notes="",
        user_id=7,
    )

    assert changed == [stored.id]
    after = await reader.open(ORDINARY, "Edited Again", 1)
    assert "Someone Else" in after.content and "Someone Else" not in before.content


async def test_progress_is_written_in_batches_and_forgotten(services, settings):
    _, _, progress, _ = services
    first = shelve(settings, GUILD, make_story("One"))
    second = shelve(settings, GUILD, make_story("Two"))
    progress.record(GUILD, 7, first.id, 2, 3)
    progress.record(GUILD, 7, second.id, 1, 1)

    assert (await progress.latest(GUILD, 7)).story_id == second.id  # unwritten counts
    assert await progress.flush() == 2
    assert progress.pending == 0
    assert (await progress.latest(GUILD, 7, first.id)).page == 3
    listed = await progress.reading_list(GUILD, 7)
    assert [(p.title, p.section, p.percent) for p in listed] == [("Two", 1, 50), ("One", 2, 100)]

    assert await progress.forget(GUILD, 7) == 2
    assert await progress.latest(GUILD, 7) is None


async def test_librarian_refuses_what_is_not_a_story_before_reading_it(services):
    _, librarian, _, _ = services
    with pytest.raises(UserFacingError, match="not a story file"):
        librarian.check_upload("photo.png", 1000, "image/png")
    with pytest.raises(UserFacingError, match="limit"):
        librarian.check_upload("huge.txt", 50 * 1024 * 1024, "text/plain")
    librarian.check_upload("book.epub", 1000, "application/epub+zip")


async def test_librarian_settings_and_emoji(services):
    _, librarian, _, _ = services
    change = await librarian.change_settings(
        GUILD,
        7,
        emoji="📚 ⭐",
        server_emoji_ids=set(),
        max_rating="mature",
        notes="Be kind.",
    )
    assert change.settings.feedback_emoji == ("📚", "⭐")
    assert change.settings.max_rating is RatingLevel.MATURE
    assert change.settings.moderator_notes == "Be kind."
    with pytest.raises(UserFacingError, match="General, Teen or Mature"):
        await librarian.change_settings(
            GUILD, 7, emoji=None, server_emoji_ids=set(), max_rating="explicit", notes=None
        )
    with pytest.raises(UserFacingError, match="not an emoji of this server"):
        parse_feedback_emoji("<:mine:123456789012345678>", set())
