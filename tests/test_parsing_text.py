"""Header, chapter and scene rules on small constructed stories (plain text and Markdown)."""

from __future__ import annotations

import pytest

from bot.parsing import StoryFileError, parse_story
from bot.parsing.blocks import is_scene_break_line
from bot.parsing.headings import HeadingMemo, match_candidate, match_heading
from bot.parsing.sections import title_from_text
from bot.story import SCENE_BREAK, ParsedStory, RatingLevel


def parse(text: str, filename: str = "story.txt") -> ParsedStory:
    return parse_story(text.encode("utf-8"), filename)


def titles(story: ParsedStory) -> list[str]:
    return [section.title for section in story.sections]


def texts(story: ParsedStory) -> list[str]:
    return [section.text for section in story.sections]


# --- header -------------------------------------------------------------------------------------


def test_header_keys_map_to_canonical_metadata() -> None:
    story = parse(
        "Title: Rain\n\nBy: Someone\n\nRelationships: A/B\n\nFandoms: Torchwood\n\n"
        "Warnings: None\n\nCategory: M/M\n\nCharacters: Jack, Ianto\n\nTags: fluff\n\n"
        "Summary: It rains.\n\nDisclaimer: Not mine.\n\nAuthor's Notes: Thanks.\n\n"
        "Beta: My friend\n\nIt rained all day.\n"
    )
    assert story.title == "Rain"
    assert story.author == "Someone"
    assert story.metadata == {
        "pairing": "A/B",
        "fandom": "Torchwood",
        "warnings": "None",
        "category": "M/M",
        "characters": "Jack, Ianto",
        "tags": "fluff",
        "summary": "It rains.",
        "disclaimer": "Not mine.",
        "notes": "Thanks.",
        "beta": "My friend",
    }
    assert texts(story) == ["It rained all day."]


def test_header_lines_may_share_one_paragraph() -> None:
    story = parse("Title: Rain\nAuthor: Me\nRating: G\nSummary: Wet.\n  Very wet.\n\nIt rained.\n")
    assert (story.title, story.author, story.rating.level) == ("Rain", "Me", RatingLevel.GENERAL)
    assert story.metadata["summary"] == "Wet.\nVery wet."
    assert texts(story) == ["It rained."]


def test_unknown_header_keys_are_kept_lower_cased() -> None:
    story = parse("Title: Rain\n\nWord Count: 3\n\nSeries: Weather\n\nRating: T\n\nIt rained.\n")
    assert story.metadata == {"word count": "3", "series": "Weather"}


def test_markdown_bold_keys_are_read() -> None:
    story = parse("**Title:** Rain\n**Rating**: Explicit\n\nIt rained.\n", "rain.md")
    assert story.title == "Rain"
    assert story.rating.level is RatingLevel.EXPLICIT


def test_story_opening_with_a_colon_is_not_a_header() -> None:
    story = parse("Dear John: I write to you from the front.\n\nIt is cold here.\n", "letter.txt")
    assert texts(story) == ["Dear John: I write to you from the front.\n\nIt is cold here."]
    assert story.title == "letter"
    assert story.metadata == {}


def test_dialogue_after_the_header_stays_in_the_story() -> None:
    story = parse("Title: Script\n\nRating: G\n\nJack: Hello.\n\nIanto: Hi.\n")
    assert texts(story) == ["Jack: Hello.\n\nIanto: Hi."]
    assert story.metadata == {}


def test_a_first_line_alone_is_not_a_header() -> None:
    story = parse("Rain\n\nIt rained all day.\n", "rain_story.txt")
    assert texts(story) == ["Rain\n\nIt rained all day."]


def test_title_falls_back_to_the_first_line() -> None:
    story = parse("Rain on Tuesday\n\nRating: G\n\nIt rained.\n")
    assert story.title == "Rain on Tuesday"
    assert texts(story) == ["It rained."]


def test_title_falls_back_to_the_file_name_with_a_warning() -> None:
    story = parse("Rating: G\n\nIt rained.\n", "rain_on_tuesday.txt")
    assert story.title == "rain on tuesday"
    assert "No title found; used the file name “rain on tuesday”." in story.warnings


def test_missing_rating_is_not_rated_with_a_warning() -> None:
    story = parse("Title: Rain\n\nIt rained.\n")
    assert story.rating.level is RatingLevel.NOT_RATED
    assert any("No rating found" in warning for warning in story.warnings)


