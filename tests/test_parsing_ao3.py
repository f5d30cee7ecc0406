"""Archive of Our Own HTML downloads become stories with their tags, chapters and notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing.ao3 import MAX_TAGS, parse_ao3_html
from bot.story import SCENE_BREAK, ParsedStory, RatingLevel, StoryFileError

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture(name: str) -> ParsedStory:
    return parse_ao3_html((FIXTURES / name).read_text(encoding="utf-8"), name)


def work(body: str, *, preface: str | None = None) -> str:
    """A minimal AO3 download around one chapter's HTML."""
    if preface is None:
        preface = (
            '<dl class="tags"><dt>Rating:</dt><dd><a href="/t">Teen And Up Audiences</a></dd>'
            "</dl><h1>Small Work</h1>"
            '<div class="byline">by <a rel="author" href="/users/someone">someone</a></div>'
        )
    return (
        f'<html><body><div id="preface"><div class="meta">{preface}</div></div>'
        f'<div id="chapters" class="userstuff"><div class="userstuff">{body}</div></div>'
        "</body></html>"
    )


def text_of(body: str) -> str:
    story = parse_ao3_html(work(body), "small.html")
    assert len(story.sections) == 1
    return story.sections[0].text


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


# --- The multi-chapter download --------------------------------------------


def test_multichapter_work_details_come_from_the_preface() -> None:
    story = fixture("ao3_multichapter.html")

    assert story.title == "The Saltmarsh Light"
    assert story.author == "mireille_ashdown"
    assert story.rating.label == "Mature"
    assert story.rating.level is RatingLevel.MATURE
    assert story.source_format == "ao3"
    assert story.warnings == ()


def test_multichapter_tags_are_read_from_the_tag_list() -> None:
    meta = fixture("ao3_multichapter.html").metadata

    assert meta["warnings"] == "Graphic Depictions Of Violence, Major Character Death"
    assert meta["category"] == "F/M, Gen"
    assert meta["fandom"] == "Original Work"
    assert meta["pairing"] == (
        "Marisol Vega/Tobias Wren, Tobias Wren & Old Hettie, Marisol Vega & Pell Okafor"
    )
    assert meta["characters"] == "Marisol Vega, Tobias Wren, Old Hettie, Pell Okafor"
    assert meta["tags"] == "Lighthouses, Slow Burn, Storms, Found Family, Hurt/Comfort"
    assert meta["language"] == "English"
    assert meta["series"] == "Part 1 of The Saltmarsh Cycle"
    assert meta["stats"] == "Published: 2023-09-14 Completed: 2023-11-02 Words: 349 Chapters: 3/3"
    assert meta["url"] == "https://archiveofourown.org/works/31415926"
    assert "rating" not in meta


def test_multichapter_summary_and_notes_keep_paragraphs_and_emphasis() -> None:
    meta = fixture("ao3_multichapter.html").metadata

    assert meta["summary"] == (
        "Marisol inherits a lighthouse, a debt, and a keeper who *refuses* to leave."
        "\n\nThe sea has opinions about all three."
    )
    assert meta["notes"] == (
        "Written for the **Autumn Tides** exchange. Thank you to P. for the beta!"
    )
    assert meta["end_notes"] == "Part two of the *Saltmarsh Cycle* is coming soon."


def test_each_chapter_is_a_section_named_by_its_heading() -> None:
    story = fixture("ao3_multichapter.html")

    assert [section.title for section in story.sections] == [
        "Chapter 1: The Inheritance",
        "Chapter 2: The Storm",
        "Chapter 3: Landfall",
    ]


