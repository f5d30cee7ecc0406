"""The /feedback chart: what it plans, what it draws, and that a reader can read it.

Every test that renders writes its PNG to tests/artefacts/charts/<case>.png, to be looked at.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import warnings
from collections.abc import Sequence
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from bot import chart
from bot.chart import MAX_BARS, ChartPlan, legend_text, nice_ticks, plan_chart, reactions_chart

pytest.importorskip("matplotlib")

ARTEFACTS = Path(__file__).resolve().parent / "artefacts" / "charts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SQUARES = set("🟥🟧🟨🟩🟦🟪🟫⬛⬜")

Sections = Sequence[tuple[int, Sequence[tuple[str, int]]]]

# Emoji keys as the feedback cog stores them: unicode (with variation selectors, skin tones,
# flags, ZWJ sequences) and custom emoji whose names carry accents and CJK.
EMOJI = (
    "❤️",
    "😂",
    "👍🏽",
    "🇫🇷",
    "🧑‍🤝‍🧑",
    "<:café_crème:112233445566778899>",
    "<:猫:223344556677889900>",
    "<a:dansé:334455667788990011>",
    "😭",
    "🔥",
)


def save(case: str, png: bytes) -> Image.Image:
    """Keep the PNG as an artefact and check it is a real 800×450 image."""
    assert png.startswith(PNG_SIGNATURE)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / f"{case}.png").write_bytes(png)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.size == (800, 450)
    return image.convert("RGB")


def render(case: str, sections: Sections, section_count: int) -> tuple[ChartPlan, Image.Image]:
    # A missing glyph (an emoji or CJK title leaking into the image) is a matplotlib warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = reactions_chart(sections, section_count)
    return plan_chart(sections, section_count), save(case, png)


def totals_by_position(sections: Sections) -> dict[int, int]:
    totals: dict[int, int] = {}
    for position, counts in sections:
        totals[position] = totals.get(position, 0) + sum(count for _, count in counts)
    return totals


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def relative_luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in hex_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def visible_texts(figure):
    """Every piece of text the figure shows, with its box in pixels."""
    renderer = figure.canvas.get_renderer()
    texts = [
        text
        for text in figure.findobj(match=lambda a: type(a).__name__ in ("Text", "Annotation"))
        if text.get_visible() and text.get_text() and text.get_figure() is not None
    ]
    return [(text.get_text(), text.get_window_extent(renderer)) for text in texts]


def assert_readable(figure) -> None:
    """No two texts overlap and none is cut off by the image's edge."""
    boxes = visible_texts(figure)
    frame = figure.bbox
    for text, box in boxes:
        assert box.x0 >= 0 and box.y0 >= 0, f"{text!r} is cut off"
        assert box.x1 <= frame.width and box.y1 <= frame.height, f"{text!r} is cut off"
    for (a, box_a), (b, box_b) in combinations(boxes, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"


def drawn_segments(figure) -> list[list[float]]:
    """The heights of the bar patches, per series, as matplotlib holds them."""
    (axes,) = figure.axes
    return [[patch.get_height() for patch in container] for container in axes.containers]


def assert_draws_plan(plan: ChartPlan) -> None:
    figure = chart._draw(plan)
    (axes,) = figure.axes
    assert list(axes.get_yticks()) == list(plan.y_ticks)
    assert [label.get_text() for label in axes.get_yticklabels()] == [
        f"{tick:,}" for tick in plan.y_ticks
    ]
    assert axes.get_ylim()[0] == 0
    assert axes.get_ylim()[1] >= plan.y_ticks[-1]
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        str(bar.position) for bar in plan.bars
    ]
    assert drawn_segments(figure) == [
        [bar.segments[index] for bar in plan.bars] for index in range(len(plan.series))
    ]
    for container, series in zip(axes.containers, plan.series, strict=True):
        for patch in container:
            assert patch.get_facecolor()[:3] == tuple(c / 255 for c in hex_rgb(series.colour))
    # Each bar's stack starts at zero and its segments sit on one another.
    for index, bar in enumerate(plan.bars):
        bottom = 0
        for container, height in zip(axes.containers, bar.segments, strict=True):
            assert container[index].get_y() == bottom
            bottom += height
        assert bottom == bar.total
    assert_readable(figure)


def assert_shows_colours(image: Image.Image, plan: ChartPlan) -> None:
    colours = {colour for _, colour in image.getcolors(maxcolors=800 * 450)}
    for series in plan.series:
        assert hex_rgb(series.colour) in colours, f"no {series.label} bar in the image"


# --- the cases the issue names --------------------------------------------------------------


def test_one_section() -> None:
    sections = [(1, [("❤️", 3), ("😂", 1)])]
    plan, image = render("one_section", sections, 1)

    assert [(bar.label, bar.segments) for bar in plan.bars] == [("1", (3, 1))]
    assert plan.y_ticks == (0, 1, 2, 3, 4)
    assert legend_text(plan) == "🟦 ❤️ · 🟧 😂"
    assert plan.x_title == "section"
    assert_draws_plan(plan)
    assert_shows_colours(image, plan)