def test_unrecognised_rating_is_not_rated_with_a_warning_quoting_it() -> None:
    story = parse("Title: Rain\n\nRating: Spicy\n\nIt rained.\n")
    assert story.rating.level is RatingLevel.NOT_RATED
    assert "Rating “Spicy” not recognised; marked Not Rated." in story.warnings


def test_summary_may_follow_its_key_as_the_next_paragraph() -> None:
    story = parse("Title: Rain\n\nSummary:\n\nIt rains a lot.\n\nRating: G\n\nIt rained.\n")
    assert story.metadata["summary"] == "It rains a lot."
    assert texts(story) == ["It rained."]


def test_header_with_only_symbols_after_it_has_no_story() -> None:
    with pytest.raises(StoryFileError, match="has a header but no story text after it"):
        parse("Title: Rain\n\nRating: G\n\n* * *\n")


# --- chapters ----------------------------------------------------------------------------------


def test_chapter_headings_of_several_shapes_become_section_titles() -> None:
    story = parse(
        "Title: Shapes\n\nPrologue\n\nBefore.\n\nChapter 1\n\nOne.\n\n"
        "Chapter Two: The Return\n\nTwo.\n\nCHAPTER III.\n\nThree.\n\n"
        "Part 4\n\nFour.\n\nEpilogue\n\nAfter.\n"
    )
    assert titles(story) == [
        "Prologue",
        "Chapter 1",
        "Chapter Two: The Return",
        "CHAPTER III.",
        "Part 4",
        "Epilogue",
    ]
    assert texts(story) == ["Before.", "One.", "Two.", "Three.", "Four.", "After."]
    assert "Split into 6 sections at chapter headings." in story.warnings


def test_heading_line_and_title_line_are_one_title() -> None:
    story = parse("CHAPTER I.\nDown the Hole\n\nShe fell.\n\nCHAPTER II.\nThe Pool\n\nShe swam.\n")
    assert titles(story) == ["CHAPTER I. Down the Hole", "CHAPTER II. The Pool"]
    assert texts(story) == ["She fell.", "She swam."]


def test_volume_and_book_lines_lead_the_first_chapter_under_them() -> None:
    story = parse(
        "Book One\n\nChapter 1\n\nA.\n\nChapter 2\n\nB.\n\n"
        "Book Two\nThe Return\n\nChapter 3\n\nC.\n"
    )
    assert titles(story) == [
        "Book One · Chapter 1",
        "Chapter 2",
        "Book Two: The Return · Chapter 3",
    ]
    assert texts(story) == ["A.", "B.", "C."]


def test_bare_numerals_count_up_to_be_chapters() -> None:
    story = parse("I.\n\nFirst.\n\nII.\n\nSecond.\n\nIII.\nThe End\n\nThird.\n")
    assert titles(story) == ["I.", "II.", "III. The End"]


def test_a_stray_number_is_not_a_chapter() -> None:
    story = parse("He counted.\n\n3\n\nThen he stopped, and the night went on.\n")
    assert len(story.sections) == 1
    assert story.sections[0].text == "He counted.\n\n3\n\nThen he stopped, and the night went on."


def test_one_heading_like_line_mid_story_is_text() -> None:
    text = "It began.\n\nChapter 1\n\nShe read the first chapter aloud.\n"
    story = parse(text)
    assert texts(story) == [text.strip()]


def test_table_of_contents_block_is_not_sections() -> None:
    story = parse(
        "Contents\n\nChapter 1: Rain\nChapter 2: Sun\n\n"
        "Chapter 1: Rain\n\nIt rained all day, and nobody went outside at all.\n\n"
        "Chapter 2: Sun\n\nThen the sun came out.\n",
        "weather.txt",
    )
    assert titles(story) == ["Chapter 1: Rain", "Chapter 2: Sun"]
    assert any("before the first chapter" in warning for warning in story.warnings)
    assert story.metadata["front_matter"].startswith("Contents\n\nChapter 1: Rain")


