"""The Compare window: a run's shots side by side, one shot's files and diff, and what to do
with it (pick it, apply it to a local repository, save its patch, continue from it).

Everything it decides comes from the core (``Service.compare``, ``pick``, ``apply``,
``save_patch``); git and file work runs in the app's workers and comes back through
its inbox. Problems are shown in the window's own message line, never in a modal box.
"""

from __future__ import annotations

import functools
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import ttk
from typing import Protocol, TypeVar

from tray.errors import MultishotError
from tray.runs.compare import RunComparison, ShotComparison
from tray.runs.display import format_cost, format_duration, plural
from tray.runs.landing import Applied
from tray.service import Service
from tray.ui import style
from tray.ui.diff_view import DiffView
from tray.ui.widgets import close_window

__all__ = ["COLUMNS", "CompareActions", "CompareWindow", "last_folder"]

T = TypeVar("T")

COLUMNS = (
    ("shot", "Shot", 140),
    ("status", "Status", 110),
    ("check", "Check", 160),
    ("change", "+/−", 110),
    ("cost", "Cost", 70),
    ("time", "Time", 90),
    ("rank", "Rank", 50),
    ("judge", "Judge's reason", 320),
)
_LAST_FOLDER = "last_apply_folder"


class CompareActions(Protocol):
    """What the window needs of the app."""

    service: Service

    def in_worker(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[Exception], None] | None = None,
    ) -> None: ...

    def choose_folder(self, title: str, start: Path | None) -> Path | None: ...
    def choose_patch_file(self, title: str, suggested: str) -> Path | None: ...
    def continue_from(self, run_id: str, shot: int) -> None: ...
    def compare_closed(self, run_id: str) -> None: ...


