"""The run's own shell commands in a shot's sandbox: setup before Claude, check after it.

Each command reaches the sandbox as an uploaded script (no shell quotes it on the way)
and runs with bash in the repository folder, without the Claude credential in its
environment: neither needs it, and a test suite that prints its environment must not
show it. ``timeout`` (coreutils) ends an overrun in the sandbox itself with exit 124;
the engine also stops waiting a little after the limit in case it could not. The
combined output goes to a file there; only its last lines come back, redacted.
"""

from __future__ import annotations

import dataclasses
import shlex
import time
from collections.abc import Callable, Iterable

from tray.redaction import redact
from tray.sandbox.daytona import SandboxHandle

__all__ = ["OUTPUT_LINES", "TIMED_OUT_EXIT_CODE", "CommandResult", "run_command"]

OUTPUT_LINES = 200  # of the output kept (check.log) and shown
TIMED_OUT_EXIT_CODE = 124  # what `timeout` exits with; recorded for an overrun however it ended
KILL_AFTER_SECONDS = 10  # a command that ignores SIGTERM at its limit gets SIGKILL this later
# How long past the limit (and its SIGKILL) the engine still waits for the exit code.
GIVE_UP_MARGIN_SECONDS = 60


@dataclasses.dataclass(frozen=True)
class CommandResult:
    exit_code: int
    duration_ms: int
    output_tail: str  # the last OUTPUT_LINES lines of stdout and stderr, redacted
    timed_out: bool

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def last_lines(self, count: int = 5) -> str:
        return "\n".join(self.output_tail.rstrip().splitlines()[-count:])


def run_command(
    sandbox: SandboxHandle,
    *,
    name: str,
    command: str,
    work: str,
    folder: str,
    time_limit_seconds: float,
    hidden_env: Iterable[str],
    stopped: Callable[[float], bool],
    poll_seconds: float,
) -> CommandResult | None:
    """Run ``command`` in ``work``; None when ``stopped(seconds)`` (a wait that returns
    True once the shot must stop) ends the wait first (the sandbox's deletion ends it)."""
    script, output = f"{folder}/{name}.sh", f"{folder}/{name}.log"
    sandbox.upload(command.encode("utf-8"), script)
    unset = " ".join(f"-u {shlex.quote(variable)}" for variable in sorted(hidden_env))
    line = (
        f"cd {shlex.quote(work)} && env {unset} timeout -k {KILL_AFTER_SECONDS} "
        f"{time_limit_seconds:.1f} bash {shlex.quote(script)} > {shlex.quote(output)} 2>&1 "
        "< /dev/null"
    )
    session = f"multishot-{name}"
    what = f"the {name} command"
    started = time.monotonic()
    command_id = sandbox.start_command(session, line, what=f"start {what}")
    give_up = started + time_limit_seconds + KILL_AFTER_SECONDS + GIVE_UP_MARGIN_SECONDS
    while (code := sandbox.exit_code(session, command_id, what=f"check on {what}")) is None:
        if time.monotonic() > give_up:
            code = TIMED_OUT_EXIT_CODE
            break
        if stopped(poll_seconds):
            return None
    duration = time.monotonic() - started
    _, tail = sandbox.exec(f"tail -n {OUTPUT_LINES} {shlex.quote(output)}")
    # 137: `timeout`'s SIGKILL after a SIGTERM that was ignored.
    timed_out = code == TIMED_OUT_EXIT_CODE or (code == 137 and duration >= time_limit_seconds)
    return CommandResult(
        exit_code=TIMED_OUT_EXIT_CODE if timed_out else code,
        duration_ms=round(duration * 1000),
        output_tail=redact(tail),
        timed_out=timed_out,
    )
