"""The tray shell on a real X server (Xvfb), with the real keychain and notification bus."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import tkinter as tk
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import stored_entries
from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.notification_server import NotificationServer
from tests.standins import VALID_ANTHROPIC_KEY, AnthropicStandIn
from tests.test_local_login import write_login
from tray.credentials.keychain import CredentialStore
from tray.credentials.model import AuthMethod, Credentials, SetupStep
from tray.failures import FailureKind
from tray.runs.events import ScanNotice
from tray.runs.spec import RunSpec
from tray.scanner import ScanEvent
from tray.service import Service
from tray.ui.app import TrayApp
from tray.ui.dialogs import NewRunDialog
from tray.ui.icons import IconState
from tray.ui.messages import Question
from tray.ui.single_instance import InstanceLock
from tray.ui.wizard import CheckState, SetupWizard

if TYPE_CHECKING:  # importing pystray opens the display; it has no type information
    from pystray import MenuItem

pytestmark = pytest.mark.usefixtures("display", "secret_service")

TOKEN = "sk-ant-oat01-" + "W" * 40 + "wz12"


def pump(root: tk.Tk, until: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the UI")
        root.update()
        time.sleep(0.01)


def pump_for(root: tk.Tk, seconds: float) -> None:
    """Let the Tk loop run for a while (for things that must *not* happen)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        root.update()
        time.sleep(0.01)


@pytest.fixture
def app(root: tk.Tk, tmp_path: Path) -> Iterator[TrayApp]:
    service = Service(CredentialStore(), history_path=tmp_path / "h.sqlite3", engine_process=True)
    app = TrayApp(root, service=service, with_icon=False)
    yield app
    service.shutdown(timeout=30)
    app.notifier.close()
    app.close()


def start_run(app: TrayApp, spec: RunSpec) -> str:
    """Start a run as the New-run dialog does; its id once the engine has registered it."""
    started: list[str] = []
    app.start_run(spec, started.append)
    pump(app.root, lambda: bool(started), timeout=60)
    return started[0]


def start_loaded(app: TrayApp) -> None:
    app.start()
    pump(app.root, app.loaded.is_set)


def step_of(wizard: SetupWizard) -> SetupStep:
    """The wizard's step, read afresh: mypy would keep one assert's narrowing past a click."""
    return wizard.step


def test_first_launch_opens_the_wizard_and_a_valid_setup_is_saved(
    app: TrayApp,
    anthropic: AnthropicStandIn,
    daytona: DaytonaStandIn,
    notifications: NotificationServer,
) -> None:
    start_loaded(app)
    assert app.icon_state()[0] is IconState.SETUP_NEEDED
    wizard = app.wizard
    assert wizard is not None
    assert step_of(wizard) is SetupStep.DAYTONA
    wizard.daytona_entry.set(f"export DAYTONA_API_KEY='{VALID_DAYTONA_KEY}'")
    wizard.next_button.invoke()
    assert step_of(wizard) is SetupStep.METHOD
    wizard.next_button.invoke()
    assert step_of(wizard) is SetupStep.CLAUDE
    assert "Validate & Save" in str(wizard.next_button.cget("text"))
    wizard.claude_entry.set(VALID_ANTHROPIC_KEY)
    wizard.next_button.invoke()
    assert step_of(wizard) is SetupStep.VALIDATE
    pump(app.root, lambda: wizard.check_state is CheckState.DONE)
    assert str(wizard.heading.cget("text")) == "You're set"  # a word before it closes
    assert "Your keys work and are saved" in str(wizard.done_text.cget("text"))
    wizard.next_button.invoke()  # Close
    assert app.wizard is None
    assert app.credentials is not None
    assert f"secret = {VALID_ANTHROPIC_KEY}" in stored_entries()
    assert app.icon_state()[0] is IconState.IDLE
    pump(app.root, lambda: bool(notifications.received))
    assert notifications.received[0].summary == "Credentials saved"
    assert notifications.received[0].icon.endswith("assets/multishot-128.png")


