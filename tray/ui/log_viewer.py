"""A shot's log in a window: the conversation with Claude, or the raw log a toggle away.

The log is read as it grows only while the window is open and the shot still works
(a timer every half second); a finished shot's log is read once, and an idle app
keeps no timer. The view follows new output unless the user scrolled up.
"""

from __future__ import annotations

import codecs
import functools
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import font as tkfont
from tkinter import ttk

from tray.runs.conversation import ConversationReader, Item, ItemKind
from tray.ui import style
from tray.ui.widgets import close_window

__all__ = ["LOG_POLL_MS", "LOG_TAIL_BYTES", "LogViewer"]

LOG_POLL_MS = 500
LOG_TAIL_BYTES = 256 * 1024
_READ_BYTES = 1024 * 1024

# What each kind of item looks like: its leading mark and its tag.
_MARKS = {
    ItemKind.SYSTEM: ("•", "muted"),
    ItemKind.TOOL_CALL: ("▶", "tool"),
    ItemKind.RETRY: ("↻", "error"),
    ItemKind.ERROR: ("⚠", "error"),
    ItemKind.RAW: ("", "raw"),
}


class LogViewer:
    """One shot's log; ``is_live`` says whether the shot may still write to it."""

    def __init__(
        self,
        root: tk.Misc,
        path: Path,
        *,
        title: str | None = None,
        is_live: Callable[[], bool] = lambda: False,
    ) -> None:
        style.ensure_theme(root)
        self.path = path
        self.is_live = is_live
        self.top = tk.Toplevel(root)
        self.top.title(title or f"Log: {path.parent.parent.name} {path.parent.name}")
        style.dialog_keys(self.top, default=None, cancel=functools.partial(close_window, self.top))
        self.top.bind("<Control-f>", lambda _event: self.find())
        self.top.bind("<Control-F>", lambda _event: self.find())
        self.top.bind("<Destroy>", self._destroyed)
        self._after: str | None = None
        self._raw_chunks: list[str] = []
        self._items: list[Item] = []
        self._folds = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        size = path.stat().st_size if path.exists() else 0
        self.offset = max(0, size - LOG_TAIL_BYTES)
        self._reader = ConversationReader(mid_line=self.offset > 0)

        gap = style.pad(self.top)
        bar = ttk.Frame(self.top, padding=(gap, gap, gap, 0))
        bar.pack(side="top", fill="x")
        self.raw = tk.BooleanVar(self.top, value=False)
        ttk.Checkbutton(bar, text="Raw log", variable=self.raw, command=self.redraw).pack(
            side="left"
        )
        ttk.Button(bar, text="Find…", command=self.find).pack(side="left", padx=(gap, 0))
        self.status = ttk.Label(bar, text="")
        self.status.pack(side="right")

        body = ttk.Frame(self.top, padding=gap)
        body.pack(side="top", fill="both", expand=True)
        colours = style.palette(root)
        self.text = tk.Text(
            body,
            width=100,
            height=32,
            wrap="word",
            state="disabled",
            background=colours.background,
            foreground=colours.text,
            padx=gap,
            pady=gap,
            borderwidth=0,
            highlightthickness=0,
            undo=False,
            takefocus=True,  # a disabled Text is skipped by Tab otherwise; keys scroll it
        )
        scrollbar = ttk.Scrollbar(body, orient="vertical", command=self.text.yview)
        self.text.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.text.pack(side="left", fill="both", expand=True)
        self._configure_tags(colours)
        self.find_bar = FindBar(self.top, self.text, colours, self.open_fold_at)

        self.text.focus_set()
        # Said above the log: that it is only its end.
        self._note = f"The last {LOG_TAIL_BYTES // 1024} KB of the log:" if self.offset else ""
        self._append_note(self._note)
        self._read()
        if self.is_live():
            self._follow()
        else:
            self._finish()

    def find(self) -> None:
        self.find_bar.open()

    # -- reading -----------------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether a timer is set to read the log again."""
        return self._after is not None

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            while data := handle.read(_READ_BYTES):
                self.offset += len(data)
                self._take(self._decoder.decode(data))

    def _take(self, text: str) -> None:
        if text:
            self._raw_chunks.append(text)
            self._show(text, self._reader.feed(text))

    def _follow(self) -> None:
        if self._after is not None:
            self.top.after_cancel(self._after)
        self._after = None
        if not self.top.winfo_exists():
            return
        self._read()
        if self.is_live():
            self.status.configure(text="Following the live log")
            self._after = self.top.after(LOG_POLL_MS, self._follow)
        else:
            self._finish()

    def _finish(self) -> None:
        """The shot has ended: read what is left and stop."""
        self._read()
        rest = self._decoder.decode(b"", final=True)
        if rest:
            self._raw_chunks.append(rest)
        self._show(rest, self._reader.feed(rest) + self._reader.flush())
        self.status.configure(text="" if self._raw_chunks else "Nothing in this log.")

    def _destroyed(self, event: tk.Event[tk.Misc]) -> None:
        if event.widget is self.top and self._after is not None:
            self.top.after_cancel(self._after)
            self._after = None

    # -- showing -----------------------------------------------------------------------

    def _configure_tags(self, colours: style.Palette) -> None:
        text = self.text
        base = tkfont.nametofont("TkDefaultFont")
        self._bold = base.copy()
        self._bold.configure(weight="bold")
        text.configure(font=base)
        text.tag_configure("heading", font=self._bold, spacing1=style.pad(text, 0.75))
        text.tag_configure("muted", foreground=colours.muted)
        text.tag_configure("tool", foreground=colours.hunk, spacing1=style.pad(text, 0.5))
        text.tag_configure("error", foreground=colours.error)
        text.tag_configure("finished", foreground=colours.added, font=self._bold)
        text.tag_configure("mono", font="TkFixedFont")
        text.tag_configure("raw", font="TkFixedFont", foreground=colours.muted)
        text.tag_configure("fold_head", foreground=colours.muted)
        text.tag_configure("indent", lmargin1=style.pad(text, 3), lmargin2=style.pad(text, 3))
        text.tag_bind("fold_head", "<Enter>", lambda _e: text.configure(cursor="hand2"))
        text.tag_bind("fold_head", "<Leave>", lambda _e: text.configure(cursor=""))

    def _show(self, raw: str, items: list[Item]) -> None:
        self._items.extend(items)
        following = self.text.yview()[1] >= 1.0
        self.text.configure(state="normal")
        if self.raw.get():
            self.text.insert("end", raw, "raw")
        else:
            for item in items:
                self._insert_item(item)
        self.text.configure(state="disabled")
        if following:
            self.text.see("end")
        self.find_bar.refresh()

    def redraw(self) -> None:
        self.text.configure(state="normal", wrap="char" if self.raw.get() else "word")
        self.text.delete("1.0", "end")
        self.text.configure(state="disabled")
        self._folds = 0
        self._append_note(self._note)
        items, self._items = self._items, []
        self._show("".join(self._raw_chunks), items)

    def _append_note(self, note: str) -> None:
        if not note:
            return
        self.text.configure(state="normal")
        self.text.insert("end", note + "\n", "muted")
        self.text.configure(state="disabled")

    def _insert_item(self, item: Item) -> None:
        insert = self.text.insert
        if item.kind in (ItemKind.ASSISTANT, ItemKind.USER):
            insert("end", item.title + "\n", "heading")
            insert("end", item.body + "\n")
        elif item.kind is ItemKind.TOOL_RESULT:
            self._insert_fold(item)
        elif item.kind is ItemKind.RESULT:
            tag = "error" if item.is_error else "finished"
            insert("end", f"{'✗' if item.is_error else '✓'} {item.title}\n", (tag, "heading"))
            if item.body:
                insert("end", item.body + "\n", ("mono", "error"))
        else:
            mark, tag = _MARKS[item.kind]
            line = f"{mark} {item.title}" if mark else item.title
            if item.kind is ItemKind.TOOL_CALL and item.body:
                insert("end", line, (tag, "heading"))
                insert("end", "  " + item.body + "\n", (tag, "mono"))
            else:
                insert("end", line + "\n", tag)
            if item.body and item.kind is not ItemKind.TOOL_CALL:
                insert("end", item.body + "\n", (tag, "indent"))

    def _insert_fold(self, item: Item) -> None:
        """A tool's answer: one line that opens it on a click, the text folded under it."""
        self._folds += 1
        head, body = f"fold_head{self._folds}", f"fold{self._folds}"
        tags = ("fold_head", head, "indent") + (("error",) if item.is_error else ())
        self.text.insert("end", f"▸ {item.title}\n", tags)
        if item.body:
            self.text.insert("end", item.body + "\n", (body, "mono", "indent"))
        self.text.tag_configure(body, elide=True)
        number = self._folds
        self.text.tag_bind(head, "<Button-1>", lambda _e: self.toggle_fold(number))

    def toggle_fold(self, number: int, *, open_it: bool | None = None) -> None:
        """Show or hide tool answer ``number`` (1 is the first)."""
        body, head = f"fold{number}", f"fold_head{number}"
        folded = bool(int(self.text.tag_cget(body, "elide") or 0))
        show = folded if open_it is None else open_it
        self.text.tag_configure(body, elide=not show)
        start = self.text.tag_ranges(head)[0]
        self.text.configure(state="normal")
        tags = self.text.tag_names(start)
        self.text.delete(start)
        self.text.insert(start, "▾" if show else "▸", tags)
        self.text.configure(state="disabled")

    def open_fold_at(self, index: str) -> None:
        for tag in self.text.tag_names(index):
            if tag.startswith("fold") and tag[4:].isdigit():
                self.toggle_fold(int(tag[4:]), open_it=True)


