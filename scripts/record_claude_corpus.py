"""Record what the real Claude Code CLI prints for every failure the scanner must know.

Run: .venv-test/bin/python scripts/record_claude_corpus.py
after ./scripts/test has installed the pinned CLI (tests/claude-code.version). Each
case runs the CLI with the engine's own arguments (and once in text mode) against
the loopback Messages API stand-in, and writes its standard output, byte for byte, to
tests/data/claude-code/CASE.MODE.log; tests/data/claude-code/corpus.json lists every
case with the failure the scanner must report for it (or none), the credential used,
the exit code and the CLI version. Retries are capped (CLAUDE_CODE_MAX_RETRIES=2, as
the engine caps them) so an invalid key takes seconds, not minutes.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.claude_cli import EXECUTABLE, QUIET_ENV, VERSION
from tests.standins import AnthropicStandIn
from tray.runs.claude import claude_arguments
from tray.runs.spec import RunSpec

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "claude-code"
API_KEY = "sk-ant-api03-" + "R" * 40 + "rec1"
OAUTH_TOKEN = "sk-ant-oat01-" + "R" * 40 + "rec2"
# What an agent writes when its task is about these very errors: never an alarm.
QUOTING_ANSWER = (
    "The handler now maps each message to a kind:\n"
    "```\n"
    "Invalid API key · Fix external API key  -> invalid\n"
    "OAuth token has expired                 -> expired\n"
    "You've hit your session limit · resets 3pm -> session_limit\n"
    "API Error: 529 Overloaded               -> overloaded\n"
    "```\n"
    'and the test asserts "Credit balance is too low" is billing.'
)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    messages: str  # the stand-in's Messages scenario
    credential: str  # api_key, oauth or none
    expected: str | None  # the FailureKind value the scanner must report, or None
    answer: str = "Done: the change is made."
    sandbox_flag: bool = True  # IS_SANDBOX=1, as the engine sets it


CASES = (
    Case("success", "text", "api_key", None),
    Case("success_oauth", "text", "oauth", None),
    Case("tool_write", "tool_write", "api_key", None),
    Case("quotes_error_lines", "text", "api_key", None, answer=QUOTING_ANSWER),
    Case("invalid_key", "invalid_key", "api_key", "invalid"),
    Case("expired_token", "expired_token", "oauth", "expired"),
    Case("revoked_token", "revoked_token", "oauth", "revoked"),
    Case("org_not_allowed", "org_not_allowed", "oauth", "org_disabled"),
    Case("billing", "billing", "api_key", "billing"),
    Case("session_limit", "session_limit", "oauth", "session_limit"),
    Case("rate_limit", "rate_limit", "api_key", "rate_limit"),
    Case("overloaded", "overloaded", "api_key", "overloaded"),
    Case("not_logged_in", "text", "none", "not_logged_in"),
)
MODES = {"stream-json": [], "text": ["--output-format", "text"]}


def record(case: Case, mode: str) -> dict[str, object]:
    with AnthropicStandIn() as api, tempfile.TemporaryDirectory() as scratch:
        api.messages = case.messages
        api.answer = case.answer
        work = Path(scratch) / "work"
        work.mkdir()
        subprocess.run(["git", "init", "-q", str(work)], check=True, timeout=30)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": scratch,
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "ANTHROPIC_BASE_URL": api.url,
            "CLAUDE_CODE_MAX_RETRIES": "2",
            **QUIET_ENV,
            **({"IS_SANDBOX": "1"} if case.sandbox_flag else {}),
            **({"ANTHROPIC_API_KEY": API_KEY} if case.credential == "api_key" else {}),
            **({"CLAUDE_CODE_OAUTH_TOKEN": OAUTH_TOKEN} if case.credential == "oauth" else {}),
        }
        arguments = claude_arguments(RunSpec("x"))[1:]
        if MODES[mode]:
            arguments = [a for a in arguments if a not in ("stream-json", "--verbose")]
            arguments = [a for a in arguments if a != "--output-format"] + MODES[mode]
        started = time.monotonic()
        done = subprocess.run(
            [str(EXECUTABLE), *arguments],
            input=b"Write hello.txt, then say done.\n",
            cwd=work,
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        )
        seconds = time.monotonic() - started
    stdout = done.stdout.replace(scratch.encode(), b"/sandbox")
    if any(secret.encode() in stdout + done.stderr for secret in (API_KEY, OAUTH_TOKEN)):
        raise SystemExit(f"{case.name}: the CLI printed a secret; nothing is kept")
    (OUT / f"{case.name}.{mode}.log").write_bytes(stdout)
    if done.stderr:
        (OUT / f"{case.name}.{mode}.stderr").write_bytes(done.stderr)
    print(f"{case.name:20} {mode:12} exit {done.returncode}  {seconds:5.1f} s")
    return {"exit_code": done.returncode}


def main() -> int:
    if not EXECUTABLE.exists():
        print(f"Claude Code {VERSION} is not installed: run ./scripts/test first.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*"):
        old.unlink()
    cases = [*CASES, Case("root_refusal", "text", "api_key", None, sandbox_flag=False)]
    jobs = [(case, mode) for case in cases for mode in MODES]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda job: record(*job), jobs))
    index = {
        "claude_code_version": VERSION,
        "cases": [
            {
                "name": case.name,
                "mode": mode,
                "credential": case.credential,
                "expected": case.expected,
                **result,
            }
            for (case, mode), result in zip(jobs, results, strict=True)
        ],
    }
    (OUT / "corpus.json").write_text(json.dumps(index, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