def validate_api_key(app: TrayApp, api_key: str) -> SetupWizard:
    """Walk the wizard with the valid Daytona key and ``api_key``, and press Validate & Save."""
    app.open_wizard()
    wizard = app.wizard
    assert wizard is not None
    wizard.daytona_entry.set(VALID_DAYTONA_KEY)
    wizard.next_button.invoke()
    wizard.next_button.invoke()
    wizard.claude_entry.set(api_key)
    wizard.next_button.invoke()
    return wizard


def test_an_invalid_key_keeps_the_user_on_the_step_with_the_apis_message(
    app: TrayApp, anthropic: AnthropicStandIn, daytona: DaytonaStandIn
) -> None:
    wizard = validate_api_key(app, "sk-ant-api03-" + "n" * 40 + "nope")
    pump(app.root, lambda: wizard.step is SetupStep.CLAUDE)
    assert "invalid x-api-key" in str(wizard.claude_error.cget("text"))
    assert app.credentials is None
    assert "multishot" not in stored_entries()


def test_network_down_offers_retry_and_save_anyway(
    app: TrayApp, daytona: DaytonaStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    wizard = validate_api_key(app, VALID_ANTHROPIC_KEY)
    pump(app.root, lambda: wizard.check_state is CheckState.COULD_NOT_CHECK)
    said = str(wizard.claude_result.cget("text"))
    assert said.startswith("⚠ Anthropic API key: not checked. Could not connect to Anthropic")
    for raw in ("unreachable", "Errno", "127.0.0.1", ":9"):
        assert raw not in said
    assert str(wizard.next_button.cget("text")) == "Retry"
    wizard.next_button.invoke()  # still down: asked again, then the same answer
    assert wizard.check_state is CheckState.CHECKING
    pump(app.root, lambda: wizard.check_state is CheckState.COULD_NOT_CHECK)
    wizard.save_anyway_button.invoke()
    pump(app.root, lambda: wizard.check_state is CheckState.DONE)
    assert "Your keys are saved" in str(wizard.done_text.cget("text"))
    assert f"secret = {VALID_ANTHROPIC_KEY}" in stored_entries()


def test_oauth_paste_wrong_type_back_and_cancel(app: TrayApp, daytona: DaytonaStandIn) -> None:
    app.open_wizard()
    wizard = app.wizard
    assert wizard is not None
    wizard.next_button.invoke()
    assert step_of(wizard) is SetupStep.DAYTONA  # empty key refused
    assert "Nothing was pasted" in str(wizard.daytona_error.cget("text"))
    wizard.daytona_entry.set(VALID_DAYTONA_KEY)
    wizard.next_button.invoke()
    wizard.token_radio.invoke()
    wizard.next_button.invoke()
    wizard.claude_entry.set(VALID_ANTHROPIC_KEY)  # an API key where a token belongs
    wizard.next_button.invoke()
    assert step_of(wizard) is SetupStep.CLAUDE
    assert "not an OAuth token" in str(wizard.claude_error.cget("text"))
    wizard.back_button.invoke()
    assert step_of(wizard) is SetupStep.METHOD
    wizard.next_button.invoke()
    wizard.claude_entry.set(TOKEN)
    wizard.next_button.invoke()
    pump(app.root, lambda: wizard.check_state is CheckState.DONE)
    wizard.next_button.invoke()
    assert app.wizard is None
    assert f"secret = {TOKEN}" in stored_entries()
    assert app.credentials is not None
    assert app.credentials.auth_method is AuthMethod.OAUTH_TOKEN

    app.open_wizard()
    assert app.wizard is not None
    app.wizard.cancel_button.invoke()
    assert app.wizard is None


def test_oauth_import_from_the_local_login(app: TrayApp, isolated_home: Path) -> None:
    write_login(isolated_home / ".claude" / ".credentials.json", None, token=TOKEN)
    app.open_wizard(SetupStep.METHOD)
    wizard = app.wizard
    assert wizard is not None
    wizard.token_radio.invoke()
    wizard.next_button.invoke()
    wizard.import_button.invoke()
    pump(app.root, lambda: wizard.claude_entry.get() == TOKEN)
    note = str(wizard.import_note.cget("text"))
    assert "Imported sk-ant-…wz12" in note
    assert TOKEN not in note


def test_new_run_dialog_checks_its_input(root: tk.Tk) -> None:
    started: list[RunSpec] = []
    dialog = NewRunDialog(root, started.append)
    dialog.start_button.invoke()
    assert "The prompt is empty" in str(dialog.error.cget("text"))
    dialog.prompt.insert("1.0", "Fix the flaky test")
    dialog.shots.set("many")
    dialog.start_button.invoke()
    assert "whole number from 1 to 16" in str(dialog.error.cget("text"))
    dialog.shots.set("3")
    dialog.repo.set("not a url")
    dialog.start_button.invoke()
    assert "spaces or control characters" in str(dialog.error.cget("text"))
    dialog.repo.set("https://github.com/o/r.git")
    dialog.hints.insert("1.0", "be bold\n\nbe careful\n")
    dialog.check.set("curl -H 'x-api-key: sk-ant-api03-" + "A" * 40 + "' example.test")
    dialog.start_button.invoke()
    assert "looks like it contains a key" in str(dialog.error.cget("text"))
    assert "sk-ant" not in str(dialog.error.cget("text"))
    dialog.check.set("  pytest -q  ")
    dialog.setup.set("   ")
    dialog.judge.set(True)
    dialog.start_button.invoke()
    (spec,) = started
    assert (spec.shots, spec.repo_url, spec.hints) == (
        3,
        "https://github.com/o/r.git",
        ("be bold", "be careful"),
    )
    assert (spec.check, spec.setup, spec.judge) == ("pytest -q", None, True)
    assert not dialog.top.winfo_exists()


def menu_items(app: TrayApp) -> dict[str, MenuItem]:
    from tray.ui.menu import build_menu

    menu = build_menu(app.menu_state(), app)
    return {str(item.text): item for item in menu.items if str(item.text)}


def test_menu_items_follow_the_app_state(app: TrayApp, daytona: DaytonaStandIn) -> None:
    items = menu_items(app)
    assert not items["Check credentials"].enabled
    assert not items["Log out"].enabled
    assert not items["Fix credentials…"].visible
    assert "Not set up" in items

    app._set_credentials(
        Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY)
    )
    items = menu_items(app)
    assert items["Check credentials"].enabled
    assert items["Log out"].enabled
    assert any(text.startswith("Claude: API key sk-ant-…") for text in items)
    assert "Daytona: dtn_…good" in items
    assert app.icon_state()[0] is IconState.IDLE

    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    run_id = start_run(app, RunSpec("task", shots=2))
    pump(app.root, lambda: app.active_shots() == 2 and "running 2/2" in app._run_label(run_id))
    state, active, tooltip = app.icon_state()
    assert (state, active, tooltip) == (IconState.RUNNING, 2, "Multishot: 2 shots running")
    runs = items_of(menu_items(app)["Runs"])
    assert any("running 2/2" in text for text in runs)
    run_entry = next(
        item for item in menu_items(app)["Runs"].submenu.items if "running" in str(item.text)
    )
    cancel = next(item for item in run_entry.submenu.items if str(item.text) == "Cancel")
    assert cancel.enabled
    cancel(None)  # the menu's own action
    pump(app.root, lambda: app.run_status.get(run_id) == "cancelled")
    assert daytona.live == []


