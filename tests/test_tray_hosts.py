"""The tray app under real tray hosts on Xvfb: trayer (XEmbed) and xfce4-panel (a
StatusNotifierItem host drawing dbusmenu menus), driven with xdotool."""

from __future__ import annotations

import functools
import os
import threading
import time
import tkinter as tk
from contextlib import AbstractContextManager
from pathlib import Path
from tkinter import ttk

import pytest

from tests.conftest import ROOT, until
from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.standins import VALID_ANTHROPIC_KEY
from tests.test_tray import pump, pump_for, start_run
from tests.tray_hosts import (
    docked_window,
    find_colour,
    screenshot,
    trayer,
    window_exists,
    xdotool,
    xfce_panel,
)
from tray.credentials.keychain import CredentialStore
from tray.credentials.model import AuthMethod, Credentials, SetupStep
from tray.failures import FailureKind
from tray.runs.events import AuthFailure
from tray.runs.spec import RunSpec
from tray.service import Service
from tray.ui.app import TrayApp
from tray.ui.icons import STATE_COLOURS, IconState
from tray.ui.sni import StatusNotifierIcon
from tray.ui.xembed import XEmbedIcon

pytestmark = pytest.mark.usefixtures("display", "secret_service")

CREDENTIALS = Credentials(
    VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY
)

# `MULTISHOT_SCREENSHOTS=1` makes these tests refresh the README's pictures of real tray
# hosts (the windows' own pictures come from `scripts/screenshots`).
SCREENSHOTS = ROOT / "docs" / "screenshots"
IDLE_BLUE = STATE_COLOURS[IconState.IDLE][0][:3]


def tray_app(root: tk.Tk, tmp_path: Path) -> TrayApp:
    service = Service(CredentialStore(), history_path=tmp_path / "h.sqlite3", engine_process=True)
    return TrayApp(root, service=service)


def close(app: TrayApp) -> None:
    app.service.shutdown(timeout=30)
    if app.icon is not None:
        app.icon.stop()
    app.notifier.close()
    app.close()


def toplevels(root: tk.Tk, title: str) -> list[tk.Toplevel]:
    return [w for w in root.winfo_children() if isinstance(w, tk.Toplevel) and w.title() == title]


def buttons(window: tk.Misc) -> dict[str, ttk.Button]:
    found: dict[str, ttk.Button] = {}
    for child in window.winfo_children():
        if isinstance(child, ttk.Button):
            found[str(child.cget("text"))] = child
        found.update(buttons(child))
    return found


def labels(window: tk.Misc) -> list[str]:
    found = [str(w.cget("text")) for w in window.winfo_children() if isinstance(w, ttk.Label)]
    for child in window.winfo_children():
        found += labels(child)
    return found


def checkbuttons(window: tk.Misc) -> list[ttk.Checkbutton]:
    found = [w for w in window.winfo_children() if isinstance(w, ttk.Checkbutton)]
    for child in window.winfo_children():
        found += checkbuttons(child)
    return found


def click_icon(app: TrayApp) -> ttk.Frame:
    """Click the docked XEmbed icon; the actions window it opens."""
    for window in toplevels(app.root, "Multishot"):
        window.destroy()
    xdotool("mousemove", "--window", str(docked_window()), "8", "8", "click", "1")
    pump(app.root, lambda: bool(toplevels(app.root, "Multishot")))
    (window,) = toplevels(app.root, "Multishot")
    return window  # type: ignore[return-value]