def test_table_of_contents_as_separate_lines_is_not_sections() -> None:
    story = parse(
        "Contents\n\nChapter 1\n\nChapter 2\n\n\n"
        "Chapter 1\n\nIt rained all day, and nobody went outside at all.\n\n"
        "Chapter 2\n\nThen the sun came out.\n"
    )
    assert titles(story) == ["Chapter 1", "Chapter 2"]
    assert texts(story) == [
        "It rained all day, and nobody went outside at all.",
        "Then the sun came out.",
    ]


def test_front_matter_with_real_text_is_kept_as_a_leading_section() -> None:
    story = parse(
        "Title: Rain\n\nA note before we start: this story was written for a friend.\n\n"
        "Chapter 1\n\nIt rained.\n\nChapter 2\n\nIt stopped.\n"
    )
    assert titles(story) == [
        "A note before we start: this story was written for a friend.",
        "Chapter 1",
        "Chapter 2",
    ]


def test_front_matter_that_is_only_a_title_page_is_skipped_and_may_name_the_story() -> None:
    story = parse("The Long Rain\n\nby Someone\n\nChapter 1\n\nIt rained.\n\nChapter 2\n\nDry.\n")
    assert titles(story) == ["Chapter 1", "Chapter 2"]
    assert story.title == "The Long Rain"


def test_scene_breaks_inside_chapters_become_scene_break_paragraphs() -> None:
    story = parse(
        "Chapter 1\n\nMorning.\n\n* * *\n\nNoon.\n\n\nEvening.\n\noOo\n\nNight.\n\n"
        "Chapter 2\n\nDawn.\n\n~~~\n"
    )
    assert texts(story) == [
        f"Morning.\n\n{SCENE_BREAK}\n\nNoon.\n\n{SCENE_BREAK}\n\nEvening.\n\n"
        f"{SCENE_BREAK}\n\nNight.",
        "Dawn.",
    ]


# --- scenes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mark", ["* * *", "***", "~~~", "-----", "#", "~*~", "oOo", "xXx", "   -oOo-", "• • •"]
)
def test_symbol_and_ornament_lines_split_scenes(mark: str) -> None:
    story = parse(f"First scene.\n\n{mark}\n\nSecond scene.\n")
    assert texts(story) == ["First scene.", "Second scene."]
    assert "No chapter headings found; split into 2 scenes at scene breaks." in story.warnings


@pytest.mark.parametrize("line", ["—", "…", "“…”", "Ooo", "xxx", "I", "A—", "...", "?!"])
def test_punctuation_lines_are_not_scene_breaks(line: str) -> None:
    assert not is_scene_break_line(line)


def test_two_blank_lines_split_scenes_one_does_not() -> None:
    story = parse("One.\n\nStill one.\n\n\nTwo.\n\n\n\n\nThree.\n")
    assert texts(story) == ["One.\n\nStill one.", "Two.", "Three."]


def test_double_spaced_file_is_not_split_at_every_paragraph() -> None:
    paragraphs = [f"Paragraph {n} goes here." for n in range(12)]
    story = parse("\n\n\n".join(paragraphs[:6]) + "\n\n\n\n" + "\n\n\n".join(paragraphs[6:]))
    assert len(story.sections) == 2


def test_one_paragraph_per_line_files_split_scenes_at_blank_lines() -> None:
    long = "This is a long paragraph that goes on for a while without any line breaks at all. " * 3
    story = parse(f"{long}\n{long}\n{long}\n\n{long}\n{long}\n")
    assert len(story.sections) == 2
    assert story.sections[0].text.count("\n\n") == 2


def test_scene_without_heading_is_named_by_its_first_sentence_cut_at_a_word() -> None:
    sentence = (
        "On Wednesday, they were almost caught, locked in a tight embrace in the office "
        "behind the archive."
    )
    assert title_from_text(sentence) == (
        "On Wednesday, they were almost caught, locked in a tight embrace in the office…"
    )
    assert title_from_text("Mr. Bennet came home. Then tea.") == "Mr. Bennet came home."
    assert title_from_text("“Hello!” she said.") == "“Hello!”"
    assert len(title_from_text("x" * 500)) == 80


def test_verse_keeps_its_line_breaks() -> None:
    story = parse("He sang:\n\nRoses are red,\nViolets are blue,\nSugar is sweet.\n")
    assert (
        story.sections[0].text == "He sang:\n\nRoses are red,\nViolets are blue,\nSugar is sweet."
    )


