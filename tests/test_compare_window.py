"""The Compare window on a real X server: shots, files and diff, find, pick, apply into a real
repository, save a patch, continue; and the ways to it (notification, menu)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daytona_standin import VALID_DAYTONA_KEY
from tests.git_repos import GitRepo
from tests.notification_server import NotificationServer
from tests.recorded_runs import RecordedShot, record_run, three_shot_run
from tests.standins import VALID_ANTHROPIC_KEY
from tests.test_apply import checkout_state
from tests.test_look import focus_chain, focused, press, take_focus
from tests.test_tray import pump
from tray import config
from tray.credentials.keychain import CredentialStore
from tray.credentials.model import AuthMethod, Credentials
from tray.runs.events import RunFinished
from tray.runs.layout import default_runs_root
from tray.runs.status import RunStatus, ShotStatus
from tray.service import Service
from tray.ui.alerts import Level
from tray.ui.app import TrayApp
from tray.ui.compare_window import CompareWindow
from tray.ui.diff_view import FIRST_LINES

pytestmark = pytest.mark.usefixtures("display")


@pytest.fixture
def app(root: tk.Tk, tmp_path: Path) -> Iterator[TrayApp]:
    service = Service(CredentialStore(), history_path=tmp_path / "h.sqlite3")
    app = TrayApp(root, service=service, with_icon=False)
    yield app
    app.notifier.close()
    app.close()


@pytest.fixture
def run_id(app: TrayApp, tmp_path: Path) -> str:
    return three_shot_run(app.service.history, default_runs_root(), tmp_path)


def open_window(app: TrayApp, run_id: str) -> CompareWindow:
    app.open_compare(run_id)
    pump(app.root, lambda: run_id in app.compare_windows)
    window = app.compare_windows[run_id]
    pump(app.root, lambda: window.shown_shot is not None)
    return window


def line_tags(window: CompareWindow, starting: str) -> tuple[str, ...]:
    """The tags of the first diff line that starts with ``starting``."""
    text = window.diff.text
    found = text.search(starting, "1.0", "end")
    assert found, f"no line starts with {starting!r}"
    return tuple(str(tag) for tag in text.tag_names(found))


def test_the_shots_side_by_side_and_the_recommended_shots_diff(app: TrayApp, run_id: str) -> None:
    window = open_window(app, run_id)
    rows = {iid: window.tree.item(iid, "values") for iid in window.tree.get_children()}
    assert list(rows) == ["1", "2", "3"]
    assert rows["1"][:4] == ("1 (recommended)", "succeeded", "passed (4.2 s)", "+12 −1")
    assert rows["1"][4:7] == ("$0.41", "2 min 28 s", "1")
    assert rows["1"][7].startswith("Uses the standard library's ISO calendar")
    assert rows["2"][2] == "failed, exit 1 (4.2 s)"
    assert rows["3"][2:4] == ("—", "—")
    assert window.selected_shot == 1
    assert window.shown_shot == 1
    reasons = str(window.reasons.cget("text"))
    assert "Rank 1: check passed" in reasons
    assert "Judge's rank 1: Uses the standard library" in reasons
    assert window.files.get(0, "end") == ("dates/parser.py  (+8 −1)", "tests/test_week.py  (+4 −0)")
    assert line_tags(window, "+        return date.fromisocalendar") == ("added",)
    assert line_tags(window, "-    return date(int(year)") == ("removed",)
    assert line_tags(window, "@@ -1,3 +1,") == ("hunk",)
    assert line_tags(window, "diff --git a/tests/test_week.py") == ("header",)
    assert line_tags(window, "--- a/dates/parser.py") == ("header",)
    assert str(window.diff.text.cget("state")) == "disabled"
    assert str(window.diff.text.cget("wrap")) == "none"

    window.files.selection_set(1)
    window.files.event_generate("<<ListboxSelect>>")
    app.root.update()
    second_file = window.diff.text.search("diff --git a/tests/test_week.py", "1.0", "end")
    assert window.diff.file_starts[1] == int(second_file.split(".")[0])
    assert window.diff.text.bbox(second_file) is not None  # scrolled into view
    assert window.diff.text.yview()[0] > 0


def test_up_and_down_choose_the_shot_and_its_diff_follows(app: TrayApp, run_id: str) -> None:
    window = open_window(app, run_id)
    window.tree.focus_set()
    window.tree.event_generate("<Down>")
    pump(app.root, lambda: window.shown_shot == 2)
    assert window.files.get(0, "end") == ("dates/parser.py  (+7 −0)",)
    assert "from_iso" in window.diff.text.get("1.0", "end")
    window.tree.event_generate("<Down>")
    pump(app.root, lambda: window.shown_shot == 3)
    assert window.diff.text.get("1.0", "end-1c") == "(this shot changed nothing)\n"
    assert window.apply_button.instate(["disabled"])
    assert window.save_button.instate(["disabled"])
    assert window.continue_button.instate(["disabled"])
    window.tree.event_generate("<Up>")
    pump(app.root, lambda: window.shown_shot == 2)
    assert window.apply_button.instate(["!disabled"])


def test_ctrl_f_finds_in_the_diff(app: TrayApp, run_id: str) -> None:
    window = open_window(app, run_id)
    window.top.focus_force()
    window.diff.text.event_generate("<Control-f>")
    app.root.update()
    assert window.diff.find_entry.winfo_ismapped()
    window.diff.find_text.set("_WEEK(")  # found whatever the case
    found = window.diff.text.tag_ranges("found")
    assert len(found) == 2
    assert window.diff.text.get(found[0], found[1]) == "_week("
    first = str(found[0])
    assert window.diff.find_next()
    assert str(window.diff.text.tag_ranges("found")[0]) != first  # the second match
    window.diff.find_text.set("no such text")
    assert window.diff.text.tag_ranges("found") == ()
    assert str(window.diff.find_status.cget("text")) == "Not found"


def test_pick_is_recorded_and_marked(app: TrayApp, run_id: str) -> None:
    window = open_window(app, run_id)
    window.tree.selection_set("2")
    window.pick_button.invoke()
    pump(app.root, lambda: window.tree.item("2", "values")[0] == "2 (picked)")
    record = app.service.history.run(run_id)
    assert record is not None
    assert record.picked_shot == 2
    assert window.tree.item("1", "values")[0] == "1"
    assert str(window.message.cget("text")) == "Picked shot 2."


def test_apply_into_a_local_clone_through_the_folder_chooser(
    app: TrayApp, run_id: str, tmp_path: Path
) -> None:
    clone = GitRepo(tmp_path / "origin").busy_clone(tmp_path / "my clone")
    before = checkout_state(clone)
    asked: list[Path | None] = []

    def choose(_title: str, start: Path | None) -> Path:
        asked.append(start)
        return clone.path

    app.choose_folder = choose
    window = open_window(app, run_id)
    window.apply_button.invoke()
    pump(app.root, lambda: "Applied" in str(window.message.cget("text")))
    branch = f"multishot/{run_id}-shot-1"
    assert str(window.message.cget("text")) == (
        f"Applied shot 1 of run {run_id} on the new branch {branch} of {clone.path} "
        "(1 commit, 2 files). Your checked-out branch, index and files were not touched."
    )
    assert checkout_state(clone) == before
    assert "fromisocalendar" in clone.text("show", f"{branch}:dates/parser.py")
    assert config.read_setting("last_apply_folder") == str(clone.path)

    window.apply_button.invoke()  # the same branch again: refused, in the window
    pump(app.root, lambda: "already exists" in str(window.message.cget("text")))
    assert str(window.message.cget("style")) == "Error.TLabel"
    assert asked == [None, clone.path]  # the chooser starts where the last apply went
    window.close()
    reopened = open_window(app, run_id)
    assert reopened.last_folder == clone.path  # remembered across windows


def test_save_patch_through_the_file_chooser(app: TrayApp, run_id: str, tmp_path: Path) -> None:
    suggested: list[str] = []

    def choose(_title: str, name: str) -> Path:
        suggested.append(name)
        return tmp_path / name

    app.choose_patch_file = choose
    window = open_window(app, run_id)
    window.save_button.invoke()
    pump(app.root, lambda: "Wrote" in str(window.message.cget("text")))
    assert suggested == [f"{run_id}-shot-1.patch"]
    saved = (tmp_path / suggested[0]).read_bytes()
    record = app.service.history.shots(run_id)[0]
    assert saved == Path(record.patch_path or "").read_bytes()


def test_a_cancelled_chooser_does_nothing(app: TrayApp, run_id: str) -> None:
    app.choose_folder = lambda _title, _start: None
    app.choose_patch_file = lambda _title, _name: None
    window = open_window(app, run_id)
    window.apply_button.invoke()
    window.save_button.invoke()
    app.root.update()
    assert str(window.message.cget("text")) == ""


def test_escape_closes_and_opening_again_brings_one_window(app: TrayApp, run_id: str) -> None:
    window = open_window(app, run_id)
    app.open_compare(run_id)
    app.root.update()
    assert len([w for w in app.root.winfo_children() if isinstance(w, tk.Toplevel)]) == 1
    window.top.event_generate("<Escape>")
    pump(app.root, lambda: run_id not in app.compare_windows)
    assert not window.top.winfo_exists()


def test_an_unknown_run_is_told_not_opened(app: TrayApp) -> None:
    told: list[tuple[str, str, Level]] = []
    app.inform = lambda title, text, level: told.append((title, text, level))
    app.open_compare("nosuchrun")
    pump(app.root, lambda: bool(told))
    assert told == [
        ("No such run", "No run matches 'nosuchrun'. `multishot runs` lists them.", Level.ERROR)
    ]
    assert app.compare_windows == {}


def test_a_big_diff_opens_capped_and_shows_all_on_request(app: TrayApp, tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "big")
    repo.write("big.txt", "".join(f"line {n}\n" for n in range(FIRST_LINES * 2)))
    patch = repo.shot_patch("4b825dc642cb6eb9a060e54bf8d69288fbee4904")
    run_id = record_run(app.service.history, default_runs_root(), [RecordedShot(patch)])
    window = open_window(app, run_id)
    shown = int(window.diff.text.index("end-1c").split(".")[0])
    assert shown <= FIRST_LINES + 1
    assert window.diff._more.winfo_manager() == "grid"
    assert "more lines" in str(window.diff._more.cget("text"))
    window.diff.show_all()
    assert (
        window.diff.text.get("end-2l linestart", "end-1c").strip() == f"+line {FIRST_LINES * 2 - 1}"
    )
    window.diff.find_text.set("line 7999")
    assert window.diff.text.tag_ranges("found")


def test_continue_opens_a_dialog_prefilled_from_the_run(app: TrayApp, run_id: str) -> None:
    app.credentials = Credentials(
        VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY
    )
    window = open_window(app, run_id)
    window.continue_button.invoke()
    pump(app.root, lambda: app.continue_dialog is not None)
    dialog = app.continue_dialog
    assert dialog is not None
    assert dialog.top.title() == "Continue from shot 1"
    assert (dialog.shots.get(), dialog.check.get(), dialog.model.get()) == ("3", "pytest -q", "")
    assert dialog.prompt.get("1.0", "end-1c") == ""
    dialog.start_button.invoke()  # an empty follow-up is refused in the dialog
    assert str(dialog.error.cget("text")) == "Say what the next round should do."
    dialog.prompt.insert("1.0", "Now the ordinal dates.")
    dialog.shots.set("a few")
    dialog.start_button.invoke()
    assert (
        str(dialog.error.cget("text")) == "The number of shots must be a whole number from 1 to 16."
    )
    dialog.shots.set("17")  # the range is the core's to check, when the round is built
    dialog.start_button.invoke()
    pump(app.root, lambda: "from 1 to 16" in str(dialog.error.cget("text")))
    assert dialog.start_button.instate(["!disabled"])  # refused: the user can try again
    dialog.top.event_generate("<Escape>")
    app.root.update()
    assert not dialog.top.winfo_exists()


def test_a_finished_runs_notification_and_menu_entry_open_its_compare_window(
    app: TrayApp, run_id: str
) -> None:
    from tray.ui.menu import build_menu

    unchanged = record_run(app.service.history, default_runs_root(), [RecordedShot(b"")])
    with NotificationServer(actions=True) as server:
        app._on_engine_event(RunFinished(unchanged, RunStatus.DONE, 1, 1))
        pump(app.root, lambda: len(server.received) == 1)
        assert server.received[0].actions[1::2] == ("Open results", "Runs")  # nothing to compare
        app._on_engine_event(RunFinished(run_id, RunStatus.DONE, 3, 3))
        pump(app.root, lambda: len(server.received) == 2)
        note = server.received[1]
        assert note.actions[1::2] == ("Compare", "Open results", "Runs")
        server.press(note, "Compare")
        pump(app.root, lambda: run_id in app.compare_windows)
    app.compare_windows[run_id].close()

    runs = next(item for item in build_menu(app.menu_state(), app).items if item.text == "Runs")
    entry = next(item for item in runs.submenu.items if str(item.text).startswith(run_id[-6:]))
    compare = next(item for item in entry.submenu.items if item.text == "Compare shots…")
    assert compare.enabled
    compare(None)  # the menu's own action, as a click calls it
    pump(app.root, lambda: run_id in app.compare_windows)


def test_a_window_opened_while_the_run_goes_shows_how_it_ended(
    app: TrayApp, tmp_path: Path
) -> None:
    run_id = record_run(
        app.service.history,
        default_runs_root(),
        [RecordedShot(b"", status=ShotStatus.RUNNING)],
        finished=False,
    )
    window = open_window(app, run_id)
    assert window.tree.item("1", "values")[1] == "running"
    assert window.pick_button.instate(["disabled"])
    finished = three_shot_run(app.service.history, default_runs_root(), tmp_path / "later")
    shot = app.service.history.shots(finished)[0]
    app.service.history.update_shot(
        run_id,
        1,
        status=ShotStatus.SUCCEEDED.value,
        patch_path=shot.patch_path,
        changed_files=shot.changed_files,
    )
    app.service.history.finish_run(run_id, RunStatus.DONE)
    app._on_engine_event(RunFinished(run_id, RunStatus.DONE, 1, 1))
    pump(app.root, lambda: window.tree.item("1", "values")[1] == "succeeded")
    pump(app.root, lambda: "fromisocalendar" in window.diff.text.get("1.0", "end"))
    assert window.pick_button.instate(["!disabled"])


def test_keys_tab_through_the_window_and_return_picks(app: TrayApp, run_id: str) -> None:
    window = open_window(app, run_id)
    take_focus(window.top)
    assert focused(window.top) is window.tree  # Up and Down work at once
    chain = focus_chain(window.tree)
    assert chain.index(window.files) < chain.index(window.diff.text)
    buttons = [window.pick_button, window.apply_button, window.save_button]
    assert all(chain.index(window.diff.text) < chain.index(button) for button in buttons)
    press(window.diff.text, "<Next>")  # Page Down scrolls the read-only diff
    assert window.diff.text.yview()[0] > 0
    window.tree.selection_set("2")
    press(window.tree, "<Return>")
    pump(app.root, lambda: app.service.history.run(run_id).picked_shot == 2)  # type: ignore[union-attr]


def test_the_runs_windows_compare_button_opens_it(app: TrayApp, run_id: str) -> None:
    app.open_runs()
    pump(
        app.root, lambda: app.runs_window is not None and bool(app.runs_window.tree.get_children())
    )
    runs = app.runs_window
    assert runs is not None
    runs.tree.selection_set(run_id)
    app.root.update()
    runs.buttons["compare"].invoke()
    pump(app.root, lambda: run_id in app.compare_windows)
