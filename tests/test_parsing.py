"""Story files in, ParsedStory out: the reference story, bad files, encodings, dispatch."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from bot.parsing import StoryFileError, parse_story
from bot.story import SCENE_BREAK, ParsedStory, Rating, RatingLevel, Section, count_words

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

SAMPLE_HEADER_LINES = (
    "A week in the life",
    "Title: A Week in the Life",
    "Pairing: Jack/Ianto, references to Gwen/Owen",
    "Rating: R (language)",
    "Summary: Six days in the relationship",
    "Disclaimer: Don’t own ‘em",
    "Notes: Thanks to fatchickengirl",
)
VERSE_ENDING = (
    "Just a perfect day.\nYou made me forget myself;\nI thought I was someone else,\n"
    "Someone good.\n\nLou Reed – “Perfect Day”."
)


def corpus_bytes(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} not available")
    return path.read_bytes()


@pytest.fixture(scope="module")
def sample_bytes() -> bytes:
    return corpus_bytes("a_week_in_the_life.txt")


@pytest.fixture(scope="module")
def sample(sample_bytes: bytes) -> ParsedStory:
    return parse_story(sample_bytes, "a_week_in_the_life.txt")


def sample_body(data: bytes) -> str:
    """The reference file's text after its header (which ends with the Notes: paragraph)."""
    lines = data.decode("utf-8").split("\n")
    notes = next(i for i, line in enumerate(lines) if line.startswith("Notes:"))
    return "\n".join(lines[notes + 1 :])


# --- the reference story ----------------------------------------------------------------------


def test_sample_title_comes_from_the_title_line_not_the_first_line(sample: ParsedStory) -> None:
    assert sample.title == "A Week in the Life"
    assert sample.source_format == "text"


def test_sample_rating_is_mature_with_its_label_as_written(sample: ParsedStory) -> None:
    assert sample.rating.label == "R (language)"
    assert sample.rating.level is RatingLevel.MATURE


def test_sample_metadata_has_pairing_summary_disclaimer_and_notes(sample: ParsedStory) -> None:
    assert sample.metadata["pairing"] == "Jack/Ianto, references to Gwen/Owen"
    assert sample.metadata["summary"].startswith("Six days in the relationship of Jack and Ianto")
    assert sample.metadata["disclaimer"] == (
        "Don’t own ‘em, never met ‘em, don’t make money off ‘em."
    )
    assert sample.metadata["notes"].startswith("Thanks to fatchickengirl for the beta.")
    assert sample.metadata["notes"].endswith("Comments appreciated!")
    assert sample.author is None


def test_sample_has_seven_scenes_in_story_order(sample: ParsedStory) -> None:
    openings = [section.text.split("\n", 1)[0] for section in sample.sections]
    assert len(sample.sections) == 7
    assert openings[0] == "On Monday, there was a single kiss."
    for opening, start in zip(
        openings,
        (
            "On Monday",
            "On Tuesday",
            "On Wednesday",
            "Ianto turned and found his blazer",
            "On Thursday",
            "On Friday",
            "On Saturday",
        ),
        strict=True,
    ):
        assert opening.startswith(start)


def test_sample_scene_titles_are_first_sentences(sample: ParsedStory) -> None:
    assert sample.sections[0].title == "On Monday, there was a single kiss."
    for section in sample.sections:
        assert len(section.title) <= 81
    long_title = sample.sections[2].title
    assert long_title.endswith("…")
    assert sample.sections[2].text.startswith(long_title[:-1])


def test_wednesday_is_split_at_its_double_blank_line(
    sample: ParsedStory, sample_bytes: bytes
) -> None:
    raw = sample_bytes.decode("utf-8")
    split_at = raw.index("\n\n\nIanto turned and found his blazer")
    wednesday_first_half = raw[raw.index("On Wednesday, they were almost caught") : split_at]
    assert sample.sections[2].text == wednesday_first_half.strip()
    assert sample.sections[2].text.endswith("his footsteps echoing throughout the Hub.")
    assert sample.sections[3].text.startswith("Ianto turned and found his blazer, tie and shirt")


def test_sample_ends_with_the_verse_epigraph_line_breaks_kept(sample: ParsedStory) -> None:
    assert sample.sections[-1].text.endswith(VERSE_ENDING)


def test_no_header_line_appears_in_any_section(sample: ParsedStory) -> None:
    for section in sample.sections:
        for line in SAMPLE_HEADER_LINES:
            assert line not in section.text
            assert line not in section.title


