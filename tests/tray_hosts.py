"""Real tray hosts on the tests' Xvfb: trayer (an XEmbed system tray) and xfce4-panel (a
StatusNotifierItem host that draws dbusmenu menus), each stopped by the pid it got.
Plus what a test needs to find and click an icon in them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import ImageGrab

from tests.conftest import until
from tray.desktop import watcher_available

PANEL_HEIGHT = 24


def _system_tray_owner() -> int:
    from Xlib import display as xdisplay

    connection = xdisplay.Display()
    try:
        selection = connection.intern_atom(f"_NET_SYSTEM_TRAY_S{connection.get_default_screen()}")
        owner: Any = connection.get_selection_owner(selection)  # X.NONE (0) or a Window
        return 0 if owner == 0 else int(owner.id)
    finally:
        connection.close()


@contextmanager
def trayer(background: str = "0xdddddd") -> Iterator[subprocess.Popen[bytes]]:
    """trayer at the top of the display, on a panel of the given colour."""
    command = ["trayer", "--edge", "top", "--align", "right", "--height", str(PANEL_HEIGHT)]
    command += ["--widthtype", "request", "--transparent", "true", "--alpha", "0"]
    process = subprocess.Popen(
        [*command, "--tint", background],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until(lambda: _system_tray_owner() != 0, "trayer to own the system tray")
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)
        until(lambda: _system_tray_owner() == 0, "trayer to let the system tray go")


@contextmanager
def xfce_panel(home: Path) -> Iterator[subprocess.Popen[bytes]]:
    """xfce4-panel with its default panel (its tray plugin is the StatusNotifierWatcher
    and host), configured in a folder of its own."""
    env = dict(os.environ)
    for name in ("CONFIG", "CACHE", "DATA"):
        env[f"XDG_{name}_HOME"] = str(home / name.lower())
    process = subprocess.Popen(
        ["xfce4-panel", "--disable-wm-check"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until(watcher_available, "xfce4-panel's StatusNotifierWatcher", timeout=30)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)
        until(lambda: not watcher_available(), "the watcher to leave the bus")


def docked_window(wm_class: str = "multishot") -> int:
    """The id of our icon's window, once a tray has taken it in (moved off the root)."""
    from Xlib import display as xdisplay

    found: list[int] = []

    def look() -> bool:
        connection = xdisplay.Display()
        try:
            root = connection.screen().root
            pending = list(root.query_tree().children)
            while pending:
                window = pending.pop()
                pending.extend(window.query_tree().children)
                klass = window.get_wm_class()
                if klass and klass[0] == wm_class and window.query_tree().parent != root:
                    found.append(int(window.id))
                    return True
            return False
        finally:
            connection.close()

    until(look, f"a docked {wm_class} icon", timeout=20)
    return found[0]


def xdotool(*args: str) -> None:
    subprocess.run(["xdotool", *args], check=True, timeout=10)


def find_colour(colour: tuple[int, int, int], height: int = 40) -> tuple[int, int]:
    """The centre of the pixels of this colour in the top strip of the screen (where the
    panels are): how a test finds an icon a panel draws inside its own window."""
    grab = ImageGrab.grab(xdisplay=os.environ["DISPLAY"]).convert("RGB")
    strip = grab.crop((0, 0, grab.width, height))
    data = strip.tobytes()
    points = [
        (index % strip.width, index // strip.width)
        for index in range(strip.width * strip.height)
        if all(abs(data[3 * index + c] - colour[c]) <= 8 for c in range(3))
    ]
    assert points, f"no pixel of {colour} in the panel"
    return (
        sum(x for x, _ in points) // len(points),
        sum(y for _, y in points) // len(points),
    )


def screenshot(path: Path, box: tuple[int, int, int, int] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ImageGrab.grab(bbox=box, xdisplay=os.environ["DISPLAY"]).save(path)


def window_exists(window: int) -> bool:
    from Xlib import display as xdisplay
    from Xlib import error as xerror

    connection = xdisplay.Display()
    try:
        connection.create_resource_object("window", window).get_geometry()
    except xerror.BadDrawable:
        return False
    finally:
        connection.close()
    return True
