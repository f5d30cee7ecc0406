"""A bar chart of reactions per section, as PNG bytes (Pillow; no Discord, no database)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

__all__ = ("reactions_chart",)

WIDTH, HEIGHT = 900, 420
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 20, 50, 50
BACKGROUND = (47, 49, 54)
AXIS = (185, 187, 190)
BAR = (88, 101, 242)
BEST = (237, 66, 69)
TEXT = (220, 221, 222)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType support
        return ImageFont.load_default()


def reactions_chart(title: str, totals: Sequence[tuple[int, int]], section_count: int) -> bytes:
    """`totals` is (section position, reactions); every section 1..n gets a bar slot."""
    positions = max([1, section_count, *(p for p, _ in totals)])
    counts = [0] * positions
    for position, count in totals:
        if 1 <= position <= positions:
            counts[position - 1] += count
    peak = max(counts) or 1
    best = counts.index(max(counts)) if any(counts) else -1

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    small, large = _font(12), _font(16)
    draw.text((MARGIN_LEFT, 15), f"Reactions per section · {title}"[:90], fill=TEXT, font=large)

    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base_y = MARGIN_TOP + plot_h
    draw.line((MARGIN_LEFT, MARGIN_TOP, MARGIN_LEFT, base_y), fill=AXIS)
    draw.line((MARGIN_LEFT, base_y, MARGIN_LEFT + plot_w, base_y), fill=AXIS)
    for fraction in (0.5, 1.0):
        y = base_y - plot_h * fraction
        draw.text((8, y - 7), f"{round(peak * fraction):>5}", fill=AXIS, font=small)

    slot = plot_w / positions
    gap = slot * 0.2 if slot >= 4 else 0
    label_every = max(1, round(40 / slot))
    for index, count in enumerate(counts):
        x0 = MARGIN_LEFT + index * slot + gap / 2
        x1 = max(x0 + 1, MARGIN_LEFT + (index + 1) * slot - gap / 2)
        if count:
            top = base_y - plot_h * count / peak
            draw.rectangle((x0, top, x1, base_y - 1), fill=BEST if index == best else BAR)
        if index % label_every == 0 or index == best:
            draw.text((x0, base_y + 6), str(index + 1), fill=AXIS, font=small)
    draw.text((MARGIN_LEFT, HEIGHT - 20), "section", fill=AXIS, font=small)

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