@pytest.mark.usefixtures("anthropic")
def test_under_trayer_a_click_opens_the_actions_window_and_its_actions_work(
    root: tk.Tk, tmp_path: Path, daytona: DaytonaStandIn
) -> None:
    with trayer():
        app = tray_app(root, tmp_path)
        try:
            assert isinstance(app.icon, XEmbedIcon)  # no StatusNotifierWatcher here
            window = click_icon(app)
            actions = buttons(window)
            assert list(actions) == [
                "New run…",
                "Runs…",
                "Check credentials",
                "Set up credentials…",
                "Log out",
                "Quit",
            ]  # as in the menu: no Fix credentials… while nothing needs fixing
            assert "Not set up" in labels(window)  # the menu's account line
            assert actions["Log out"].instate(["disabled"])  # nothing to log out of yet
            actions["New run…"].invoke()  # without credentials: the setup wizard
            pump(root, lambda: app.wizard is not None)
            assert app.wizard is not None
            app.wizard.cancel()

            buttons(click_icon(app))["Set up credentials…"].invoke()
            pump(root, lambda: app.wizard is not None)
            assert app.wizard is not None
            app.wizard.cancel()

            app._set_credentials(CREDENTIALS)
            told: list[str] = []
            app.inform = lambda _title, text, _level: told.append(text)
            buttons(click_icon(app))["Check credentials"].invoke()
            pump(root, lambda: bool(told), timeout=60)
            assert "✓ Daytona API key: The Daytona API key works." in told[0]
            assert "✓ Anthropic API key: The Anthropic API key works." in told[0]

            app.auth_error = AuthFailure("r", FailureKind.EXPIRED, "token expired")
            window = click_icon(app)
            assert "Daytona: dtn_…good" in labels(window)
            buttons(window)["Fix credentials…"].invoke()  # the wizard, at the failing step
            pump(root, lambda: app.wizard is not None and app.wizard.step is SetupStep.CLAUDE)
            assert app.wizard is not None
            app.wizard.cancel()
            app.auth_error = None

            buttons(click_icon(app))["Runs…"].invoke()
            pump(root, lambda: app.runs_window is not None)
            buttons(click_icon(app))["New run…"].invoke()
            pump(root, lambda: bool(toplevels(root, "New run")))
            for dialog in toplevels(root, "New run"):
                dialog.destroy()

            run_id = start_run(app, RunSpec("task", shots=1))
            pump(root, lambda: app.run_status.get(run_id) == "done", timeout=60)
            window = click_icon(app)
            assert any(label.startswith(f"{run_id[-6:]} — ") for label in labels(window))
            run_actions = buttons(window)
            assert run_actions["Cancel"].instate(["disabled"])  # it has ended
            run_actions["Log"].invoke()
            pump(root, lambda: any(w.title().startswith("Log: ") for w in root.winfo_children()
                                   if isinstance(w, tk.Toplevel)))  # fmt: skip

            start_at_login = app.start_at_login
            (toggle,) = checkbuttons(click_icon(app))
            toggle.invoke()
            pump(root, lambda: app.start_at_login is not start_at_login)

            log_out = buttons(click_icon(app))["Log out"]
            assert log_out.instate(["!disabled"])
            log_out.invoke()
            pump(root, lambda: app.credentials is None)
            assert app.icon_state()[0] is IconState.SETUP_NEEDED

            icon_window = docked_window()
            buttons(click_icon(app))["Quit"].invoke()
            pump(root, lambda: app.quitting and not window_exists(icon_window))
        finally:
            close(app)


def test_the_icon_docks_again_when_the_tray_restarts(root: tk.Tk, tmp_path: Path) -> None:
    with trayer():
        app = tray_app(root, tmp_path)
        first = docked_window()
    try:
        with trayer():
            assert docked_window() == first  # the same window, taken in by the new tray
            click_icon(app)  # and clicks still reach the app
    finally:
        close(app)


def is_done(app: TrayApp, run_id: str) -> bool:
    return app.run_status.get(run_id) == "done"


class Watchdog:
    """Pings the Tk loop from another thread; remembers the longest wait for an answer."""

    def __init__(self, app: TrayApp) -> None:
        self.app = app
        self.longest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            answered = threading.Event()
            sent = time.monotonic()
            self.app.in_tk(answered.set)
            while not answered.wait(0.1) and not self._stop.is_set():
                self.longest = max(self.longest, time.monotonic() - sent)
            self.longest = max(self.longest, time.monotonic() - sent)


@pytest.mark.parametrize("host", ["trayer", "xfce4-panel"])
def test_the_tk_loop_keeps_answering_through_state_changes_and_runs(
    host: str, root: tk.Tk, tmp_path: Path, daytona: DaytonaStandIn
) -> None:
    tray: AbstractContextManager[object] = (
        trayer() if host == "trayer" else xfce_panel(tmp_path / "panel")
    )
    with tray:
        app = tray_app(root, tmp_path)
        expected = XEmbedIcon if host == "trayer" else StatusNotifierIcon
        try:
            assert isinstance(app.icon, expected)
            with Watchdog(app) as watchdog:
                failure = AuthFailure("r", FailureKind.EXPIRED, "token expired")
                for change in range(50):
                    app._set_credentials(CREDENTIALS if change % 2 else None)
                    app.auth_error = failure if change % 3 == 0 else None
                    app.refresh()
                    pump_for(root, 0.02)
                app.auth_error = None
                app._set_credentials(CREDENTIALS)
                for _ in range(10):
                    done = functools.partial(is_done, app, start_run(app, RunSpec("task", shots=2)))
                    pump(root, done, timeout=60)
                pump_for(root, 0.5)  # the last icon update is due within a quarter second
            assert watchdog.longest < 2.0, f"the Tk loop did not answer for {watchdog.longest} s"
            assert app.icon_state()[0] is IconState.IDLE
            assert app.icon is not None
            assert app.icon.title == "Multishot: idle"
            assert root.tk.call("after", "info") == ""  # at rest again: no timer left
        finally:
            close(app)


