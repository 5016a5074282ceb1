"""Scenes: the Compare window (three shots with a check and a judge) and Continue."""

from __future__ import annotations

import tempfile
import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests.recorded_runs import three_shot_run
from tests.scenes import scene
from tray.runs.history import History
from tray.runs.layout import default_runs_root
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