def test_indented_paragraphs_lose_their_indent_only() -> None:
    story = parse("    First paragraph.\n\n\tSecond paragraph.\n\n  A poem\n    indented more\n")
    assert story.sections[0].text == (
        "First paragraph.\n\nSecond paragraph.\n\nA poem\n  indented more"
    )


# --- headings, line by line ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Chapter 1",
        "Chapter One: Title",
        "CHAPTER IV.",
        "CHAPTER I—M. MYRIEL",
        "Part 2",
        "Part the First",
        "BOOK FIRST—A JUST MAN",
        "Prologue",
        "EPILOGUE",
        "Chapter Twenty-Three - Home",
        "Chapter 3 of 10",
    ],
)
def test_heading_lines(line: str) -> None:
    assert match_heading(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "Chapter and verse were quoted.",
        "Part of the plan was simple.",
        "Book two of the series is better.",
        "Chapter I. was the longest of them all.",
        "Prologues are boring.",
        "I think so.",
    ],
)
def test_prose_lines_are_not_headings(line: str) -> None:
    assert match_heading(line) is None


def test_a_story_remembers_each_line_as_it_was_judged() -> None:
    """One story's memo answers every line as the patterns do: numbered lines of prose it
    refused by their shape ("Scene 12 begins here.") never hide a heading."""
    lines = [
        *(f"Scene {n} begins here, in the rain." for n in range(1, 40)),
        *(f"Scene {n}" for n in range(1, 40)),
        *(f"Chapter {n}. was long." for n in (1, 12, 123, 1234, 12345)),
        *(f"Chapter {n}." for n in (1, 12, 123, 1234, 12345)),  # five digits: no chapter
        *(f"Part {n} of {m}" for n, m in ((1, 2), (3, 40), (50, 6))),
        *(f"Part {n} of the plan" for n in (1, 7, 70)),
        "12",
        "123",
        "1234",
        "Act 9 ended.",
        "ACT 9",
    ]
    for order in (lines, lines[::-1]):  # refused lines first, and last
        memo = HeadingMemo()
        for line in order:
            assert memo(line) == match_candidate(line), line


# --- Markdown ----------------------------------------------------------------------------------

MARKDOWN = """---
title: "Tea at Five"
author: Someone
rating: T
tags:
  - fluff
  - tea
---

# Tea at Five

## Chapter 1: The Kettle

The kettle *sang* at five.

***

Nobody came.

## Chapter 2

Two cups waited.

---

Then the door opened.

### A small heading

More.
"""


def test_markdown_front_matter_title_chapters_and_breaks() -> None:
    story = parse(MARKDOWN, "tea.md")
    assert (story.title, story.author, story.rating.label) == ("Tea at Five", "Someone", "T")
    assert story.metadata == {"tags": "fluff, tea"}
    assert titles(story) == ["Chapter 1: The Kettle", "Chapter 2"]
    assert texts(story) == [
        f"The kettle *sang* at five.\n\n{SCENE_BREAK}\n\nNobody came.",
        f"Two cups waited.\n\n{SCENE_BREAK}\n\nThen the door opened.\n\n### A small heading"
        "\n\nMore.",
    ]
    assert story.source_format == "markdown"


def test_markdown_hash_title_is_used_when_the_header_has_none() -> None:
    story = parse("Rating: G\n\n# Rainy Day\n\nIt *rained*.\n\n* * *\n\nIt stopped.\n", "r.md")
    assert story.title == "Rainy Day"
    assert texts(story) == ["It *rained*.", "It stopped."]


def test_markdown_header_title_wins_and_the_hash_line_is_not_story() -> None:
    story = parse("Title: Rain\n\n# Rain (a story)\n\nIt rained.\n", "r.md")
    assert story.title == "Rain"
    assert texts(story) == ["It rained."]


def test_markdown_level_one_headings_are_chapters_when_there_are_several() -> None:
    story = parse("# One\n\nFirst.\n\n# Two\n\nSecond.\n", "two.md")
    assert titles(story) == ["One", "Two"]
    assert story.title == "two"


def test_markdown_setext_headings() -> None:
    story = parse("Rain\n====\n\nChapter A\n---------\n\nWet.\n\nChapter B\n---\n\nDry.\n", "r.md")
    assert story.title == "Rain"
    assert titles(story) == ["Chapter A", "Chapter B"]