def items_of(menu_item: MenuItem) -> list[str]:
    return [str(item.text) for item in menu_item.submenu.items]


def test_an_expired_token_notifies_once_and_reopens_the_wizard(
    app: TrayApp, daytona: DaytonaStandIn, notifications: NotificationServer
) -> None:
    daytona.extra_env.update(FAKE_CLAUDE_SCENARIO="expire_mid_run", FAKE_CLAUDE_SLOW_SECONDS="60")
    app._set_credentials(
        Credentials(VALID_DAYTONA_KEY, AuthMethod.OAUTH_TOKEN, claude_oauth_token=TOKEN)
    )
    run_id = start_run(app, RunSpec("task", shots=3))
    pump(app.root, lambda: app.run_status.get(run_id) == "auth_failed", timeout=60)
    pump(app.root, lambda: len(notifications.received) >= 1)
    pump_for(app.root, 1.0)  # a second toast would arrive now
    titles = [n.summary for n in notifications.received]
    assert titles == ["Claude token expired"]  # one toast per failure, no "run stopped"
    for note in notifications.received:
        assert TOKEN not in note.summary + note.body
    assert app.icon_state()[0] is IconState.ATTENTION
    assert app.wizard is not None
    assert app.wizard.step is SetupStep.CLAUDE
    reason = str(app.wizard.reason.cget("text"))  # it says why it opened
    assert reason == f"Your OAuth token expired during run {run_id[-6:]}; paste a new one."
    assert app.wizard.reason.winfo_ismapped()
    assert menu_items(app)["Fix credentials…"].visible
    assert daytona.live == []

    fresh = "sk-ant-oat01-" + "F" * 40 + "new1"  # the fix: paste a new token
    wizard = app.wizard
    wizard.claude_entry.set(fresh)
    wizard.next_button.invoke()
    pump(app.root, lambda: wizard.check_state is CheckState.DONE and app.auth_error is None)
    wizard.next_button.invoke()
    assert app.icon_state()[0] is IconState.IDLE
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "success"
    run_id = start_run(app, RunSpec("task", shots=1))
    pump(app.root, lambda: app.run_status.get(run_id) == "done", timeout=60)
    assert daytona.created[-1].env == {"CLAUDE_CODE_OAUTH_TOKEN": fresh}