def test_under_xfce_panel_the_native_menu_starts_a_new_run_and_logs_out(
    root: tk.Tk, tmp_path: Path
) -> None:
    with xfce_panel(tmp_path / "panel"):
        app = tray_app(root, tmp_path)
        try:
            assert isinstance(app.icon, StatusNotifierIcon)
            app._set_credentials(CREDENTIALS)
            pump_for(root, 1.0)  # the panel draws the idle icon
            x, y = find_colour(IDLE_BLUE)

            def pick(keys: list[str], screenshot_as: str | None = None) -> None:
                """Open the icon's menu as a user would and pick an item with the keys
                (xdotool waits; Tk keeps running meanwhile)."""
                done = threading.Event()

                def drive() -> None:
                    xdotool("mousemove", str(x), str(y), "click", "3")
                    time.sleep(1.0)
                    if screenshot_as and os.environ.get("MULTISHOT_SCREENSHOTS"):
                        screenshot(SCREENSHOTS / screenshot_as, (x - 260, 0, x + 60, 280))
                    xdotool("key", *keys)
                    done.set()

                threading.Thread(target=drive, daemon=True).start()
                pump(root, done.is_set)

            pick(["Down", "Return"], "tray-menu-xfce.png")  # the first item: New run…
            pump(root, lambda: bool(toplevels(root, "New run")))
            for dialog in toplevels(root, "New run"):
                dialog.destroy()
            # New run…, Runs, Check credentials, Set up credentials…, Log out: the arrow
            # keys skip the account lines, which are not sensitive, and the separators.
            pick(["Down"] * 5 + ["Return"])
            pump(root, lambda: app.credentials is None)
        finally:
            close(app)


@pytest.mark.parametrize(("panel", "colour"), [("light", "0xeeeeee"), ("dark", "0x2b2b2b")])
def test_the_xembed_icon_is_drawn_on_the_panels_own_colour(
    panel: str, colour: str, root: tk.Tk, tmp_path: Path
) -> None:
    with trayer(colour):
        app = tray_app(root, tmp_path)
        try:
            app._set_credentials(CREDENTIALS)
            pump_for(root, 0.6)
            window = docked_window()
            until(lambda: _corner_colour(window) is not None, "the icon to be drawn")
            background = [int(colour[2:][i : i + 2], 16) for i in (0, 2, 4)]
            corner = _corner_colour(window)
            assert corner is not None
            # The panel's own colour around the icon (trayer's tint rounds by a step),
            # not the black square pystray's xorg icon had.
            assert all(abs(a - b) <= 3 for a, b in zip(corner, background, strict=True))
            x, y = find_colour(IDLE_BLUE)
            if os.environ.get("MULTISHOT_SCREENSHOTS"):
                screenshot(SCREENSHOTS / f"tray-xembed-{panel}.png",
                           (x - 16, 0, x + 16, 24))  # fmt: skip
            assert y < 24
        finally:
            close(app)


def _corner_colour(window: int) -> tuple[int, ...] | None:
    from PIL import ImageGrab
    from Xlib import display as xdisplay

    connection = xdisplay.Display()
    try:
        geometry = connection.create_resource_object("window", window).get_geometry()
        origin = connection.create_resource_object("window", window).translate_coords(
            connection.screen().root, 0, 0
        )
        left, top = -origin.x, -origin.y
    finally:
        connection.close()
    grab = ImageGrab.grab(
        bbox=(left, top, left + geometry.width, top + geometry.height),
        xdisplay=os.environ["DISPLAY"],
    ).convert("RGB")
    pixel = grab.getpixel((0, 0))
    return tuple(pixel) if isinstance(pixel, tuple) else None
