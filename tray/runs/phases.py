"""A shot's steps with the user's own material: the earlier rounds' changes, the setup
command before Claude and the check after it.

:class:`UserPhases` is mixed into :class:`~tray.runs.shot.Shot` and works with its
state through :class:`PhaseHost`. The commands themselves run as
:mod:`tray.runs.commands` runs them.
"""

from __future__ import annotations

import dataclasses
import logging
import shlex
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tray.runs.commands import CommandResult, run_command
from tray.runs.display import format_duration, plural
from tray.runs.layout import ShotFolder
from tray.runs.state import RunState
from tray.runs.status import ShotStatus
from tray.sandbox.daytona import SandboxHandle

if TYPE_CHECKING:
    from tray.runs.shot import ShotEngine

__all__ = ["COMMITTER", "Outcome", "PhaseHost", "ShotStop", "UserPhases", "Workspace"]

log = logging.getLogger(__name__)
# Who commits in a sandbox: the earlier rounds' changes, an empty repository's start.
COMMITTER = (
    "GIT_AUTHOR_NAME=Multishot GIT_AUTHOR_EMAIL=multishot@localhost "
    "GIT_COMMITTER_NAME=Multishot GIT_COMMITTER_EMAIL=multishot@localhost"
)


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: ShotStatus
    detail: str


class ShotStop(Exception):
    """Raised inside a shot's steps to end it with a given outcome."""

    def __init__(self, status: ShotStatus, detail: str) -> None:
        super().__init__(detail)
        self.outcome = Outcome(status, detail)


@dataclasses.dataclass(frozen=True)
class Workspace:
    home: str
    work: str  # the repository Claude works in
    base: str  # its starting commit
    prompt_path: str


class PhaseHost(Protocol):
    """What the phases use of the shot they are part of."""

    number: int
    folder: ShotFolder
    _engine: ShotEngine
    _run: RunState
    _deadline: float
    _changed_files: list[str]
    _setup_result: CommandResult | None
    _check_result: CommandResult | None

    def _move(self, status: ShotStatus, detail: str = "", **record: Any) -> None: ...
    def _record(self, **fields: Any) -> None: ...
    def _check_stop(self) -> None: ...
    def _late(self, seconds: float) -> bool: ...
    def _user_command(
        self,
        sandbox: SandboxHandle,
        workspace: Workspace,
        name: str,
        command: str,
        seconds: float,
        stopped: Callable[[float], bool],
    ) -> CommandResult: ...
    def _exec_ok(
        self,
        sandbox: SandboxHandle,
        command: str,
        what: str,
        *,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: int = 300,
    ) -> str: ...


class UserPhases:
    """The earlier rounds' changes, setup and check, as steps of a shot."""

    _setup_result: CommandResult | None
    _check_result: CommandResult | None

    def _start_round(self: PhaseHost, sandbox: SandboxHandle, workspace: Workspace) -> Workspace:
        """Commit the earlier rounds' changes: the shot's patch is a diff from there."""
        changes = self._run.start.changes
        if not changes:
            return workspace
        self._move(ShotStatus.PREPARING, f"Applying the changes of {plural(len(changes), 'round')}")
        folder = f"{workspace.home}/.multishot"
        for number, change in enumerate(changes, start=1):
            # Files, never a command line: a patch is any size and any bytes.
            patch, message = f"{folder}/round-{number}.patch", f"{folder}/round-{number}.msg"
            sandbox.upload(change.patch, patch)
            sandbox.upload(change.commit_message.encode("utf-8"), message)
            self._exec_ok(
                sandbox,
                f"git apply --index --binary {shlex.quote(patch)} && "
                f"{COMMITTER} git commit -q --no-verify -F {shlex.quote(message)}",
                f"apply round {number}'s changes (run {change.run_id}, shot {change.shot})",
                cwd=workspace.work,
            )
        base = self._exec_ok(
            sandbox, "git rev-parse HEAD", "read the new starting commit", cwd=workspace.work
        )
        return dataclasses.replace(workspace, base=base)

    def _setup(self: PhaseHost, sandbox: SandboxHandle, workspace: Workspace) -> None:
        command = self._run.spec.setup
        if command is None:
            return
        self._check_stop()
        self._move(ShotStatus.SETTING_UP, "Running the setup command")
        result = self._user_command(
            sandbox, workspace, "setup", command, self._deadline - time.monotonic(), self._late
        )
        self._setup_result = result
        self._record(setup_exit_code=result.exit_code)
        if not result.passed:
            what = "timed out" if result.timed_out else f"failed with exit code {result.exit_code}"
            raise ShotStop(
                ShotStatus.FAILED,
                f"The setup command {what}, so Claude did not start. Its last lines:\n"
                f"{result.last_lines()}",
            )
        # What setup made and git does not track (dependencies, caches) is not Claude's
        # change: keep it out of the patch.
        self._exec_ok(
            sandbox,
            "git ls-files -z --others --exclude-standard --directory | "
            "xargs -0 -r printf '/%s\\n' >> \"$(git rev-parse --git-path info/exclude)\"",
            "leave what setup made out of the changes",
            cwd=workspace.work,
        )

    def _check(self: PhaseHost, sandbox: SandboxHandle, workspace: Workspace) -> str:
        """Run the check on the collected changes (it cannot alter them); say how it went."""
        command = self._run.spec.check
        if command is None or not self._changed_files:
            return ""
        self._move(ShotStatus.CHECKING, "Running the check")
        limit = self._engine.settings.check_time_limit_seconds
        minutes = self._run.spec.check_time_limit_minutes
        result = self._user_command(
            sandbox, workspace, "check", command, limit or minutes * 60, self._run.stop.wait
        )
        self._check_result = result
        self._record(check_exit_code=result.exit_code, check_duration_ms=result.duration_ms)
        try:
            self.folder.check_log.write_text(result.output_tail, encoding="utf-8")
        except OSError:
            log.exception("shot %s/%d: no check log written", self._run.id, self.number)
        if result.timed_out:
            return f"check timed out after {f'{limit:g} s' if limit else plural(minutes, 'minute')}"
        if result.passed:
            return f"check passed in {format_duration(result.duration_ms)}"
        return f"check failed (exit {result.exit_code})"

    def _user_command(
        self: PhaseHost,
        sandbox: SandboxHandle,
        workspace: Workspace,
        name: str,
        command: str,
        seconds: float,
        stopped: Callable[[float], bool],
    ) -> CommandResult:
        result = run_command(
            sandbox,
            name=name,
            command=command,
            work=workspace.work,
            folder=f"{workspace.home}/.multishot",
            time_limit_seconds=max(1.0, seconds),
            hidden_env=self._engine.credentials.sandbox_env(),
            stopped=stopped,
            poll_seconds=self._engine.settings.poll_seconds,
        )
        if result is None:
            self._check_stop()
            raise AssertionError("a command stopped early with no reason to stop")
        return result

    def _late(self: PhaseHost, seconds: float) -> bool:
        """Wait up to ``seconds``; True once the run stops or the shot's time is up."""
        remaining = self._deadline - time.monotonic()
        return self._run.stop.wait(max(0.0, min(seconds, remaining))) or remaining <= seconds
