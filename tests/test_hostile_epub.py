"""Hostile EPUBs are refused with one sentence that names the file and says what is wrong.

The files are built in ``tests/hostile_epubs.py`` (shared with the hostile
benchmark, which times them); nothing big is stored.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing import StoryFileError, parse_story
from tests import hostile_epubs as hostile

# Generous: each case takes milliseconds; this only catches a hang.
TIMEOUT = 20


def refusal(data: bytes, filename: str) -> str:
    with pytest.raises(StoryFileError) as caught:
        parse_story(data, filename, max_bytes=hostile.LIMIT)
    message = str(caught.value)
    assert f"“{filename}”" in message  # says which file
    assert "\n" not in message  # one message, nothing else
    return message


@pytest.mark.timeout(TIMEOUT)
def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    message = refusal(*hostile.zip_bomb())

    assert "unpacks to more than 50 MB" in message


@pytest.mark.timeout(TIMEOUT)
def test_entries_that_add_up_past_the_cap_are_refused() -> None:
    assert "unpacks to more than 50 MB" in refusal(*hostile.many_large_entries())


@pytest.mark.timeout(TIMEOUT)
def test_a_directory_that_lies_about_sizes_is_damaged() -> None:
    assert "is damaged" in refusal(*hostile.lying_sizes())


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("build", [hostile.encrypted, hostile.adobe_rights])
def test_an_encrypted_book_is_refused_as_drm(build: Callable[[], tuple[bytes, str]]) -> None:
    message = refusal(*build())

    assert "is protected (DRM)" in message
    assert "DRM-free" in message


def test_obfuscated_fonts_alone_are_not_drm() -> None:
    entries = hostile.valid_entries()
    entries["META-INF/encryption.xml"] = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"'
        ' xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
        '<enc:EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>'
        '<enc:CipherData><enc:CipherReference URI="fonts/a.otf"/></enc:CipherData>'
        "</enc:EncryptedData></encryption>"
    )
    story = parse_story(hostile.build(entries), "fonts.epub")

    assert story.sections[0].text == "A small story."


@pytest.mark.timeout(TIMEOUT)
def test_a_book_without_a_package_file_says_so() -> None:
    assert "has no package file" in refusal(*hostile.missing_opf())
    assert "names the package file content.opf, which is not in the e-book" in refusal(
        *hostile.container_points_nowhere()
    )


@pytest.mark.timeout(TIMEOUT)
def test_a_spine_pointing_nowhere_names_the_missing_file() -> None:
    message = refusal(*hostile.spine_points_nowhere())

    assert "its reading order points at chapters/two.xhtml, which is missing" in message


@pytest.mark.timeout(TIMEOUT)
def test_too_many_entries_are_refused() -> None:
    assert "has more than 10,000 files inside" in refusal(*hostile.too_many_entries())


@pytest.mark.timeout(TIMEOUT)
def test_xml_entities_are_not_expanded() -> None:
    assert "declares XML entities" in refusal(*hostile.billion_laughs())


@pytest.mark.timeout(TIMEOUT)
def test_a_file_named_epub_that_is_not_a_zip_says_so() -> None:
    assert "is named like an EPUB e-book but is not one" in refusal(*hostile.not_a_zip())


@pytest.mark.timeout(TIMEOUT)
def test_a_truncated_book_is_damaged() -> None:
    assert "is damaged: it is not a readable ZIP archive" in refusal(*hostile.truncated())


@pytest.mark.timeout(TIMEOUT)
def test_deep_nesting_inside_a_chapter_keeps_its_text() -> None:
    story = parse_story(*hostile.nested_chapter())

    assert [section.text for section in story.sections] == ["deep"]


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("name", sorted(hostile.CASES))
def test_every_hostile_epub_parses_or_is_refused_in_one_sentence(name: str) -> None:
    data, filename = hostile.CASES[name]()
    try:
        parse_story(data, filename, max_bytes=hostile.LIMIT)
    except StoryFileError as error:
        assert f"“{filename}”" in str(error)


VALID = hostile.build(hostile.valid_entries())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8))
def test_any_corruption_of_a_book_parses_or_is_refused(changes: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for position, value in changes:
        data[position] = value
    try:
        parse_story(bytes(data), "corrupt.epub")
    except StoryFileError as error:
        assert "“corrupt.epub”" in str(error)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_any_chapter_markup_parses_or_is_refused(body: str) -> None:
    entries = hostile.valid_entries()
    entries["one.xhtml"] = f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>'
    try:
        story = parse_story(hostile.build(entries), "any.epub")
    except StoryFileError as error:
        assert "“any.epub”" in str(error)
    else:
        assert story.sections
