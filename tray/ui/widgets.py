"""Small Tk building blocks shared by the dialogs."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import tkinter as tk
import webbrowser
from pathlib import Path
from tkinter import ttk

from tray.errors import CannotOpen
from tray.ui import style
from tray.ui.messages import readable

__all__ = [
    "SecretEntry",
    "close_window",
    "labelled_entry",
    "link",
    "message",
    "open_path",
]


class SecretEntry(ttk.Frame):
    """A masked entry with a Show toggle and a right-click Paste/Clear menu."""

    def __init__(self, parent: tk.Misc, width: int = 48) -> None:
        super().__init__(parent)
        self.variable = tk.StringVar(self)
        self.entry = ttk.Entry(self, textvariable=self.variable, show="•", width=width)
        self.entry.pack(side="left", fill="x", expand=True)
        self.visible = tk.BooleanVar(self, value=False)
        self.toggle = ttk.Checkbutton(self, text="Show", variable=self.visible, command=self._show)
        self.toggle.pack(side="left", padx=(style.pad(parent), 0))
        self.menu = tk.Menu(self, tearoff=False)
        self.menu.add_command(label="Paste", command=self.paste)
        self.menu.add_command(label="Clear", command=lambda: self.variable.set(""))
        self.entry.bind("<Button-3>", self._context_menu)

    def _show(self) -> None:
        self.entry.configure(show="" if self.visible.get() else "•")

    def _context_menu(self, event: tk.Event[tk.Misc]) -> None:
        self.menu.tk_popup(event.x_root, event.y_root)

    def paste(self) -> None:
        try:
            text = self.clipboard_get()
        except tk.TclError:
            return
        self.entry.delete(0, "end")
        self.entry.insert(0, text)

    def get(self) -> str:
        return self.variable.get()

    def set(self, value: str) -> None:
        self.variable.set(value)

    def focus(self) -> None:
        self.entry.focus_set()


def close_window(window: tk.Misc) -> None:
    """Destroy a window and collect its Tk variables now, on the Tk thread.

    Otherwise a garbage collection that happens to run on a worker thread finalises
    them there, and Tk refuses calls from outside its thread.
    """
    window.destroy()
    gc.collect()


def labelled_entry(frame: ttk.Frame, row: int, label: str, value: str = "") -> tk.StringVar:
    """A label in column 0 and a one-line entry in column 1 of a grid form; its variable."""
    ttk.Label(frame, text=label).grid(row=row, column=0, sticky="w", padx=(0, style.pad(frame, 2)))
    variable = tk.StringVar(frame, value=value)
    ttk.Entry(frame, textvariable=variable, width=60).grid(
        row=row, column=1, sticky="ew", pady=(0, style.pad(frame))
    )
    return variable


def link(parent: tk.Misc, text: str, url: str) -> ttk.Label:
    """A web link that Tab reaches and Return, Space or a click opens."""
    label = ttk.Label(parent, text=text, style="Link.TLabel", cursor="hand2")
    style.make_focusable(label, lambda: webbrowser.open(url))
    return label


def message(
    parent: tk.Misc, text: str = "", *, width: int | None = None, **options: object
) -> ttk.Label:
    """A wrapping label; ``width``: its wrap width in pixels (default: the scaled
    standard width)."""
    return ttk.Label(
        parent,
        text=readable(text),
        wraplength=width or style.wrap(parent),
        justify="left",
        **options,  # type: ignore[arg-type]
    )


def open_path(path: Path) -> None:
    """Open a file or folder with the desktop's default application; raises
    ``CannotOpen`` (with the path, to copy instead) when it isn't there or nothing can
    open it."""
    what = "folder" if path.is_dir() or not path.suffix else "file"
    if not path.exists():
        raise CannotOpen(f"The {what} is not there (any more): {path}", str(path))
    if sys.platform == "win32":
        try:
            os.startfile(path)  # type: ignore[attr-defined]  # noqa: S606
        except OSError as exc:
            raise CannotOpen(
                f"Windows could not open the {what}: {exc.strerror}", str(path)
            ) from exc
        return
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    program = shutil.which(opener)
    if program is None:
        raise CannotOpen(
            f"No program to open the {what} with: {opener} is not installed"
            + (" (it comes with the xdg-utils package)." if opener == "xdg-open" else "."),
            str(path),
        )
    subprocess.Popen([program, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
