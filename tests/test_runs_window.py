"""The Runs window on a real X server: its columns in words, enabled buttons, tooltips,
the elapsed-time timer, and a result that cannot be opened."""

from __future__ import annotations

import time
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sample_runs import DONE, FAILED, LONG_PROMPT, RUNNING, overviews, sample_history
from tests.test_tray import pump
from tests.test_tray_hosts import buttons, labels
from tray.credentials.keychain import CredentialStore
from tray.runs.history import History
from tray.runs.layout import RunFolder
from tray.runs.status import RunStatus
from tray.service import Service
from tray.ui.app import TrayApp
from tray.ui.runs_window import COLUMNS, OpenFailedWindow, RunsWindow
from tray.ui.widgets import close_window

pytestmark = pytest.mark.usefixtures("display")


class Actions:
    """What the window asked the app to do."""

    def __init__(self) -> None:
        self.done: list[tuple[str, ...]] = []

    def open_folder(self, run_id: str) -> None:
        self.done.append(("folder", run_id))

    def open_patch(self, run_id: str, shot: int) -> None:
        self.done.append(("patch", run_id, str(shot)))

    def show_log(self, run_id: str, shot: int = 1) -> None:
        self.done.append(("log", run_id, str(shot)))

    def cancel_run(self, run_id: str) -> None:
        self.done.append(("cancel", run_id))

    def open_compare(self, run_id: str) -> None:
        self.done.append(("compare", run_id))


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    history = sample_history(tmp_path)
    yield history
    history.close()


@pytest.fixture
def window(root: tk.Tk, history: History) -> Iterator[tuple[RunsWindow, Actions]]:
    actions = Actions()
    window = RunsWindow(root, actions)
    window.refresh(overviews(history))
    root.update()
    yield window, actions
    if window.top.winfo_exists():
        close_window(window.top)


def cells(window: RunsWindow, iid: str) -> dict[str, str]:
    """A row's cells as shown, each either whole or cut with "…" (checked here)."""
    row = {column: str(window.tree.set(iid, column)) for column in COLUMNS}
    shown = {"prompt": str(window.tree.item(iid, "text")), **row}
    for column, text in shown.items():
        whole = window.cells.whole[(iid, "#0" if column == "prompt" else column)]
        assert text == whole or (text.endswith("…") and whole.startswith(text[:-1].rstrip()))
    return shown


def whole(window: RunsWindow, iid: str) -> dict[str, str]:
    """A row's cells before they were cut to their columns' widths."""
    row = {column: window.cells.whole[(iid, column)] for column in COLUMNS}
    return {"prompt": window.cells.whole[(iid, "#0")], **row}


def enabled(window: RunsWindow) -> set[str]:
    return {name for name, b in window.buttons.items() if b.instate(["!disabled"])}


def cell_box(window: RunsWindow, iid: str, column: str) -> tuple[int, int, int, int]:
    box = window.tree.bbox(iid, column)
    assert isinstance(box, tuple), f"{iid} {column} is not on screen"
    return box


def select(window: RunsWindow, iid: str) -> None:
    window.tree.selection_set(iid)
    window.tree.focus(iid)
    window.tree.focus_force()  # keys go to the focused widget
    window.top.update()


def test_each_run_says_what_where_when_and_how_in_words(
    window: tuple[RunsWindow, Actions],
) -> None:
    runs, _ = window
    assert list(runs.tree.get_children()) == [RUNNING, FAILED, DONE]
    for iid in (RUNNING, FAILED, DONE, f"{DONE}/1", f"{DONE}/2"):
        cells(runs, iid)
    running, failed, done = (whole(runs, iid) for iid in (RUNNING, FAILED, DONE))
    assert cells(runs, RUNNING)["prompt"].endswith("…")  # cut, whole in a tooltip
    assert running["prompt"].startswith("Make the login form remember the last user name")
    assert "\n" not in running["prompt"]
    assert running["status"] == "running"
    assert running["shots"] == "1/2 working"
    assert running["repository"] == "—"
    assert running["elapsed"].endswith(" s")
    assert failed["status"] == "authentication failed"  # not auth_failed
    assert failed["repository"] == "example/api"
    assert done == {
        "prompt": "Add a dark mode toggle to the settings page",
        "round": "1",
        "repository": "example/webapp",
        "started": done["started"],
        "status": "partly succeeded",
        "shots": "1/2 succeeded",
        "elapsed": done["elapsed"],
        "cost": "$0.42",
        "detail": "1 of 2 shots succeeded",
    }
    started = runs.runs[DONE].record.created_at  # today, two hours ago: only the time
    assert done["started"] == time.strftime("%H:%M", time.localtime(started)) or (
        time.localtime(started).tm_yday != time.localtime().tm_yday  # just after midnight
    )
    assert done["elapsed"] == "6 min 40 s"
    assert whole(runs, f"{DONE}/1")["cost"] == "$0.42"
    assert whole(runs, f"{DONE}/2")["cost"] == "< $0.01"
    assert whole(runs, f"{DONE}/1")["detail"] == "1 file changed"
    assert whole(runs, f"{DONE}/1")["elapsed"] == "5 min 12 s"
    assert "failed" in runs.tree.item(FAILED, "tags")
    assert "failed" in runs.tree.item(f"{DONE}/2", "tags")
    assert "failed" not in runs.tree.item(f"{DONE}/1", "tags")