def test_emoji_with_accents_cjk_and_custom_keys_are_colours_not_glyphs() -> None:
    sections = [
        (position, [(emoji, (position * 7 + index * 3) % 11) for index, emoji in enumerate(EMOJI)])
        for position in range(1, 9)
    ]
    plan, image = render("accents_cjk_emoji", sections, 8)

    # The image draws only digits and the two axis titles: no emoji, no tofu.
    figure = chart._draw(plan)
    for text, _ in visible_texts(figure):
        assert re.fullmatch(r"[0-9,]+|reactions|section", text), text
    # The embed's legend names each colour with the emoji exactly as Discord writes it.
    legend = legend_text(plan)
    assert legend == " · ".join(f"{s.square} {s.label}" for s in plan.series)
    named = [s.label for s in plan.series if s.label != "other"]
    lumped = [emoji for s in plan.series if s.label == "other" for emoji in s.emoji]
    assert sorted(named + lumped) == sorted(EMOJI)
    assert all(emoji in legend for emoji in named)
    assert_draws_plan(plan)
    assert_shows_colours(image, plan)


def test_366_sections_show_the_most_reacted_in_story_order() -> None:
    sections = [
        (position, [("❤️", position % 17), ("😂", position % 5), ("<:e:123>", position % 3)])
        for position in range(1, 367)
    ]
    plan, image = render("366_sections", sections, 366)

    totals = totals_by_position(sections)
    expected = sorted(sorted(totals, key=lambda p: (-totals[p], p))[:MAX_BARS])
    assert [bar.position for bar in plan.bars] == expected
    assert [bar.total for bar in plan.bars] == [totals[p] for p in expected]
    assert min(bar.total for bar in plan.bars) >= max(
        total for position, total in totals.items() if position not in expected
    )
    assert plan.x_title == f"section · {MAX_BARS} most reacted of 366"
    assert_draws_plan(plan)
    assert_shows_colours(image, plan)


def test_a_few_reacted_sections_of_a_long_story() -> None:
    sections = [(12, [("❤️", 2)]), (200, [("😂", 5)]), (366, [("❤️", 1), ("😂", 1)])]
    plan, _ = render("few_of_366", sections, 366)

    # 😂 has more reactions, so it is the first colour, at the bottom of the stack.
    assert legend_text(plan) == "🟦 😂 · 🟧 ❤️"
    assert [(bar.position, bar.segments) for bar in plan.bars] == [
        (12, (0, 2)),
        (200, (5, 0)),
        (366, (1, 1)),
    ]
    assert plan.x_title == "section · 3 of 366 have reactions"
    assert_draws_plan(plan)


def test_ties_keep_the_earlier_sections() -> None:
    sections = [(position, [("❤️", 2), ("😂", 2)]) for position in range(1, 41)]
    plan, _ = render("ties", sections, 40)

    assert [bar.position for bar in plan.bars] == list(range(1, MAX_BARS + 1))
    assert {bar.segments for bar in plan.bars} == {(2, 2)}
    # Equal emoji keep the order readers used them in: the legend is stable.
    assert legend_text(plan) == "🟦 ❤️ · 🟧 😂"
    assert plan.y_ticks == (0, 1, 2, 3, 4)
    assert_draws_plan(plan)


def test_zero_reactions_is_a_clear_message() -> None:
    plan, image = render("zero_reactions", [], 366)

    assert plan.empty
    assert plan.series == ()
    assert legend_text(plan) == ""
    figure = chart._draw(plan)
    assert [text for text, _ in visible_texts(figure)] == [
        "No reactions yet",
        "React to an excerpt to leave feedback",
    ]
    assert_readable(figure)
    assert len(image.getcolors(maxcolors=800 * 450)) > 2  # there is text on it


def test_zero_counts_are_no_reactions() -> None:
    plan, _ = render("zero_counts", [(1, [("❤️", 0)]), (2, [("😂", 0)])], 2)

    assert plan.empty


def test_a_short_story_shows_its_unreacted_sections_too() -> None:
    plan, _ = render("short_story_gaps", [(2, [("❤️", 4)]), (5, [("❤️", 1)])], 6)

    assert [bar.total for bar in plan.bars] == [0, 4, 0, 0, 1, 0]
    figure = chart._draw(plan)
    (axes,) = figure.axes
    assert [text.get_text() for text in axes.texts] == ["0", "4", "0", "0", "1", "0"]
    assert_draws_plan(plan)


def test_more_emoji_than_colours_share_other() -> None:
    sections = [(1, [(emoji, 20 - index) for index, emoji in enumerate(EMOJI)])]
    plan, image = render("other_emoji", sections, 1)

    assert len(plan.series) == len(chart.PALETTE)
    other = plan.series[-1]
    assert other.label == "other"
    assert other.emoji == EMOJI[len(chart.PALETTE) - 1 :]
    assert plan.bars[0].segments[-1] == sum(20 - i for i in range(len(chart.PALETTE) - 1, 10))
    assert legend_text(plan).endswith("⬜ other")
    assert_draws_plan(plan)
    assert_shows_colours(image, plan)


