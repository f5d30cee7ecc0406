"""Export → import gives back exactly the story: `/library remove` relies on it."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.export import story_text
from bot.parsing import parse_story
from bot.story import ParsedStory, Rating, RatingLevel, Section

# Story text as the parser stores it: printable text with line breaks, and the
# things that used to be misread (headings, header keys, markers, delimiters).
PIECES = st.sampled_from(
    [
        "Chapter 7",
        "Prologue",
        "Title: x",
        "Rating: NC-17",
        "*** START OF THE PROJECT GUTENBERG EBOOK X ***",
        "§§ Text",
        "\\§§",
        "  indented",
        "* * *",
        "---",
        "# heading",
        "\n",
        "\n\n",
        "é",
        "漢字",
        "🙂",
    ]
)
TEXT = st.lists(
    st.one_of(
        PIECES, st.text(alphabet=string.ascii_letters + string.punctuation + " ", max_size=15)
    ),
    max_size=25,
).map("".join)
LINE = TEXT.map(lambda t: " ".join(t.split()))
KEY = st.text(alphabet=string.ascii_letters + '_ :-"', min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    title=LINE.filter(str.strip),
    author=st.one_of(st.none(), LINE),
    label=LINE,
    level=st.sampled_from(list(RatingLevel)),
    metadata=st.dictionaries(KEY, TEXT, max_size=5),
    sections=st.lists(st.tuples(LINE, TEXT, TEXT), min_size=1, max_size=6),
)
def test_any_story_survives_export_and_import(title, author, label, level, metadata, sections):
    story = ParsedStory(
        title=title,
        author=author,
        rating=Rating(label, level),
        sections=tuple(Section(t, text, notes) for t, text, notes in sections),
        metadata=metadata,
    )
    exported = story_text(
        title=story.title,
        author=story.author,
        rating=story.rating,
        metadata=story.metadata,
        sections=[(s.title, s.text, s.notes) for s in story.sections],
    )

    back = parse_story(exported.encode("utf-8"), "story.txt")

    assert back.title == story.title
    assert back.author == story.author
    assert back.rating == story.rating
    assert back.metadata == story.metadata
    assert back.sections == story.sections
