"""The tray icon's images, drawn with Pillow: one mark, four states.

The mark is a fan of shots: one point that splits into three rays, each ending in a
dot (several attempts at one task). Each state has its own colour *and* shape, so
it reads at 16 px and to people who don't tell the colours apart:

- idle: a blue rounded square with the mark;
- setup needed: an amber rounded square with a "?";
- running: a green circle with the number of shots at work, in digits drawn as
  strokes as tall as the circle allows (the mark when none works yet);
- attention: a red triangle with a white "!".

Every shape has a darker rim, so it stands out on light panels as its fill does on
dark ones. Images are drawn four times larger and scaled down, for smooth edges.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = [
    "NOTIFICATION_ICON",
    "SIZE",
    "STATE_COLOURS",
    "IconState",
    "asset",
    "draw_icon",
    "draw_template",
]

SIZE = 64
NOTIFICATION_ICON = "multishot-128.png"
_OVERSAMPLE = 4

RGBA = tuple[int, int, int, int]
Point = tuple[float, float]


def asset(name: str) -> Path | None:
    """A file from assets/: in the frozen bundle, the installed wheel (``tray/assets``)
    or the source tree."""
    bundle = getattr(sys, "_MEIPASS", None)
    package = Path(__file__).resolve().parent.parent
    folders = [Path(bundle)] if bundle else [package, package.parent]
    for folder in folders:
        path = folder / "assets" / name
        if path.is_file():
            return path
    return None


class IconState(enum.Enum):
    SETUP_NEEDED = "setup needed"
    IDLE = "idle"
    RUNNING = "running"
    ATTENTION = "attention"


# (fill, rim, glyph) per state.
STATE_COLOURS: dict[IconState, tuple[RGBA, RGBA, RGBA]] = {
    IconState.SETUP_NEEDED: ((204, 107, 0, 255), (122, 64, 0, 255), (255, 255, 255, 255)),
    IconState.IDLE: ((59, 130, 246, 255), (29, 64, 160, 255), (255, 255, 255, 255)),
    IconState.RUNNING: ((22, 150, 74, 255), (13, 77, 38, 255), (255, 255, 255, 255)),
    IconState.ATTENTION: ((239, 68, 68, 255), (140, 22, 22, 255), (255, 255, 255, 255)),
}

# Digits as strokes on a 4 x 7 grid (y down): bold and narrow, so "12" fits a 22 px icon.
_DIGITS: dict[str, list[list[Point]]] = {
    "0": [[(2, 0), (0.6, 0.6), (0, 2.2), (0, 4.8), (0.6, 6.4), (2, 7), (3.4, 6.4), (4, 4.8),
           (4, 2.2), (3.4, 0.6), (2, 0)]],
    "1": [[(0.7, 1.4), (2.4, 0), (2.4, 7)]],
    "2": [[(0.1, 1.3), (1.1, 0.1), (2.9, 0.1), (3.9, 1.2), (3.9, 2.5), (0, 7), (4, 7)]],
    "3": [[(0.1, 0), (3.9, 0), (1.7, 2.9), (2.8, 2.9), (4, 3.9), (4, 5.9), (2.9, 7), (1.1, 7),
           (0, 6.1)]],
    "4": [[(3, 7), (3, 0), (0, 4.9), (4, 4.9)]],
    "5": [[(3.9, 0), (0.5, 0), (0.2, 3.1), (2.7, 2.9), (4, 3.9), (4, 5.9), (2.9, 7), (1.1, 7),
           (0, 6.1)]],
    "6": [[(3.4, 0), (1.6, 0.3), (0.2, 2.2), (0, 4.9), (0.7, 6.6), (2, 7), (3.3, 6.6), (4, 5.4),
           (3.6, 3.8), (2, 3.2), (0.5, 3.9)]],
    "7": [[(0, 0), (4, 0), (1.5, 7)]],
    "8": [[(2, 3.3), (0.6, 2.6), (0.5, 0.9), (2, 0), (3.5, 0.9), (3.4, 2.6), (2, 3.3), (0.2, 4.3),
           (0.3, 6.3), (2, 7), (3.7, 6.3), (3.8, 4.3), (2, 3.3)]],
    "9": [[(0.6, 7), (2.4, 6.7), (3.8, 4.8), (4, 2.1), (3.3, 0.4), (2, 0), (0.7, 0.4), (0, 1.6),
           (0.4, 3.2), (2, 3.8), (3.5, 3.1)]],
    "?": [[(0.2, 1.5), (1.1, 0.1), (2.9, 0.1), (3.9, 1.3), (3.8, 2.6), (2, 3.9), (2, 5)]],
    "!": [[(2, 0), (2, 4.6)]],
}  # fmt: skip
_DOTS = {"?": (2, 7), "!": (2, 7)}  # the dot under "?" and "!"


def draw_template(size: int) -> Image.Image:
    """The macOS menu-bar template: the mark alone, black on transparent."""
    canvas, draw, unit = _canvas(size)
    _draw_mark(draw, unit, (0, 0, 0, 255), scale=1.15)
    return _finish(canvas, size)


def draw_icon(state: IconState, active_shots: int = 0, size: int = SIZE) -> Image.Image:
    """The icon of a state; running shows how many shots are at work (at most 99)."""
    canvas, draw, unit = _canvas(size)
    fill, rim, glyph = STATE_COLOURS[state]
    rim_width = max(1, round(3.5 * unit))
    if state is IconState.RUNNING:
        draw.ellipse(_box(2, 2, 62, 62, unit), fill=fill, outline=rim, width=rim_width)
        if active_shots:
            _draw_text(draw, str(min(active_shots, 99)), unit, glyph, centre=(32, 32))
        else:
            _draw_mark(draw, unit, glyph, scale=0.85)
    elif state is IconState.ATTENTION:
        corners = [(32, 3), (62, 58), (2, 58)]
        draw.polygon([(x * unit, y * unit) for x, y in corners], fill=rim)
        inner = [(32, 9.5), (57.5, 55.5), (6.5, 55.5)]
        draw.polygon([(x * unit, y * unit) for x, y in inner], fill=fill)
        _draw_text(draw, "!", unit, glyph, centre=(32, 38), height=26)
    else:
        box = _box(3, 3, 61, 61, unit)
        draw.rounded_rectangle(box, radius=14 * unit, fill=fill, outline=rim, width=rim_width)
        if state is IconState.SETUP_NEEDED:
            _draw_text(draw, "?", unit, glyph, centre=(32, 32), height=36)
        else:
            _draw_mark(draw, unit, glyph)
    return _finish(canvas, size)


def _canvas(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw, float]:
    big = size * _OVERSAMPLE
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    return canvas, ImageDraw.Draw(canvas), big / 64


def _finish(canvas: Image.Image, size: int) -> Image.Image:
    return canvas.resize((size, size), Image.Resampling.LANCZOS)


def _box(left: float, top: float, right: float, bottom: float, unit: float) -> list[float]:
    return [left * unit, top * unit, right * unit, bottom * unit]


def _draw_mark(draw: ImageDraw.ImageDraw, unit: float, colour: RGBA, scale: float = 1.0) -> None:
    """One point splitting into three rays that end in dots, in a 64-unit square."""

    def at(x: float, y: float) -> Point:
        return ((32 + (x - 32) * scale) * unit, (32 + (y - 32) * scale) * unit)

    origin, ends = (17, 32), [(45, 17), (48, 32), (45, 47)]
    width = round(5.5 * scale * unit)
    for end in ends:
        draw.line([at(*origin), at(*end)], fill=colour, width=width)
    for x, y in [origin, *ends]:
        radius = (6.5 if (x, y) == origin else 5.5) * scale * unit
        cx, cy = at(x, y)
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)


def _draw_text(
    draw: ImageDraw.ImageDraw,
    text: str,
    unit: float,
    colour: RGBA,
    *,
    centre: Point,
    height: float | None = None,
) -> None:
    """Digits, "?" or "!" as bold strokes, centred on ``centre`` (64-unit square)."""
    tall = height or (34 if len(text) == 1 else 30)
    cell = tall / 7  # units per grid step
    stroke = cell * (1.45 if len(text) == 1 else 1.3)
    gap = 1.3 * cell
    width = len(text) * 4 * cell + (len(text) - 1) * gap
    left, top = centre[0] - width / 2, centre[1] - tall / 2
    for index, char in enumerate(text):
        x0 = left + index * (4 * cell + gap)

        def at(point: Point, x0: float = x0) -> Point:
            return ((x0 + point[0] * cell) * unit, (top + point[1] * cell) * unit)

        for line in _DIGITS[char]:
            _stroke(draw, [at(p) for p in line], stroke * unit, colour)
        if char in _DOTS:
            cx, cy = at(_DOTS[char])
            radius = stroke * unit * 0.62
            draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)


def _stroke(draw: ImageDraw.ImageDraw, points: Sequence[Point], width: float, colour: RGBA) -> None:
    """A polyline with round joints and ends."""
    draw.line(list(points), fill=colour, width=round(width), joint="curve")
    radius = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
