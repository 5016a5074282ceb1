"""Diffstat throughput on real `git diff --cached --binary` patches of every shape.

Run: .venv-test/bin/python benchmarks/diffstat.py [--megabytes 5] [--repeats 7]

Each shape is made by real git in a temporary repository, about --megabytes of
patch: many small edited files, a few files with big hunks, binary files (literal
and delta sections), and renames, deletions and mode changes of spaced and
non-ASCII names. Prints MB/s for each (median of the repeats) and whether the goal
is met: every shape at least 100 MB/s (5 MB in 50 ms). Exits 1 if one is not.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tray.runs.diffstat import parse_patch

GOAL_MB_PER_S = 100.0
Writer = Callable[[Path, int, random.Random, bool], None]


def _git(repo: Path, *args: str) -> bytes:
    identity = ("-c", "user.name=Bench", "-c", "user.email=bench@example.com")
    return subprocess.run(
        ["git", *identity, *args], cwd=repo, capture_output=True, check=True, timeout=600
    ).stdout


def _lines(rng: random.Random, count: int) -> str:
    return "".join(f"value_{rng.randint(0, 10**6)} = compute({n}, 'text')\n" for n in range(count))


def small_files(repo: Path, size: int, rng: random.Random, after: bool) -> None:
    for n in range(size // 650):
        lines = _lines(random.Random(n), 40).splitlines(keepends=True)
        if after:
            lines[rng.randrange(40)] = "changed line\n"
            lines.insert(rng.randrange(40), "inserted line\n")
        (repo / f"src/module_{n}.py").write_text("".join(lines))


def big_hunks(repo: Path, size: int, rng: random.Random, after: bool) -> None:
    for n in range(4):
        body = _lines(random.Random(n), size // 4 // 40)
        (repo / f"big {n}.txt").write_text(_lines(rng, size // 4 // 40) + body if after else body)


def binaries(repo: Path, size: int, rng: random.Random, after: bool) -> None:
    for n in range(size // 26_000):
        data = random.Random(n).randbytes(20_000)
        if after:
            data = (
                data[:10_000] + rng.randbytes(64) + data[10_000:]
                if n % 2
                else rng.randbytes(20_000)
            )
        (repo / f"blob_{n}.bin").write_bytes(data)


def renames_and_modes(repo: Path, size: int, rng: random.Random, after: bool) -> None:
    for n in range(size // 2000):
        old, new = repo / f"dossier {n}/fichier é {n}.txt", repo / f"dossier {n}/renommé {n}.txt"
        if not after:
            old.parent.mkdir(exist_ok=True)
            old.write_text(_lines(random.Random(n), 60))
        elif n % 3 == 0:
            old.unlink()
        elif n % 3 == 1:
            old.rename(new)
            with new.open("a") as f:
                f.write("one more line\n")
        else:
            old.chmod(0o755)
            with old.open("a") as f:
                f.write(_lines(rng, 25))


SHAPES: dict[str, Writer] = {
    "many small edited files": small_files,
    "a few files with big hunks": big_hunks,
    "binary files (literal and delta)": binaries,
    "renames, deletions, modes, é names": renames_and_modes,
}


def make_patch(write: Writer, size: int, folder: Path) -> bytes:
    repo = folder / write.__name__
    (repo / "src").mkdir(parents=True)
    _git(repo, "init", "-q")
    rng = random.Random(7)
    write(repo, size, rng, False)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--allow-empty", "-m", "base")
    write(repo, size, rng, True)
    _git(repo, "add", "-A")
    return _git(repo, "diff", "--cached", "--binary", "HEAD")


def throughput(patch: bytes, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        parse_patch(patch)
        times.append(time.perf_counter() - started)
    return len(patch) / 1e6 / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    size = int(args.megabytes * 1e6)
    all_met = True
    print(f"{'shape':38} {'patch':>8} {'files':>6} {'MB/s':>8}  goal {GOAL_MB_PER_S:.0f} MB/s")
    with tempfile.TemporaryDirectory() as folder:
        for name, write in SHAPES.items():
            patch = make_patch(write, size, Path(folder))
            rate = throughput(patch, args.repeats)
            met = rate >= GOAL_MB_PER_S
            all_met &= met
            files = parse_patch(patch).files_changed
            mb = f"{len(patch) / 1e6:.1f} MB"
            print(f"{name:38} {mb:>8} {files:>6} {rate:8.0f}  {'met' if met else 'NOT met'}")
    print("every goal met" if all_met else "some goals NOT met")
    sys.exit(0 if all_met else 1)


if __name__ == "__main__":
    os.environ["GIT_TERMINAL_PROMPT"] = "0"
    main()
