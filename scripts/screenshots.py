"""Render every scene of tests/scenes at 1x and 2x, light and dark, into docs/screenshots/.

Each scale gets its own Xvfb (96 or 192 dpi) with openbox as the window manager; each
theme a process of its own (a Tk interpreter keeps its theme and scaling). The servers
are this script's children and are stopped by their pids. Files are named
``SCENE-THEME-SCALEx.png``, e.g. ``wizard-1-daytona-dark-2x.png``.

    scripts/screenshots [--only SUBSTRING] [--out FOLDER]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tkinter as tk
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCALES = (1, 2)
THEMES = ("light", "dark")
SETTLE_SECONDS = 0.3  # the window manager maps and decorates a new window


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="only scenes whose name contains this")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--render", metavar="SUFFIX", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.render:
        return render(options.out, options.only, options.render)
    options.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for scale in SCALES:
        with x_server(dpi=96 * scale) as display:
            for theme in THEMES:
                env = {**os.environ, "DISPLAY": display, "MULTISHOT_THEME": theme}
                suffix = f"{theme}-{scale}x"
                print(f"== {suffix}", flush=True)
                with tempfile.TemporaryDirectory(prefix="multishot-shots-") as home:
                    env.update(HOME=home, XDG_CONFIG_HOME=home, XDG_RUNTIME_DIR=home)
                    status |= subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--render",
                            suffix,
                            "--out",
                            str(options.out),
                            "--only",
                            options.only,
                        ],
                        env=env,
                        check=False,
                        timeout=600,
                    ).returncode
    return status


@contextmanager
def x_server(dpi: int) -> Iterator[str]:
    """A private Xvfb at ``dpi`` with openbox on it; both stopped by pid afterwards."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "2400x1800x24", "-dpi", str(dpi)],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        display = f":{numbers.readline().strip()}"
    window_manager = subprocess.Popen(
        ["openbox"],
        env={**os.environ, "DISPLAY": display},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(SETTLE_SECONDS)
        yield display
    finally:
        for process in (window_manager, server):
            process.terminate()
            process.wait(timeout=10)


def render(out: Path, only: str, suffix: str) -> int:
    """In this process's display and theme: open each scene, capture it, close it."""
    from PIL import ImageGrab

    sys.path.insert(0, str(ROOT))
    from tests.scenes import load_scenes
    from tray.ui.widgets import close_window

    root = tk.Tk()
    root.withdraw()
    failed = 0
    for name, scene in sorted(load_scenes().items()):
        if only not in name:
            continue
        try:
            window = scene.build(root)
        except Exception as exc:  # one broken scene must not hide the others
            print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed = 1
            continue
        settle(root)
        x, y = window.winfo_rootx(), window.winfo_rooty()
        box = (x, y, x + window.winfo_width(), y + window.winfo_height())
        path = out / f"{name}-{suffix}.png"
        ImageGrab.grab(bbox=box, xdisplay=root.winfo_screen()).save(path)
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        close_window(window.winfo_toplevel())
    close_window(root)
    return failed


def settle(root: tk.Misc) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        root.update()
        time.sleep(0.02)


if __name__ == "__main__":
    sys.exit(main())
