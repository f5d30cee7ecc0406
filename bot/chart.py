"""The /feedback chart: readers' reactions per section as stacked bars, PNG bytes.

Two steps, both pure (no Discord, no database): `plan_chart` decides *what* is drawn (which
sections, the height of every emoji's segment, the y ticks, the colour of every emoji) and
`reactions_chart` draws a plan with matplotlib. The embed uses the same plan for its legend
(`legend_text`), so the colours the reader sees in the image and in the text always agree.

The image holds no words from the story and no emoji: emoji and titles need fonts the bot
cannot count on (they came out as tofu boxes), while the embed renders both natively. The image
carries colours, numbers and two short axis titles, all in matplotlib's bundled DejaVu Sans.

matplotlib is imported inside the drawing functions: importing it costs about a second, which
bot start-up should not pay for a command that may never run. Drawing uses the object-oriented
API only (`Figure` + `FigureCanvasAgg`, never pyplot's global figure state), so the cog can draw
in worker threads, two at once if need be.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.text import Text

__all__ = (
    "MAX_BARS",
    "Bar",
    "ChartPlan",
    "Series",
    "legend_text",
    "plan_chart",
    "reactions_chart",
    "render_png",
)

# Enough bars to see where a story is loved, and the same sections the embed lists by name. At
# the ~400 px Discord shows the image at, 15 bars keep room for a three-digit section number
# and a three-digit total on each bar, level and legible; 20 forced them sideways or out.
MAX_BARS = 15
MAX_TICK_INTERVALS = 6

# Discord draws its coloured squares with Twemoji; the bars use Twemoji's own colours so that
# "🟦 ❤️" in the embed names the blue in the image. The order keeps the first series apart for
# colour-blind readers (blue, orange) and never stacks red right on green. Black (⬛) is left
# out: it would vanish into the dark background. The last, a neutral white, doubles as "other".
PALETTE: tuple[tuple[str, str], ...] = (
    ("🟦", "#55acee"),
    ("🟧", "#f4900c"),
    ("🟩", "#78b159"),
    ("🟪", "#aa8ed6"),
    ("🟨", "#fdcb58"),
    ("🟥", "#dd2e44"),
    ("🟫", "#c1694f"),
    ("⬜", "#e6e7e8"),
)
OTHER_LABEL = "other"

# Discord's darkest theme tone: on its embed grey (#2b2d31) Twemoji red falls just short of
# WCAG's 3:1 for graphics; on this every bar colour clears it, and the image reads as a panel.
BACKGROUND = "#1e1f22"
TEXT = "#dbdee1"
MUTED = "#b5bac1"
GRID = "#4e5058"

WIDTH_PX, HEIGHT_PX, DPI = 800, 450, 100
TICK_PT, AXIS_TITLE_PT, VALUE_PT, MESSAGE_PT = 16, 15, 14, 24
BAR_WIDTH = 0.7
# A story with one or two sections should not get one bar as wide as the chart.
MIN_SLOTS = 6


@dataclass(frozen=True)
class Series:
    """One colour in the stack: an emoji key (or several, lumped together as "other")."""

    label: str  # the emoji key as Discord writes it, or OTHER_LABEL
    square: str  # Discord's coloured square emoji for the legend
    colour: str  # the same colour in the image, "#rrggbb"
    emoji: tuple[str, ...]  # the emoji keys drawn in this colour


@dataclass(frozen=True)
class Bar:
    position: int  # the section's number in the story, 1-based
    segments: tuple[int, ...]  # reactions per series, in `ChartPlan.series` order

    @property
    def label(self) -> str:
        return str(self.position)

    @property
    def total(self) -> int:
        return sum(self.segments)


@dataclass(frozen=True)
class ChartPlan:
    """Everything the image shows, as plain values the tests and the embed can read."""

    bars: tuple[Bar, ...]  # in story order
    series: tuple[Series, ...]  # bottom of the stack first; the most frequent emoji first
    y_ticks: tuple[int, ...]  # from 0, evenly spaced integers, the last at or above the peak
    section_count: int  # sections in the story
    reacted_sections: int  # sections with at least one reaction

    @property
    def empty(self) -> bool:
        return self.reacted_sections == 0

    @property
    def peak(self) -> int:
        return max((bar.total for bar in self.bars), default=0)

    @property
    def x_title(self) -> str:
        shown = sum(1 for bar in self.bars if bar.total)
        if len(self.bars) >= self.section_count:
            return "section"
        if shown < self.reacted_sections:
            return f"section · {shown} most reacted of {self.section_count:,}"
        return f"section · {shown} of {self.section_count:,} have reactions"


def plan_chart(
    sections: Sequence[tuple[int, Sequence[tuple[str, int]]]], section_count: int
) -> ChartPlan:
    """Decide what the chart shows.

    `sections` is (section position, [(emoji key, count), ...]). A story with at most
    MAX_BARS sections shows every section, reacted or not; a longer one shows its MAX_BARS
    most-reacted sections (earlier sections win ties), in story order. Positions below 1 and
    counts below 1 are ignored; repeated positions or emoji are added up.
    """
    per_section = _merge(sections)
    count = max([max(section_count, 0), *per_section])
    if count <= MAX_BARS:
        positions = list(range(1, count + 1))
    else:
        by_total = sorted(per_section, key=lambda p: (-sum(per_section[p].values()), p))
        positions = sorted(by_total[:MAX_BARS])
    series = _series(per_section[p] for p in positions if p in per_section)
    bars = tuple(_bar(position, per_section.get(position, {}), series) for position in positions)
    peak = max((bar.total for bar in bars), default=0)
    return ChartPlan(
        bars=bars,
        series=series,
        y_ticks=nice_ticks(peak),
        section_count=count,
        reacted_sections=len(per_section),
    )


def legend_text(plan: ChartPlan) -> str:
    """One line for the embed naming every bar colour, e.g. `🟦 ❤️ · 🟧 😂 · ⬜ other`."""
    return " · ".join(f"{series.square} {series.label}" for series in plan.series)


def nice_ticks(peak: int) -> tuple[int, ...]:
    """Integer ticks from 0 in steps of 1, 2 or 5 × 10ⁿ, at most MAX_TICK_INTERVALS of them.

    Done here rather than by matplotlib's MaxNLocator so that the plan (which the embed builds
    on the event loop) needs no matplotlib; the drawing pins exactly these ticks.
    """
    if peak <= 0:
        return (0, 1)
    for step in _steps():
        intervals = -(-peak // step)  # ceiling, exact for any int
        if intervals <= MAX_TICK_INTERVALS:
            return tuple(range(0, (intervals + 1) * step, step))
    raise AssertionError("unreachable: steps grow without bound")


def reactions_chart(
    sections: Sequence[tuple[int, Sequence[tuple[str, int]]]], section_count: int
) -> bytes:
    """The chart as PNG bytes (800×450). Blocking: call it in a worker thread.

    A story without reactions gets a plain "No reactions yet" image (the /feedback cog skips
    the chart in that case, but a caller that does not still gets something honest).
    """
    return render_png(plan_chart(sections, section_count))


def render_png(plan: ChartPlan) -> bytes:
    figure = _draw(plan)
    out = io.BytesIO()
    # No "Software" stamp: the bytes depend only on the plan.
    figure.savefig(out, format="png", dpi=DPI, facecolor=BACKGROUND, metadata={"Software": None})
    return out.getvalue()


# --- planning -------------------------------------------------------------------------------


def _merge(
    sections: Sequence[tuple[int, Sequence[tuple[str, int]]]],
) -> dict[int, dict[str, int]]:
    merged: dict[int, dict[str, int]] = {}
    for position, counts in sections:
        if position < 1:
            continue
        for emoji, amount in counts:
            if amount > 0:
                per_emoji = merged.setdefault(position, {})
                per_emoji[emoji] = per_emoji.get(emoji, 0) + amount
    return merged


def _series(shown: Iterator[dict[str, int]]) -> tuple[Series, ...]:
    """Colours for the emoji on the shown bars, most reactions first (first seen wins ties);
    past the palette, the least used share the last colour as "other"."""
    totals: dict[str, int] = {}
    for per_emoji in shown:
        for emoji, amount in per_emoji.items():
            totals[emoji] = totals.get(emoji, 0) + amount
    ranked = sorted(totals, key=lambda emoji: -totals[emoji])  # stable: first seen wins ties
    if len(ranked) > len(PALETTE):
        named, rest = ranked[: len(PALETTE) - 1], ranked[len(PALETTE) - 1 :]
    else:
        named, rest = ranked, []
    series = [
        Series(label=emoji, square=square, colour=colour, emoji=(emoji,))
        for emoji, (square, colour) in zip(named, PALETTE, strict=False)
    ]
    if rest:
        square, colour = PALETTE[len(named)]
        series.append(Series(label=OTHER_LABEL, square=square, colour=colour, emoji=tuple(rest)))
    return tuple(series)


def _bar(position: int, per_emoji: dict[str, int], series: tuple[Series, ...]) -> Bar:
    return Bar(
        position=position,
        segments=tuple(sum(per_emoji.get(emoji, 0) for emoji in s.emoji) for s in series),
    )


def _steps() -> Iterator[int]:
    scale = 1
    while True:
        for multiple in (1, 2, 5):
            yield multiple * scale
        scale *= 10


# --- drawing --------------------------------------------------------------------------------


def _draw(plan: ChartPlan) -> Figure:
    """The laid-out figure for a plan (tests inspect its axes, patches and label boxes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(
        figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=BACKGROUND, layout=None
    )
    canvas = FigureCanvasAgg(figure)
    if plan.empty:
        _draw_nothing_yet(figure)
        return figure
    figure.set_layout_engine("constrained", h_pad=0.12, w_pad=0.12)
    axes = figure.add_subplot()
    _style_axes(axes, plan)
    _draw_bars(axes, plan)
    totals = _draw_totals(axes, plan)
    figure.canvas.draw()  # lays out, so the labels can be measured
    renderer = canvas.get_renderer()
    crowded_sections = _crowded(axes.get_xticklabels(), renderer)
    crowded_totals = _crowded(totals, renderer, slot=_slot_px(axes))
    if crowded_sections:
        # Vertical section numbers always fit: a bar slot is wider than one line of text.
        axes.tick_params(axis="x", labelrotation=90)
    if crowded_totals:
        for text in totals:
            text.remove()
    if crowded_sections or crowded_totals:
        figure.canvas.draw()  # lay out again around the turned labels
    # Freeze this layout: saving must not move anything the checks above measured.
    figure.set_layout_engine("none")
    return figure


def _style_axes(axes: Axes, plan: ChartPlan) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    axes.set_facecolor(BACKGROUND)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(MUTED)
    axes.tick_params(axis="both", colors=MUTED, labelcolor=TEXT, labelsize=TICK_PT)
    axes.tick_params(axis="y", length=0, pad=6)
    axes.tick_params(axis="x", length=0, pad=6)
    # The ticks are the plan's, exactly: whole numbers from zero, nothing matplotlib rounds.
    axes.yaxis.set_major_locator(FixedLocator(list(plan.y_ticks)))
    axes.yaxis.set_minor_locator(NullLocator())
    axes.yaxis.set_major_formatter(_thousands)
    axes.set_ylim(0, plan.y_ticks[-1] * 1.1)  # headroom for the totals above the tallest bar
    axes.yaxis.grid(True, color=GRID, linewidth=1)
    axes.xaxis.grid(False)
    axes.set_axisbelow(True)
    axes.set_xticks(range(len(plan.bars)), [bar.label for bar in plan.bars])
    axes.xaxis.set_minor_locator(NullLocator())
    padding = max(0.0, (MIN_SLOTS - len(plan.bars)) / 2)
    axes.set_xlim(-0.5 - padding, len(plan.bars) - 0.5 + padding)
    axes.set_ylabel("reactions", color=MUTED, fontsize=AXIS_TITLE_PT, labelpad=8)
    axes.set_xlabel(plan.x_title, color=MUTED, fontsize=AXIS_TITLE_PT, labelpad=8)


def _draw_bars(axes: Axes, plan: ChartPlan) -> None:
    x = range(len(plan.bars))
    bottoms = [0] * len(plan.bars)
    for index, series in enumerate(plan.series):
        heights = [bar.segments[index] for bar in plan.bars]
        # A thin background-coloured edge keeps neighbouring segments apart.
        axes.bar(
            x,
            heights,
            BAR_WIDTH,
            bottom=bottoms,
            color=series.colour,
            edgecolor=BACKGROUND,
            linewidth=1,
            label=series.label,
            gid=f"series-{index}",
        )
        bottoms = [bottom + height for bottom, height in zip(bottoms, heights, strict=True)]


def _draw_totals(axes: Axes, plan: ChartPlan) -> list[Text]:
    # A zero says "nobody reacted here", which an empty slot alone does not.
    return [
        axes.annotate(
            _thousands(bar.total),
            (index, bar.total),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            color=TEXT if bar.total else MUTED,
            fontsize=VALUE_PT,
            gid="total",
        )
        for index, bar in enumerate(plan.bars)
    ]


def _draw_nothing_yet(figure: Figure) -> None:
    figure.text(
        0.5, 0.56, "No reactions yet", ha="center", va="center", color=TEXT, fontsize=MESSAGE_PT
    )
    figure.text(
        0.5,
        0.42,
        "React to an excerpt to leave feedback",
        ha="center",
        va="center",
        color=MUTED,
        fontsize=TICK_PT,
    )


def _crowded(texts: Sequence[Text], renderer: RendererBase, slot: float | None = None) -> bool:
    """Whether any two visible labels overlap (or one is wider than its bar slot)."""
    boxes = sorted(
        (text.get_window_extent(renderer) for text in texts if text.get_text()),
        key=lambda box: box.x0,
    )
    if slot is not None and any(box.width > slot for box in boxes):
        return True
    gap = 2  # px: touching labels read as one number
    return any(left.x1 + gap > right.x0 for left, right in itertools.pairwise(boxes))


def _slot_px(axes: Axes) -> float:
    left, right = axes.get_xlim()
    return axes.get_window_extent().width / (right - left)


def _thousands(value: float, _position: object = None) -> str:
    return f"{int(value):,}"
