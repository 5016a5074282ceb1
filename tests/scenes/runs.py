"""Scenes: the Runs window (a running, a failed and a finished run; a result that can't
be opened) and the log viewer (the conversation, the raw log, a search)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import tkinter as tk
from pathlib import Path

from tests.sample_runs import DONE, overviews, sample_history
from tests.scenes import scene
from tray.errors import CannotOpen
from tray.ui.log_viewer import LogViewer
from tray.ui.runs_window import OpenFailedWindow, RunsWindow

RECORDED = Path(__file__).resolve().parent.parent / "data" / "claude-code"


def _folder() -> Path:
    """A folder for a scene's files, removed when the screenshots are taken."""
    folder = Path(tempfile.mkdtemp(prefix="multishot-scene-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


class _NoActions:
    """The window's buttons, doing nothing (a picture is taken, nothing clicked)."""

    def __getattr__(self, _name: str) -> object:
        return lambda *_args: None


@scene("runs")
def runs(root: tk.Tk) -> tk.Misc:
    history = sample_history(_folder())
    window = RunsWindow(root, _NoActions())  # type: ignore[arg-type]
    window.refresh(overviews(history))
    history.close()
    window.tree.item(DONE, open=True)
    window.tree.selection_set(f"{DONE}/1")
    return window.top


@scene("runs-cannot-open")
def cannot_open(root: tk.Tk) -> tk.Misc:
    problem = CannotOpen(
        "No program to open the folder with: xdg-open is not installed (it comes with the "
        "xdg-utils package).",
        "/home/ada/.local/share/multishot/runs/20261129-170000-cccccc",
    )
    return OpenFailedWindow(root, problem).top


def _log_viewer(root: tk.Tk) -> LogViewer:
    log = _folder() / "stdout.log"
    log.write_text(
        (RECORDED / "tool_write.stream-json.log").read_text(encoding="utf-8")
        + (RECORDED / "overloaded.stream-json.log").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    return LogViewer(root, log, title="Log: run cccccc, shot 1")


@scene("log")
def log(root: tk.Tk) -> tk.Misc:
    viewer = _log_viewer(root)
    viewer.toggle_fold(1)
    return viewer.top


@scene("log-raw")
def log_raw(root: tk.Tk) -> tk.Misc:
    viewer = _log_viewer(root)
    viewer.raw.set(True)
    viewer.redraw()
    return viewer.top


@scene("log-find")
def log_find(root: tk.Tk) -> tk.Misc:
    viewer = _log_viewer(root)
    viewer.find()
    viewer.find_bar.query.set("file")
    viewer.find_bar.step(1)
    return viewer.top
