"""Tooltips: the whole text of something shown cut short, after the pointer rests on it."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from tray.ui import style

__all__ = ["TOOLTIP_DELAY_MS", "Tooltip"]

TOOLTIP_DELAY_MS = 500


class Tooltip:
    """For one widget; ``text_at(x, y)`` says what to show at a point of it (None: nothing).

    A timer runs only between the pointer coming to rest and the tip showing.
    """

    def __init__(self, widget: tk.Misc, text_at: Callable[[int, int], str | None]) -> None:
        self.widget = widget
        self.text_at = text_at
        self.window: tk.Toplevel | None = None
        self.text: str | None = None
        self._after: str | None = None
        widget.bind("<Motion>", self._moved, add="+")
        for sequence in ("<Leave>", "<ButtonPress>", "<KeyPress>", "<Destroy>"):
            widget.bind(sequence, lambda _event: self.hide(), add="+")

    @property
    def waiting(self) -> bool:
        """Whether a timer is set to show a tip."""
        return self._after is not None

    def _moved(self, event: tk.Event[tk.Misc]) -> None:
        text = self.text_at(event.x, event.y)
        if text == self.text:
            return
        self.hide()
        self.text = text
        if text:
            x, y = event.x_root, event.y_root
            self._after = self.widget.after(TOOLTIP_DELAY_MS, lambda: self.show(text, x, y))

    def show(self, text: str, x: int, y: int) -> None:
        self._after = None
        self.hide(keep_text=True)
        window = tk.Toplevel(self.widget)
        window.wm_overrideredirect(True)
        window.attributes("-topmost", True)
        colours = style.palette(self.widget)
        frame = tk.Frame(window, background=colours.muted, padx=1, pady=1)
        frame.pack()
        label = ttk.Label(
            frame,
            text=text,
            justify="left",
            wraplength=style.wrap(self.widget),
            background=colours.background,
            foreground=colours.text,
            padding=style.pad(self.widget, 0.5),
        )
        label.pack()
        window.update_idletasks()
        gap = style.pad(self.widget, 2)
        width, height = window.winfo_reqwidth(), window.winfo_reqheight()
        left = min(x + gap, window.winfo_screenwidth() - width)
        top = y + gap if y + gap + height <= window.winfo_screenheight() else y - gap - height
        window.geometry(f"+{max(0, left)}+{max(0, top)}")
        self.window = window

    def hide(self, *, keep_text: bool = False) -> None:
        if self._after is not None:
            self.widget.after_cancel(self._after)
            self._after = None
        if self.window is not None:
            self.window.destroy()
            self.window = None
        if not keep_text:
            self.text = None
