"""Scenes: the Compare window (three shots with a check and a judge) and Continue, each
also in an error state."""

from __future__ import annotations

import tempfile
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.git_repos import GitRepo
from tests.recorded_runs import three_shot_run
from tests.scenes import scene
from tray.errors import InvalidInput
from tray.runs.history import History
from tray.runs.layout import default_runs_root
from tray.runs.rounds import continue_spec
from tray.service import Service
from tray.ui.compare_window import CompareWindow
from tray.ui.continue_dialog import ContinueDialog

T = TypeVar("T")


class InlineActions:
    """The app's side of the window, doing its work at once on the Tk thread."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def in_worker(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        try:
            result = work()
        except Exception as exc:
            if failed is not None:
                failed(exc)
            return
        done(result)

    def choose_folder(self, title: str, start: Path | None) -> Path | None:
        return None

    def choose_patch_file(self, title: str, suggested: str) -> Path | None:
        return None

    def continue_from(self, run_id: str, shot: int) -> None:
        return None

    def compare_closed(self, run_id: str) -> None:
        return None


def recorded_run() -> str:
    """Three shots at one prompt, in this process's (throwaway) history."""
    history = History()
    try:
        return three_shot_run(history, default_runs_root(), Path(tempfile.mkdtemp()))
    finally:
        history.close()


def compare_window(root: tk.Tk) -> CompareWindow:
    service = Service()
    return CompareWindow(root, InlineActions(service), service.compare(recorded_run()))


@scene("compare")
def compare(root: tk.Tk) -> tk.Misc:
    return compare_window(root).top


@scene("compare-find")
def compare_find(root: tk.Tk) -> tk.Misc:
    window = compare_window(root)
    root.update()  # the first shot's diff is shown on its selection event
    window.diff.open_find()
    window.diff.find_text.set("fromisocalendar")
    return window.top


@scene("continue")
def continue_round(root: tk.Tk) -> tk.Misc:
    service = Service()
    run = service.find_run(recorded_run())
    dialog = ContinueDialog(root, run, 1, lambda _answers, _started, _refused: None)
    dialog.prompt.insert("1.0", "Also accept ordinal dates (2024-031).")
    return dialog.top


class ApplyingActions(InlineActions):
    """Chooses a clone that lacks the run's starting commit, as a user's stale clone does."""

    def choose_folder(self, title: str, start: Path | None) -> Path | None:
        clone = GitRepo.init(Path(tempfile.mkdtemp()) / "widgets")
        clone.write("README.md", "An older clone.\n")
        clone.commit("start")
        return clone.path


@scene("compare-apply-failed")
def compare_apply_failed(root: tk.Tk) -> tk.Misc:
    service = Service()
    window = CompareWindow(root, ApplyingActions(service), service.compare(recorded_run()))
    root.update()
    window.apply()
    return window.top


@scene("continue-refused")
def continue_refused(root: tk.Tk) -> tk.Misc:
    service = Service()
    run_id = recorded_run()
    no_change = 3
    dialog = ContinueDialog(
        root, service.find_run(run_id), no_change, lambda _answers, _started, _refused: None
    )
    dialog.prompt.insert("1.0", "Now add the tests.")
    try:
        continue_spec(service.history, run_id, no_change, "Now add the tests.")
    except InvalidInput as refusal:
        dialog.refused(refusal.message)
    return dialog.top