def test_buttons_apply_only_to_what_is_selected(window: tuple[RunsWindow, Actions]) -> None:
    runs, actions = window
    assert enabled(runs) == set()  # nothing selected
    select(runs, RUNNING)
    assert enabled(runs) == {"folder", "log", "cancel"}
    select(runs, FAILED)
    assert enabled(runs) == {"folder", "log", "compare"}  # no Cancel for a finished run
    select(runs, f"{DONE}/2")
    assert enabled(runs) == {"folder", "log", "compare"}  # that shot made no patch
    select(runs, f"{DONE}/1")
    assert enabled(runs) == {"folder", "log", "compare", "patch"}
    for name in ("compare", "log", "patch", "folder"):
        runs.buttons[name].invoke()
    runs.buttons["cancel"].invoke()  # disabled: does nothing
    assert actions.done == [
        ("compare", DONE),
        ("log", DONE, "1"),
        ("patch", DONE, "1"),
        ("folder", DONE),
    ]
    select(runs, RUNNING)
    runs.buttons["cancel"].invoke()
    assert actions.done[-1] == ("cancel", RUNNING)


def test_return_and_double_click_open_a_finished_run_or_a_shots_log(
    window: tuple[RunsWindow, Actions],
) -> None:
    runs, actions = window
    select(runs, DONE)
    runs.tree.event_generate("<Return>")
    select(runs, f"{DONE}/2")
    runs.tree.event_generate("<Return>")
    select(runs, RUNNING)  # still going: nothing to compare yet
    runs.tree.event_generate("<Return>")
    assert actions.done == [("compare", DONE), ("log", DONE, "2")]