def test_chapter_summary_and_notes_are_the_sections_notes_not_its_text() -> None:
    one, two, three = fixture("ao3_multichapter.html").sections

    assert one.notes == (
        "Summary: Marisol arrives at the Saltmarsh Light.\n\n"
        "Notes: The verse is a real fisherman's rhyme. (It is not. I made it up.)"
    )
    assert paragraphs(one.text)[0] == (
        "The letter from the solicitor had been very clear about the lighthouse and very"
        " vague about the keeper."
    )
    assert two.notes == (
        "Summary: The storm comes in off the marsh, and so does Pell.\n\n"
        "End Notes: Yes, the causeway is based on a real one."
        " No, you should not walk it at high tide."
    )
    # The "see the end of the chapter" link is navigation, not text or notes.
    assert not any("See the end" in p for p in paragraphs(two.text + two.notes))
    assert three.notes == "Notes: Last one! Thank you for reading."
    assert paragraphs(three.text)[0] == (
        "The storm blew itself out a little after three in the morning."
    )


def test_notes_are_not_counted_as_the_chapters_words() -> None:
    for section in fixture("ao3_multichapter.html").sections:
        assert "Summary:" not in section.text
        assert "Notes:" not in section.text
        assert section.words == len(section.text.replace("* * *", "").split())


def test_emphasis_and_strong_become_discord_italics_and_bold() -> None:
    one, _, three = (s.text for s in fixture("ao3_multichapter.html").sections)

    assert "read it again. *One (1) lighthouse, in fair repair.* Nothing about" in one
    assert '"I was told the light was **automated**."' in one
    assert "I just *told* them it was" in three
    assert "flat grey water, **looking for anyone still lost**." in three


def test_line_breaks_in_verse_stay_inside_one_paragraph() -> None:
    one = paragraphs(fixture("ao3_multichapter.html").sections[0].text)

    assert (
        "Red sky at morning, the marsh takes the weak,\n"
        "Red sky at evening, the light keeps the meek,\n"
        "and a keeper who sleeps is a keeper who’ll weep."
    ) in one


def test_horizontal_rule_is_a_scene_break() -> None:
    one = paragraphs(fixture("ao3_multichapter.html").sections[0].text)

    rule = one.index(SCENE_BREAK)
    assert one[rule - 1].startswith("Red sky at morning")
    assert one[rule + 1].startswith("That night the lamp turned without a sound")
    assert "ceiling — forty, forty-one, forty-two — until" in one[rule + 1]


def test_mentions_in_the_text_are_kept_verbatim() -> None:
    two = fixture("ao3_multichapter.html").sections[1].text

    assert '"Tagged @everyone. If the road floods, nobody\'s getting out."' in two


def test_no_stray_newlines_from_the_html_source() -> None:
    for section in fixture("ao3_multichapter.html").sections:
        for paragraph in paragraphs(section.text):
            assert paragraph == paragraph.strip()
            assert "  " not in paragraph
            if not paragraph.startswith("Red sky"):
                assert "\n" not in paragraph


# --- The one-shot download ---------------------------------------------------


def test_oneshot_is_one_section_named_after_the_work() -> None:
    story = fixture("ao3_oneshot.html")

    assert story.title == "Seven Kinds of Tea"
    assert story.author == "quillfeather"
    assert story.rating.label == "General Audiences"
    assert story.rating.level is RatingLevel.GENERAL
    assert [section.title for section in story.sections] == ["Seven Kinds of Tea"]
    assert story.warnings == ()


def test_oneshot_tags_in_list_items_are_joined_with_commas() -> None:
    meta = fixture("ao3_oneshot.html").metadata

    assert meta["warnings"] == "No Archive Warnings Apply"
    assert meta["category"] == "Gen"
    assert meta["fandom"] == "Original Work"
    assert meta["characters"] == "Agnes Pike, Mr. Tumble (Cat)"
    assert meta["tags"] == "Tea, Cozy, Cats"
    assert meta["stats"] == "Published: 2024-02-29 Words: 95"
    assert meta["summary"] == "Agnes has seven kinds of tea and one very opinionated cat."
    assert "pairing" not in meta
    assert "notes" not in meta


