"""Comparing a big run: `multishot compare --json` and the tray's Compare window.

Run on a display (Xvfb is fine), after `.venv-test/bin/python -m compileall -q tray`:
    .venv-test/bin/python benchmarks/compare.py [--shots 16] [--megabytes 5]

A run of 16 shots with 5 MB of patches in total is recorded with the real History
and RunFolder code in a throwaway data folder (each shot edits 40 files in hunks of
20 lines). Then:

1. `multishot compare RUN --json` as a subprocess, the way a user or a script runs
   it: median wall time (goal: under 200 ms).
2. The Compare window in the tray app (TrayApp.open_compare): from the call to the
   window mapped, Tk idle and the first shot's diff shown (goal: under 300 ms),
   median of several openings.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

COMPARE_GOAL_MS = 200
WINDOW_GOAL_MS = 300
FILES_PER_SHOT = 40


def synthetic_patch(shot: int, size: int) -> bytes:
    """A text patch of about ``size`` bytes editing FILES_PER_SHOT files, as git writes it."""
    rng = random.Random(shot)
    parts = []
    per_file = size // FILES_PER_SHOT
    for n in range(FILES_PER_SHOT):
        path = f"src/package_{n % 7}/module_{n}.py"
        parts.append(
            f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
            f"--- a/{path}\n+++ b/{path}\n"
        )
        written, start = 0, 1
        while written < per_file:
            body = []
            for line in range(20):
                text = f"value_{rng.randint(0, 10**6)} = compute({line}, 'shot {shot}')"
                body.append(("+" if line % 3 else "-" if line % 2 else " ") + text + "\n")
            added = sum(1 for b in body if b[0] != "-")
            removed = sum(1 for b in body if b[0] != "+")
            hunk = f"@@ -{start},{removed} +{start},{added} @@ def function_{start}():\n"
            chunk = hunk + "".join(body)
            parts.append(chunk)
            written += len(chunk)
            start += 100
    return "".join(parts).encode()


def record_big_run(shots: int, megabytes: float) -> str:
    from tests.recorded_runs import RecordedShot, record_run
    from tray.runs.history import History
    from tray.runs.layout import default_runs_root

    size = int(megabytes * 1_000_000 / shots)
    recorded = [
        RecordedShot(
            synthetic_patch(n, size),
            check_exit_code=n % 3,
            check_output="".join(f"test line {k}\n" for k in range(200)),
            cost_usd=0.1 * n,
        )
        for n in range(1, shots + 1)
    ]
    history = History()
    try:
        return record_run(
            history, default_runs_root(), recorded, repo_url="https://example.com/r.git"
        )
    finally:
        history.close()


def patch_megabytes() -> float:
    from tray.runs.layout import default_runs_root

    return sum(p.stat().st_size for p in default_runs_root().rglob("changes.patch")) / 1e6


def compare_json_ms(run_id: str) -> float:
    from startup import median_ms

    return median_ms([sys.executable, "-m", "tray", "compare", run_id, "--json"])


def window_open_ms(run_id: str, openings: int = 7) -> tuple[float, float]:
    """The first opening (modules and theme load), and the median of the next ones: from
    open_compare to the window mapped, idle, with the selected shot's diff shown."""
    import tkinter as tk

    from tray.service import Service
    from tray.ui.app import TrayApp

    root = tk.Tk()
    root.withdraw()
    app = TrayApp(root, service=Service(), with_icon=False)
    app.inform = lambda title, text, _level: sys.exit(f"{title}: {text}")
    times = []
    try:
        for _ in range(openings + 1):  # the first opening loads the modules and the theme
            started = time.perf_counter()
            app.open_compare(run_id)
            while True:
                root.update()
                window = app.compare_windows.get(run_id)
                if (
                    window is not None
                    and window.shown_shot is not None
                    and window.top.winfo_viewable()
                ):
                    break
            root.update_idletasks()
            times.append(time.perf_counter() - started)
            window.close()
            root.update()
    finally:
        app.close()
        root.destroy()
    return times[0] * 1000, statistics.median(times[1:]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=16)
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="multishot-bench-") as folder:
        from startup import ENV

        os.environ["XDG_DATA_HOME"] = ENV["XDG_DATA_HOME"] = folder
        run_id = record_big_run(args.shots, args.megabytes)
        print(f"A run of {args.shots} shots with {patch_megabytes():.2f} MB of patches.")
        took = compare_json_ms(run_id)
        print(f"multishot compare --json: {took:.0f} ms (goal < {COMPARE_GOAL_MS} ms)")
        if os.environ.get("DISPLAY"):
            first, took = window_open_ms(run_id)
            print(
                f"Compare window, open to drawn with a diff: {took:.0f} ms "
                f"(goal < {WINDOW_GOAL_MS} ms; the first, loading the window's code and "
                f"theme: {first:.0f} ms)"
            )
        else:
            print("Compare window: skipped, no DISPLAY.")


if __name__ == "__main__":
    main()