def test_a_cut_cell_and_the_prompt_show_whole_in_a_tooltip(
    window: tuple[RunsWindow, Actions], root: tk.Tk
) -> None:
    runs, _ = window
    runs.tree.item(DONE, open=True)
    root.update()

    def tip_at(iid: str, column: str) -> str | None:
        x, y, width, height = cell_box(runs, iid, column)
        return runs._tooltip_text(x + width // 2, y + height // 2)

    assert tip_at(RUNNING, "#0") == LONG_PROMPT.strip()
    detail = "#" + str(list(COLUMNS).index("detail") + 1)
    shown = cells(runs, f"{DONE}/2")["detail"]
    assert shown.endswith("…")
    assert tip_at(f"{DONE}/2", detail) == (
        "Claude Code exited with status 1 after editing 3 files: the test suite "
        "failed in tests/test_settings.py::test_toggle_persists_across_reloads"
    )
    status = "#" + str(list(COLUMNS).index("status") + 1)
    assert tip_at(DONE, status) is None  # shown whole already

    x, y, width, height = cell_box(runs, RUNNING, "#0")
    runs.tree.event_generate("<Motion>", x=x + width // 2, y=y + height // 2)
    assert runs.tooltip.waiting
    pump(root, lambda: runs.tooltip.window is not None)  # after the pointer rested
    tip = runs.tooltip.window
    assert tip is not None
    assert tip.winfo_ismapped()
    assert labels(tip) == [LONG_PROMPT.strip()]
    runs.tree.event_generate("<Leave>")
    assert runs.tooltip.window is None
    assert not runs.tooltip.waiting


def test_the_elapsed_timer_runs_only_while_a_run_is_active_and_the_window_open(
    root: tk.Tk, tmp_path: Path
) -> None:
    history = sample_history(tmp_path)
    try:
        runs = RunsWindow(root, Actions())
        runs.refresh(overviews(history))
        assert runs.ticking
        before = runs.tree.set(RUNNING, "elapsed")
        pump(root, lambda: runs.tree.set(RUNNING, "elapsed") != before)  # it counts

        history.finish_run(RUNNING, RunStatus.CANCELLED, "Cancelled")
        runs.refresh(overviews(history))
        assert not runs.ticking
        assert root.tk.call("after", "info") == ""

        history.add_run("20261201-000000-dddddd", "Another", {}, tmp_path / "d", 1)
        runs.refresh(overviews(history))
        assert runs.ticking
        runs.tree.focus_force()
        root.update()
        runs.top.event_generate("<Escape>")
        root.update()
        assert not runs.top.winfo_exists()
        assert root.tk.call("after", "info") == ""
    finally:
        history.close()


def test_many_runs_scroll_and_the_window_fits_a_small_laptop_screen(
    root: tk.Tk, tmp_path: Path
) -> None:
    history = sample_history(tmp_path, extra_runs=25)
    try:
        runs = RunsWindow(root, Actions())
        runs.refresh(overviews(history))
        root.update()
        assert len(runs.tree.get_children()) == 28
        assert runs.tree.yview()[1] < 1.0  # more rows than shown: the scrollbar has work
        runs.tree.yview_moveto(1.0)
        root.update()
        assert runs.tree.yview()[1] == 1.0
        assert runs.top.winfo_width() <= 1366 - 200
        runs.tree.see(f"{runs.tree.get_children()[-1]}")
        close_window(runs.top)
    finally:
        history.close()


def test_an_empty_history_says_how_to_start(root: tk.Tk) -> None:
    runs = RunsWindow(root, Actions())
    runs.refresh([])
    root.update()
    assert runs.empty.winfo_ismapped()
    assert str(runs.empty.cget("text")).startswith("No runs yet.")
    assert runs.buttons["folder"].instate(["disabled"])
    close_window(runs.top)


def test_without_an_opener_the_app_says_so_and_copies_the_path(
    root: tk.Tk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = sample_history(tmp_path)
    history.close()
    service = Service(CredentialStore(), history_path=tmp_path / "history.sqlite3")
    app = TrayApp(root, service=service, with_icon=False)
    empty = tmp_path / "bin"
    empty.mkdir()
    try:
        with monkeypatch.context() as patched:
            patched.setenv("PATH", str(empty))  # no xdg-open
            app.open_folder(DONE)
        pump(root, lambda: any(isinstance(w, tk.Toplevel) for w in root.winfo_children()))
        (top,) = [w for w in root.winfo_children() if isinstance(w, tk.Toplevel)]
        assert top.title() == "Can't open it"
        folder = str(RunFolder(tmp_path / DONE).path)
        assert labels(top)[0] == (
            "No program to open the folder with: xdg-open is not installed "
            "(it comes with the xdg-utils package)."
        )
        buttons(top)["Copy path"].invoke()
        assert root.clipboard_get() == folder
        close_window(top)

        app.open_patch(DONE, 2)  # that shot made no patch: the file is not there
        pump(root, lambda: any(isinstance(w, tk.Toplevel) for w in root.winfo_children()))
        (top,) = [w for w in root.winfo_children() if isinstance(w, tk.Toplevel)]
        assert labels(top)[0].startswith("The file is not there (any more): ")
        close_window(top)
    finally:
        service.shutdown(timeout=30)
        app.notifier.close()
        app.close()


def test_the_no_opener_window_copies_with_return(root: tk.Tk) -> None:
    from tray.errors import CannotOpen

    window = OpenFailedWindow(root, CannotOpen("No program to open it.", "/tmp/x y"))
    root.update()
    window.top.focus_force()
    window.top.event_generate("<Return>")
    assert root.clipboard_get() == "/tmp/x y"
    assert str(window.copied.cget("text")) == "The path is on the clipboard."
    close_window(window.top)


def test_a_later_round_shows_its_number(root: tk.Tk, history: History, tmp_path: Path) -> None:
    history.add_run(
        "20261201-000000-eeeeee", "Now also handle Safari", {"parent_run_id": DONE,
        "parent_shot": 1}, tmp_path / "e", 1, round_number=2,
    )  # fmt: skip
    runs = RunsWindow(root, Actions())
    runs.refresh(overviews(history))
    assert runs.tree.set("20261201-000000-eeeeee", "round") == "2"
    assert runs.runs["20261201-000000-eeeeee"].parent_run_id == DONE
    assert runs.tree.set(DONE, "round") == "1"
    close_window(runs.top)


def test_columns_fit_what_they_show_and_then_only_widen(root: tk.Tk, history: History) -> None:
    runs = RunsWindow(root, Actions())
    started = int(runs.tree.column("started", "width"))  # room for "Wed 30 Nov 22:49"
    everything = overviews(history)
    runs.refresh(everything)
    assert int(runs.tree.column("started", "width")) < started  # today: "21:02" fits
    status = int(runs.tree.column("status", "width"))  # "authentication failed" fits
    runs.refresh([run for run in everything if run.record.id == DONE])
    assert int(runs.tree.column("status", "width")) == status  # no jump as rows change
    close_window(runs.top)