def test_oneshot_text_keeps_formatting_and_entities() -> None:
    text = fixture("ao3_oneshot.html").sections[0].text

    assert paragraphs(text)[0] == (
        "Agnes Pike kept her tea in seven tins on the windowsill, and every morning"
        " Mr. Tumble sat beside them and chose."
    )
    assert "sat by the *jasmine*, on Tuesdays" in text
    assert "“You are not,” Agnes told him, “a qualified sommelier.”" in text
    assert "**I have heard your concerns and I reject them**." in text
    assert len(paragraphs(text)) == 5


# --- Inline HTML -------------------------------------------------------------


def test_markers_stay_next_to_the_words_they_mark() -> None:
    assert text_of("<p><em>word </em>next <em> spaced </em>end.</p>") == (
        "*word* next *spaced* end."
    )
    assert text_of("<p><em>text&nbsp;</em>after</p>") == "*text*\xa0after"


def test_other_inline_tags() -> None:
    assert text_of("<p><i>i</i> <b>b</b> <u>u</u> <s>s</s> <del>d</del> <em></em>x</p>") == (
        "*i* **b** __u__ ~~s d~~ x"
    )
    assert text_of("<p><strong><em>both</em> bold</strong></p>") == "***both* bold**"
    assert text_of("<p><em>outer <em>inner</em> outer</em></p>") == "*outer inner outer*"


def test_italics_across_a_line_break_close_and_reopen() -> None:
    assert text_of("<p><em>first line<br/>second line</em></p>") == ("*first line*\n*second line*")


def test_double_line_break_starts_a_new_paragraph() -> None:
    assert text_of("<p>one<br><br>two<br>\n  three\n</p>") == "one\n\ntwo\nthree"


def test_links_images_headings_and_quotes_become_plain_paragraphs() -> None:
    text = text_of(
        '<h3>A Letter</h3><p>See <a href="https://example.com">the map</a>:'
        ' <img src="map.png" alt="a hand-drawn map"> <img src="x.png"></p>'
        "<blockquote><p>Dear M.,</p><p>Come home.</p></blockquote>"
    )

    assert paragraphs(text) == [
        "A Letter",
        "See the map: [image: a hand-drawn map] [image]",
        "Dear M.,",
        "Come home.",
    ]


def test_symbol_only_paragraphs_and_repeated_rules_are_one_scene_break() -> None:
    text = text_of("<hr><p>a</p><p>&nbsp;</p><p>* * *</p><p>~*~</p><hr/><p>b</p><hr>")

    assert paragraphs(text) == ["a", SCENE_BREAK, "b"]


def test_literal_markup_characters_in_the_text_are_left_alone() -> None:
    text = text_of(
        "<p>Literal *stars* and _lines_, &lt;em&gt;not a tag&lt;/em&gt; &amp;lt; I <3 u</p>"
    )

    assert text == "Literal *stars* and _lines_, <em>not a tag</em> &lt; I <3 u"


def test_scripts_and_styles_are_not_story_text() -> None:
    assert text_of("<p>a<script>alert(1)</script><style>p{}</style>b</p>") == "ab"


# --- Missing or odd metadata -------------------------------------------------


def test_missing_rating_is_not_rated_with_a_warning() -> None:
    story = parse_ao3_html(work("<p>x</p>", preface="<h1>No Rating</h1>"), "x.html")

    assert story.rating.level is RatingLevel.NOT_RATED
    assert story.author is None
    assert any("No rating" in warning for warning in story.warnings)
    assert any("No author" in warning for warning in story.warnings)


def test_unrecognised_rating_is_not_rated_with_a_warning() -> None:
    preface = '<dl class="tags"><dt>Rating:</dt><dd>Spicy</dd></dl><h1>Odd</h1>'
    story = parse_ao3_html(work("<p>x</p>", preface=preface), "x.html")

    assert story.rating.level is RatingLevel.NOT_RATED
    assert any("Spicy" in warning for warning in story.warnings)


def test_anonymous_work_keeps_its_byline() -> None:
    preface = '<dl class="tags"><dt>Rating:</dt><dd>Not Rated</dd></dl><h1>Anon</h1>'
    preface += '<div class="byline">by Anonymous</div>'
    story = parse_ao3_html(work("<p>x</p>", preface=preface), "x.html")

    assert story.author == "Anonymous"
    assert story.rating.level is RatingLevel.NOT_RATED
    assert story.warnings == ()


