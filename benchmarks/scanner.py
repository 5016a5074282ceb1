"""Log scanner and redaction throughput on every shape of output, against the naive scan.

Run: .venv-test/bin/python benchmarks/scanner.py [--megabytes 32] [--repeats 5]

Each shape is fed in 64 KiB chunks, the way the live log stream delivers it, to the
scanner and to the original design's naive scan (decode, split into lines, `in` over
five patterns), in the same process. Prints MB/s for both, their ratio, and whether
the goal is met: every plain-text shape at least 100 MB/s; stream-json at least 1.2x
the naive scan, both with few and with many `"is_error": true` tool results; `redact()`
at least 800 MB/s on text with no secret. Then the scanner's peak memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import claude_logs
from tray.redaction import redact
from tray.scanner import LogScanner

CHUNK = 64 * 1024
NAIVE_PATTERNS = (
    "Authentication failed",
    "OAuth token has expired",
    "Invalid API key",
    "Rate limit exceeded",
    "Auth conflict",
)
# Words the rules' phrases contain, and that ordinary output is full of.
TRIGGERS = ("token", "limit", "invalid", "429", "auth", "credit", "overload")


@dataclasses.dataclass(frozen=True)
class Shape:
    name: str
    build: Callable[[int, random.Random], bytes]
    goal: str  # "100 MB/s" or "1.2x"


def _lines_to(size: int, line: Callable[[int], str], sep: str = "\n") -> bytes:
    parts: list[str] = []
    total = n = 0
    while total < size:
        text = line(n) + sep
        parts.append(text)
        total += len(text)
        n += 1
    return "".join(parts).encode()


def stream_json(size: int, rng: random.Random) -> bytes:
    return ("\n".join(claude_logs.stream_json_log(size, seed=rng.randint(1, 99))) + "\n").encode()


def stream_json_errors(size: int, rng: random.Random) -> bytes:
    """Every failing test or command the agent runs is a tool result with is_error."""

    def line(n: int) -> str:
        if n % 3 == 0:
            body = "\n".join(
                f"FAILED tests/test_{rng.choice(TRIGGERS)}.py::test_{n} - AssertionError"
                for _ in range(rng.randint(3, 30))
            )
            return claude_logs.tool_result(body, is_error=True)
        return claude_logs.agent_work(rng)

    return _lines_to(size, line)


def text_triggers(size: int, rng: random.Random) -> bytes:
    """A tokenizer's log: every line has a word that some rule's phrase contains."""
    return _lines_to(
        size,
        lambda n: (
            f"step {n}: token {rng.randint(0, 50000)} limit {rng.randint(1, 9)} "
            f"invalid=0 auth ok (HTTP 429 retries: 0) credit {n % 7} expired=false overload 0.1"
        ),
    )


def one_long_line(size: int, rng: random.Random) -> bytes:
    words = [*TRIGGERS, "alpha", "beta", "gamma", "delta"]
    return (" ".join(rng.choice(words) for _ in range(size // 6)) + "\n").encode()


def ansi_lines(size: int, rng: random.Random) -> bytes:
    return _lines_to(
        size,
        lambda n: (
            f"\x1b[32mPASSED\x1b[0m tests/test_token.py::test_limit_{n} "
            f"\x1b[2m(invalid input, 429)\x1b[0m \x1b[33m{rng.random():.3f}s\x1b[0m"
        ),
    )


def progress(size: int, rng: random.Random) -> bytes:
    return _lines_to(
        size,
        lambda n: f"Downloading token-cache {n % 100}% (limit {rng.randint(1, 429)} MB/s)",
        sep="\r",
    )


def stderr_lines(size: int, rng: random.Random) -> bytes:
    return _lines_to(
        size,
        lambda n: " ".join(rng.choice([*TRIGGERS, "warning", "debug", "x"]) for _ in range(700)),
    )


SHAPES = (
    Shape("stream-json, few is_error results", stream_json, "1.2x"),
    Shape("stream-json, many is_error results", stream_json_errors, "1.2x"),
    Shape("plain text, a trigger word per line", text_triggers, "100 MB/s"),
    Shape("plain text, one line of the whole size", one_long_line, "100 MB/s"),
    Shape("plain text, ANSI colours", ansi_lines, "100 MB/s"),
    Shape("plain text, \\r progress redraws", progress, "100 MB/s"),
    Shape("plain text, 4 KiB stderr lines", stderr_lines, "100 MB/s"),
)


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


def run_redact(log: bytes) -> int:
    text = log.decode("utf-8", errors="replace")
    return sum(len(redact(text[i : i + CHUNK])) for i in range(0, len(text), CHUNK))


def median_mbs(run: Callable[[bytes], int], log: bytes, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(log)
        times.append(time.perf_counter() - started)
    return len(log) / 1e6 / statistics.median(times)


def peak_memory(log: bytes) -> int:
    tracemalloc.start()
    try:
        run_scanner(log)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=32, help="size of each shape")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (median)")
    args = parser.parse_args()
    size = args.megabytes * 1_000_000
    rng = random.Random(7)
    print(f"{'shape':42} {'scanner':>9} {'naive':>9} {'ratio':>6}  goal")
    all_met = True
    for shape in SHAPES:
        log = (
            shape.build(size, rng)
            if shape.build is not one_long_line
            else one_long_line(64 * 1024 * 1024, rng)
        )
        scanner = median_mbs(run_scanner, log, args.repeats)
        naive = median_mbs(run_naive, log, args.repeats)
        ratio = scanner / naive
        met = ratio >= 1.2 if shape.goal == "1.2x" else scanner >= 100
        all_met &= met
        print(
            f"{shape.name:42} {scanner:6.1f} MB/s {naive:6.1f} MB/s {ratio:5.2f}x  "
            f"{shape.goal:>8} {'met' if met else 'NOT MET'}"
        )
    text = text_triggers(size, rng)
    redaction = median_mbs(run_redact, text, args.repeats)
    all_met &= redaction >= 800
    print(
        f"{'redact(), text with no secret':42} {redaction:6.1f} MB/s {'':>9} {'':>6}  "
        f"{'800 MB/s':>8} {'met' if redaction >= 800 else 'NOT MET'}"
    )
    small = stream_json(25_000_000, rng)
    print(f"scanner peak memory on 25 MB of stream-json: {peak_memory(small) / 1e6:.2f} MB")
    print("every goal met" if all_met else "some goals NOT met")


if __name__ == "__main__":
    main()
