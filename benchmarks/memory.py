"""The tray app's memory after runs: does it return to its idle size?

Run (needs a display; scripts/test's Xvfb or your desktop):
    .venv-test/bin/python benchmarks/memory.py [--runs 10] [--shots 16] [--engine here]

Starts the tray app's controller (hidden Tk root, no icon) in a process of its own,
with credentials in a throwaway keychain entry and the Daytona stand-in in another
process, lets it idle 10 s and takes its resident memory as the idle figure. Then
starts RUNS runs of SHOTS shots one after another, each streaming a little
stream-json, and after each one samples the app's memory every second for up to
60 s: it prints the peak while the run went, and how long the app took to come
back to at most 1.5 times its idle figure (goal: within 60 s, after every run).
`--engine here` runs the engine in the app's own process, as before the engine
got a process of its own: a baseline to compare with.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

BENCHMARK_SERVICE = "multishot-benchmark"  # never the user's own keychain entries
GOAL_RATIO = 1.5
SETTLE_SECONDS = 60


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measured(runs: int, shots: int, in_child: bool, tmp: Path) -> None:
    """The app's side (its own process): print one line per figure."""
    import tkinter as tk

    from tray.credentials.keychain import CredentialStore
    from tray.runs.spec import RunSpec
    from tray.service import Service
    from tray.ui.app import TrayApp

    root = tk.Tk()
    root.withdraw()
    store = CredentialStore(service=BENCHMARK_SERVICE)
    service = Service(store, history_path=tmp / "h.sqlite3", engine_process=in_child)
    app = TrayApp(root, service=service, with_icon=False)
    app.start()

    def pump(seconds: float, until: Callable[[], bool] = lambda: False) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            root.update()
            time.sleep(0.02)

    pump(60, lambda: app.credentials is not None)
    pump(10)
    idle = rss_mb()
    print(f"idle {idle:.1f}", flush=True)
    for number in range(1, runs + 1):
        peak = [rss_mb()]
        done = threading.Event()

        def sample(peak: list[float] = peak, done: threading.Event = done) -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started: list[str] = []
        app.start_run(RunSpec(f"benchmark run {number}", shots=shots), started.append)

        def finished(started: list[str] = started) -> bool:
            return bool(started) and app.run_status.get(started[0]) != "running"

        pump(120, finished)
        done.set()
        sampler.join()
        ended = time.monotonic()
        while rss_mb() > GOAL_RATIO * idle and time.monotonic() - ended < SETTLE_SECONDS:
            pump(1)
        back = time.monotonic() - ended
        status = app.run_status[started[0]].value if started else "not-started"
        print(f"run {number} {status} {peak[0]:.1f} {rss_mb():.1f} {back:.1f}", flush=True)
    service.shutdown()
    app.close()
    root.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--shots", type=int, default=16)
    parser.add_argument("--engine", choices=("child", "here"), default="child")
    parser.add_argument("--measured", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measured:
        measured(args.runs, args.shots, args.engine == "child", Path(args.tmp))
        return
    from runs import CREDENTIALS, standin

    from tray.credentials.keychain import CredentialStore

    store = CredentialStore(service=BENCHMARK_SERVICE)  # saved here: the app only reads them
    store.save(CREDENTIALS)
    with (
        tempfile.TemporaryDirectory() as tmp,
        standin(Path(tmp) / "daytona", FAKE_CLAUDE_SCENARIO="stream", FAKE_CLAUDE_MB="0.5") as url,
    ):
        app = subprocess.Popen(
            [sys.executable, __file__, "--measured", "--tmp", tmp, *sys.argv[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # notify-send's complaints when no server runs
            text=True,
            env={**os.environ, "DAYTONA_API_URL": url},
        )
        assert app.stdout is not None
        idle = float(app.stdout.readline().split()[1])
        engine = "a child process" if args.engine == "child" else "the app's own process"
        print(f"engine in {engine}; idle RSS after 10 s: {idle:.1f} MB")
        worst = 0.0
        for line in app.stdout:
            _, number, status, peak, after, back = line.split()
            worst = max(worst, float(after) / idle)
            print(
                f"run {number} ({args.shots} shots, {status}): peak {peak} MB, "
                f"{after} MB ({float(after) / idle:.2f}x idle) {back} s after its end"
            )
        app.wait(timeout=60)
    store.clear()
    print(
        f"worst after a run: {worst:.2f}x idle "
        f"(goal <= {GOAL_RATIO}x within {SETTLE_SECONDS} s, after each of {args.runs} runs)"
    )


if __name__ == "__main__":
    main()
