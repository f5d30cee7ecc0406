"""Real plain-text and Markdown story files parse the way a human reader describes them.

Two sources: ``../shared/corpus/realworld/`` (fan fiction among them, so never copied into
the repository; each test skips when the corpus is absent) and public-domain books kept
in ``tests/fixtures/realworld/`` (see the ``SOURCES.md`` there). Files written for the
layouts fan fiction comes in (FanFiction.Net copies, bold headings, YAML parts) are in
``tests/fixtures/``, in our own words.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.parsing import parse_story
from bot.story import ParsedStory, RatingLevel

REALWORLD = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "realworld"
CORPUS = REALWORLD.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PUBLIC_DOMAIN = FIXTURES / "realworld"


def corpus_story(name: str) -> ParsedStory:
    path = REALWORLD / name
    if not path.exists():
        pytest.skip(f"corpus file {name} is not here")
    return parse_story(path.read_bytes(), name)


def fixture_story(name: str, folder: Path = PUBLIC_DOMAIN) -> ParsedStory:
    return parse_story((folder / name).read_bytes(), name)


def titles(story: ParsedStory) -> list[str]:
    return [section.title for section in story.sections]


def assert_no_lump(story: ParsedStory) -> None:
    """No section is a short heading followed by a lump: every section has real text."""
    for section in story.sections:
        assert section.words >= 20, f"{section.title!r} has only {section.words} words"


# --- ../shared/corpus/realworld -------------------------------------------------------------


def test_christmas_carol_is_five_staves_without_preface_or_contents() -> None:
    story = corpus_story("pg46_christmas_carol.txt")

    assert titles(story) == [
        "STAVE I: MARLEY'S GHOST",
        "STAVE II: THE FIRST OF THE THREE SPIRITS",
        "STAVE III: THE SECOND OF THE THREE SPIRITS",
        "STAVE IV: THE LAST OF THE SPIRITS",
        "STAVE V: THE END OF IT",
    ]
    assert story.author == "Charles Dickens"
    # No stave is cut in two: the last one runs to the end of the book.
    assert story.sections[-1].text.rstrip().endswith("God bless Us, Every One!")
    assert "Scrooge was better than his word" in story.sections[-1].text
    front = story.metadata["front_matter"]
    assert "PREFACE" in front and "Ghostly little book" in front
    assert "Stave   I: Marley's Ghost" in front
    assert all("Ghostly little book" not in section.text for section in story.sections)
    # The stray non-UTF-8 byte is reported, not fatal.
    assert any("not UTF-8" in warning for warning in story.warnings)


def test_romeo_and_juliet_sections_are_the_prologue_and_the_scenes() -> None:
    story = corpus_story("pg1513_romeo_and_juliet.txt")
    names = titles(story)

    assert names[0] == "THE PROLOGUE"
    assert names[1] == "ACT I · SCENE I. A public place."
    assert (
        "ACT III · SCENE V. An open Gallery to Juliet’s Chamber, overlooking the Garden." in names
    )
    assert (
        names[-1] == "ACT V · SCENE III. A churchyard; in it a Monument belonging to the Capulets."
    )
    scenes = [name for name in names if "SCENE" in name]
    assert len(scenes) == 24
    # Act II opens with the Chorus's sonnet: that is its own section, with its words.
    assert "ACT II" in names
    assert_no_lump(story)
    assert max(section.words for section in story.sections) < 3000
    front = story.metadata["front_matter"]
    assert "Dramatis Personæ" in front and "ESCALUS, Prince of Verona." in front
    assert "Contents" in front
    assert all("ESCALUS, Prince of Verona" not in section.text for section in story.sections)


def test_great_gatsby_is_nine_chapters_and_keeps_dedication_and_epigraph_out() -> None:
    story = corpus_story("pg64317_great_gatsby.txt")

    assert titles(story) == ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]
    assert story.sections[0].text.startswith("In my younger and more vulnerable years")
    front = story.metadata["front_matter"]
    assert "Zelda" in front
    assert "Then wear the gold hat" in front
    assert "Table of Contents" in front
    assert all("gold hat" not in section.text for section in story.sections)
    # Word counts exclude the front matter.
    assert story.words == sum(section.words for section in story.sections)


def test_ace_iverson_is_eighteen_chapters_and_six_interludes_by_aci100() -> None:
    story = corpus_story("fic_ace_iverson_fabric_of_fate.md")
    names = titles(story)

    assert story.title == "Ace Iverson and the Fabric of Fate"
    assert story.author == "ACI100"
    assert len(names) == 24
    assert names[0] == "Chapter I: Future Aspirations"
    assert names[2] == "Chapter III: Ace's Empousai Encounter"  # no markup, no backslash
    assert names[17] == "Chapter XVIII: The Long Forsworn Path"
    assert names[18:] == [f"Interlude {n}" for n in ("I", "II", "III", "IV", "V", "VI")]
    assert all("*" not in name and "\\" not in name for name in names)
    # The disclaimer and acknowledgements before the title are notes, not a chapter.
    assert "I make no claim to ownership." in story.metadata["disclaimer"]
    assert story.metadata["disclaimer"].endswith("ownership.")
    assert "Acknowledgements" in story.metadata["notes"]
    # Each chapter's author's endnote (and the next chapter's repeated preamble) is
    # shown with the chapter, outside its text and its word count.
    first = story.sections[0]
    assert "Author's Endnote" in first.notes
    assert "Author's Endnote" not in first.text
    assert "Self-Promotion" not in first.text
    assert first.text.startswith("***September 7, 2004***")
    assert all("\\'" not in section.text for section in story.sections)


def test_begin_again_keeps_its_part_and_reads_yaml_front_matter() -> None:
    story = corpus_story("fic_begin_again_part1_ch1-3.md")

    assert story.title == "Begin Again: Chronicles of an Ex-Human in Inkopolis"
    assert story.author == "Splatsune"
    assert story.metadata["summary"].startswith("A human finds themselves transformed")
    assert titles(story) == [
        "Fish Out Of Water · Gift From The Skies",
        "The Attack",
        "Her New World",
    ]
    assert story.metadata["parts"] == "Fish Out Of Water"


# --- earlier formats stay right ---------------------------------------------------------------


def test_the_sample_story_still_reads_as_seven_scenes() -> None:
    path = CORPUS / "a_week_in_the_life.txt"
    if not path.exists():
        pytest.skip("corpus sample is not here")
    story = parse_story(path.read_bytes(), path.name)

    assert story.title == "A Week in the Life"
    assert len(story.sections) == 7
    assert story.sections[0].title == "On Monday, there was a single kiss."
    assert "front_matter" not in story.metadata


@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        ("alice_in_wonderland.txt", 12, "CHAPTER I. Down the Rabbit-Hole"),
        ("carmilla.txt", 17, "PROLOGUE"),
        ("pride_and_prejudice.txt", 61, "Chapter I."),
        (
            "les_miserables.txt",
            365,
            "VOLUME I: FANTINE · BOOK FIRST—A JUST MAN · CHAPTER I—M. MYRIEL",
        ),
    ],
)
def test_corpus_novels_keep_their_chapters(name: str, count: int, first: str) -> None:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus novel {name} is not here")
    story = parse_story(path.read_bytes(), name)

    assert len(story.sections) == count
    assert story.sections[0].title == first


# --- public-domain books found in public repositories (tests/fixtures/realworld) ----------------


def test_a_play_in_first_second_third_acts_with_its_persons_as_front_matter() -> None:
    story = fixture_story("pg844_importance_of_being_earnest.txt")

    assert titles(story) == ["FIRST ACT", "SECOND ACT", "THIRD ACT"]
    assert story.author == "Oscar Wilde"
    assert story.sections[0].text.startswith("SCENE")
    front = story.metadata["front_matter"]
    assert "THE PERSONS IN THE PLAY" in front and "Miss Prism, Governess" in front
    assert "THE SCENES OF THE PLAY" in front
    assert all("Miss Prism, Governess" not in section.text for section in story.sections)
    assert_no_lump(story)


def test_chapter_titles_after_only_spaces_and_a_prologue_with_its_subtitle() -> None:
    story = fixture_story("pg175_phantom_of_the_opera_ch1-8.txt")

    assert titles(story)[:4] == [
        "Prologue",
        "Chapter I Is it the Ghost?",
        "Chapter II The New Margarita",
        "Chapter III The Mysterious Reason",
    ]
    assert len(story.sections) == 9
    assert story.sections[0].text.startswith("IN WHICH THE AUTHOR")
    assert "IS IT A GHOST?" in story.metadata["front_matter"]  # the contents list


def test_books_above_chapters_stay_in_the_chapter_titles() -> None:
    story = fixture_story("pg98_tale_of_two_cities_to_book2_ch3.txt")

    assert titles(story)[0] == "Book the First--Recalled to Life · CHAPTER I. The Period"
    assert titles(story)[6] == "Book the Second--the Golden Thread · CHAPTER I. Five Years Later"
    assert len(story.sections) == 9
    assert story.metadata["parts"].splitlines() == [
        "Book the First--Recalled to Life",
        "Book the Second--the Golden Thread",
    ]
    assert story.sections[0].text.startswith("It was the best of times")


def test_word_numbered_chapters_under_a_part() -> None:
    story = fixture_story("pg514_little_women_ch1-4.txt")

    assert titles(story) == [
        "PART 1 · CHAPTER ONE: PLAYING PILGRIMS",
        "CHAPTER TWO: A MERRY CHRISTMAS",
        "CHAPTER THREE: THE LAURENCE BOY",
        "CHAPTER FOUR: BURDENS",
    ]
    assert "Contents" in story.metadata["front_matter"]


def test_letters_before_the_chapters_are_sections() -> None:
    story = fixture_story("pg84_frankenstein_letters_ch1-3.txt")

    assert titles(story) == [
        "Letter 1",
        "Letter 2",
        "Letter 3",
        "Letter 4",
        "Chapter 1",
        "Chapter 2",
        "Chapter 3",
    ]
    assert "_To Mrs. Saville, England._" in story.sections[0].text


def test_introduction_and_illustration_lists_are_front_matter() -> None:
    story = fixture_story("pg20203_franklin_autobiography_ch1-4.txt")

    assert titles(story) == ["I", "II", "III", "IV"]
    front = story.metadata["front_matter"]
    assert "INTRODUCTION" in front
    assert "ILLUSTRATIONS" in front and "Portrait of Franklin" in front
    assert all("Portrait of Franklin" not in section.text for section in story.sections)


def test_an_untitled_authors_note_before_chapter_one_is_kept_but_the_title_page_is_not() -> None:
    story = fixture_story("pg345_dracula_ch1-3.txt")

    assert titles(story)[1:] == ["CHAPTER I", "CHAPTER II", "CHAPTER III"]
    assert story.sections[0].text.startswith("How these papers have been placed in sequence")
    front = story.metadata["front_matter"]
    assert "MY DEAR FRIEND" in front and "Contents" in front
    assert "Contents" not in story.sections[0].text


# --- layouts, in files we wrote ------------------------------------------------------------------


def test_fanfiction_net_copy_paste() -> None:
    story = fixture_story("ffnet_copy.txt", FIXTURES)

    assert story.title == "The Lamplighter's Ledger"
    assert story.author == "quillandink"
    assert story.rating.level is RatingLevel.TEEN
    assert story.metadata["summary"].startswith("A ledger turns up in a pawnshop")
    assert story.metadata["fandom"] == "Sherlock Holmes"
    assert story.metadata["genre"] == "Mystery/Hurt/Comfort"
    assert story.metadata["characters"] == "Sherlock H., John W."
    assert story.metadata["status"] == "Complete"
    assert titles(story) == ["Chapter 1: The Pawnshop", "Chapter 2: The First Entry"]
    first, second = story.sections
    assert first.notes.startswith("A/N: My first mystery")
    assert first.notes.endswith("A/N: Thanks for reading! Please review.")
    assert "A/N" not in first.text and "Rated:" not in first.text
    assert first.text.count("* * *") == 1  # the oOoOoOoOo break
    assert second.text.count("* * *") == 1  # the xXxXxXx break
    assert second.notes == "Author's Note: The end! Thank you all for your reviews."


def test_bold_title_byline_and_headings_with_notes() -> None:
    story = fixture_story("bold_headings.md", FIXTURES)

    assert story.title == "The Cartographer's Daughter"
    assert story.author == "Wren Halloway"
    assert titles(story) == [
        "Chapter I: The Blank Map",
        "Chapter II: Soundings",
        "Interlude I",
        "Interlude II",
    ]
    assert story.metadata["disclaimer"] == (
        "The characters belong to their creators. I only borrow them."
    )
    assert "Acknowledgements" in story.metadata["notes"]
    first = story.sections[0]
    assert "Author's Endnote" in first.notes and "Wren Halloway" in first.notes
    assert first.text.endswith("until the candle burned out.")
    assert "father's desk" in first.text  # pandoc's needless backslash is gone
    assert first.words == sum(len(p.split()) for p in first.text.split("\n\n") if p != "* * *")


def test_yaml_front_matter_with_author_list_description_and_parts() -> None:
    story = fixture_story("yaml_parts.md", FIXTURES)

    assert story.title == "The Lighthouse Keepers"
    assert story.author == "Mara Quill, Ody Fenn"
    assert story.rating.level is RatingLevel.GENERAL
    assert story.metadata["summary"] == (
        "Two keepers, one lighthouse, and a winter that will not end."
    )
    assert titles(story) == [
        "Book One: Winter · The First Storm",
        "Supplies",
        "Book Two: Thaw · The Letter",
    ]
    assert story.metadata["parts"] == "Book One: Winter\nBook Two: Thaw"


def test_no_section_title_from_any_real_file_carries_markup() -> None:
    names = [
        *(p.name for p in PUBLIC_DOMAIN.glob("*.txt")),
    ]
    for name in names:
        for title in titles(fixture_story(name)):
            assert not re.search(r"\*\*|__|^>|\\", title), title