def test_markdown_without_headings_splits_scenes() -> None:
    story = parse("One.\n\n---\n\nTwo.\n\n* * *\n\nThree.\n", "s.md")
    assert texts(story) == ["One.", "Two.", "Three."]


def test_markdown_code_fence_is_not_a_heading_or_break() -> None:
    story = parse("## Part\n\nText.\n\n```\n# not a heading\n```\n", "c.md")
    assert titles(story) == ["Part"]
    assert "# not a heading" in story.sections[0].text


def test_markdown_front_matter_with_no_story_is_refused() -> None:
    with pytest.raises(StoryFileError, match="has a header but no story text after it"):
        parse("---\ntitle: Empty\n---\n\n", "e.md")


def test_markdown_header_with_only_a_title_is_refused() -> None:
    with pytest.raises(StoryFileError, match="no story text"):
        parse("# Just a title\n", "t.md")


def test_markdown_hash_title_above_a_header_is_the_title() -> None:
    story = parse("# Rainy Day\n\nAuthor: Me\nRating: G\n\nIt rained.\n", "r.md")
    assert (story.title, story.author) == ("Rainy Day", "Me")
    assert texts(story) == ["It rained."]


# --- headings people use ------------------------------------------------------------------------

PROSE = "She walked to the window and looked out at the rain for a long while."


@pytest.mark.parametrize(
    "heading",
    [
        "STAVE I: MARLEY'S GHOST",
        "Stave Two",
        "THE PROLOGUE",
        "Interlude II",
        "Interlude 3: Elsewhere",
        "EPILOGUE",
        "Canto IV",
        "Letter 2",
        "**Chapter 7: The Storm**",
        "__Chapter 7: The Storm__",
        "Chapter XI  Above the Trap-Doors",
    ],
)
def test_heading_shapes_start_chapters_with_clean_titles(heading: str) -> None:
    story = parse(f"Title: T\n\nChapter 1\n\n{PROSE}\n\n{heading}\n\n{PROSE}\n")

    assert len(story.sections) == 2
    assert "*" not in story.sections[1].title and "_" not in story.sections[1].title
    assert story.sections[1].title.split()[0].strip("*_").lower() in heading.lower()
    assert story.sections[1].text == PROSE


def test_a_play_is_split_into_scenes_titled_with_their_act() -> None:
    story = parse(
        "Title: A Play\n\nACT I\n\nSCENE I. A garden.\n\n"
        + f"{PROSE}\n\n" * 3
        + "SCENE II. A hall.\n\n"
        + f"{PROSE}\n\n"
        + "ACT II\n\nSCENE I. The garden again.\n\n"
        + f"{PROSE}\n"
    )

    assert titles(story) == [
        "ACT I · SCENE I. A garden.",
        "ACT I · SCENE II. A hall.",
        "ACT II · SCENE I. The garden again.",
    ]
    assert story.metadata["parts"] == "ACT I\nACT II"


def test_acts_in_words_are_sections_when_there_are_no_scenes() -> None:
    story = parse(f"FIRST ACT\n\n{PROSE}\n\nSECOND ACT\n\n{PROSE}\n\nTHIRD ACT\n\n{PROSE}\n")

    assert titles(story) == ["FIRST ACT", "SECOND ACT", "THIRD ACT"]
    assert [section.text for section in story.sections] == [PROSE] * 3


def test_a_bold_heading_in_plain_text_is_a_chapter_without_its_stars() -> None:
    story = parse(f"**Chapter One**\n\n{PROSE}\n\n**Chapter Two**\n\n{PROSE}\n")

    assert titles(story) == ["Chapter One", "Chapter Two"]


def test_untitled_sections_are_named_without_markup() -> None:
    story = parse("> *Good afternoon, 47.*\n\nThe room was empty.\n\n* * *\n\n**Later.** Rain.\n")

    assert titles(story) == ["Good afternoon, 47.", "Later."]


def test_an_act_heading_alone_never_makes_a_two_word_section() -> None:
    story = parse("ACT I\n\nSCENE 1\n\n" + f"{PROSE}\n\n" + "ACT II\n\nSCENE 1\n\n" + f"{PROSE}\n")

    assert all(section.words > 5 for section in story.sections)
    assert titles(story) == ["ACT I · SCENE 1", "ACT II · SCENE 1"]


# --- front matter -------------------------------------------------------------------------------