def test_sample_section_words_add_up_to_the_text_after_the_header(
    sample: ParsedStory, sample_bytes: bytes
) -> None:
    body = sample_body(sample_bytes)
    assert sum(section.words for section in sample.sections) == count_words(body)
    assert sample.words == count_words(body)


def test_a_section_is_a_frozen_value_whose_count_is_remembered_not_compared() -> None:
    import dataclasses

    section = Section("Night", f"One two.\n\n{SCENE_BREAK}\n\nThree.", "A/N: hi")
    assert (section.title, section.notes, section.words) == ("Night", "A/N: hi", 3)
    assert section == Section("Night", section.text, "A/N: hi")  # one counted, one not
    assert section != Section("Night", section.text)
    assert hash(section) == hash(Section("Night", section.text, "A/N: hi"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        section.title = "Day"  # type: ignore[misc]
    renamed = dataclasses.replace(section, title="Day")
    assert (renamed.title, renamed.text, renamed.notes, renamed.words) == (
        "Day",
        section.text,
        "A/N: hi",
        3,
    )


def test_sample_sections_together_are_the_story_word_for_word(
    sample: ParsedStory, sample_bytes: bytes
) -> None:
    body = sample_body(sample_bytes).strip()
    assert "\n\n".join(section.text for section in sample.sections) == re.sub(
        r"\n{3,}", "\n\n", body
    )


def test_sample_scene_split_is_reported_as_a_warning(sample: ParsedStory) -> None:
    assert "No chapter headings found; split into 7 scenes at scene breaks." in sample.warnings


# --- bad input ----------------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    with pytest.raises(StoryFileError, match=r"“empty\.txt” is empty"):
        parse_story(b"", "empty.txt")


def test_file_of_blank_lines_is_refused() -> None:
    with pytest.raises(StoryFileError, match="only blank lines"):
        parse_story(b"\r\n  \r\n\t\n", "blank.txt")


def test_binary_data_is_refused() -> None:
    data = bytes(range(256)) * 40
    with pytest.raises(StoryFileError, match="looks like binary data, not a text file"):
        parse_story(data, "story.txt")


def test_control_character_soup_without_nul_is_binary() -> None:
    data = b"\x01\x02\x03\x04abc\x05\x06\x07\x08" * 200
    with pytest.raises(StoryFileError, match="looks like binary data"):
        parse_story(data, "story.txt")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", r"a ZIP archive \(a \.docx"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    ],
)
def test_known_binary_formats_are_named(data: bytes, what: str) -> None:
    with pytest.raises(StoryFileError, match=f"looks like {what}"):
        parse_story(data, "story.txt")


def test_header_without_story_is_refused() -> None:
    data = b"My Story\n\nTitle: My Story\n\nRating: T\n\nSummary: Nothing happens.\n\n\n"
    with pytest.raises(StoryFileError, match="has a header but no story text after it"):
        parse_story(data, "header_only.txt")


def test_file_over_the_limit_is_refused_with_both_sizes_in_megabytes() -> None:
    data = b"word " * (3 * 1024 * 1024 // 5 + 1000)
    with pytest.raises(StoryFileError) as caught:
        parse_story(data, "huge.txt", max_bytes=2 * 1024 * 1024)
    message = str(caught.value)
    assert "“huge.txt” is 3.0 MB" in message
    assert "2 MB limit" in message


def test_default_limit_is_ten_megabytes() -> None:
    with pytest.raises(StoryFileError, match=r"is 10\.5 MB, over the 10 MB limit"):
        parse_story(b"a" * (10 * 1024 * 1024 + 512 * 1024), "big.txt")


def test_file_just_over_the_limit_does_not_read_as_equal_to_it() -> None:
    with pytest.raises(StoryFileError) as caught:
        parse_story(b"a" * (1024 * 1024 + 1), "big.txt", max_bytes=1024 * 1024)
    assert "is 1,048,577 bytes, just over the 1 MB limit (1,048,576 bytes)" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (
            "これは日本語の物語です。昔々あるところに、おじいさんとおばあさんがいました。",
            "shift_jis",
        ),
        ("Жили-были дед да баба, и была у них курочка Ряба. Снесла курочка яичко.", "koi8_r"),
        ("Жили-были дед да баба, и была у них курочка Ряба. Снесла курочка яичко.", "cp1251"),
        ("从前有座山，山里有座庙，庙里有个老和尚在给小和尚讲故事。", "gbk"),
        ("옛날 옛적에 호랑이가 담배 피던 시절에 한 나무꾼이 살았습니다.", "euc_kr"),
    ],
)
def test_text_in_another_encoding_is_refused(text: str, codec: str) -> None:
    with pytest.raises(StoryFileError, match=r"is not in a supported encoding \(UTF-8, UTF-16"):
        parse_story((text * 5).encode(codec), "story.txt")


def test_utf32_is_refused_as_an_unsupported_encoding() -> None:
    with pytest.raises(StoryFileError, match="UTF-32 text, which is not in a supported encoding"):
        parse_story("Once upon a time.".encode("utf-32"), "story.txt")


def test_utf16_without_bom_is_refused_with_a_hint() -> None:
    with pytest.raises(StoryFileError, match="UTF-16 without a byte-order mark"):
        parse_story("Once upon a time, there was a story.".encode("utf-16-le"), "story.txt")


def test_only_symbols_is_not_a_story() -> None:
    with pytest.raises(StoryFileError, match="no story text"):
        parse_story(b"* * *\n\n~~~\n\n-----\n", "symbols.txt")


# --- encodings and line ends ----------------------------------------------------------------------

STORY = (
    "Title: Café Society\nAuthor: Zoë\nRating: PG-13\n\n"
    "The café was “open”—naïvely, they went in.\n\n"
    "She said: “Voilà.”\n\n\n"
    "Later, the verse:\nOne line,\nanother line.\n"
)


def _sections(story: ParsedStory) -> list[tuple[str, str]]:
    return [(section.title, section.text) for section in story.sections]


@pytest.fixture(scope="module")
def utf8_story() -> ParsedStory:
    return parse_story(STORY.encode("utf-8"), "cafe.txt")


def test_utf8_story_parses(utf8_story: ParsedStory) -> None:
    assert utf8_story.title == "Café Society"
    assert utf8_story.author == "Zoë"
    assert utf8_story.rating.level is RatingLevel.TEEN
    assert _sections(utf8_story) == [
        (
            "The café was “open”—naïvely, they went in.",
            "The café was “open”—naïvely, they went in.\n\nShe said: “Voilà.”",
        ),
        (
            "Later, the verse: One line, another line.",
            "Later, the verse:\nOne line,\nanother line.",
        ),
    ]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xef\xbb\xbf" + STORY.encode("utf-8"), id="utf-8 with BOM"),
        pytest.param(STORY.replace("\n", "\r\n").encode("utf-8"), id="CRLF"),
        pytest.param(STORY.replace("\n", "\r").encode("utf-8"), id="CR"),
        pytest.param(b"\xff\xfe" + STORY.encode("utf-16-le"), id="UTF-16 LE BOM"),
        pytest.param(b"\xfe\xff" + STORY.encode("utf-16-be"), id="UTF-16 BE BOM"),
        pytest.param(
            b"\xff\xfe" + STORY.replace("\n", "\r\n").encode("utf-16-le"), id="UTF-16 CRLF"
        ),
        pytest.param(STORY.replace("\n", "\r\n").encode("cp1252"), id="Windows-1252 CRLF"),
    ],
)
def test_encodings_and_line_ends_parse_like_utf8(data: bytes, utf8_story: ParsedStory) -> None:
    story = parse_story(data, "cafe.txt")
    assert story.title == utf8_story.title
    assert story.author == utf8_story.author
    assert story.rating == utf8_story.rating
    assert _sections(story) == _sections(utf8_story)
    for section in story.sections:
        assert "\r" not in section.text
        assert "\ufeff" not in section.text