def test_several_authors_are_joined() -> None:
    preface = (
        '<h1>Duet</h1><div class="byline">by <a rel="author" href="/a">Ann</a>,'
        ' <a rel="author" href="/b">Bea</a></div>'
    )
    assert parse_ao3_html(work("<p>x</p>", preface=preface), "x.html").author == "Ann, Bea"


def test_a_translation_is_by_its_translator_and_says_what_it_translates() -> None:
    preface = (
        '<dl class="tags"><dt>Rating:</dt><dd>General Audiences</dd></dl><h1>Der Leuchtturm</h1>'
        '<div class="byline">by <a rel="author" href="/users/tr">translator_t</a></div>'
        '<ul><li>A translation of <a href="/works/1">The Lighthouse</a> by '
        '<a rel="author" href="/users/orig">original_o</a></li>'
        '<li>Translation into Français available: <a href="/works/3">Le Phare</a> by '
        '<a rel="author" href="/users/fr">traductrice</a></li></ul>'
    )
    story = parse_ao3_html(work("<p>Text.</p>", preface=preface), "x.html")

    assert story.author == "translator_t"
    assert story.metadata["translation_of"] == "A translation of The Lighthouse by original_o"
    assert "Le Phare" not in story.metadata["translation_of"]


def test_a_work_that_others_translated_is_not_a_translation() -> None:
    preface = (
        '<h1>Original</h1><div class="byline">by <a rel="author" href="/a">ann</a></div>'
        '<ul><li>Translation into Deutsch available: <a href="/works/2">Titel</a> by '
        '<a rel="author" href="/users/de">uebersetzer</a></li></ul>'
    )
    story = parse_ao3_html(work("<p>Text.</p>", preface=preface), "x.html")

    assert story.author == "ann"
    assert "translation_of" not in story.metadata


def test_a_download_with_fewer_chapters_than_its_stats_warns_and_a_wip_does_not() -> None:
    def with_stats(chapters: str) -> ParsedStory:
        preface = (
            f'<dl class="tags"><dt>Stats:</dt><dd>Words: 2 Chapters: {chapters}</dd></dl>'
            '<h1>W</h1><div class="byline">by <a rel="author" href="/a">ann</a></div>'
        )
        return parse_ao3_html(work("<p>Two words.</p>", preface=preface), "w.html")

    assert (
        "AO3 says this work has 3 chapters; this file holds 1, so 2 are missing."
        in with_stats("3/3").warnings[0]
    )
    assert not any("AO3 says" in warning for warning in with_stats("1/?").warnings)
    assert not any("AO3 says" in warning for warning in with_stats("1/1").warnings)


def test_a_chapter_without_text_is_left_out_but_not_called_missing() -> None:
    page = (
        '<html><body><div id="preface"><div class="meta"><dl class="tags">'
        "<dt>Rating:</dt><dd>General Audiences</dd>"
        "<dt>Stats:</dt><dd>Words: 2 Chapters: 2/2</dd></dl><h1>Art</h1>"
        '<div class="byline">by <a rel="author" href="/a">ann</a></div></div></div>'
        '<div id="chapters" class="userstuff">'
        '<div class="meta group"><h2 class="heading">Chapter 1: Words</h2></div>'
        '<div class="userstuff"><p>Two words.</p></div>'
        '<div class="meta group"><h2 class="heading">Chapter 2: Picture</h2></div>'
        '<div class="userstuff"><p>&nbsp;</p></div></div></body></html>'
    )
    story = parse_ao3_html(page, "art.html")

    assert [s.title for s in story.sections] == ["Chapter 1: Words"]
    assert story.warnings == ("“Chapter 2: Picture” has no text, so it was left out.",)