def test_a_bare_numeral_contents_list_dedication_and_epigraph_are_front_matter() -> None:
    story = parse(
        "*** START OF THE PROJECT GUTENBERG EBOOK X ***\n\n"
        "                 A Novel\n\n"
        "             Table of Contents\n\nI\nII\nIII\n\n\n"
        "                Once again\n                    to\n                 Zelda\n\n\n"
        "  Then wear the gold hat, if that will move her;\n"
        "  If you can bounce high, bounce for her too,\n\n"
        "  — A Poet\n\n\n"
        f"I\n\n{PROSE}\n\nII\n\n{PROSE}\n\nIII\n\n{PROSE}\n",
        "book.txt",
    )

    assert titles(story) == ["I", "II", "III"]
    front = story.metadata["front_matter"]
    assert "Zelda" in front and "gold hat" in front and "Table of Contents" in front
    assert story.words == 3 * len(PROSE.split())


def test_a_cast_list_is_front_matter_not_a_section() -> None:
    story = parse(
        "Title: A Play\n\nDramatis Personae\n\nHAMLET, Prince of Denmark, son of the late king.\n"
        "HORATIO, friend to Hamlet, and a scholar of the university.\n\n"
        "SCENE. Elsinore, where the whole of the play takes place.\n\n"
        f"ACT I\n\nSCENE I. A platform.\n\n{PROSE}\n"
    )

    assert titles(story) == ["ACT I · SCENE I. A platform."]
    assert "HORATIO, friend to Hamlet" in story.metadata["front_matter"]
    assert "HORATIO" not in story.sections[0].text


def test_a_preface_before_the_chapters_is_front_matter() -> None:
    story = parse(f"PREFACE\n\n{PROSE}\n\nChapter 1\n\n{PROSE}\n\nChapter 2\n\n{PROSE}\n")

    assert titles(story) == ["Chapter 1", "Chapter 2"]
    assert story.metadata["front_matter"] == f"PREFACE\n\n{PROSE}"


def test_a_prologue_before_the_chapters_is_a_chapter() -> None:
    story = parse(f"Prologue\n\n{PROSE}\n\nChapter 1\n\n{PROSE}\n")

    assert titles(story) == ["Prologue", "Chapter 1"]


# --- layouts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rated", "level"),
    [
        ("Fiction K", RatingLevel.GENERAL),
        ("Fiction K+", RatingLevel.TEEN),
        ("Fiction T", RatingLevel.TEEN),
        ("Fiction M", RatingLevel.MATURE),
        ("Fiction  MA", RatingLevel.EXPLICIT),
    ],
)
def test_fanfiction_net_ratings_map_to_the_scale(rated: str, level: RatingLevel) -> None:
    story = parse(
        f"A Title\nBy: someone\nA summary of the story.\n"
        f"Rated: {rated} - English - Humor - Chapters: 1 - Words: 15 - Published: 1/2/2010\n\n"
        f"{PROSE}\n"
    )

    assert story.title == "A Title"
    assert story.author == "someone"
    assert story.rating.level is level
    assert story.metadata["summary"] == "A summary of the story."
    assert story.metadata["language"] == "English"
    assert story.metadata["genre"] == "Humor"
    assert texts(story) == [PROSE]


def test_a_rated_line_deep_in_a_story_is_not_a_fanfiction_net_header() -> None:
    story = parse("Title: T\n\n" + f"{PROSE}\n\n" * 200 + "Rated: Fiction T - English\n")

    assert story.title == "T"
    assert story.sections[-1].text.endswith("Rated: Fiction T - English")


def test_author_notes_open_and_close_a_chapter_outside_its_words() -> None:
    story = parse(
        f"Title: T\n\nChapter 1\n\nA/N: Thanks to my beta!\n\n{PROSE}\n\n{PROSE}\n\n"
        "Author's Note: Please review.\n\n"
        f"Chapter 2\n\n{PROSE}\n"
    )

    first = story.sections[0]
    assert first.notes == "A/N: Thanks to my beta!\n\nAuthor's Note: Please review."
    assert first.text == f"{PROSE}\n\n{PROSE}"
    assert first.words == 2 * len(PROSE.split())


