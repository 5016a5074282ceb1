"""A read-only unified diff: coloured additions, removals and hunk headers, monospace,
scrollable both ways, with a find bar (Ctrl+F) and a jump to each file.

Big patches open fast: the first :data:`FIRST_LINES` lines are inserted, with one
tagged insert call per batch of lines, and a "Show all" button inserts the rest.
Binary data (git's base85 sections) is shown as one line saying so.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import font as tkfont
from tkinter import ttk

from tray.ui import style

__all__ = ["FIRST_LINES", "DiffView", "diff_lines"]

FIRST_LINES = 4000
_BATCH = 500  # lines per Text.insert call

# Tags a diff line can have; "file" marks the first line of each file's section.
_ADDED, _REMOVED, _HUNK, _HEADER = "added", "removed", "hunk", "header"
_FOUND = "found"


def diff_lines(patch: str) -> list[tuple[str, str]]:
    """Each line of ``patch`` with its tag: added, removed, hunk, header (or "" for context).

    A file's header runs from ``diff --git`` to its first hunk (its ``---``/``+++``
    lines are header, not removals and additions). The lines of a ``GIT binary patch``
    section become one line saying the file is binary.
    """
    tagged: list[tuple[str, str]] = []
    in_header = in_binary = False
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            in_header, in_binary = True, False
            tagged.append((line, _HEADER))
        elif in_binary:
            continue
        elif line == "GIT binary patch":
            in_binary = True
            tagged.append(("(binary data not shown)", _HEADER))
        elif line.startswith("@@"):
            in_header = False
            tagged.append((line, _HUNK))
        elif in_header:
            tagged.append((line, _HEADER))
        elif line.startswith("+"):
            tagged.append((line, _ADDED))
        elif line.startswith("-"):
            tagged.append((line, _REMOVED))
        else:
            tagged.append((line, ""))
    return tagged


class DiffView(ttk.Frame):
    """The diff of one shot; :meth:`show` replaces it."""

    def __init__(self, parent: tk.Misc) -> None:
        super().__init__(parent)
        colours = style.palette(self)
        self.text = tk.Text(
            self,
            wrap="none",
            font="TkFixedFont",
            width=100,
            height=24,
            background=colours.background,
            foreground=colours.text,
            undo=False,
            takefocus=True,  # read-only, yet Tab reaches it and the arrow keys scroll it
            borderwidth=0,
            highlightthickness=1,
        )
        bold = tkfont.Font(root=self, font="TkFixedFont")
        bold.configure(weight="bold")
        self._bold = bold
        self.text.tag_configure(_ADDED, foreground=colours.added)
        self.text.tag_configure(_REMOVED, foreground=colours.removed)
        self.text.tag_configure(_HUNK, foreground=colours.hunk)
        self.text.tag_configure(_HEADER, foreground=colours.muted, font=bold)
        self.text.tag_configure(_FOUND, background=colours.highlight)
        self.text.tag_raise(_FOUND)
        across = ttk.Scrollbar(self, orient="horizontal", command=self.text.xview)
        down = ttk.Scrollbar(self, orient="vertical", command=self.text.yview)
        self.text.configure(xscrollcommand=across.set, yscrollcommand=down.set)
        self.text.grid(row=0, column=0, sticky="nsew")
        down.grid(row=0, column=1, sticky="ns")
        across.grid(row=1, column=0, sticky="ew")
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        self._more = ttk.Button(self, command=self.show_all)
        self._find_bar = ttk.Frame(self)
        ttk.Label(self._find_bar, text="Find:").pack(side="left")
        self.find_text = tk.StringVar(self)
        self.find_entry = ttk.Entry(self._find_bar, textvariable=self.find_text, width=30)
        self.find_entry.pack(side="left", padx=style.pad(self, 0.5))
        ttk.Button(self._find_bar, text="Next", command=self.find_next).pack(side="left")
        self.find_status = ttk.Label(self._find_bar, text="")
        self.find_status.pack(side="left", padx=style.pad(self, 0.5))
        self.find_entry.bind("<Return>", lambda _event: self._find_and_stay())
        self.find_entry.bind("<KP_Enter>", lambda _event: self._find_and_stay())
        self.find_entry.bind("<Escape>", lambda _event: self._close_find())
        self.find_text.trace_add("write", lambda *_: self._find_from_top())
        # Read-only (disabled) except while this class inserts; selecting and copying work.
        self.text.configure(state="disabled")
        self.text.bind("<Button-1>", lambda _event: self.text.focus_set())
        self._lines: list[tuple[str, str]] = []
        self._shown = 0
        self.file_starts: list[int] = []  # line number (1-based) where each file begins

    # -- content -------------------------------------------------------------------------

    def show(self, patch: str) -> None:
        """Replace the view with ``patch``; an empty one shows that nothing changed."""
        self._lines = diff_lines(patch) or [("(this shot changed nothing)", _HEADER)]
        self.file_starts = [n for n, (_, tag) in enumerate(self._lines, 1) if _is_start(_, tag)]
        self.text.configure(state="normal")
        self.text.delete("1.0", "end")
        self.text.configure(state="disabled")
        self._shown = 0
        self._insert_until(min(len(self._lines), FIRST_LINES))
        self.text.yview_moveto(0)
        self.text.xview_moveto(0)
        if self._find_bar.winfo_ismapped() and self.find_text.get():
            self._find_from_top()

    def show_all(self) -> None:
        self._insert_until(len(self._lines))

    @property
    def complete(self) -> bool:
        return self._shown >= len(self._lines)

    def scroll_to_file(self, index: int) -> None:
        """Bring the start of the ``index``-th file of the patch to the top."""
        if not 0 <= index < len(self.file_starts):
            return
        line = self.file_starts[index]
        if line > self._shown:
            self.show_all()
        self.text.yview(f"{line}.0")
        self.text.xview_moveto(0)

    def _insert_until(self, count: int) -> None:
        self.text.configure(state="normal")
        for start in range(self._shown, count, _BATCH):
            batch = self._lines[start : min(count, start + _BATCH)]
            parts: list[str | tuple[str, ...]] = []
            for line, tag in batch:
                parts += [line + "\n", (tag,) if tag else ()]
            self.text.tk.call(str(self.text), "insert", "end", *parts)
        self.text.configure(state="disabled")
        self._shown = max(self._shown, count)
        left = len(self._lines) - self._shown
        if left:
            self._more.configure(text=f"Show all ({left:,} more lines)")
            self._more.grid(row=2, column=0, sticky="w", pady=(style.pad(self, 0.5), 0))
        else:
            self._more.grid_remove()

    # -- find ----------------------------------------------------------------------------

    def open_find(self) -> None:
        self._find_bar.grid(row=3, column=0, columnspan=2, sticky="ew", pady=(style.pad(self), 0))
        self.find_entry.focus_set()
        self.find_entry.select_range(0, "end")

    def _close_find(self) -> str:
        self._find_bar.grid_remove()
        self.text.tag_remove(_FOUND, "1.0", "end")
        self.text.focus_set()
        return "break"  # not the window's Escape as well

    def _find_from_top(self) -> None:
        self.text.mark_set("insert", "1.0")
        self.find_next()

    def _find_and_stay(self) -> str:
        self.find_next()
        return "break"  # not the window's default button

    def find_next(self) -> bool:
        """Select the next match of the find text after the last one, wrapping around;
        False (and says so) when there is none."""
        wanted = self.find_text.get()
        self.text.tag_remove(_FOUND, "1.0", "end")
        if not wanted:
            self.find_status.configure(text="")
            return False
        if not self.complete:
            self.show_all()  # a match may be in the part not shown yet
        start = self.text.index("insert")
        found = self.text.search(wanted, start, "end", nocase=True) or self.text.search(
            wanted, "1.0", start, nocase=True
        )
        if not found:
            self.find_status.configure(text="Not found")
            return False
        end = f"{found}+{len(wanted)}c"
        self.text.tag_add(_FOUND, found, end)
        self.text.mark_set("insert", end)
        self.text.see(found)
        self.find_status.configure(text="")
        return True


def _is_start(_line: str, tag: str) -> bool:
    return tag == _HEADER and _line.startswith("diff --git ")