class FindBar:
    """Ctrl+F: every match highlighted, Return/Shift+Return to the next/previous one."""

    def __init__(
        self,
        top: tk.Toplevel,
        text: tk.Text,
        colours: style.Palette,
        reveal: Callable[[str], None],
    ) -> None:
        """``reveal``: unfold what hides the text at an index, before it is shown."""
        self.top, self.text, self.reveal = top, text, reveal
        self.frame = ttk.Frame(top, padding=(style.pad(top), 0, style.pad(top), 0))
        self.query = tk.StringVar(top)
        self.query.trace_add("write", lambda *_: self.refresh(jump=True))
        ttk.Label(self.frame, text="Find").pack(side="left")
        self.entry = ttk.Entry(self.frame, textvariable=self.query, width=30)
        self.entry.pack(side="left", padx=style.pad(top, 0.5))
        ttk.Button(self.frame, text="Previous", command=lambda: self.step(-1)).pack(side="left")
        ttk.Button(self.frame, text="Next", command=lambda: self.step(1)).pack(side="left")
        self.count = ttk.Label(self.frame, text="")
        self.count.pack(side="left", padx=style.pad(top))
        ttk.Button(self.frame, text="Close", command=self.close).pack(side="right")
        self.entry.bind("<Return>", lambda _e: self.step(1))
        self.entry.bind("<KP_Enter>", lambda _e: self.step(1))
        self.entry.bind("<Shift-Return>", lambda _e: self.step(-1))
        self.entry.bind("<Escape>", self._escape)
        # A match at the start of an indented line leaves the margin unpainted.
        margin = colours.background
        text.tag_configure("match", background=colours.highlight, lmargincolor=margin)
        text.tag_configure(
            "current_match",
            background=str(text.cget("selectbackground")),
            foreground=str(text.cget("selectforeground")),
            lmargincolor=margin,
        )
        text.tag_raise("match")
        text.tag_raise("current_match")
        self.matches: list[tuple[str, str]] = []
        self.current = -1

    @property
    def is_open(self) -> bool:
        return bool(self.frame.winfo_manager())

    def open(self) -> None:
        if not self.is_open:
            self.frame.pack(side="bottom", fill="x", pady=(0, style.pad(self.top)))
        self.entry.focus_set()
        self.entry.select_range(0, "end")

    def close(self) -> None:
        self.frame.pack_forget()
        self.text.tag_remove("match", "1.0", "end")
        self.text.tag_remove("current_match", "1.0", "end")
        self.matches, self.current = [], -1
        self.text.focus_set()

    def _escape(self, _event: tk.Event[tk.Misc]) -> str:
        self.close()
        return "break"  # Escape in the find bar closes it, not the window

    def refresh(self, *, jump: bool = False) -> None:
        """Find every match again (the text or the query changed)."""
        if not self.is_open:
            return
        text, query = self.text, self.query.get()
        text.tag_remove("match", "1.0", "end")
        self.matches = []
        if query:
            length = tk.IntVar(self.top)
            index = "1.0"
            while found := text.search(
                query, index, stopindex="end", nocase=True, count=length, elide=True
            ):
                end = f"{found}+{length.get()}c"
                self.matches.append((found, end))
                index = end
            for start, end in self.matches:
                text.tag_add("match", start, end)
        if jump or self.current >= len(self.matches):
            self.current = 0 if self.matches else -1
            self._show_current(scroll=jump)
        else:
            self._show_current(scroll=False)

    def step(self, direction: int) -> str:
        if self.matches:
            self.current = (self.current + direction) % len(self.matches)
            self._show_current(scroll=True)
        return "break"

    def _show_current(self, *, scroll: bool) -> None:
        self.text.tag_remove("current_match", "1.0", "end")
        if not self.matches:
            self.count.configure(text="No matches" if self.query.get() else "")
            return
        start, end = self.matches[self.current]
        self.text.tag_add("current_match", start, end)
        self.count.configure(text=f"{self.current + 1} of {len(self.matches)}")
        if scroll:
            self.reveal(start)
            self.text.see(start)