def test_a_letter_ending_in_a_note_word_mid_chapter_stays_text() -> None:
    text = f"Chapter 1\n\n{PROSE}\n\nNote: the door was locked.\n\n" + f"{PROSE}\n\n" * 4
    story = parse(text + f"Chapter 2\n\n{PROSE}\n")

    assert "Note: the door was locked." in story.sections[0].text
    assert story.sections[0].notes == ""


def test_a_bold_title_and_byline_on_top_of_a_one_shot() -> None:
    story = parse(f"**The Quiet Hour**\n\n**by Ada Fenn**\n\n{PROSE}\n", "story.md")

    assert story.title == "The Quiet Hour"
    assert story.author == "Ada Fenn"
    assert texts(story) == [PROSE]


def test_a_story_opening_with_by_is_not_a_byline() -> None:
    story = parse(f"The Walk\n\nBy the time she came home, it was dark.\n\n{PROSE}\n")

    assert story.author is None
    assert "By the time she came home, it was dark." in story.sections[0].text


@pytest.mark.parametrize("mark", ["oOoOoOo", "xXxXx", "ooOOoo", "~oOo~", "-xXx-", "o0o0o"])
def test_ornament_breaks_of_any_length(mark: str) -> None:
    story = parse(f"{PROSE}\n\n{mark}\n\n{PROSE}\n")

    assert len(story.sections) == 2


@pytest.mark.parametrize("word", ["Ooo", "xxx", "OOOooo", "Oh", "ox"])
def test_words_of_o_and_x_are_not_breaks(word: str) -> None:
    assert not is_scene_break_line(word)


def test_a_markdown_part_heading_under_a_front_matter_title_is_kept() -> None:
    story = parse(
        "---\ntitle: Tides\nauthor: [A, B]\nabstract: Sea stories.\n---\n\n"
        f"# Part One\n\n## The Shore\n\n{PROSE}\n\n## The Reef\n\n{PROSE}\n",
        "tides.md",
    )

    assert story.title == "Tides"
    assert story.author == "A, B"
    assert story.metadata["summary"] == "Sea stories."
    assert titles(story) == ["Part One · The Shore", "The Reef"]


# --- word counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hello world", 2),
        ("我爱你", 3),
        ("「你好」，世界。", 4),
        ("こんにちは、世界", 7),
        ("カタカナ", 4),
        ("안녕하세요 친구", 7),
        ("Harry said 你好 twice", 5),
        ("naïve café — fin", 4),
    ],
)
def test_words_are_counted_as_ao3_counts_them(text: str, words: int) -> None:
    from bot.story import count_words

    assert count_words(text) == words


def test_a_chinese_story_counts_each_character() -> None:
    story = parse("Title: 雨\n\n下雨了。她在窗前等。\n")

    assert story.words == 8


def test_a_livejournal_post_header_stays_right() -> None:
    story = parse(
        "Title: Snow\nAuthor: someone\nFandom: Torchwood\nRating: PG-13\nPairing: Jack/Ianto\n"
        "Word Count: 1,200\nDisclaimer: Not mine.\nSummary: It snows.\n\n"
        f"{PROSE}\n\n{PROSE}\n"
    )

    assert (story.title, story.author) == ("Snow", "someone")
    assert story.rating.level is RatingLevel.TEEN
    assert story.metadata["pairing"] == "Jack/Ianto"
    assert story.metadata["disclaimer"] == "Not mine."
    assert texts(story) == [f"{PROSE}\n\n{PROSE}"]
    assert "front_matter" not in story.metadata


def test_an_indented_opening_before_chapter_one_is_story_text_not_front_matter() -> None:
    story = parse(
        f"Title: T\n\n    {PROSE}\n\n    To be honest, it was a terrible day.\n\n"
        f"Chapter 1\n\n{PROSE}\n\nChapter 2\n\n{PROSE}\n"
    )

    assert titles(story)[1:] == ["Chapter 1", "Chapter 2"]
    assert story.sections[0].text == f"{PROSE}\n\nTo be honest, it was a terrible day."


def test_a_short_dedication_before_chapter_one_is_front_matter() -> None:
    story = parse(
        "Title: T\n\nFor my sister, who read every draft\n\n"
        f"Chapter 1\n\n{PROSE}\n\nChapter 2\n\n{PROSE}\n"
    )

    assert titles(story) == ["Chapter 1", "Chapter 2"]
    assert story.metadata["front_matter"] == "For my sister, who read every draft"
