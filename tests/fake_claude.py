#!/usr/bin/env python3
"""A scripted stand-in for the `claude` CLI, run as a real process inside a fake sandbox.

The scenario comes from FAKE_CLAUDE_SCENARIO (the stand-in sets it); the prompt is
read from stdin as `claude -p` does, and saved with argv for the tests to inspect.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # mypy sees the module as part of the tests package
    from tests.claude_logs import (
        JUDGE_MARK,
        api_retry,
        assistant_text,
        init,
        result,
        synthetic_error,
    )
else:
    # Run as a script inside a sandbox folder: its own directory is on sys.path.
    from claude_logs import (
        JUDGE_MARK,
        api_retry,
        assistant_text,
        init,
        result,
        synthetic_error,
    )


def say(line: str) -> None:
    print(line, flush=True)


def edit_files(prompt: str) -> None:
    Path("solution.txt").write_text(f"Solved: {prompt}\n", encoding="utf-8")
    Path("binary.bin").write_bytes(bytes(range(256)) * 4)
    readme = Path("README.md")
    if readme.exists():
        readme.write_text(readme.read_text() + "\nEdited by the fake agent.\n")


def scripted_edits(prompt: str) -> str:
    """Scenario "edits": every "WRITE NAME TEXT" in the prompt (a shot's hint can carry
    one) writes TEXT to NAME; a judge's prompt is answered with the test's scripted text
    (``judge-answer`` in the shared folder). What Claude says at the end is returned."""
    if JUDGE_MARK in prompt:
        answer = (Path(os.environ["FAKE_CLAUDE_SHARED"]) / "judge-answer").read_text("utf-8")
        if answer == "hang":
            time.sleep(3600)
        return answer
    written = []
    for name, text in re.findall(r"WRITE (\S+) ([^\n]*)", prompt):
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text + "\n", encoding="utf-8")
        written.append(name)
    return f"Wrote {', '.join(written)}." if written else "Nothing to change."


def first_across_sandboxes(name: str) -> bool:
    """True for exactly one caller among all sandboxes of the test."""
    shared = Path(os.environ["FAKE_CLAUDE_SHARED"])
    try:
        os.close(os.open(shared / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def stream_megabytes(megabytes: float, scenario: str) -> None:
    """Realistic volume: ~1 KB assistant lines; half way, a timestamped API retry."""
    text = "word " * 190
    lines = int(megabytes * 1000)
    pause = float(os.environ.get("FAKE_CLAUDE_PACE_SECONDS", "0")) / lines
    for n in range(lines):
        say(assistant_text(f"{n} {text}"))
        if pause:
            time.sleep(pause)
        if n == lines // 2 and scenario == "stream":
            say(api_retry(529, 100, f"overloaded sent_at={time.time():.6f}"))


def main() -> int:  # noqa: C901 - one branch per scripted scenario
    if "--version" in sys.argv:
        print("2.0.99 (Claude Code)")
        return 0
    prompt = sys.stdin.read()
    home = Path(os.environ.get("HOME", "."))
    record = home / ".fake_claude"
    record.mkdir(exist_ok=True)
    attempt = len(list(record.glob("prompt-*"))) + 1
    (record / f"prompt-{attempt}").write_text(prompt, encoding="utf-8")
    (record / f"argv-{attempt}").write_text(json.dumps(sys.argv[1:]))
    scenario = os.environ.get("FAKE_CLAUDE_SCENARIO", "success")
    say(init())
    key = os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("CLAUDE_CODE_OAUTH_TOKEN", "")
    print(f"debug: using credential {key}", file=sys.stderr, flush=True)

    if scenario == "success":
        say(
            assistant_text("I will write the solution, then mention an Invalid API key in passing.")
        )
        edit_files(prompt)
        say(result(is_error=False))
        return 0
    if scenario == "edits":
        say(result(is_error=False, text=scripted_edits(prompt)))
        return 0
    if scenario == "invalid_key":
        say(synthetic_error("authentication_failed", "Invalid API key · Fix external API key"))
        say(result(is_error=True, status=401, text="Invalid API key · Fix external API key"))
        return 1
    if scenario == "expire_mid_run":
        for n in range(int(os.environ.get("FAKE_CLAUDE_LINES", "5"))):
            say(assistant_text(f"step {n}"))
            time.sleep(0.05)
        if first_across_sandboxes("expired"):
            say(
                result(
                    is_error=True, status=401, text="OAuth token has expired · Please run /login"
                )
            )
            return 1
        time.sleep(float(os.environ.get("FAKE_CLAUDE_SLOW_SECONDS", "30")))
        say(result(is_error=False))
        return 0
    if scenario == "rate_limit_then_success":
        if attempt == 1:
            say(api_retry(429, 200, "rate_limit"))
            say(result(is_error=True, status=429, text="API Error: Rate limit reached"))
            return 1
        edit_files(prompt)
        say(result(is_error=False))
        return 0
    if scenario == "session_limit":
        # Three hours on: never within the engine's wait for a near reset.
        resets = time.strftime("%I:%M%p", time.localtime(time.time() + 3 * 3600)).lower()
        text = f"You've hit your session limit · resets {resets.lstrip('0')}"
        say(result(is_error=True, status=429, text=text))
        return 1
    if scenario == "root_refusal":  # what the real CLI says as root without IS_SANDBOX=1
        print(
            "--dangerously-skip-permissions cannot be used with root/sudo privileges for "
            "security reasons",
            file=sys.stderr,
        )
        return 1
    if scenario == "hang":
        say(assistant_text("thinking very hard"))
        time.sleep(3600)
        return 0
    if scenario == "huge_output":
        line = "x" * 1000
        for n in range(int(os.environ.get("FAKE_CLAUDE_LINES", "20000"))):
            say(assistant_text(f"{n} {line}"))
        edit_files(prompt)
        say(result(is_error=False))
        return 0
    if scenario in ("stream", "stream_then_invalid"):
        stream_megabytes(float(os.environ.get("FAKE_CLAUDE_MB", "5")), scenario)
        if scenario == "stream_then_invalid":
            say(
                result(
                    is_error=True, status=401, text=f"Invalid API key · sent_at={time.time():.6f}"
                )
            )
            return 1
        edit_files(prompt)
        say(result(is_error=False))
        return 0
    print(f"unknown scenario {scenario}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
