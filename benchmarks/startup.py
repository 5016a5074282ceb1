"""Start-up and rest: the command line, the tray app docked in a real tray, idling.

Run inside a private keychain session, on a display (Xvfb is fine); `trayer` must be
installed (scripts/test installs it):
    dbus-run-session -- scripts/lib/with-keyring .venv-test/bin/python benchmarks/startup.py

1. The command line: `multishot --version` against a bare `python -c pass` (goal: at
   most 2x), and `multishot status` with credentials stored (goal: at most 90 ms).
2. The tray app as `multishot` starts it, with `trayer` (an XEmbed system tray) on
   the display: from process start to the icon docked in the tray, next to the
   floor, a bare Tk + pystray + Pillow app launched the same way (goal: at most 1.2x
   the floor), and to the icon showing "idle" once the credentials are read (goal:
   at most 0.25 s). Then the same under xfce4-panel, whose StatusNotifierWatcher
   gives the app its StatusNotifierItem backend: start to the item registered.
3. One launch under each host left idle (60 s after its first 2 s): resident memory,
   whether the Daytona SDK was loaded (goal: at most 45 MB, not loaded) and how often
   its threads woke: context switches a second (goal: at most 1).
4. The first window: from asking for New run to it drawn, the theme loaded by it (it
   is not loaded at start-up), and the memory it adds (goal: at most 0.3 s).
5. 16 shots streaming logs through the loopback stand-in (own process): lateness of
   a 10 ms Tk timer, p50/p99 (goal: p99 at most 50 ms).
Medians of several launches; every figure is printed with its goal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

BENCHMARK_SERVICE = "multishot-benchmark"  # the tray launches read this, never the user's
# Measured commands may write their bytecode, as an installed package has it.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

FLOOR = """
import threading, tkinter as tk
import pystray
from PIL import Image, ImageDraw
root = tk.Tk(); root.withdraw()
image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
ImageDraw.Draw(image).ellipse((8, 8, 56, 56), fill=(40, 160, 90, 255))
icon = pystray.Icon("floor", image, "floor", pystray.Menu(pystray.MenuItem("Quit", None)))
threading.Thread(target=icon.run, daemon=True).start()
root.after(3000, root.quit)
root.mainloop()
"""

# The app as `multishot` starts it (tray/ui/launch.py), reading a throwaway keychain
# service, and telling its parent when the icon shows "idle" and how it idles.
LAUNCH = """
import glob, sys, time
from tray.ui.single_instance import InstanceLock
from tray.ui.launch import show_icon_early
lock = InstanceLock(); assert lock.acquire(), "another Multishot runs: quit it first"
icon = show_icon_early()
import tkinter as tk
from tray.ui.app import TrayApp
from tray.service import Service
from tray.credentials.keychain import CredentialStore
root = tk.Tk(); root.withdraw()
app = TrayApp(root, service=Service(CredentialStore(sys.argv[2]), engine_process=True), icon=icon)
app.start()
def when_idle():
    if app.loaded.is_set() and app.icon_state()[0].value == "idle":
        print("idle", flush=True)
    else:
        root.after(1, when_idle)
root.after(1, when_idle)
def switches():
    total = 0
    for status in glob.glob("/proc/self/task/*/status"):
        for line in open(status):
            if "ctxt_switches" in line:
                total += int(line.split()[1])
    return total
def report(started, at_start):
    rss = next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]
    rate = (switches() - at_start) / (time.monotonic() - started)
    print(f"rss {int(rss) / 1024:.1f} daytona {'daytona' in sys.modules} wakeups {rate:.2f}",
          flush=True)
    root.quit()
def begin():
    root.after(int(float(sys.argv[1]) * 1000), report, time.monotonic(), switches())