def test_runs_window_lists_runs_and_shots(app: TrayApp, daytona: DaytonaStandIn) -> None:
    app._set_credentials(
        Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY)
    )
    run_id = start_run(app, RunSpec("Write the solution", shots=2))
    pump(app.root, lambda: app.run_status.get(run_id) == "done", timeout=60)
    app._open_runs()
    window = app.runs_window
    assert window is not None
    pump(app.root, lambda: window.tree.exists(f"{run_id}/2"))
    assert window.tree.set(f"{run_id}/1", "status") == "succeeded"
    assert window.tree.set(f"{run_id}/1", "cost").startswith("$")


def test_log_out_clears_the_keychain_and_notifies(
    app: TrayApp, notifications: NotificationServer
) -> None:
    credentials = Credentials(
        VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY
    )
    CredentialStore().save(credentials)
    start_loaded(app)
    assert app.credentials == credentials
    app._log_out()
    pump(app.root, lambda: app.credentials is None and bool(notifications.received))
    assert "multishot" not in stored_entries()
    assert notifications.received[-1].summary == "Logged out"
    assert app.icon_state()[0] is IconState.SETUP_NEEDED


HOLD_LOCK = (
    "from tray.ui.single_instance import InstanceLock; import time\n"
    "lock = InstanceLock()\n"
    "assert lock.acquire()\n"
    "print('held', flush=True)\n"
    "time.sleep(60)\n"
)


def test_a_second_instance_says_so_and_exits_0() -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        second = subprocess.run(
            [sys.executable, "-m", "tray", "tray"], capture_output=True, text=True, timeout=60
        )
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 0
    assert "already running" in second.stdout