def test_windows_1252_is_a_guess_and_says_so() -> None:
    story = parse_story(STORY.encode("cp1252"), "cafe.txt")
    assert any("guessed Windows-1252" in warning for warning in story.warnings)
    utf8 = parse_story(STORY.encode("utf-8"), "cafe.txt")
    assert not any("Windows-1252" in warning for warning in utf8.warnings)


def test_utf8_with_a_few_stray_windows_1252_bytes_keeps_both() -> None:
    data = STORY.encode("utf-8") + "\nHe said “fine”.\n".encode("cp1252")
    story = parse_story(data, "mixed.txt")
    assert story.sections[-1].text.endswith("He said “fine”.")
    assert "café" in story.sections[0].text
    assert any("read as Windows-1252" in warning for warning in story.warnings)


# --- dispatch ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "what"),
    [
        ("story.docx", "a Word document"),
        ("story.pdf", "a PDF document"),
        ("cover.png", "an image"),
        ("cover.JPG", "an image"),
        ("stories.zip", "a ZIP archive"),
    ],
)
def test_unsupported_file_types_name_the_accepted_ones(filename: str, what: str) -> None:
    with pytest.raises(StoryFileError) as caught:
        parse_story(b"Once upon a time.", filename)
    message = str(caught.value)
    assert f"is {what}, which Storyshelf cannot read" in message
    for accepted in (".txt", ".md", ".html"):
        assert accepted in message


