"""The Runs window: every recent run and its shots, with what can be done to them."""

from __future__ import annotations

import functools
import tkinter as tk
from collections.abc import Callable, Sequence
from tkinter import ttk
from typing import Any

from tray.runs.display import RunOverview, format_cost, format_duration
from tray.ui import style

__all__ = ["RunsWindow"]


class RunsWindow:
    """Every run and shot with live status; the app calls ``refresh`` as events arrive."""

    COLUMNS = ("status", "cost", "duration", "detail")

    def __init__(self, root: tk.Misc, actions: Any) -> None:
        self.actions = actions
        self.top = tk.Toplevel(root)
        self.top.title("Multishot runs")
        frame = ttk.Frame(self.top, padding=style.pad(root))
        frame.pack(fill="both", expand=True)
        self.tree = ttk.Treeview(frame, columns=self.COLUMNS, height=14)
        self.tree.heading("#0", text="Run / shot")
        for column in self.COLUMNS:
            self.tree.heading(column, text=column.capitalize())
        self.tree.column("#0", width=220)
        self.tree.column("detail", width=320)
        self.tree.pack(fill="both", expand=True)
        buttons = ttk.Frame(frame)
        buttons.pack(fill="x", pady=(style.pad(root), 0))
        for text, action in (
            ("Open results folder", self.actions.open_folder),
            ("Open patch", self.actions.open_patch),
            ("Show live log", self.actions.show_log),
            ("Cancel run", self.actions.cancel_run),
        ):
            command = functools.partial(self._with_selection, action)
            ttk.Button(buttons, text=text, command=command).pack(
                side="left", padx=(0, style.pad(root))
            )

    def _with_selection(self, action: Callable[..., None]) -> None:
        selected = self.tree.selection()
        if not selected:
            return
        run_id, _, shot = selected[0].partition("/")
        if action is self.actions.cancel_run or action is self.actions.open_folder:
            action(run_id)
        else:
            action(run_id, int(shot) if shot else 1)

    def refresh(self, runs: Sequence[RunOverview]) -> None:
        """``runs``: the recent runs with their shots, newest first."""
        if not self.top.winfo_exists():
            return
        selection = self.tree.selection()
        self.tree.delete(*self.tree.get_children())
        for run in runs:
            run_id = run.record.id
            self.tree.insert(
                "", "end", iid=run_id, text=run_id, values=(run.progress, "", "", ""), open=True
            )
            for shot in run.shots:
                self.tree.insert(
                    run_id,
                    "end",
                    iid=f"{run_id}/{shot.number}",
                    text=f"shot {shot.number}",
                    values=(
                        shot.status.label,
                        format_cost(shot.cost_usd),
                        format_duration(shot.duration_ms),
                        shot.detail,
                    ),
                )
        existing = [iid for iid in selection if self.tree.exists(iid)]
        if existing:
            self.tree.selection_set(existing)
