"""The Runs window: every recent run and its shots, and what can be done with them.

A run's row says what it was asked (the prompt's first line), where, when, how it
went and what it cost; its shots are rows under it. The buttons act on the selected
row and are enabled only when they apply to it. While a run goes and the window is
open, its elapsed time is redrawn every second; otherwise no timer runs.
"""

from __future__ import annotations

import functools
import time
import tkinter as tk
from collections.abc import Callable, Sequence
from tkinter import ttk
from typing import TYPE_CHECKING, Protocol

from tray.errors import CannotOpen
from tray.runs.display import (
    RunOverview,
    first_line,
    format_cost,
    format_duration,
    format_time,
)
from tray.runs.status import RunStatus, ShotStatus
from tray.ui import style
from tray.ui.cut_cells import CutCells
from tray.ui.tooltip import Tooltip
from tray.ui.widgets import close_window

if TYPE_CHECKING:
    from tray.runs.history import ShotRecord

__all__ = ["COLUMNS", "OpenFailedWindow", "RunsActions", "RunsWindow"]

TICK_MS = 1000
# Column id: its heading, and the widest text it usually shows (or a width at 96 dpi for
# the columns that take a share of extra width).
COLUMNS: dict[str, tuple[str, str | int]] = {
    "round": ("Round", "12"),
    "repository": ("Repository", 100),
    "started": ("Started", "Wed 30 Nov 22:49"),
    "status": ("Status", max((s.label for s in (*RunStatus, *ShotStatus)), key=len)),
    "shots": ("Shots", "4/4 succeeded"),
    "elapsed": ("Time", "59 min 59 s"),
    "cost": ("Cost", "< $0.01"),
    "detail": ("Details", 150),
}
SIZED_TO_TEXT = [name for name, (_, widest) in COLUMNS.items() if isinstance(widest, str)]
PROMPT_WIDTH = 200
SCREEN_SHARE = 0.8  # of the screen's width, at most
_FAILED_RUNS = frozenset({RunStatus.FAILED, RunStatus.AUTH_FAILED, RunStatus.INTERRUPTED})


def _shot_failed(shot: ShotRecord) -> bool:
    return shot.status.is_final and shot.status not in (ShotStatus.SUCCEEDED, ShotStatus.CANCELLED)


class RunsActions(Protocol):
    def open_folder(self, run_id: str) -> None: ...
    def open_patch(self, run_id: str, shot: int) -> None: ...
    def show_log(self, run_id: str, shot: int = 1) -> None: ...
    def cancel_run(self, run_id: str) -> None: ...
    def open_compare(self, run_id: str) -> None: ...