@pytest.fixture
def fake_ao3(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []

    def parse_ao3_html(text: str, filename: str) -> ParsedStory:
        calls.append((text, filename))
        return ParsedStory(
            title="From AO3",
            author=None,
            rating=Rating.not_rated(),
            sections=(Section("Chapter 1", "Text."),),
            source_format="ao3",
        )

    import bot.parsing

    if hasattr(bot.parsing, "parse_ao3_html"):
        # The dispatcher imports the AO3 reader once, at the top.
        monkeypatch.setattr(bot.parsing, "parse_ao3_html", parse_ao3_html)
    else:
        module = types.ModuleType("bot.parsing.ao3")
        module.parse_ao3_html = parse_ao3_html  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "bot.parsing.ao3", module)
    return calls


def test_html_files_go_to_the_ao3_parser(fake_ao3: list[tuple[str, str]]) -> None:
    story = parse_story(b"<html><body><p>Hi</p></body></html>", "work.html")
    assert story.title == "From AO3"
    assert fake_ao3 == [("<html><body><p>Hi</p></body></html>", "work.html")]


def test_html_content_is_sniffed_whatever_the_extension(fake_ao3: list[tuple[str, str]]) -> None:
    data = b"\xef\xbb\xbf\r\n<!DOCTYPE html>\r\n<html><head></head><body></body></html>"
    parse_story(data, "download.txt")
    assert len(fake_ao3) == 1
    assert fake_ao3[0][0].startswith("\n<!DOCTYPE html>")


def test_text_mentioning_html_is_not_html(fake_ao3: list[tuple[str, str]]) -> None:
    story = parse_story(b"Title: Tags\n\nShe typed <html> and laughed.\n", "tags.txt")
    assert fake_ao3 == []
    assert story.sections[0].text == "She typed <html> and laughed."


def test_gutenberg_marker_selects_the_gutenberg_parser() -> None:
    data = (
        b"Title: A Tiny Book\r\nAuthor: Nobody\r\n\r\n"
        b"*** START OF THE PROJECT GUTENBERG EBOOK A TINY BOOK ***\r\n\r\n"
        b"It was a small book, and it ended quickly.\r\n\r\n"
        b"*** END OF THE PROJECT GUTENBERG EBOOK A TINY BOOK ***\r\n"
        b"Project Gutenberg licence text.\r\n"
    )
    story = parse_story(data, "tiny.txt")
    assert story.source_format == "gutenberg"
    assert (story.title, story.author) == ("A Tiny Book", "Nobody")
    assert [section.text for section in story.sections] == [
        "It was a small book, and it ended quickly."
    ]


def test_markdown_extension_selects_the_markdown_parser() -> None:
    story = parse_story(b"# Tea\n\n## Chapter 1\n\nThe *kettle* sang.\n", "tea.md")
    assert story.source_format == "markdown"
    assert story.title == "Tea"
    assert [(s.title, s.text) for s in story.sections] == [("Chapter 1", "The *kettle* sang.")]


def test_unknown_extension_is_read_as_text() -> None:
    story = parse_story(b"Title: Fic\n\nIt was late.\n", "fic.story")
    assert story.title == "Fic"
    assert story.sections[0].text == "It was late."


def test_file_name_with_folders_is_quoted_without_them() -> None:
    with pytest.raises(StoryFileError, match=r"^“empty\.txt” is empty"):
        parse_story(b"", "C:\\Users\\me\\Desktop\\empty.txt")


def test_section_text_never_holds_a_bare_scene_break_at_its_edges(sample: ParsedStory) -> None:
    for section in sample.sections:
        paragraphs = section.text.split("\n\n")
        assert paragraphs[0] != SCENE_BREAK
        assert paragraphs[-1] != SCENE_BREAK


def test_a_story_line_starting_with_stars_is_not_a_gutenberg_marker() -> None:
    data = b"*** Start of part two ***\n\nShe woke.\n\n*** End of part two ***\n"
    story = parse_story(data, "parts.txt")
    assert story.source_format == "text"
    assert story.sections[0].text.startswith("*** Start of part two ***")