def test_saved_work_page_is_read_too() -> None:
    page = """
    <dl class="work meta group">
      <dt class="rating tags">Rating:</dt>
      <dd class="rating tags"><ul class="commas"><li><a class="tag">Explicit</a></li></ul></dd>
    </dl>
    <div id="workskin">
      <div class="preface group">
        <h2 class="title heading">Saved Page</h2>
        <h3 class="byline heading"><a rel="author" href="/users/x">x</a></h3>
      </div>
      <div id="chapters" role="article">
        <div class="chapter" id="chapter-1">
          <div class="chapter preface group"><h3 class="title"><a>Chapter 1</a>: Start</h3>
            <div class="notes module"><h3 class="heading">Notes:</h3>
              <p class="jump">(See the end of the chapter for more notes.)</p>
              <blockquote class="userstuff"><p>Hello.</p></blockquote></div>
          </div>
          <div class="userstuff module" role="article">
            <h3 class="landmark heading">Chapter Text</h3><p>Body.</p></div>
          <div class="chapter preface group"><div class="end notes module">
            <h3 class="heading">Notes:</h3><blockquote class="userstuff"><p>Bye.</p></blockquote>
          </div></div>
        </div>
      </div>
    </div>"""
    story = parse_ao3_html(page, "saved.html")

    assert (story.title, story.author, story.rating.level) == (
        "Saved Page",
        "x",
        RatingLevel.EXPLICIT,
    )
    assert [s.title for s in story.sections] == ["Chapter 1: Start"]
    assert story.sections[0].text == "Body."
    assert story.sections[0].notes == "Notes: Hello.\n\nEnd Notes: Bye."


# --- Files that are not AO3 stories ------------------------------------------


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><title>Recipes</title></head><body><h1>Soup</h1><p>Boil.</p></body></html>",
        '<html><body><div id="chapters"><a href="/c/1">Chapter 1</a></div></body></html>',
        "",
    ],
)
def test_html_that_is_not_an_ao3_download_is_refused(page: str) -> None:
    with pytest.raises(StoryFileError) as error:
        parse_ao3_html(page, "recipes.html")

    assert "“recipes.html” is HTML but not an Archive of Our Own download" in str(error.value)


def test_ao3_download_without_story_text_is_refused() -> None:
    with pytest.raises(StoryFileError) as error:
        parse_ao3_html(work("<p>&nbsp;</p>  <p> </p>"), "empty.html")

    assert "no story text" in str(error.value)
    assert "“empty.html”" in str(error.value)


# --- Hostile input: bounded, never a crash -----------------------------------


def parses_or_refuses(page: str) -> ParsedStory | None:
    try:
        return parse_ao3_html(page, "hostile.html")
    except StoryFileError:
        return None


@pytest.mark.parametrize("tag", ["div", "em", "blockquote", "span"])
def test_deeply_nested_html_does_not_overflow_the_stack(tag: str) -> None:
    depth = 100_000
    story = parses_or_refuses(work(f"<{tag}>" * depth + "deep" + f"</{tag}>" * depth))

    if story is not None:
        assert re.sub(r"[*]", "", story.sections[0].text) == "deep"


def test_unclosed_nesting_does_not_overflow_the_stack() -> None:
    story = parses_or_refuses(work("<div><em>" * 50_000 + "deep"))

    if story is not None:
        assert story.sections[0].text == "*deep*"


def test_entity_flood_is_read_in_one_pass() -> None:
    story = parses_or_refuses(work("<p>" + "&amp;" * 2_000_000 + "</p>"))

    if story is not None:
        assert story.sections[0].text == "&" * 2_000_000


def test_numeric_and_oversized_character_references() -> None:
    story = parses_or_refuses(work("<p>" + "&#38;" * 500_000 + "&#" + "9" * 10_000 + ";</p>"))

    if story is not None:
        assert story.sections[0].text.startswith("&" * 500_000)


def test_stray_angle_brackets_do_not_make_the_parser_quadratic() -> None:
    # html.parser rescans the rest of the input for each "<a" that never closes.
    story = parses_or_refuses(work("<p>" + "<a" * 200_000 + "</p>"))

    if story is not None:
        assert story.sections[0].text == "<a" * 200_000