def test_doctor_reports_the_tray_backend_on_a_display() -> None:
    report = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tray", "doctor", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    assert report["tray"]["backend"] == "xembed"  # no StatusNotifierWatcher on the test bus
    assert report["tray"]["menu"] is False
    assert report["tray"]["click_opens"] == "actions window"
    assert report["tk"]["available"] is True


@pytest.mark.parametrize("keychain", ["secure", "none"])
def test_sigterm_quits_the_tray_app_within_seconds(isolated_home: Path, keychain: str) -> None:
    # Without a session bus there is no keychain, and the app says so in a modal message
    # box: its own Tcl loop must not keep the app alive.
    env = dict(os.environ)
    if keychain == "none":
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    app = subprocess.Popen(
        [sys.executable, "-m", "tray", "tray"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        time.sleep(3)  # up, wizard open (no credentials)
        assert app.poll() is None
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=15)
    finally:
        app.kill()
    assert app.returncode == 0


def test_a_rate_limit_is_announced_once_as_backing_off(
    app: TrayApp, daytona: DaytonaStandIn, notifications: NotificationServer
) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "rate_limit_then_success"
    app._set_credentials(
        Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY)
    )
    run_id = start_run(app, RunSpec("task", shots=2))
    pump(app.root, lambda: app.run_status.get(run_id) == "done", timeout=60)
    pump(app.root, lambda: any(n.summary == "Run finished" for n in notifications.received))
    titles = [n.summary for n in notifications.received]
    assert titles.count("Rate limited: backing off") == 1
    assert app.icon_state()[0] is IconState.IDLE


IDLE_APP = """
import sys, time, tkinter as tk
from tray.ui.app import TrayApp
root = tk.Tk(); root.withdraw()
app = TrayApp(root, with_icon=False); app.start()
while not app.loaded.is_set():
    root.update(); time.sleep(0.01)
root.update()
loaded = [name in sys.modules for name in ("keyring", "daytona", "httpx")]
print(app.credentials is not None, *loaded)
"""


