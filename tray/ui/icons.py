"""The tray icon's images, drawn with Pillow: one design, four states."""

from __future__ import annotations

import enum
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "NOTIFICATION_ICON",
    "SIZE",
    "IconState",
    "asset",
    "draw_icon",
    "draw_template",
]

SIZE = 64
NOTIFICATION_ICON = "multishot-128.png"


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


_COLOURS = {
    IconState.SETUP_NEEDED: (128, 128, 128, 255),
    IconState.IDLE: (52, 101, 164, 255),
    IconState.RUNNING: (46, 139, 87, 255),
    IconState.ATTENTION: (204, 51, 51, 255),
}
_MARKS = {IconState.SETUP_NEEDED: "?", IconState.ATTENTION: "!"}


def _draw_arrows(draw: ImageDraw.ImageDraw, unit: float, fill: tuple[int, int, int, int]) -> None:
    for row in range(3):
        top = (16 + row * 12) * unit
        draw.polygon(
            [(18 * unit, top), (40 * unit, top + 4 * unit), (18 * unit, top + 8 * unit)], fill=fill
        )


def draw_template(size: int) -> Image.Image:
    """The macOS menu-bar template: the arrows alone, black on transparent."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    _draw_arrows(ImageDraw.Draw(image), size / 56, (0, 0, 0, 255))
    return image


def draw_icon(state: IconState, active_shots: int = 0, size: int = SIZE) -> Image.Image:
    """Three stacked arrows ("shots") on a round badge; running shows the shot count."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = size / 64
    draw.ellipse((2 * unit, 2 * unit, 62 * unit, 62 * unit), fill=_COLOURS[state])
    white = (255, 255, 255, 255)
    label = str(min(active_shots, 99)) if state is IconState.RUNNING and active_shots else None
    label = label or _MARKS.get(state)
    if not label:
        _draw_arrows(draw, unit, white)
        return image
    # The badge takes the lower right quarter and more: its digits must read at 22 px.
    _draw_arrows(draw, unit * 0.8, white)
    font = ImageFont.load_default(size=int((34 if len(label) == 1 else 28) * unit))
    draw.ellipse((26 * unit, 26 * unit, 64 * unit, 64 * unit), fill=white)
    draw.text((45 * unit, 45 * unit), label, fill=_COLOURS[state], font=font, anchor="mm")
    return image