def test_more_markup_than_any_story_needs_is_refused() -> None:
    with pytest.raises(StoryFileError) as error:
        parse_ao3_html(work("<b>" * (MAX_TAGS + 1)), "tags.html")

    assert "tags" in str(error.value)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_in_the_story_body_parses_or_is_refused(body: str) -> None:
    parses_or_refuses(work(body))


WORDS = st.lists(st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8), min_size=1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(WORDS, st.sampled_from(["", "em", "strong", "a", "span"])), min_size=1))
def test_no_words_are_lost(runs: list[tuple[list[str], str]]) -> None:
    body = "<p>" + " ".join(
        f"<{tag}>{' '.join(words)}</{tag}>" if tag else " ".join(words) for words, tag in runs
    )
    text = text_of(body + "</p>")

    expected = [word for words, _ in runs for word in words]
    assert re.sub(r"[*]", "", text).split() == expected


# --- A FanFiction.Net chapter page saved from the browser ------------------------------
# Shaped like ambtus/mobile-pages features/html/counting.html and part6.html (see
# tests/fixtures/realworld/SOURCES.md), in words written for this test.

FFNET_PAGE = """<!DOCTYPE html><html><head><title>Paper Lanterns Chapter 2</title>
<script>var XCOOKIE = {};</script></head><body>
<div id="top"><a href="/">FanFiction</a> | unleash your imagination</div>
<div id="profile_top" style="min-height:112px;">
<button class="btn pull-right">Follow/Fav</button><b class="xcontrast_txt">Paper Lanterns</b>
<span class="xcontrast_txt"><div style="height:5px"></div>By:</span>
<a class="xcontrast_txt" href="/u/123/lantern-maker">lantern_maker</a>
<div style="margin-top:2px" class="xcontrast_txt">Three nights of the festival, told slowly.</div>
<span class="xgray xcontrast_txt">Rated: <a class="xcontrast_txt"
href="https://www.fictionratings.com/" target="rating">Fiction M</a> - English - Drama/Romance -
Mei L., Arlo K. - Chapters: 3 - Words: 2,310 - Reviews: <a href="/r/1/">12</a> - Published:
<span data-xutime="1269915057">3/29/2010</span> - Status: Complete - id: 999</span></div>
<span style="float:right;"><select id="chap_select" title="Chapter Navigation" name="chapter">
<option value="1">1. First Night<option value="2" selected>2. Second Night<option value="3">3. Last
Night</select></span>
<div role="main" class="storytextp" id="storytextp"><div class="storytext xcontrast_txt nocopy"
id="storytext"><p>The second night the lanterns went up <em>early</em>.</p>
<p>Mei counted them from the bridge.</p></div></div>
<div id="review">Reviews and adverts are not the story.</div></body></html>"""


def test_a_saved_fanfiction_net_page_is_its_header_and_one_chapter() -> None:
    story = parse_ao3_html(FFNET_PAGE, "lanterns.html")

    assert (story.title, story.author) == ("Paper Lanterns", "lantern_maker")
    assert story.rating.level is RatingLevel.MATURE
    assert story.metadata["summary"] == "Three nights of the festival, told slowly."
    assert story.metadata["characters"] == "Mei L., Arlo K."
    assert [(s.title, s.text) for s in story.sections] == [
        (
            "2. Second Night",
            "The second night the lanterns went up *early*.\n\nMei counted them from the bridge.",
        )
    ]


def test_a_saved_fanfiction_net_page_says_which_chapters_are_missing() -> None:
    story = parse_ao3_html(FFNET_PAGE, "lanterns.html")

    assert story.warnings == (
        "FanFiction.Net says this story has 3 chapters; this file holds 1 (“2. Second Night”), "
        "so 2 are missing. A saved page holds one chapter: save each one, or download the "
        "whole story with FanFicFare as an EPUB.",
    )