root.after(2000, begin)  # once start-up work is over: then only idling is counted
root.mainloop()
"""

# The first window a user opens: New run, with the theme it loads (tray.ui.style).
FIRST_WINDOW = """
import time, tkinter as tk
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
root = tk.Tk(); root.withdraw(); root.update()
before = rss(); started = time.perf_counter()
from tray.ui.dialogs import NewRunDialog
dialog = NewRunDialog(root, print)
dialog.top.update()
print(f"{time.perf_counter() - started:.4f} {(rss() - before) / 1024:.1f}", flush=True)
"""


def median_ms(command: list[str], runs: int = 15) -> float:
    for _ in range(3):  # warm: the file cache, and bytecode written once
        subprocess.run(command, stdout=subprocess.DEVNULL, env=ENV, check=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, env=ENV, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def command_line() -> None:
    from runs import CREDENTIALS

    from tray.credentials.keychain import CredentialStore

    python = [sys.executable, "-c", "pass"]
    multishot = [sys.executable, "-c", "import sys; from tray.main import main; sys.exit(main())"]
    bare = median_ms(python)
    version = median_ms([*multishot, "--version"])
    print(
        f"multishot --version: {version:.0f} ms, bare interpreter {bare:.0f} ms: "
        f"{version / bare:.2f}x (goal <= 2x)"
    )
    store = CredentialStore()
    if store.load() is not None:
        sys.exit("Credentials are stored here: run this in a private keychain session.")
    store.save(CREDENTIALS)
    try:
        status = median_ms([*multishot, "status"])
    finally:
        store.clear()
    print(f"multishot status, credentials stored: {status:.0f} ms (goal <= 90 ms)")


@contextmanager
def system_tray() -> Iterator[None]:
    """trayer docked at the top of the display, until the block ends."""
    from Xlib import display as xdisplay

    tray = subprocess.Popen(
        ["trayer", "--edge", "top", "--height", "24", "--widthtype", "request"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    connection = xdisplay.Display()
    selection = connection.intern_atom(f"_NET_SYSTEM_TRAY_S{connection.get_default_screen()}")
    try:
        deadline = time.monotonic() + 10
        while connection.get_selection_owner(selection) == 0:  # X.NONE
            if time.monotonic() > deadline or tray.poll() is not None:
                sys.exit("trayer did not start: is it installed, and is DISPLAY set?")
            time.sleep(0.01)
        yield
    finally:
        tray.terminate()
        tray.wait(timeout=10)
        connection.close()


def docked_in_x() -> Callable[[], None]:
    """Armed before a launch: its wait returns once a window is moved from the root
    window into the tray (the icon docked), seen on our own X connection."""
    from Xlib import X
    from Xlib import display as xdisplay

    connection = xdisplay.Display()
    root = connection.screen().root
    root.change_attributes(event_mask=X.SubstructureNotifyMask)
    connection.sync()

    def wait() -> None:
        deadline = time.monotonic() + 30
        while True:
            if time.monotonic() > deadline:
                sys.exit("the launch's icon did not dock within 30 s")
            event = connection.next_event()
            if event.type == X.ReparentNotify and event.parent != root:
                connection.close()
                return

    return wait


def registered_with_watcher() -> Callable[[], None]:
    """Armed before a launch: its wait returns once the StatusNotifierWatcher lists an
    item (the panel shows it)."""
    from tests.sni_panel import Host

    host = Host()
    watcher = "org.kde.StatusNotifierWatcher"

    def wait() -> None:
        deadline = time.monotonic() + 30
        while not host.properties(watcher, "/StatusNotifierWatcher", watcher).get(
            "RegisteredStatusNotifierItems"
        ):
            if time.monotonic() > deadline:
                sys.exit("the launch's item did not register within 30 s")
            time.sleep(0.002)
        host.close()

    return wait


def launch(
    script: str, *args: str, shown: Callable[[], Callable[[], None]] = docked_in_x
) -> tuple[dict[str, float], subprocess.Popen[str]]:
    """Start a launch; seconds from its start until its icon shows in the tray and, for
    the app, until it says "idle"."""
    wait_until_shown = shown()
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    wait_until_shown()
    seen = {"shown": time.perf_counter() - started}
    assert child.stdout is not None
    while args and "idle" not in seen:
        line = child.stdout.readline().strip()
        if not line:
            sys.exit("the launch ended before it said idle")
        seen[line] = time.perf_counter() - started
    return seen, child


def app_launches(
    launches: int, idle_seconds: float, shown: Callable[[], Callable[[], None]]
) -> tuple[list[float], list[float], list[str]]:
    """Icon shown and idle times of several launches, and the idle report of one more."""
    icon: list[float] = []
    idle: list[float] = []
    for _ in range(launches):
        seen, child = launch(LAUNCH, "0", BENCHMARK_SERVICE, shown=shown)
        child.wait(timeout=30)
        icon.append(seen["shown"])
        idle.append(seen["idle"])
    _, child = launch(LAUNCH, str(idle_seconds), BENCHMARK_SERVICE, shown=shown)
    assert child.stdout is not None
    report = child.stdout.readline().split()
    child.wait(timeout=30)
    return icon, idle, report


def print_idle(where: str, idle_seconds: float, report: list[str]) -> None:
    print(
        f"after {idle_seconds:g} s idle, {where}: RSS {report[1]} MB, Daytona SDK loaded: "
        f"{report[3]} (goal <= 45 MB, not loaded); context switches of all its threads: "
        f"{report[5]} a second (goal <= 1)"
    )


def tray_start(launches: int, idle_seconds: float) -> None:
    from runs import CREDENTIALS

    from tests.tray_hosts import xfce_panel
    from tray.credentials.keychain import CredentialStore

    store = CredentialStore(BENCHMARK_SERVICE)
    store.save(CREDENTIALS)
    floor: list[float] = []
    try:
        with system_tray():
            for _ in range(launches):
                seen, child = launch(FLOOR)
                child.wait(timeout=30)
                floor.append(seen["shown"])
            docked, idle, report = app_launches(launches, idle_seconds, docked_in_x)
        floor_s, docked_s = statistics.median(floor), statistics.median(docked)
        print(
            f"start -> icon docked in trayer: {docked_s:.3f} s, floor (Tk + pystray + Pillow) "
            f"{floor_s:.3f} s: {docked_s / floor_s:.2f}x (goal <= 1.2x; medians of {launches})"
        )
        print(f"start -> icon shows idle: {statistics.median(idle):.3f} s (goal <= 0.25 s)")
        print_idle("docked in trayer", idle_seconds, report)
        with tempfile.TemporaryDirectory() as panel_home, xfce_panel(Path(panel_home)):
            registered, idle, report = app_launches(launches, idle_seconds, registered_with_watcher)
        print(
            f"with the StatusNotifierItem backend under xfce4-panel: start -> item registered "
            f"{statistics.median(registered):.3f} s (goal <= 0.5 s), -> shows idle "
            f"{statistics.median(idle):.3f} s"
        )
        print_idle("under xfce4-panel", idle_seconds, report)
    finally:
        store.clear()


def first_window(launches: int) -> None:
    seconds: list[float] = []
    added: list[float] = []
    for _ in range(launches):
        completed = subprocess.run(
            [sys.executable, "-c", FIRST_WINDOW],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=ENV,
            check=True,
            timeout=60,
        )
        took, grew = completed.stdout.split()
        seconds.append(float(took))
        added.append(float(grew))
    print(
        f"first window (New run) drawn, theme loaded by it: {statistics.median(seconds):.3f} s "
        f"(goal <= 0.3 s), adding {statistics.median(added):.1f} MB (medians of {launches})"
    )


def tk_latency(shots: int, megabytes: float, pace: float) -> list[float]:
    import tkinter as tk

    from runs import CREDENTIALS, standin

    from tray.credentials.keychain import CredentialStore
    from tray.runs.spec import RunSpec
    from tray.service import Service
    from tray.ui.app import TrayApp

    lateness: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        standin(
            Path(tmp) / "daytona",
            FAKE_CLAUDE_SCENARIO="stream",
            FAKE_CLAUDE_MB=str(megabytes),
            FAKE_CLAUDE_PACE_SECONDS=str(pace),
        ) as url,
    ):
        os.environ["DAYTONA_API_URL"] = url
        root = tk.Tk()
        root.withdraw()
        store = CredentialStore(service=BENCHMARK_SERVICE)
        store.save(CREDENTIALS)
        service = Service(store, history_path=Path(tmp) / "h.sqlite3", engine_process=True)
        app = TrayApp(root, service=service, with_icon=False)
        app.start()
        while app.credentials is None:
            root.update()
            time.sleep(0.01)
        started: list[str] = []
        app.start_run(RunSpec("benchmark", shots=shots), started.append)
        while not started:
            root.update()
            time.sleep(0.01)
        expected = time.perf_counter() + 0.01

        def tick() -> None:
            nonlocal expected
            now = time.perf_counter()
            lateness.append(max(0.0, now - expected))
            if app.run_status.get(started[0]) == "running":
                expected = now + 0.01
                root.after(10, tick)
            else:
                root.quit()

        root.after(10, tick)
        root.mainloop()
        service.shutdown()
        store.clear()
        root.destroy()
    return lateness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=7)
    parser.add_argument("--idle", type=float, default=60, help="seconds idle (after 2 s)")
    parser.add_argument("--shots", type=int, default=16)
    parser.add_argument("--megabytes", type=float, default=2)
    parser.add_argument("--pace", type=float, default=20)
    args = parser.parse_args()
    command_line()
    tray_start(args.launches, args.idle)
    first_window(args.launches)
    lateness = sorted(tk_latency(args.shots, args.megabytes, args.pace))
    p50 = statistics.median(lateness) * 1000
    p99 = lateness[min(len(lateness) - 1, int(0.99 * len(lateness)))] * 1000
    print(
        f"Tk timer lateness with {args.shots} shots streaming ({len(lateness)} ticks): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal p99 <= 50 ms)"
    )


if __name__ == "__main__":
    main()
