"""One shot: its sandbox, its Claude runs, its log and its results, on its own thread.

The shot's status changes only in :meth:`Shot._move`, which checks the move
against :data:`~tray.runs.status.SHOT_TRANSITIONS`, records it in the history and
emits it. How the shot ends is an explicit :class:`Outcome` handed from step to
step, never a field left behind by an earlier method.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shlex
import time
from pathlib import Path
from typing import Any, Protocol

from tray.credentials.model import Credentials
from tray.errors import DaytonaKeyRejected, MultishotError, SandboxError
from tray.failures import FailureKind, policy_for
from tray.redaction import redact
from tray.runs.claude import claude_command, retry_label
from tray.runs.commands import CommandResult
from tray.runs.display import format_reset, plural
from tray.runs.events import EngineEvent, ShotChanged, ShotSnapshot
from tray.runs.history import History
from tray.runs.layout import ShotFolder
from tray.runs.log_pipe import ClaudeOutput, LogPipe, ShotLog
from tray.runs.phases import COMMITTER, Outcome, ShotStop, UserPhases, Workspace
from tray.runs.settings import EngineSettings
from tray.runs.state import RunState
from tray.runs.status import SHOT_TRANSITIONS, ShotStatus
from tray.sandbox.daytona import DaytonaClient, SandboxHandle, sandbox_labels
from tray.scanner import LogScanner, ScanEvent

__all__ = ["Outcome", "Shot", "ShotEngine", "Workspace"]

log = logging.getLogger(__name__)
# A limit that resets at 19:32 may still refuse at 19:32:00.
RESET_MARGIN_SECONDS = 5.0
# An empty starting repository's only commit, made identical in every sandbox.
EMPTY_START_DATE = "2000-01-01T00:00:00+0000"


class ShotEngine(Protocol):
    """What a shot needs from the manager that runs it."""

    @property
    def history(self) -> History: ...
    @property
    def settings(self) -> EngineSettings: ...
    @property
    def credentials(self) -> Credentials: ...
    def daytona(self) -> DaytonaClient: ...
    def emit(self, event: EngineEvent) -> None: ...
    def report_failure(self, run: RunState, shot: int, event: ScanEvent) -> None: ...
    def note_base_commit(self, run: RunState, shot: int, commit: str) -> None: ...
    def stop_run(self, run: RunState, kind: FailureKind, excerpt: str) -> None: ...


class Shot(UserPhases):
    """One attempt. Only its own thread calls :meth:`run` and moves its status.

    Long because the steps of a shot (create, clone, prepare, run Claude with its
    re-runs, collect, delete) share one state machine and one sandbox; the output
    pipe, what Claude printed and the outcome are already classes of their own.
    """

    def __init__(
        self, engine: ShotEngine, run: RunState, number: int, folder: ShotFolder | None = None
    ) -> None:
        self._engine = engine
        self._run = run
        self.number = number
        self.folder = folder or run.folder.shot(number)
        self.folder.path.mkdir(parents=True, exist_ok=True)
        self._status = ShotStatus.QUEUED
        self._detail = ""
        self._failure: FailureKind | None = None
        self._sandbox: SandboxHandle | None = None  # set once the sandbox exists
        self.sandbox_left = False  # its sandbox could not be deleted
        self._output = ClaudeOutput()
        self._scanner = LogScanner(credential=engine.credentials.auth_method)
        self._log = ShotLog(self.folder)
        self._exit_code: int | None = None
        self._patch: Path | None = None
        self._changed_files: list[str] = []
        self._setup_result: CommandResult | None = None
        self._check_result: CommandResult | None = None
        limit = engine.settings.time_limit_seconds or run.spec.time_limit_minutes * 60
        self._deadline = time.monotonic() + limit

    @property
    def status(self) -> ShotStatus:
        return self._status

    # -- lifecycle ---------------------------------------------------------------------

    def run(self) -> None:
        self._record(started_at=time.time())
        outcome = self._work()
        self._log.close()
        self._finish(self._delete_sandbox(outcome))

    def _work(self) -> Outcome:
        try:
            self._check_stop()
            self._move(ShotStatus.CREATING)
            sandbox = self._create_sandbox()
            return self._use(sandbox, self._prepare_workspace(sandbox))
        except ShotStop as stop:
            return stop.outcome
        except DaytonaKeyRejected as exc:
            self._engine.stop_run(self._run, FailureKind.DAYTONA_KEY_REJECTED, exc.message)
            return self._failed_with(FailureKind.DAYTONA_KEY_REJECTED, exc.message)
        except MultishotError as exc:
            return Outcome(ShotStatus.FAILED, exc.message)
        except Exception as exc:
            log.exception("shot %s/%d crashed", self._run.id, self.number)
            return Outcome(
                ShotStatus.FAILED, f"Unexpected error: {redact(str(exc)) or type(exc).__name__}"
            )

    def _use(self, sandbox: SandboxHandle, workspace: Workspace) -> Outcome:
        """The shot's work once its sandbox is ready (the judge's session does less)."""
        workspace = self._start_round(sandbox, workspace)
        self._setup(sandbox, workspace)
        self._run_claude(sandbox, workspace)
        stopping = self._output.stopping_failure
        if stopping is not None:  # this shot's own output: whatever the run's stop says
            return self._failed_with(stopping.kind, stopping.excerpt)
        self._collect(sandbox, workspace)
        outcome = self._claude_outcome()
        # Claude's process ended by itself: its changes are checked even when its result
        # is an error (turn or budget limit), since they may still be what works.
        checked = self._check(sandbox, workspace)
        detail = f"{outcome.detail}; {checked}" if checked else outcome.detail
        return Outcome(outcome.status, detail)

    def _failed_with(self, kind: FailureKind, excerpt: str) -> Outcome:
        self._failure = kind
        return Outcome(policy_for(kind).shot_status, failure_detail(kind, excerpt))

    def _move(self, status: ShotStatus, detail: str = "", **record: Any) -> None:
        """The one place the status changes: checked, recorded, emitted."""
        if status is not self._status and status not in SHOT_TRANSITIONS[self._status]:
            raise RuntimeError(f"shot {self.number}: {self._status.name} -> {status.name}")
        self._status, self._detail = status, detail
        try:
            self._record(status=status.value, detail=detail, **record)
        finally:
            self._announce()

    def _announce(self) -> None:
        self._engine.emit(ShotChanged(self.snapshot()))

    def _record(self, **fields: Any) -> None:
        self._engine.history.update_shot(self._run.id, self.number, **fields)

    def _finish(self, outcome: Outcome) -> None:
        if outcome.status is ShotStatus.AUTH_FAILED and self._failure is None:
            self._failure = self._run.stop.failure
        try:
            self._move(
                outcome.status,
                outcome.detail,
                finished_at=time.time(),
                exit_code=self._exit_code,
                cost_usd=self._output.cost_usd,
                turns=self._output.turns,
                duration_ms=self._output.duration_ms,
                error_kind=self._failure.value if self._failure else None,
                log_path=str(self.folder.stdout_log),
                patch_path=str(self._patch) if self._patch else None,
                changed_files=self._changed_files,
            )
        except Exception:
            log.exception("shot %s/%d: its end could not be recorded", self._run.id, self.number)
        try:
            self.folder.summary.write_text(json.dumps(self.summary(), indent=2))
        except OSError:
            log.exception("shot %s/%d: its summary could not be written", self._run.id, self.number)

    def _delete_sandbox(self, outcome: Outcome) -> Outcome:
        if self._sandbox is None:
            return outcome
        self._move(ShotStatus.DELETING, "Deleting the sandbox")
        try:
            self._engine.daytona().delete_sandbox(self._sandbox.id)
        except MultishotError as exc:
            return self._left_behind(self._sandbox.id, outcome, exc)
        return outcome

    def _left_behind(self, sandbox_id: str, outcome: Outcome, exc: MultishotError) -> Outcome:
        log.warning("could not delete sandbox %s: %s", sandbox_id, exc.message)
        self.sandbox_left = True
        self._engine.history.note_leftover(sandbox_id, self._run.id, self.number)
        detail = (
            f"{outcome.detail} Its sandbox {sandbox_id} could not be deleted ({exc.message}); "
            "`multishot cleanup` deletes it."
        )
        return Outcome(outcome.status, detail.strip())

    # -- steps -------------------------------------------------------------------------

    def _create_sandbox(self) -> SandboxHandle:
        settings = self._engine.settings
        spec = self._run.spec
        # The sandbox outlives Claude's time limit by the check's: Daytona must not stop it.
        limit = spec.time_limit_minutes + (spec.check_time_limit_minutes if spec.check else 0)
        creation = self._engine.daytona().start_creating(
            env=self._engine.credentials.sandbox_env(),
            labels=sandbox_labels(self._run.id, self.number),
            auto_stop_minutes=limit + settings.auto_stop_margin_minutes,
            auto_delete_minutes=settings.auto_delete_minutes,
            lifetime_minutes=limit + settings.lifetime_margin_minutes,
        )
        try:
            sandbox = creation.wait(self._run.stop.is_set)
        except SandboxError as exc:
            raise ShotStop(ShotStatus.FAILED, f"The sandbox did not start: {exc.message}") from None
        if sandbox is None:  # stopped while it was being created: delete it once it exists
            self._move(ShotStatus.DELETING, "Deleting the sandbox being created")
            stop = self._run.stop
            try:
                creation.abandon()
            except MultishotError as exc:
                outcome = Outcome(stop.status, stop.detail)
                for sandbox_id in creation.undeleted:
                    outcome = self._left_behind(sandbox_id, outcome, exc)
                raise ShotStop(outcome.status, outcome.detail) from None
            raise ShotStop(stop.status, stop.detail)
        self._sandbox = sandbox
        self._record(sandbox_id=sandbox.id)
        return sandbox

    def _prepare_workspace(self, sandbox: SandboxHandle) -> Workspace:
        spec = self._run.spec
        home = sandbox.home.rstrip("/")
        work = f"{home}/work"
        self._check_stop()
        if spec.repo_url:
            self._move(ShotStatus.CLONING, f"Cloning {spec.repo_url}")
            sandbox.clone(spec.repo_url, work, spec.branch)
        else:
            self._move(ShotStatus.CLONING, "Starting an empty repository")
            # Dated, so that it is the same commit in every sandbox and every round.
            self._exec_ok(
                sandbox,
                f"git init -q {shlex.quote(work)} && cd {shlex.quote(work)} && "
                f"{COMMITTER} GIT_AUTHOR_DATE={EMPTY_START_DATE} "
                f"GIT_COMMITTER_DATE={EMPTY_START_DATE} "
                "git commit -q --allow-empty -m 'Multishot: starting point'",
                "start an empty repository",
            )
        start = self._run.start.base_commit
        if start is not None:  # a later round starts where the first one did
            self._exec_ok(
                sandbox,
                f"git checkout -q --detach {shlex.quote(start)}",
                f"check out the first round's starting commit {start[:12]}",
                cwd=work,
            )
        base = self._exec_ok(sandbox, "git rev-parse HEAD", "read the starting commit", cwd=work)
        self._note_base(base)
        self._check_stop()
        self._move(ShotStatus.PREPARING, "Checking for Claude Code")
        code, _ = sandbox.exec("claude --version", cwd=home)
        if code != 0:
            self._move(ShotStatus.PREPARING, "Installing Claude Code")
            self._exec_ok(
                sandbox,
                "npm install -g @anthropic-ai/claude-code",
                "install Claude Code",
                timeout=900,
            )
        folder = f"{home}/.multishot"
        self._exec_ok(sandbox, f"mkdir -p {shlex.quote(folder)}", "make a folder for Multishot")
        # A file, not the environment or a command line: a long prompt fits (the
        # kernel caps one argument at 128 kB) and no shell ever parses it.
        prompt_path = f"{folder}/prompt-{self.number}.txt"
        sandbox.upload(spec.prompt_for(self.number).encode("utf-8"), prompt_path)
        return Workspace(home, work, base, prompt_path)

    def _note_base(self, commit: str) -> None:
        self._engine.note_base_commit(self._run, self.number, commit)

    def _run_claude(self, sandbox: SandboxHandle, workspace: Workspace) -> None:
        settings = self._engine.settings
        for attempt in range(1, settings.claude_reruns + 2):
            self._check_stop()
            self._scanner.reset()
            self._output.start_attempt()
            self._move(
                ShotStatus.RUNNING,
                "Claude is working" + (f" (attempt {attempt})" if attempt > 1 else ""),
            )
            self._exit_code = self._attempt(sandbox, workspace, attempt)
            retry = self._output.last_failure
            if self._succeeded() or retry is None:
                return
            delay = self._pause_before_rerun(retry, attempt)
            if delay is None:
                return
            if self._run.stop.wait(min(delay, max(0.0, self._deadline - time.monotonic()))):
                self._check_stop()

    def _pause_before_rerun(self, retry: ScanEvent, attempt: int) -> float | None:
        """How long to wait before Claude runs again after this failure; None: it won't."""
        settings = self._engine.settings
        if retry.kind is FailureKind.SESSION_LIMIT:
            wait = _seconds_until(retry.resets_at)
            if wait is None or wait > settings.wait_for_reset_minutes * 60:
                return None  # too far off: the shot ends, saying when it resets
            if attempt > settings.claude_reruns:
                return None
            when = format_reset(retry.resets_at) if retry.resets_at else ""
            self._move(ShotStatus.BACKING_OFF, f"Usage limit reached: resuming at {when}")
            return wait + RESET_MARGIN_SECONDS
        if not policy_for(retry.kind).retries:
            return None
        what = retry.kind.value.replace("_", " ")
        if attempt > settings.claude_reruns:
            raise ShotStop(ShotStatus.FAILED, f"Still {what} after {attempt} attempts.")
        delay = settings.backoff.delay(attempt, retry.retry_after)
        self._move(ShotStatus.BACKING_OFF, f"{what.capitalize()}: retrying in {delay:.1f} s")
        return delay

    def _attempt(self, sandbox: SandboxHandle, workspace: Workspace, attempt: int) -> int | None:
        settings = self._engine.settings
        session = f"multishot-claude-{attempt}"
        command_id = sandbox.start_command(
            session,
            claude_command(
                self._run.spec, self._engine.settings, workspace.work, workspace.prompt_path
            ),
        )
        pipe = LogPipe(self._log, self._scanner, self._output, self._on_failure)
        pipe.follow(sandbox, session, command_id)
        shown: ScanEvent | None = None
        try:
            while True:
                self._check_stop()
                retrying = self._output.retrying
                if retrying is not None and retrying is not shown:
                    shown = retrying
                    self._move(ShotStatus.RUNNING, retry_label(retrying))
                if pipe.stream_ended(0):
                    # Ended before the exit code is known, even with a "normal" close:
                    # a drop. The logs endpoint supplies the rest from now on.
                    pipe.catch_up(sandbox, session, command_id)
                code = sandbox.exit_code(session, command_id)
                if code is not None:
                    break
                self._run.stop.wait(settings.poll_seconds)
            if not pipe.stream_ended(settings.stream_join_seconds) or pipe.dropped:
                pipe.catch_up(sandbox, session, command_id)
            return code
        finally:
            pipe.close()

    def _on_failure(self, event: ScanEvent) -> None:
        """A failure in this shot's output (called from the log loop)."""
        self._engine.report_failure(self._run, self.number, event)

    def _collect(self, sandbox: SandboxHandle, workspace: Workspace) -> None:
        self._move(ShotStatus.COLLECTING, "Collecting the changes")
        patch = f"{workspace.home}/.multishot/shot-{self.number}.patch"
        names = f"{workspace.home}/.multishot/shot-{self.number}.files"
        base = shlex.quote(workspace.base)
        self._exec_ok(
            sandbox,
            f"git add -A && git diff --cached --binary {base} > {shlex.quote(patch)} && "
            f"git diff --cached --name-only -z {base} > {shlex.quote(names)}",
            "collect the changes",
            cwd=workspace.work,
        )
        self._patch = self.folder.patch
        self._patch.write_bytes(sandbox.download(patch))
        self._changed_files = [
            n for n in sandbox.download(names).decode("utf-8", "replace").split("\0") if n
        ]

    def _claude_outcome(self) -> Outcome:
        last = self._output.last_failure
        if last is not None and last.kind is FailureKind.SESSION_LIMIT:
            self._failure = last.kind
            when = f"; it resets at {format_reset(last.resets_at)}." if last.resets_at else "."
            return Outcome(
                policy_for(last.kind).shot_status,
                "The subscription's usage limit is reached" + when,
            )
        if self._succeeded():
            return Outcome(ShotStatus.SUCCEEDED, files_changed(len(self._changed_files)))
        result = self._output.result
        reason = str(result.get("result") or result.get("subtype") or "").strip()
        status = result.get("api_error_status")
        detail = f"Claude exited with code {self._exit_code}"
        if status:
            detail += f" (API error {status})"
        reason = reason or self._output.last_stderr_line  # e.g. why it refused to start
        if reason:
            detail += f": {reason[:200]}"
        return Outcome(ShotStatus.FAILED, redact(detail))

    # -- helpers -----------------------------------------------------------------------

    def _succeeded(self) -> bool:
        """Claude exited 0 and its final result is not an error (a retry on the way is fine)."""
        result = self._output.result
        return self._exit_code == 0 and bool(result) and not result.get("is_error")

    def _exec_ok(
        self,
        sandbox: SandboxHandle,
        command: str,
        what: str,
        *,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: int = 300,
    ) -> str:
        code, output = sandbox.exec(command, cwd=cwd, env=env, timeout=timeout)
        if code != 0:
            raise ShotStop(
                ShotStatus.FAILED,
                f"Could not {what} (exit {code}): {redact(output.strip())[-300:]}",
            )
        return output.strip()

    def _check_stop(self) -> None:
        stop = self._run.stop
        if stop.is_set():
            raise ShotStop(stop.status, stop.detail)
        if time.monotonic() > self._deadline:
            limit = self._engine.settings.time_limit_seconds
            what = f"{limit:g} s" if limit else plural(self._run.spec.time_limit_minutes, "minute")
            raise ShotStop(ShotStatus.TIMED_OUT, f"Stopped at the time limit ({what}).")

    def summary(self) -> dict[str, Any]:
        result = self._output.result
        return {
            "shot": self.number,
            "status": self._status.value,
            "detail": self._detail,
            "exit_code": self._exit_code,
            "is_error": result.get("is_error"),
            "api_error_status": result.get("api_error_status"),
            "cost_usd": self._output.cost_usd,
            "turns": self._output.turns,
            "duration_ms": self._output.duration_ms,
            "error_kind": self._failure.value if self._failure else None,
            "changed_files": self._changed_files,
            "patch": str(self._patch) if self._patch else None,
            "log": str(self.folder.stdout_log),
            "setup_exit_code": self._setup_result.exit_code if self._setup_result else None,
            "check": None if self._check_result is None else _check_summary(self._check_result),
        }

    def snapshot(self) -> ShotSnapshot:
        return ShotSnapshot(
            run_id=self._run.id,
            number=self.number,
            status=self._status,
            detail=self._detail,
            cost_usd=self._output.cost_usd,
            duration_ms=self._output.duration_ms,
            patch_path=str(self._patch) if self._patch else None,
            failure=self._failure,
            check_exit_code=self._check_result.exit_code if self._check_result else None,
        )


def _check_summary(result: CommandResult) -> dict[str, Any]:
    return {
        "exit_code": result.exit_code,
        "passed": result.passed,
        "timed_out": result.timed_out,
        "duration_ms": result.duration_ms,
    }


def _seconds_until(when: dt.datetime | None) -> float | None:
    if when is None:
        return None
    seconds = (when - dt.datetime.now(dt.timezone.utc)).total_seconds()
    return max(0.0, seconds)


def failure_detail(kind: FailureKind, excerpt: str) -> str:
    """What stopped a shot, in words ("Claude token expired: …"), not the kind's name."""
    return f"{policy_for(kind).title}: {excerpt}"


def files_changed(count: int) -> str:
    return "1 file changed" if count == 1 else f"{count} files changed"
