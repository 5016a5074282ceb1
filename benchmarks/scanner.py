"""Log scanner throughput and memory, against the original design's naive scan.

Run: .venv-test/bin/python benchmarks/scanner.py [--megabytes 200]

Builds a realistic stream-json log (assistant text, tool calls and results full of
look-alike phrases, a few real failures), feeds it in 64 KiB chunks the way the
live log stream delivers it, and prints MB/s for the scanner and for the naive
approach (for each line, `pattern in line` over the five patterns), their ratio,
and the scanner's peak memory on a small and on the full log.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.claude_logs import stream_json_log
from tray.scanner import LogScanner

CHUNK = 64 * 1024
BLOCK_MB = 25
NAIVE_PATTERNS = (
    "Authentication failed",
    "OAuth token has expired",
    "Invalid API key",
    "Rate limit exceeded",
    "Auth conflict",
)


def build_log(megabytes: int) -> bytes:
    """Distinct ~25 MB blocks (different seeds) until the size is reached."""
    blocks = []
    total = 0
    seed = 1
    while total < megabytes * 1_000_000:
        size = min(BLOCK_MB * 1_000_000, megabytes * 1_000_000 - total)
        block = ("\n".join(stream_json_log(size, seed=seed)) + "\n").encode()
        blocks.append(block)
        total += len(block)
        seed += 1
    return b"".join(blocks)


def chunks(log: bytes) -> Iterator[bytes]:
    view = memoryview(log)
    for start in range(0, len(log), CHUNK):
        yield bytes(view[start : start + CHUNK])


def run_scanner(log: bytes) -> int:
    scanner = LogScanner()
    found = 0
    for chunk in chunks(log):
        found += len(scanner.feed(chunk))
    return found + len(scanner.close())


def run_naive(log: bytes) -> int:
    """The original design: decode, split into lines, `in` over five patterns each."""
    pending = ""
    found = 0
    for chunk in chunks(log):
        lines = (pending + chunk.decode("utf-8", errors="replace")).split("\n")
        pending = lines.pop()
        for line in lines:
            for pattern in NAIVE_PATTERNS:
                if pattern in line:
                    found += 1
    return found


def throughput(run: Callable[[bytes], int], log: bytes, repeats: int) -> tuple[float, int]:
    best = float("inf")
    found = 0
    for _ in range(repeats):
        started = time.perf_counter()
        found = run(log)
        best = min(best, time.perf_counter() - started)
    return len(log) / 1e6 / best, found


def peak_memory(log: bytes) -> int:
    tracemalloc.start()
    try:
        run_scanner(log)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    log = build_log(args.megabytes)
    lines = log.count(b"\n")
    print(
        f"log: {len(log) / 1e6:.1f} MB, {lines:,} lines "
        f"(built in {time.perf_counter() - started:.1f} s)"
    )

    scanner_mbs, scanner_events = throughput(run_scanner, log, args.repeats)
    naive_mbs, naive_hits = throughput(run_naive, log, args.repeats)
    print(f"scanner: {scanner_mbs:7.1f} MB/s  ({scanner_events} events)")
    print(f"naive:   {naive_mbs:7.1f} MB/s  ({naive_hits} pattern hits, most of them false alarms)")
    print(f"ratio scanner/naive: {scanner_mbs / naive_mbs:.2f}x")

    small = log[: len(log) // 8]
    print(
        f"scanner peak memory: {peak_memory(small) / 1e6:.2f} MB on {len(small) / 1e6:.0f} MB, "
        f"{peak_memory(log) / 1e6:.2f} MB on {len(log) / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
