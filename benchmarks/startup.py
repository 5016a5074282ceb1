"""Tray app start-up time, idle memory, and Tk responsiveness while shots stream.

Run (needs a display; scripts/test's Xvfb or your desktop):
    .venv-test/bin/python benchmarks/startup.py

1. Launches the app's start-up path (single-instance lock, hidden Tk root, tray
   icon, keychain read in a worker) several times and prints the median time from
   process start to icon ready (goal: at most 0.5 s warm).
2. Leaves one launch idle (60 s after its first 2 s) and prints its resident memory,
   whether the Daytona SDK was loaded (goal: at most 45 MB, SDK not loaded) and how
   often its threads woke: context switches a second (goal: at most 1).
3. Starts 16 shots streaming logs through the loopback stand-in (own process) and
   prints the lateness of a 10 ms Tk timer, p50/p99 (goal: p99 at most 50 ms).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

LAUNCH = """
import sys, time, tkinter as tk
from tray.ui.single_instance import InstanceLock
from tray.ui.app import TrayApp
lock = InstanceLock(); assert lock.acquire()
root = tk.Tk(); root.withdraw()
app = TrayApp(root); app.start()
root.update()
print("ready", flush=True)
import glob
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


def launch(idle_seconds: float) -> tuple[float, str]:
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, str(idle_seconds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    ready = time.perf_counter() - started
    report = child.stdout.readline().strip()
    child.wait(timeout=60)
    return ready, report


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
        import os

        os.environ["DAYTONA_API_URL"] = url
        root = tk.Tk()
        root.withdraw()
        store = CredentialStore(service="multishot-benchmark")  # never the user's own entries
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
    times = [launch(0)[0] for _ in range(args.launches)]
    print(
        f"icon ready: median {statistics.median(times):.3f} s over {len(times)} launches "
        f"(first {times[0]:.3f} s, min {min(times):.3f} s; goal <= 0.5 s warm)"
    )
    _, report = launch(args.idle)
    fields = report.split()
    rss, daytona, wakeups = fields[1], fields[3], fields[5]
    print(
        f"after {args.idle:g} s idle: RSS {rss} MB, Daytona SDK loaded: {daytona} "
        f"(goal <= 45 MB, not loaded); context switches of all its threads: {wakeups} "
        "a second (goal <= 1)"
    )
    lateness = sorted(tk_latency(args.shots, args.megabytes, args.pace))
    p50 = statistics.median(lateness) * 1000
    p99 = lateness[min(len(lateness) - 1, int(0.99 * len(lateness)))] * 1000
    print(
        f"Tk timer lateness with {args.shots} shots streaming ({len(lateness)} ticks): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms (goal p99 <= 50 ms)"
    )


if __name__ == "__main__":
    main()
