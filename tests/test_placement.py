"""Where windows appear: beside the tray icon that was clicked, and in front after a
second launch (two real launches under a real window manager, openbox, on Xvfb)."""

from __future__ import annotations

import signal
import subprocess
import sys
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import until
from tests.test_tray import pump
from tests.test_tray_hosts import close, toplevels, tray_app
from tests.tray_hosts import docked_window, trayer, xdotool
from tray.credentials.keychain import CredentialStore
from tray.service import Service
from tray.ui.app import TrayApp
from tray.ui.placement import position_near

SCREEN = (1366, 768)
WINDOW = (300, 400)


def place(anchor: tuple[int, int] | None, platform: str = "linux") -> tuple[int, int] | None:
    return position_near(anchor, WINDOW, SCREEN, platform=platform, clearance=32, gap=8)


def test_a_window_opens_below_an_icon_at_the_top_and_above_one_at_the_bottom() -> None:
    assert place((1300, 12)) == (1366 - 300 - 8, 12 + 32)  # kept on the screen on the right
    assert place((1300, 755)) == (1366 - 300 - 8, 755 - 32 - 400)
    assert place((40, 755)) == (8, 755 - 32 - 400)  # and on the left
    assert place((700, 12)) == (700 - 150, 44)  # centred under the icon when it fits


def test_without_a_position_windows_and_macos_use_their_tray_corner() -> None:
    assert place(None, "win32") == (1366 - 300 - 8, 768 - 8 - 32 - 400)
    assert place(None, "darwin") == (1366 - 300 - 8, 8 + 32)
    assert place(None, "linux") is None  # panels can be anywhere: the window manager picks


def test_a_window_taller_than_the_screen_starts_at_its_top() -> None:
    assert position_near((700, 700), (300, 2000), SCREEN, platform="linux",
                         clearance=32, gap=8) == (550, 8)  # fmt: skip


@pytest.mark.usefixtures("display", "secret_service")
def test_a_click_on_the_xembed_icon_opens_the_actions_window_beside_it(
    root: tk.Tk, tmp_path: Path
) -> None:
    with trayer():  # at the top right of the screen
        app = tray_app(root, tmp_path)
        try:
            icon = docked_window()
            xdotool("mousemove", "--window", str(icon), "8", "8", "click", "1")
            pump(root, lambda: bool(toplevels(root, "Multishot")))
            (window,) = toplevels(root, "Multishot")
            root.update()
            assert app.icon is not None
            assert app.icon.anchor is not None
            x, y = app.icon.anchor
            left, top = window.winfo_rootx(), window.winfo_rooty()
            assert y < top <= y + 64  # just under the icon
            assert left <= x <= left + window.winfo_width() or left + window.winfo_width() >= (
                root.winfo_screenwidth() - 32
            )
            assert left + window.winfo_width() <= root.winfo_screenwidth()
        finally:
            close(app)


def _wm_running() -> bool:
    from Xlib import display as xdisplay

    connection = xdisplay.Display()
    try:
        root = connection.screen().root
        check = root.get_full_property(connection.intern_atom("_NET_SUPPORTING_WM_CHECK"), 0)
        return check is not None and bool(check.value)
    finally:
        connection.close()


@pytest.fixture
def openbox(display: str) -> Iterator[None]:
    manager = subprocess.Popen(
        ["openbox", "--sm-disable"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        until(_wm_running, "openbox to manage the display")
        yield
    finally:
        manager.terminate()
        manager.wait(timeout=10)


def active_window_name() -> str:
    found = subprocess.run(
        ["xdotool", "getactivewindow", "getwindowname"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return found.stdout.strip()


def visible(name: str) -> bool:
    found = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", f"^{name}$"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return bool(found.stdout.strip())


def launch() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tray", "tray"], capture_output=True, text=True, timeout=60
    )


@pytest.mark.usefixtures("openbox", "secret_service")
def test_a_second_launch_brings_the_window_forward_even_minimised_or_covered() -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "tray", "tray"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cover: subprocess.Popen[bytes] | None = None
    try:
        # Nothing set up yet: the first launch opens the setup wizard.
        until(lambda: active_window_name() == "Multishot setup", "the wizard", timeout=60)
        xdotool("search", "--name", "^Multishot setup$", "windowminimize")
        until(lambda: not visible("Multishot setup"), "the wizard to be minimised")

        second = launch()
        assert (second.returncode, second.stdout) == (0, "")
        until(lambda: active_window_name() == "Multishot setup", "the wizard to come back")
        assert visible("Multishot setup")

        # openbox gives a new window the focus; one of its own (focus_force) could come
        # after the second launch and take the focus back.
        cover = subprocess.Popen(
            [sys.executable, "-c",
             "import tkinter; r = tkinter.Tk(); r.title('Another app'); r.geometry('900x700');"
             " r.mainloop()"],
        )  # fmt: skip
        until(lambda: active_window_name() == "Another app", "another app in front")
        assert launch().returncode == 0
        until(lambda: active_window_name() == "Multishot setup", "the wizard in front again")
    finally:
        if cover is not None:
            cover.kill()
            cover.wait(timeout=10)
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)


@pytest.mark.usefixtures("display")
def test_the_runs_window_opens_beside_a_status_notifier_click(root: tk.Tk, tmp_path: Path) -> None:
    """An SNI host's Activate(x, y) at the bottom right (a panel at the bottom)."""
    app = TrayApp(
        root,
        service=Service(CredentialStore(), history_path=tmp_path / "h.sqlite3"),
        with_icon=False,
    )
    try:
        width, height = root.winfo_screenwidth(), root.winfo_screenheight()
        app._open_runs((width - 20, height - 10))
        window = app.runs_window
        assert window is not None
        pump(root, lambda: window.top.winfo_ismapped() and window.top.winfo_rooty() > 0)
        bottom = window.top.winfo_rooty() + window.top.winfo_height()
        right = window.top.winfo_rootx() + window.top.winfo_width()
        assert height - 10 - 64 <= bottom < height - 10  # just above the click
        assert width - 16 <= right <= width  # against the right edge, all on screen
    finally:
        app.service.shutdown(timeout=30)
        app.notifier.close()
        app.close()
