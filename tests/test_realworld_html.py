"""The real AO3 and FanFicFare files in ``../shared/corpus/realworld`` parse as a reader says.

``SOURCES.md`` beside them says, for each, what a human reader sees; each test
here checks that line. Fan fiction belongs to its authors, so these files are
read from the shared corpus and never copied into the repository; the tests
skip when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.parsing import parse_story
from bot.story import ParsedStory, RatingLevel

REALWORLD = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "realworld"


def real(name: str) -> ParsedStory:
    path = REALWORLD / name
    if not path.is_file():
        pytest.skip(f"{name} is not in the shared corpus")
    return parse_story(path.read_bytes(), name)


def within_one_percent(ours: int, theirs: int) -> bool:
    return abs(ours - theirs) <= theirs / 100


def test_those_few_whove_slipped_is_a_work_in_progress_of_three_titled_chapters() -> None:
    story = real("ao3_those_few_whove_slipped.html")

    assert story.title == "Those Few Who’ve Slipped the Surly Bonds"
    assert story.author == "natsinator"
    assert story.rating.level is RatingLevel.NOT_RATED
    assert [section.title for section in story.sections] == [
        "An Obituary for Dietrich Bronner, As Published In the Neue Reich Daily Register",
        "A Walking Shadow, A Poor Player",
        "Even In Another Age, Even In Another Place",
    ]
    assert within_one_percent(story.words, 6_411)
    # "3/?" is a work in progress: nothing is missing.
    assert story.warnings == ()


def test_chapter_end_notes_are_the_chapters_notes_not_its_text() -> None:
    second = real("ao3_those_few_whove_slipped.html").sections[1]

    assert second.notes.startswith("End Notes: mixing my Shakespeare here")
    assert "mixing my Shakespeare" not in second.text
    assert "See the end of the chapter" not in second.text + second.notes


def test_serpents_mouth_is_forty_chapters_with_aos_word_count() -> None:
    story = real("ao3_serpents_mouth_serpents.html")

    assert story.title == "Serpent's Mouth, Serpent's Teeth"
    assert story.author == "natsinator"
    assert story.rating.level is RatingLevel.MATURE
    assert len(story.sections) == 40
    assert all(section.title and section.text for section in story.sections)
    assert within_one_percent(story.words, 331_311)
    assert story.warnings == ()


def test_serpents_mouth_notes_stay_out_of_the_chapters() -> None:
    story = real("ao3_serpents_mouth_serpents.html")

    with_notes = [section for section in story.sections if section.notes]
    assert len(with_notes) >= 20
    for section in with_notes:
        first_note = section.notes.split("\n\n")[0]
        assert first_note.startswith(("Summary: ", "Notes: ", "End Notes: "))
        assert first_note.split(": ", 1)[1][:60] not in section.text
    assert story.metadata["stats"].endswith("Words: 331,311 Chapters: 40/40")


def test_a_saved_work_page_holding_one_of_two_chapters_says_what_is_missing() -> None:
    story = real("ao3page_open_the_door.html")

    assert story.title == "Open the Door"
    assert story.author == "eternalbreath"
    assert story.rating.level is RatingLevel.NOT_RATED
    assert len(story.sections) == 1
    assert any(
        warning.startswith("AO3 says this work has 2 chapters; this file holds 1")
        for warning in story.warnings
    )
    # The site around the work (menus, comments, kudos) is not story text.
    text = story.sections[0].text
    assert "Hi, Sidra!" not in text
    assert "Kudos" not in text


def test_fanficfare_epub_is_one_teen_chapter_with_tags_and_summary() -> None:
    story = real("fff_like_fire_and_water.epub")

    assert story.title == "Like Fire and Water"
    assert story.author == "sussexbound"
    assert story.rating.level is RatingLevel.TEEN
    assert [section.title for section in story.sections] == ["Like Fire and Water"]
    assert "Good Omens" in story.metadata["fandom"]
    assert "body swapping" in story.metadata["tags"].split(", ")
    assert story.metadata["summary"].startswith("Aziraphale sits up beside him")
    # The author's note is the chapter's note; the title page is not text.
    section = story.sections[0]
    assert section.notes.startswith("Author's Note: This is me just starting")
    assert "dip my toe" not in section.text
    assert "Packaged:" not in section.text