def test_an_idle_app_with_credentials_loads_neither_keyring_nor_the_sdk() -> None:
    CredentialStore().save(
        Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY)
    )
    shown = subprocess.run(
        [sys.executable, "-c", IDLE_APP], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert shown == ["True", "False", "False", "False"]


def test_the_keychain_reader_never_writes_to_a_terminal() -> None:
    import pexpect

    child = pexpect.spawn(
        sys.executable, ["-m", "tray", "_keychain-load", "multishot"], encoding="utf-8", timeout=30
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "for the tray app's own use" in (child.before or "")


def test_start_at_login_is_a_checkable_menu_item(app: TrayApp, isolated_home: Path) -> None:
    item = menu_items(app)["Start at login"]
    assert not item.checked
    item(None)
    desktop = isolated_home / "config" / "autostart" / "io.github.multishot.desktop"
    pump(app.root, desktop.exists)
    pump(app.root, lambda: app.start_at_login)
    assert menu_items(app)["Start at login"].checked
    menu_items(app)["Start at login"](None)
    pump(app.root, lambda: not desktop.exists() and not app.start_at_login)


def test_two_credentials_at_once_ask_which_to_keep_in_words(app: TrayApp) -> None:
    app._set_credentials(
        Credentials(
            VALID_DAYTONA_KEY,
            AuthMethod.API_KEY,
            anthropic_api_key=VALID_ANTHROPIC_KEY,
            claude_oauth_token=TOKEN,
        )
    )
    asked: list[Question] = []

    def keep_the_api_key(question: Question) -> bool:
        asked.append(question)
        return True

    app.confirm = keep_the_api_key
    conflict = ScanEvent(FailureKind.CONFLICT, "stderr", "Auth conflict: both are set")
    app._on_engine_event(ScanNotice("r1", 1, conflict))
    assert [(q.accept, q.reject) for q in asked] == [("Keep the API key", "Keep the OAuth token")]
    pump(app.root, lambda: app.credentials is not None and not app.credentials.claude_oauth_token)
    assert app.credentials is not None
    assert app.credentials.auth_method is AuthMethod.API_KEY
    pump(app.root, lambda: f"secret = {VALID_ANTHROPIC_KEY}" in stored_entries())
    assert TOKEN not in stored_entries()


def test_quit_with_a_run_active_asks_then_deletes_its_sandboxes_and_ends_the_loop(
    app: TrayApp, daytona: DaytonaStandIn
) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    app._set_credentials(
        Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY)
    )
    run_id = start_run(app, RunSpec("task", shots=2))
    pump(app.root, lambda: app.active_shots() == 2 and len(daytona.live) == 2, timeout=60)
    gave_up: list[bool] = []

    def give_up() -> None:  # only if Quit never ends the loop by itself
        gave_up.append(True)
        app.root.quit()

    app.root.after(90_000, give_up)
    daytona.delete_delay = 0.5  # deleting takes a moment, as it does with real Daytona
    asked: list[str] = []
    answers = iter([False, True])  # the user first keeps it running, then quits

    def answer(question: Question) -> bool:
        asked.append(f"{question.text} [{question.accept} / {question.reject}]")
        return next(answers)

    app.confirm = answer
    app._quit()
    assert not app.quitting
    app.quit()
    app.quit()  # a second Quit while the first one deletes: not asked again
    app.root.mainloop()
    assert gave_up == [], "Quit did not end the Tk loop"
    going = "1 run is still going. Quitting cancels it and deletes its sandboxes."
    assert asked == [f"{going} [Quit / Keep running]"] * 2
    assert daytona.live == []
    record = app.service.history.run(run_id or "")
    assert record is not None
    assert record.status == "cancelled"


@pytest.mark.parametrize("refusal", [401, 403])
def test_a_rejected_daytona_key_reopens_the_wizard_at_the_daytona_step(
    app: TrayApp, daytona: DaytonaStandIn, notifications: NotificationServer, refusal: int
) -> None:
    daytona.reject_with = refusal
    app._set_credentials(
        Credentials("dtn_" + "r" * 30, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY)
    )
    run_id = start_run(app, RunSpec("task", shots=2))
    pump(app.root, lambda: app.run_status.get(run_id) == "auth_failed", timeout=60)
    assert app.wizard is not None
    assert app.wizard.step is SetupStep.DAYTONA
    assert app.icon_state()[0] is IconState.ATTENTION
    pump(app.root, lambda: len(notifications.received) >= 1)
    assert notifications.received[0].summary == "Daytona rejected the API key"
    assert daytona.created == []


def test_sandboxes_that_could_not_be_deleted_are_counted_and_retried(
    app: TrayApp, daytona: DaytonaStandIn, notifications: NotificationServer
) -> None:
    app._set_credentials(
        Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY)
    )
    daytona.delete_faults = [500] * 50
    run_id = start_run(app, RunSpec("task", shots=1))
    pump(app.root, lambda: app.run_status.get(run_id) == "done", timeout=120)
    assert app.leftovers.count == 1
    assert app.leftovers.retry_scheduled  # retried in the background
    item = menu_items(app)["1 sandbox left running: delete now"]
    assert item.visible
    pump(app.root, lambda: "Sandboxes left running" in [n.summary for n in notifications.received])
    assert len(daytona.live) == 1

    daytona.delete_faults = []
    item(None)  # the menu's own action
    pump(app.root, lambda: app.leftovers.count == 0, timeout=60)
    assert not app.leftovers.retry_scheduled  # nothing left: no timer
    assert not [i for t, i in menu_items(app).items() if "left running" in t and i.visible]
    assert daytona.live == []


