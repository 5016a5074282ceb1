"""Run engine at scale against the loopback Daytona stand-in (in its own process).

Run: .venv-test/bin/python benchmarks/runs.py [--shots 32] [--megabytes 5]

Phase 1 runs one shot, phase 2 runs N shots at once (runs of at most 16), each
streaming about 5 MB of stream-json through the real SDK's WebSocket log stream
into the scanner and the log files. Phase 3 times auth-error detection in
single-shot runs. Prints: wall time of N shots over one shot's, this process's
CPU seconds per streamed MB, peak RSS and RSS per extra shot, and scanner latency
(fake claude writing a line to the engine's event), p50/p95.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.daytona_standin import VALID_DAYTONA_KEY
from tray.credentials.model import AuthMethod, Credentials
from tray.runs.events import EngineEvent, ScanNotice
from tray.runs.history import History
from tray.runs.manager import RunManager
from tray.runs.settings import EngineSettings
from tray.runs.spec import MAX_SHOTS, RunSpec
from tray.sandbox.retry import Backoff

SENT_AT = re.compile(r"sent_at=(\d+\.\d+)")
CREDENTIALS = Credentials(
    VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key="sk-ant-api03-" + "B" * 40 + "ench"
)


@contextmanager
def standin(root: Path, **env: str) -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.daytona_standin",
            str(root),
            *(f"{k}={v}" for k, v in env.items()),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=60)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_phase(
    workdir: Path, name: str, shots: int, scenario: str, megabytes: float, pace: float = 0
) -> tuple[float, float, float, list[float], float]:
    """Wall seconds, CPU seconds, streamed MB, latencies (s), peak RSS (MB)."""
    latencies: list[float] = []

    def on_event(event: EngineEvent) -> None:
        if isinstance(event, ScanNotice):
            sent = SENT_AT.search(event.event.excerpt)
            if sent:
                latencies.append(time.time() - float(sent.group(1)))

    with standin(
        workdir / f"daytona-{name}",
        FAKE_CLAUDE_SCENARIO=scenario,
        FAKE_CLAUDE_MB=str(megabytes),
        FAKE_CLAUDE_PACE_SECONDS=str(pace),
    ) as url:
        manager = RunManager(
            CREDENTIALS,
            history=History(workdir / f"history-{name}.sqlite3"),
            results_root=workdir / f"runs-{name}",
            daytona_url=url,
            settings=EngineSettings(backoff=Backoff(base_seconds=0.1)),
        )
        manager.subscribe(on_event)
        manager.daytona()  # SDK import and client set-up are not part of a run
        cpu = time.process_time()
        started = time.perf_counter()
        with PeakRss() as rss:
            # A run has at most 16 shots: 32 at once are two runs side by side.
            sizes = [min(MAX_SHOTS, shots - n) for n in range(0, shots, MAX_SHOTS)]
            run_ids = [manager.start(RunSpec("benchmark task", shots=size)) for size in sizes]
            for run_id in run_ids:
                manager.wait(run_id, 900)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        shots_done = [shot for run_id in run_ids for shot in manager.history.shots(run_id)]
        left = manager.daytona().list_sandboxes({"app": "multishot"})
        manager.shutdown()
    assert not left, f"{len(left)} sandboxes left behind"
    streamed = sum(Path(s.log_path or "").stat().st_size for s in shots_done) / 1e6
    statuses = {s.status.value for s in shots_done}
    print(f"  {name}: {shots} shots, statuses {sorted(statuses)}, {streamed:.1f} MB streamed")
    return wall, cpu, streamed, latencies, rss.peak


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=32)
    parser.add_argument("--megabytes", type=float, default=5)
    parser.add_argument("--auth-runs", type=int, default=10)
    parser.add_argument(
        "--pace",
        type=float,
        default=0,
        help="seconds over which each fake claude spreads its output (0: as fast as it can)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"baseline RSS after imports: {rss_mb():.0f} MB")
        one_wall, _, _, _, one_rss = run_phase(
            workdir, "one", 1, "stream", args.megabytes, args.pace
        )
        many_wall, many_cpu, many_mb, latencies, many_rss = run_phase(
            workdir, "many", args.shots, "stream", args.megabytes, args.pace
        )
        auth: list[float] = []
        for n in range(args.auth_runs):
            auth += run_phase(workdir, f"auth{n}", 1, "stream_then_invalid", 1)[3]
    print(
        f"wall: 1 shot {one_wall:.2f} s, {args.shots} shots {many_wall:.2f} s, "
        f"ratio {many_wall / one_wall:.2f} (goal <= 1.5)"
    )
    print(f"CPU: {many_cpu:.2f} s for {many_mb:.0f} MB = {many_cpu / many_mb:.3f} CPU s per MB")
    print(
        f"peak RSS: 1 shot {one_rss:.0f} MB, {args.shots} shots {many_rss:.0f} MB, "
        f"{(many_rss - one_rss) / (args.shots - 1):.2f} MB per extra shot (goal <= 3)"
    )
    if latencies:
        p50, p95 = statistics.median(latencies) * 1000, percentile(latencies, 0.95) * 1000
        print(
            f"scan latency under load ({len(latencies)} samples): "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms"
        )
    if auth:
        print(
            f"auth-error latency ({len(auth)} runs): p50 {statistics.median(auth) * 1000:.0f} ms, "
            f"p95 {percentile(auth, 0.95) * 1000:.0f} ms (goal p95 <= 250)"
        )


if __name__ == "__main__":
    main()
