"""How fast a refused credential stops a run, with the real Claude Code CLI.

Run: .venv-test/bin/python benchmarks/auth_stop.py [--shots 4]

`multishot run` (a real subprocess) sends its shots to the Daytona stand-in, whose
sandboxes run the pinned Claude Code CLI against the loopback Messages API answering
every request with the refusal. Prints, per credential problem, the exit code and
the seconds from the first shot starting Claude to the command's exit (the goal:
within 15 seconds, with the CLI's default retries it would be about 3 minutes for
an API key). Needs ./scripts/test to have installed the CLI.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.claude_cli import EXECUTABLE, QUIET_ENV, VERSION
from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.standins import AnthropicStandIn

API_KEY = "sk-ant-api03-" + "B" * 40 + "ben1"
TOKEN = "sk-ant-oat01-" + "B" * 40 + "ben2"
CASES = (
    ("invalid API key", "invalid_key", {"ANTHROPIC_API_KEY": API_KEY}),
    ("expired OAuth token", "expired_token", {"CLAUDE_CODE_OAUTH_TOKEN": TOKEN}),
    ("revoked OAuth token", "revoked_token", {"CLAUDE_CODE_OAUTH_TOKEN": TOKEN}),
)


def measure(messages: str, credential: dict[str, str], shots: int) -> tuple[int, float, str]:
    with tempfile.TemporaryDirectory() as scratch, AnthropicStandIn() as api:
        api.messages = messages
        with DaytonaStandIn(Path(scratch) / "daytona") as daytona:
            daytona.real_claude = EXECUTABLE.resolve()
            daytona.extra_env.update(ANTHROPIC_BASE_URL=api.url, **QUIET_ENV)
            home = Path(scratch) / "home"
            env = {
                **os.environ,
                "HOME": str(home),
                "XDG_DATA_HOME": str(home / "data"),
                "XDG_STATE_HOME": str(home / "state"),
                "XDG_CONFIG_HOME": str(home / "config"),
                "DAYTONA_API_URL": daytona.api_url,
                "DAYTONA_API_KEY": VALID_DAYTONA_KEY,
                "NO_PROXY": "127.0.0.1",
                **credential,
            }
            done = subprocess.run(
                [sys.executable, "-m", "tray", "run", "task", "--shots", str(shots)],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            ended = time.monotonic()
            starts = [
                command.started_at
                for sandbox in daytona.created
                for command in sandbox.commands.values()
                if "claude -p" in command.command
            ]
    title = done.stderr.strip().splitlines()[-2] if done.stderr.strip() else ""
    return done.returncode, ended - min(starts), title


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=4)
    args = parser.parse_args()
    if not EXECUTABLE.exists():
        raise SystemExit("The Claude Code CLI is not installed: run ./scripts/test first.")
    print(f"Claude Code {VERSION}, {args.shots} shots, the engine's retry settings")
    print(f"{'credential':22} {'exit':>4} {'seconds':>8}  what the command said")
    for label, messages, credential in CASES:
        code, seconds, said = measure(messages, credential, args.shots)
        print(f"{label:22} {code:>4} {seconds:8.1f}  {said}")


if __name__ == "__main__":
    main()
