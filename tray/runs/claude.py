"""How the engine runs Claude Code in a sandbox, and how its own retries read."""

from __future__ import annotations

import shlex

from tray.failures import FailureKind
from tray.runs.settings import EngineSettings
from tray.runs.spec import RunSpec
from tray.scanner import ScanEvent

__all__ = ["claude_arguments", "claude_command", "retry_label"]


def claude_arguments(spec: RunSpec) -> list[str]:
    """How the engine runs Claude Code (the prompt comes on standard input)."""
    args = [
        "claude",
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
    ]
    if spec.model:
        args += ["--model", spec.model]
    if spec.max_turns:
        args += ["--max-turns", str(spec.max_turns)]
    if spec.max_budget_usd:
        args += ["--max-budget-usd", f"{spec.max_budget_usd:g}"]
    return args


def claude_command(spec: RunSpec, settings: EngineSettings, work: str, prompt_path: str) -> str:
    """The shell command: in the repository, with the CLI's settings, prompt on stdin."""
    environment = {
        # The CLI refuses --dangerously-skip-permissions as root outside a sandbox.
        "IS_SANDBOX": "1",
        # Its own retries, bounded: the engine re-runs it with a backoff of its own.
        "CLAUDE_CODE_MAX_RETRIES": str(settings.cli_retries),
        "DISABLE_AUTOUPDATER": "1",
    }
    assignments = " ".join(f"{name}={value}" for name, value in environment.items())
    quoted = " ".join(shlex.quote(a) for a in claude_arguments(spec))
    return f"cd {shlex.quote(work)} && {assignments} {quoted} < {shlex.quote(prompt_path)}"


def retry_label(event: ScanEvent) -> str:
    """ "API overloaded, retry 3 of 6": one of the CLI's own retries, as a shot shows it."""
    what = "API overloaded" if event.kind is FailureKind.OVERLOADED else "Rate limited"
    return f"{what}, retry {event.attempt} of {event.max_retries}"