class RunsWindow:
    """The app calls ``refresh`` with the recent runs whenever something changed."""

    def __init__(self, root: tk.Misc, actions: RunsActions) -> None:
        style.ensure_theme(root)
        self._actions = actions
        self.runs: dict[str, RunOverview] = {}
        self._sized = False  # the columns have been sized to what they show
        self._after: str | None = None
        self.top = tk.Toplevel(root)
        self.top.title("Multishot runs")
        style.dialog_keys(self.top, default=None, cancel=functools.partial(close_window, self.top))
        self.top.bind("<Destroy>", self._destroyed)
        gap = style.pad(self.top)
        frame = ttk.Frame(self.top, padding=gap)
        frame.pack(fill="both", expand=True)

        table = ttk.Frame(frame)
        table.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(table, columns=tuple(COLUMNS), height=14, selectmode="browse")
        scrollbar = ttk.Scrollbar(table, orient="vertical", command=self.tree.yview)
        self.tree.configure(yscrollcommand=scrollbar.set)
        scrollbar.pack(side="right", fill="y")
        self.tree.pack(side="left", fill="both", expand=True)
        self.tree.heading("#0", text="Prompt", anchor="w")
        self.tree.column("#0", width=style.wrap(self.tree, PROMPT_WIDTH), stretch=True)
        self.cells = CutCells(self.tree, tuple(COLUMNS))
        for column, (heading, widest) in COLUMNS.items():
            self.tree.heading(column, text=heading, anchor="w")
            if isinstance(widest, int):  # takes a share of extra width
                width = style.wrap(self.tree, widest)
            else:
                width = self.cells.text_width(column, [widest])
            stretch = isinstance(widest, int)
            self.tree.column(column, width=width, minwidth=width // 2, stretch=stretch)
        self.tree.tag_configure("failed", foreground=style.palette(root).error)
        self.tree.bind("<<TreeviewSelect>>", lambda _event: self._update_buttons())
        self.tree.bind("<Double-1>", self._activated)
        self.tree.bind("<Return>", self._activated)
        self.tree.bind("<KP_Enter>", self._activated)
        self.tooltip = Tooltip(self.tree, self._tooltip_text)
        self.empty = ttk.Label(frame, text="No runs yet. Start one with New run… in the menu.")

        buttons = ttk.Frame(frame)
        buttons.pack(fill="x", pady=(gap, 0))
        self.buttons: dict[str, ttk.Button] = {}
        for name, text in (
            ("compare", "Compare"),
            ("log", "Show log"),
            ("patch", "Open patch"),
            ("folder", "Open results folder"),
            ("cancel", "Cancel run"),
        ):
            button = ttk.Button(buttons, text=text, command=functools.partial(self.act, name))
            if name == "cancel":  # apart from the others: it stops work
                button.pack(side="right")
            else:
                button.pack(side="left", padx=(0, gap))
            self.buttons[name] = button
        self._update_buttons()
        self.tree.focus_set()
        self.top.update_idletasks()
        width = min(self.top.winfo_reqwidth(), int(self.top.winfo_screenwidth() * SCREEN_SHARE))
        self.top.geometry(f"{width}x{self.top.winfo_reqheight()}")

    # -- what is selected, and what can be done with it --------------------------------

    def selected(self) -> tuple[RunOverview, ShotRecord | None] | None:
        selection = self.tree.selection()
        if not selection:
            return None
        run_id, _, number = selection[0].partition("/")
        run = self.runs.get(run_id)
        if run is None:
            return None
        shot = next((s for s in run.shots if str(s.number) == number), None) if number else None
        return run, shot

    def applicable(self) -> set[str]:
        """The buttons that apply to the selected row."""
        chosen = self.selected()
        if chosen is None:
            return set()
        run, shot = chosen
        found = {"folder"}
        if run.shots:
            found.add("log")
        if run.status.is_final and run.shots:
            found.add("compare")
        if shot is not None and shot.patch_path:
            found.add("patch")
        if run.status is RunStatus.RUNNING and not run.record.cancel_requested:
            found.add("cancel")
        return found

    def _update_buttons(self) -> None:
        enabled = self.applicable()
        for name, button in self.buttons.items():
            button.state(["!disabled"] if name in enabled else ["disabled"])

    def act(self, name: str) -> None:
        chosen = self.selected()
        if chosen is None or name not in self.applicable():
            return
        run, shot = chosen
        run_id = run.record.id
        number = shot.number if shot is not None else run.shots[0].number if run.shots else 1
        actions: dict[str, Callable[[], None]] = {
            "compare": lambda: self._actions.open_compare(run_id),
            "log": lambda: self._actions.show_log(run_id, number),
            "patch": lambda: self._actions.open_patch(run_id, number),
            "folder": lambda: self._actions.open_folder(run_id),
            "cancel": lambda: self._actions.cancel_run(run_id),
        }
        actions[name]()

    def _activated(self, _event: tk.Event[tk.Misc]) -> str | None:
        """Double-click or Return: a finished run opens for comparing, a shot its log."""
        chosen = self.selected()
        if chosen is None:
            return None
        _run, shot = chosen
        wanted = "log" if shot is not None else "compare"
        if wanted not in self.applicable():
            return None  # a running run's row opens and closes as usual
        self.act(wanted)
        return "break"

    # -- showing the runs ----------------------------------------------------------------

    def refresh(self, runs: Sequence[RunOverview]) -> None:
        """``runs``: the recent runs with their shots, newest first. Rows are updated in
        place, so the selection, the scroll position and opened runs stay."""
        if not self.top.winfo_exists():
            return
        self.runs = {run.record.id: run for run in runs}
        wanted: list[str] = []
        for index, run in enumerate(runs):
            run_id = run.record.id
            wanted.append(run_id)
            running = run.status is RunStatus.RUNNING
            if not self.tree.exists(run_id):
                self.tree.insert("", index, iid=run_id, open=running)
            else:
                self.tree.move(run_id, "", index)
            self._set_row(run_id, self._run_cells(run), failed=run.status in _FAILED_RUNS)
            shot_ids = []
            for number, shot in enumerate(run.shots):
                iid = f"{run_id}/{shot.number}"
                shot_ids.append(iid)
                if not self.tree.exists(iid):
                    self.tree.insert(run_id, number, iid=iid)
                self._set_row(iid, self._shot_cells(shot), failed=_shot_failed(shot))
            self._drop_other_rows(run_id, shot_ids)
        self._drop_other_rows("", wanted)
        self.cells.autosize(SIZED_TO_TEXT, shrink=not self._sized)  # from samples, once
        self._sized = self._sized or bool(runs)
        if runs:
            self.empty.pack_forget()
        else:
            self.empty.pack(before=self.tree.master, anchor="w", pady=(0, style.pad(self.top)))
        self._update_buttons()
        self._schedule_tick()

    def _drop_other_rows(self, parent: str, keep: list[str]) -> None:
        for iid in self.tree.get_children(parent):
            if iid not in keep:
                self.cells.forget(iid)
                self.tree.delete(iid)

    def _run_cells(self, run: RunOverview, now: float | None = None) -> dict[str, str]:
        record = run.record
        return {
            "#0": first_line(record.prompt, 200) or "(no prompt)",
            "round": str(run.round),
            "repository": run.repository,
            "started": format_time(record.created_at),
            "status": run.status.label,
            "shots": run.shots_summary,
            "elapsed": format_duration(run.elapsed_ms(now)),
            "cost": format_cost(run.cost_usd),
            "detail": first_line(record.detail, 300),
        }

    def _shot_cells(self, shot: ShotRecord, now: float | None = None) -> dict[str, str]:
        duration: float | None = shot.duration_ms
        if shot.finished_at is None and shot.started_at is not None:
            duration = ((now or time.time()) - shot.started_at) * 1000
        return {
            "#0": f"Shot {shot.number}",
            "round": "",
            "repository": "",
            "started": "",
            "status": shot.status.label,
            "shots": "",
            "elapsed": format_duration(duration),
            "cost": format_cost(shot.cost_usd),
            "detail": first_line(shot.detail, 300),
        }

    def _set_row(self, iid: str, cells: dict[str, str], *, failed: bool) -> None:
        self.cells.set_row(iid, cells)
        self.tree.item(iid, tags=("failed",) if failed else ())

    def _tooltip_text(self, x: int, y: int) -> str | None:
        """The whole text of a cell cut short, and always the whole prompt."""
        cell = self.cells.cell_at(x, y)
        if cell is not None and cell[1] == "#0" and cell[0] in self.runs:
            prompt = self.runs[cell[0]].record.prompt.strip()
            return prompt if prompt and prompt != self.cells.shown(*cell) else None
        return self.cells.cut_text_at(x, y)

    # -- the elapsed time of running runs ------------------------------------------------

    def _schedule_tick(self) -> None:
        running = any(run.status is RunStatus.RUNNING for run in self.runs.values())
        if running and self._after is None and self.top.winfo_exists():
            self._after = self.top.after(TICK_MS, self._tick)
        elif not running and self._after is not None:
            self.top.after_cancel(self._after)
            self._after = None

    @property
    def ticking(self) -> bool:
        return self._after is not None

    def _tick(self) -> None:
        self._after = None
        now = time.time()
        for run_id, run in self.runs.items():
            if run.status is RunStatus.RUNNING and self.tree.exists(run_id):
                self._set_row(run_id, self._run_cells(run, now), failed=False)
                for shot in run.shots:
                    iid = f"{run_id}/{shot.number}"
                    if shot.finished_at is None and self.tree.exists(iid):
                        self._set_row(iid, self._shot_cells(shot, now), failed=False)
        self._schedule_tick()

    def _destroyed(self, event: tk.Event[tk.Misc]) -> None:
        if event.widget is self.top and self._after is not None:
            self.top.after_cancel(self._after)
            self._after = None


class OpenFailedWindow:
    """A result could not be opened: why, where it is, and a button to copy the path."""

    def __init__(self, root: tk.Misc, problem: CannotOpen) -> None:
        style.ensure_theme(root)
        self.path = problem.path
        self.top = tk.Toplevel(root)
        self.top.title(problem.title)
        self.top.resizable(False, False)
        gap = style.pad(self.top)
        frame = ttk.Frame(self.top, padding=2 * gap)
        frame.pack(fill="both", expand=True)
        wrap = style.wrap(self.top)
        ttk.Label(frame, text=problem.message, wraplength=wrap, justify="left").pack(anchor="w")
        ttk.Label(frame, text="It is here:").pack(anchor="w", pady=(gap, 0))
        path = ttk.Entry(frame, width=60)
        path.insert(0, self.path)
        path.configure(state="readonly")  # selectable, not editable
        path.pack(fill="x", pady=(gap // 2, 0))
        self.copied = ttk.Label(frame, text="")
        self.copied.pack(anchor="w", pady=(gap, 0))
        close = functools.partial(close_window, self.top)
        row, (self.copy_button, _close) = style.button_row(
            frame,
            [
                ("Copy path", self.copy_path, style.ButtonRole.ACCEPT),
                ("Close", close, style.ButtonRole.CANCEL),
            ],
        )
        row.pack(fill="x", pady=(gap, 0))
        style.dialog_keys(self.top, default=self.copy_path, cancel=close)
        style.place_centred(self.top)
        self.copy_button.focus_set()

    def copy_path(self) -> None:
        self.top.clipboard_clear()
        self.top.clipboard_append(self.path)
        self.copied.configure(text="The path is on the clipboard.")