def test_an_idle_app_has_no_timer_and_a_post_from_a_thread_wakes_it(
    app: TrayApp, root: tk.Tk
) -> None:
    start_loaded(app)
    pump_for(root, 0.3)
    assert root.tk.call("after", "info") == ""  # nothing scheduled: idle costs nothing
    ran: list[str] = []

    def post_later() -> None:
        time.sleep(0.2)
        app.in_tk(lambda: ran.append(threading.current_thread().name))
        app.in_tk(root.quit)

    threading.Thread(target=post_later, name="poster", daemon=True).start()
    root.mainloop()  # blocks until the posted actions wake it: no timer would
    assert ran == ["MainThread"]


def test_with_a_server_that_shows_buttons_fix_now_reopens_the_wizard_at_the_token_step(
    app: TrayApp, daytona: DaytonaStandIn
) -> None:
    with NotificationServer(actions=True) as server:
        daytona.extra_env.update(
            FAKE_CLAUDE_SCENARIO="expire_mid_run", FAKE_CLAUDE_SLOW_SECONDS="60"
        )
        app._set_credentials(
            Credentials(VALID_DAYTONA_KEY, AuthMethod.OAUTH_TOKEN, claude_oauth_token=TOKEN)
        )
        run_id = start_run(app, RunSpec("task", shots=2))
        pump(app.root, lambda: app.run_status.get(run_id) == "auth_failed", timeout=60)
        pump(app.root, lambda: len(server.received) >= 1)
        pump_for(app.root, 1.0)  # a second toast would arrive now
        (note,) = server.received
        assert note.summary == "Claude token expired"
        assert note.actions[1::2] == ("Fix now",)
        assert (note.urgency, note.timeout_ms) == (2, 0)  # critical, stays until dismissed
        assert TOKEN not in note.summary + note.body
        assert app.wizard is not None
        app.wizard.cancel()  # the user closes it, then thinks better of it
        assert app.wizard is None

        server.press(note, "Fix now")
        pump(app.root, lambda: app.wizard is not None)
        assert app.wizard is not None
        assert app.wizard.step is SetupStep.CLAUDE


def test_a_finished_run_offers_its_results_and_the_runs_window(
    app: TrayApp, daytona: DaytonaStandIn
) -> None:
    with NotificationServer(actions=True) as server:
        app._set_credentials(
            Credentials(
                VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY
            )
        )
        run_id = start_run(app, RunSpec("task", shots=1))
        pump(app.root, lambda: app.run_status.get(run_id) == "done", timeout=60)
        pump(app.root, lambda: len(server.received) >= 1)
        (note,) = server.received
        assert note.summary == "Run finished"
        assert note.actions[1::2] == ("Compare", "Open results", "Runs")  # it made changes
        assert note.urgency == 1
        server.press(note, "Runs")
        pump(app.root, lambda: app.runs_window is not None)
        server.press(note, "Compare")
        pump(app.root, lambda: run_id in app.compare_windows)
        assert app.compare_windows[run_id].tree.get_children() == ("1",)


def test_a_second_launch_brings_the_running_app_forward(app: TrayApp) -> None:
    lock = InstanceLock()
    assert lock.acquire()
    lock.listen(app.show)
    try:
        for wanted in ("wizard", "runs window"):
            second = subprocess.run(
                [sys.executable, "-m", "tray", "tray"], capture_output=True, text=True, timeout=60
            )
            assert (second.returncode, second.stdout) == (0, "")  # no words to a lost terminal
            if wanted == "wizard":  # nothing set up yet: the setup wizard comes forward
                pump(app.root, lambda: app.wizard is not None)
                assert app.wizard is not None
                app.wizard.cancel()
                app._set_credentials(
                    Credentials(
                        VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY
                    )
                )
            else:
                pump(app.root, lambda: app.runs_window is not None)
    finally:
        lock.release()
    assert not subprocess.run(  # once released, a launch is not heard by the old app
        [sys.executable, "-c", "from tray.ui.single_instance import ask_running_app_to_show as a;"
         "raise SystemExit(a())"], timeout=60, check=False,
    ).returncode  # fmt: skip