class CompareWindow:
    """One run's Compare window; ``show`` redraws it from a new comparison (after a pick,
    or when the run ends). Pick is the default button (Return); Escape closes."""

    def __init__(
        self,
        root: tk.Misc,
        actions: CompareActions,
        comparison: RunComparison,
        last_folder: Path | None = None,
    ) -> None:
        style.ensure_theme(root)
        self.actions = actions
        self.comparison = comparison
        self.run_id = comparison.run.id
        self.last_folder = last_folder
        self.shown_shot: int | None = None  # the shot whose diff is in the view
        self.top = tk.Toplevel(root)
        self.top.title(f"Compare shots — {_short_prompt(comparison.run.prompt, 60)}")
        frame = ttk.Frame(self.top, padding=style.pad(self.top, 1.5))
        frame.pack(fill="both", expand=True)
        self.heading = ttk.Label(
            frame, style="Heading.TLabel", wraplength=style.wrap(self.top, 900), justify="left"
        )
        self.heading.pack(fill="x")
        self.facts = ttk.Label(frame, style="Muted.TLabel")
        self.facts.pack(fill="x", pady=(style.pad(self.top, 0.25), 0))
        self.tree = self._table(frame)
        self.reasons = ttk.Label(frame, wraplength=style.wrap(self.top, 900), justify="left")
        self.reasons.pack(fill="x", pady=(style.pad(self.top, 0.5), style.pad(self.top)))
        panes = ttk.PanedWindow(frame, orient="horizontal")
        panes.pack(fill="both", expand=True)
        files_frame = ttk.Frame(panes)
        ttk.Label(files_frame, text="Changed files").pack(anchor="w")
        self.files = tk.Listbox(
            files_frame, width=32, activestyle="dotbox", exportselection=False, borderwidth=0
        )
        self.files.pack(fill="both", expand=True)
        self.files.bind("<<ListboxSelect>>", self._file_selected)
        panes.add(files_frame, weight=1)
        self.diff = DiffView(panes)
        panes.add(self.diff, weight=4)
        self.message = ttk.Label(frame, wraplength=style.wrap(self.top, 900), justify="left")
        self.message.pack(fill="x", pady=(style.pad(self.top), 0))
        row, buttons = style.button_row(
            frame,
            [
                ("Pick", self.pick, style.ButtonRole.ACCEPT),
                ("Apply to local repository…", self.apply, style.ButtonRole.OTHER),
                ("Save patch…", self.save_patch, style.ButtonRole.OTHER),
                ("Continue from this shot…", self.continue_from, style.ButtonRole.OTHER),
                ("Close", self.close, style.ButtonRole.CANCEL),
            ],
        )
        row.pack(fill="x", pady=(style.pad(self.top), 0))
        self.pick_button, self.apply_button, self.save_button, self.continue_button, _ = buttons
        style.dialog_keys(self.top, default=self.pick, cancel=self.close)
        self.top.bind("<Control-f>", lambda _event: self._open_find())
        self.top.bind("<Control-F>", lambda _event: self._open_find())
        self.show(comparison)
        style.place_centred(self.top)
        self.tree.focus_set()  # Up and Down choose the shot from the start

    def _table(self, parent: ttk.Frame) -> ttk.Treeview:
        frame = ttk.Frame(parent)
        frame.pack(fill="x", pady=(style.pad(self.top), 0))
        rows = min(max(len(self.comparison.shots), 3), 8)
        tree = ttk.Treeview(
            frame,
            columns=[name for name, _, _ in COLUMNS],
            show="headings",
            height=rows,
            selectmode="browse",
        )
        for name, heading, width in COLUMNS:
            tree.heading(name, text=heading, anchor="w")
            tree.column(name, width=round(width * style.scale(self.top)), stretch=name == "judge")
        down = ttk.Scrollbar(frame, orient="vertical", command=tree.yview)
        tree.configure(yscrollcommand=down.set)
        tree.pack(side="left", fill="x", expand=True)
        down.pack(side="left", fill="y")
        tree.bind("<<TreeviewSelect>>", lambda _event: self._shot_selected())
        return tree

    # -- content -----------------------------------------------------------------------------

    def show(self, comparison: RunComparison) -> None:
        """Show ``comparison`` (again, after a pick), keeping the selected shot."""
        self.comparison = comparison
        run = comparison.run
        selected = self.selected_shot or comparison.winner or 1
        facts = [f"Round {run.round}", run.status.label, plural(len(comparison.shots), "shot")]
        check = run.spec.get("check")
        facts.append(f"check: {check}" if check else "no check command")
        if run.parent_run_id:
            facts.append(f"continues shot {run.parent_shot} of run {run.parent_run_id}")
        self.heading.configure(text=_short_prompt(run.prompt, 300))
        self.facts.configure(text=" · ".join(facts))
        self.tree.delete(*self.tree.get_children())
        for shot in comparison.shots:
            self.tree.insert("", "end", iid=str(shot.number), values=_row(comparison, shot))
        if self.tree.exists(str(selected)):
            self.tree.selection_set(str(selected))
            self.tree.focus(str(selected))
            self.tree.see(str(selected))
        if self.verdict_problem:
            self.say(f"The judge's answer is not used: {self.verdict_problem}")

    @property
    def verdict_problem(self) -> str | None:
        verdict = self.comparison.verdict
        return None if verdict is None else verdict.problem

    @property
    def selected_shot(self) -> int | None:
        selection = self.tree.selection() if self.tree.winfo_exists() else ()
        return int(selection[0]) if selection else None

    def _shot_selected(self) -> None:
        number = self.selected_shot
        shot = None if number is None else self.comparison.shot(number)
        if shot is None:
            return
        reasons = [f"Rank {shot.rank}: {shot.rank_reason}."]
        if shot.judge_rank is not None:
            reasons.append(f"Judge's rank {shot.judge_rank}: {shot.judge_reason}")
        if shot.detail:
            reasons.append(shot.detail)
        self.reasons.configure(text="\n".join(reasons))
        self.files.delete(0, "end")
        for stat in shot.diff.files:
            name = stat.path if stat.old_path is None else f"{stat.old_path} → {stat.path}"
            counts = "binary" if stat.binary else f"+{stat.added} −{stat.removed}"
            self.files.insert("end", f"{name}  ({counts})")
        usable = shot.patch_path is not None
        for button in (self.apply_button, self.save_button, self.continue_button):
            button.state(["!disabled"] if usable else ["disabled"])
        self.pick_button.state(["!disabled"] if shot.status.is_final else ["disabled"])
        patch = shot.patch_path
        if patch is None:
            self._show_patch(shot.number, b"")
            return
        self.actions.in_worker(
            patch.read_bytes,
            functools.partial(self._show_patch, shot.number),
            lambda error: self.say(f"The diff of shot {shot.number} cannot be read: {error}"),
        )

    def _show_patch(self, number: int, patch: bytes) -> None:
        if not self.top.winfo_exists() or self.selected_shot != number:
            return  # closed, or another shot was selected meanwhile
        self.diff.show(patch.decode("utf-8", "replace"))
        self.shown_shot = number

    def _file_selected(self, _event: object) -> None:
        chosen = self.files.curselection()  # type: ignore[no-untyped-call]
        if chosen:
            self.diff.scroll_to_file(int(chosen[0]))

    def _open_find(self) -> str:
        self.diff.open_find()
        return "break"

    def say(self, text: str, *, problem: bool = False) -> None:
        if self.top.winfo_exists():
            self.message.configure(text=text, style="Error.TLabel" if problem else "TLabel")

    def _failed(self, error: Exception) -> None:
        if isinstance(error, MultishotError):
            self.say(f"{error.title}: {error.message}", problem=True)
        else:
            self.say(f"Something went wrong: {error}", problem=True)

    # -- actions -----------------------------------------------------------------------------

    def pick(self) -> None:
        number = self.selected_shot
        if number is None:
            return
        service = self.actions.service

        def pick_and_compare() -> RunComparison:
            service.pick(self.run_id, number)
            return service.compare(self.run_id)

        def picked(comparison: RunComparison) -> None:
            if self.top.winfo_exists():
                self.show(comparison)
                self.say(f"Picked shot {number}.")

        self.actions.in_worker(pick_and_compare, picked, self._failed)

    def apply(self) -> None:
        number = self.selected_shot
        if number is None:
            return
        folder = self.actions.choose_folder(
            "Apply to which local repository (or, for a run without one, a new folder)?",
            self.last_folder,
        )
        if folder is None:
            return
        self.last_folder = folder
        self.say(f"Applying shot {number} in {folder}…")
        service = self.actions.service

        def work() -> Applied:
            from tray import config

            config.write_setting(_LAST_FOLDER, str(folder))
            return service.apply(self.run_id, number, folder)

        self.actions.in_worker(work, lambda applied: self.say(applied.in_words()), self._failed)

    def save_patch(self) -> None:
        number = self.selected_shot
        if number is None:
            return
        target = self.actions.choose_patch_file(
            "Save the changes as a patch", f"{self.run_id}-shot-{number}.patch"
        )
        if target is None:
            return
        service = self.actions.service
        self.actions.in_worker(
            lambda: service.save_patch(self.run_id, number, target),
            lambda applied: self.say(applied.in_words()),
            self._failed,
        )

    def continue_from(self) -> None:
        number = self.selected_shot
        if number is not None:
            self.actions.continue_from(self.run_id, number)

    def close(self) -> None:
        if self.top.winfo_exists():
            close_window(self.top)
        self.actions.compare_closed(self.run_id)


def _row(comparison: RunComparison, shot: ShotComparison) -> tuple[str, ...]:
    mark = comparison.mark(shot.number)
    return (
        f"{shot.number} ({mark})" if mark else str(shot.number),
        shot.status.label,
        shot.check_label,
        shot.change_label,
        format_cost(shot.cost_usd),
        format_duration(shot.duration_ms),
        str(shot.rank),
        " ".join((shot.judge_reason or "—").split()),
    )


def _short_prompt(prompt: str, limit: int) -> str:
    text = " ".join(prompt.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def last_folder() -> Path | None:
    """The folder changes were last applied to, if it still exists (file work: a worker)."""
    from tray import config

    remembered = config.read_setting(_LAST_FOLDER)
    return Path(remembered) if remembered and Path(remembered).is_dir() else None