def test_large_counts_and_long_section_numbers_stay_legible() -> None:
    # Five-digit section numbers and six-digit totals cannot sit level in a bar's slot: they
    # must turn or give way, never overlap.
    sections = [
        (position, [("❤️", 100_000 + position), ("😂", 3 * position)])
        for position in range(10_000, 10_040)
    ]
    plan, _ = render("large_counts", sections, 12_000)

    assert plan.y_ticks == (0, 50_000, 100_000, 150_000)
    assert_draws_plan(plan)


def test_positions_beyond_the_section_count_still_show() -> None:
    # A story replaced by a shorter version keeps its feedback.
    plan, _ = render("beyond_count", [(9, [("❤️", 2)]), (0, [("😂", 5)])], 3)

    assert [bar.position for bar in plan.bars] == list(range(1, 10))
    assert plan.bars[-1].total == 2
    assert sum(bar.total for bar in plan.bars) == 2  # position 0 is not a section


# --- colours --------------------------------------------------------------------------------


def test_legend_squares_are_discords_and_distinct() -> None:
    squares = [square for square, _ in chart.PALETTE]
    assert set(squares) <= SQUARES
    assert len(set(squares)) == len(squares)
    assert "⬛" not in squares  # invisible on the dark background
    assert len({colour for _, colour in chart.PALETTE}) == len(chart.PALETTE)


def test_colours_stand_out_on_the_dark_background() -> None:
    for _, colour in chart.PALETTE:
        assert contrast(colour, chart.BACKGROUND) >= 3, colour  # WCAG: graphical objects
    for colour in (chart.TEXT, chart.MUTED):
        assert contrast(colour, chart.BACKGROUND) >= 4.5, colour  # WCAG: text


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_ticks_are_true_whole_numbers_from_zero(peak: int) -> None:
    ticks = nice_ticks(peak)
    assert ticks[0] == 0
    assert ticks[-1] >= max(peak, 1)
    step = ticks[1] - ticks[0]
    assert all(b - a == step for a, b in pairwise(ticks))
    assert re.fullmatch(r"[125]0*", str(step))
    assert 2 <= len(ticks) <= chart.MAX_TICK_INTERVALS + 1
    assert ticks[-2] < max(peak, 1)  # no empty interval above the tallest bar


section_data = st.lists(
    st.tuples(
        st.integers(min_value=-2, max_value=400),
        st.lists(
            st.tuples(st.sampled_from(EMOJI), st.integers(min_value=-1, max_value=50)), max_size=6
        ),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(section_data, st.integers(min_value=0, max_value=400))
def test_plan_keeps_every_count_it_shows(sections: Sections, section_count: int) -> None:
    plan = plan_chart(sections, section_count)
    positive = [
        (position, [(emoji, count) for emoji, count in counts if count > 0])
        for position, counts in sections
        if position >= 1
    ]
    totals = {p: t for p, t in totals_by_position(positive).items() if t}

    assert len(plan.bars) <= MAX_BARS
    positions = [bar.position for bar in plan.bars]
    assert positions == sorted(set(positions))
    for bar in plan.bars:
        assert bar.total == totals.get(bar.position, 0)
        assert all(segment >= 0 for segment in bar.segments)
    shown = set(positions)
    hidden = [total for position, total in totals.items() if position not in shown]
    assert not hidden or min(bar.total for bar in plan.bars) >= max(hidden)
    assert plan.y_ticks[0] == 0 and plan.y_ticks[-1] >= plan.peak
    assert plan.empty == (not totals)
    assert len(plan.series) <= len(chart.PALETTE)
    legend = legend_text(plan)
    assert legend.count("·") == max(len(plan.series) - 1, 0)


# --- running beside the bot -----------------------------------------------------------------


def test_two_threads_draw_at_once() -> None:
    cases = {
        "a": ([(p, [("❤️", p % 7), ("😂", p % 4)]) for p in range(1, 367)], 366),
        "b": ([(1, [("<:猫:1>", 3)]), (2, [("👍🏽", 5)])], 2),
    }
    alone = {name: reactions_chart(*args) for name, args in cases.items()}
    results: dict[str, list[bytes]] = {name: [] for name in cases}
    errors: list[BaseException] = []

    def draw(name: str) -> None:
        try:
            for _ in range(3):
                results[name].append(reactions_chart(*cases[name]))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=draw, args=(name,)) for name in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for name, pngs in results.items():
        assert pngs == [alone[name]] * 3  # the same image, pixel for pixel, as drawn alone
        save(f"threads_{name}", pngs[0])


def test_importing_the_chart_does_not_load_matplotlib() -> None:
    # matplotlib costs about a second to import; bot start-up should not pay it.
    code = "import sys, bot.chart; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.stdout.strip() == "False"
