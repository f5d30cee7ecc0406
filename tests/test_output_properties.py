"""Every reader-visible output, fed hostile story-derived data: within Discord's limits,
spoilers balanced the way Discord reads them, story text only inside spoilers, no pings.

The builders are pure (text and records in, message content or embeds out), so this
drives them directly with hypothesis-generated titles, section titles, metadata and
text; the SimCord tests show the cogs send exactly what they build.
"""

from __future__ import annotations

import random
import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import cards, render
from bot.db.feedback import EmojiCount, SectionFeedback, StoryTotals
from bot.db.search import SearchHit
from bot.db.sections import SectionSummary
from bot.db.stories import StoryRecord
from bot.errors import RatingRefused
from bot.render.snippets import MATCH_END, MATCH_START
from bot.services.progress import Progress
from bot.services.reading import Card, FeedbackReport, ShelfPage
from bot.story import ParsedStory, Rating, RatingLevel, Section

# Text that tries everything: spoiler bars, code, links, mentions, markup at line start.
NASTY = st.sampled_from(
    [
        "||",
        "|",
        "\\",
        "`",
        "```",
        "[x](https://e.example)",
        "@everyone",
        "@here",
        "<@123>",
        "<@&456>",
        "<#789>",
        "# ",
        "> ",
        "- ",
        "1. ",
        "*",
        "**",
        "_",
        "~~",
        "\n",
        "\n\n",
        "👩‍👩‍👧",
        "🇫🇷",
        "e\u0301",
        "漢字",
        " ",
    ]
)
TEXT = st.lists(
    st.one_of(NASTY, st.text(alphabet=string.ascii_letters + " .,!?", min_size=1, max_size=12)),
    max_size=40,
).map("".join)
LONG_TEXT = st.lists(st.one_of(NASTY, st.just("word " * 50)), max_size=30).map("".join)
LABEL = st.one_of(st.sampled_from(["G", "Mature", "Not Rated", "Teen And Up Audiences"]), TEXT)

PING = re.compile(r"@(everyone|here)|<@[!&]?\d+>", re.I)
MESSAGE_LIMIT = 2000


def spoiler_marks(text: str) -> list[int]:
    """Positions of `||` that Discord reads as spoiler marks (a backslash escapes the
    next punctuation character)."""
    marks = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in string.punctuation:
            i += 2
        elif text.startswith("||", i):
            marks.append(i)
            i += 2
        else:
            i += 1
    return marks


def outside_spoilers(text: str) -> str:
    marks = spoiler_marks(text)
    assert len(marks) % 2 == 0, f"unbalanced spoilers in {text!r}"
    pieces, last = [], 0
    for open_at, close_at in zip(marks[::2], marks[1::2], strict=True):
        pieces.append(text[last:open_at])
        last = close_at + 2
    pieces.append(text[last:])
    return "".join(pieces)


def check_message(content: str) -> None:
    assert len(content) <= MESSAGE_LIMIT
    outside_spoilers(content)  # balanced
    assert not PING.search(content)


def check_embed(embed) -> None:
    data = embed.to_dict()
    assert len(embed) <= 6000
    assert len(data.get("title", "")) <= 256
    assert len(data.get("description", "") or "") <= 4096
    assert len(data.get("fields", [])) <= 25
    for field in data.get("fields", []):
        assert 0 < len(field["name"]) <= 256
        assert 0 < len(field["value"]) <= 1024
    for text in [data.get("description") or "", *(f["value"] for f in data.get("fields", []))]:
        outside_spoilers(text)  # balanced
        assert not PING.search(text)


def story_record(title, author, label, metadata, sections=3) -> StoryRecord:
    return StoryRecord(
        id=1,
        guild_id=1,
        title=title or "x",
        author=author or None,
        rating=Rating(label or "G", RatingLevel.TEEN),
        metadata=metadata,
        section_count=sections,
        word_count=1234,
        added_at="2026-01-01T00:00:00Z",
    )


FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(title=TEXT, author=TEXT, label=LABEL, warnings=TEXT, section_title=TEXT, text=LONG_TEXT)
def test_pages_and_excerpts(title, author, label, warnings, section_title, text):
    rating = Rating(label or "G", RatingLevel.MATURE)
    pages = render.render_section(
        story_title=title,
        author=author,
        rating=rating,
        warnings=warnings,
        section_number=3,
        section_total=9,
        section_title=section_title,
        text=text,
    )
    for page in pages:
        check_message(page.content)
        header = outside_spoilers(page.content)
        assert len(header.splitlines()) <= 3  # the story text is all inside the spoiler
    passage = render.pick_excerpt(text, random.Random(1))
    excerpt = render.render_excerpt(
        story_title=title,
        author=author,
        rating=rating,
        warnings=warnings,
        section_number=1,
        section_total=1,
        section_title=section_title,
        passage=passage,
    )
    check_message(excerpt)


@FAST
@given(
    titles=st.lists(TEXT, min_size=1, max_size=5),
    sections=st.lists(TEXT, min_size=5, max_size=5),
    body=LONG_TEXT,
)
def test_search_results(titles, sections, body):
    hits = [
        SearchHit(
            n,
            (titles[n % len(titles)] or "t") * 5,
            Rating("G", RatingLevel.GENERAL),
            n,
            sections[n],
            f"{body[:200]} {MATCH_START}{body[200:230] or 'word'}{MATCH_END} {body[230:500]}",
        )
        for n in range(5)
    ]
    content, shown = cards.search_results(hits, limit=MESSAGE_LIMIT)
    assert 1 <= shown <= 5
    check_message(content)


@FAST
@given(
    title=TEXT,
    author=TEXT,
    label=LABEL,
    meta=st.dictionaries(
        st.sampled_from(
            ["summary", "fandom", "tags", "notes", "warnings", "pairing", "front_matter"]
        ),
        LONG_TEXT,
    ),
    section_titles=st.lists(TEXT, max_size=80),
)
def test_cards_shelf_feedback_preview(title, author, label, meta, section_titles):
    record = story_record(title, author, label, meta, sections=max(1, len(section_titles)))
    summaries = [SectionSummary(n + 1, t, 100) for n, t in enumerate(section_titles)]
    totals = StoryTotals((EmojiCount("❤️", 3), EmojiCount("<:e:1>", 2)), 2)
    for readable in (True, False):
        check_embed(cards.story_embed(Card(record, summaries, totals, readable)))
    check_embed(
        cards.shelf_embed(
            ShelfPage([record] * 10, 40, 0, frozenset({RatingLevel.GENERAL}), title, None)
        )
    )
    per_section = [
        SectionFeedback(n + 1, (EmojiCount("❤️", n + 1),), 1) for n in range(len(summaries))
    ]
    report = FeedbackReport(record, totals, per_section, {s.position: s.title for s in summaries})
    check_embed(cards.feedback_embed(report, legend="🟦 ❤️"))
    parsed = ParsedStory(
        title=title or "x",
        author=author or None,
        rating=Rating(label or "G", RatingLevel.NOT_RATED),
        sections=tuple(Section(t or "s", "text") for t in section_titles) or (Section("s", "t"),),
        metadata=meta,
        warnings=(title, author),
    )
    check_embed(cards.preview_embed(parsed))
    check_embed(cards.progress_embed([Progress(1, title or "x", 3, 2, 9)] * 25))


@FAST
@given(title=TEXT, label=LABEL)
def test_refusals(title, label):
    for level in (RatingLevel.MATURE, RatingLevel.EXPLICIT):
        refused = RatingRefused(title * 20, Rating(label * 50, level), RatingLevel.TEEN)
        for channels in ((), ("<#1>", "<#2>", "<#3>", "<#4>", "<#5>")):
            message = refused.with_channels(channels)
            check_message(message)
