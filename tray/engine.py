"""The run engine: N shots of Claude Code, each in its own Daytona sandbox, in parallel.

`RunManager` is the API the shells use. Every blocking call happens on worker
threads; events reach subscribers on those threads (a Tk shell hands them to its
main thread through a queue). Every sandbox is deleted when its shot ends,
whatever happened.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import logging
import shlex
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tray import config
from tray.credentials import Credentials
from tray.daytona_api import (
    DaytonaClient,
    DaytonaKeyRejected,
    LogStream,
    LogStreamDropped,
    SandboxError,
    SandboxHandle,
)
from tray.errors import MultishotError
from tray.history import HEARTBEAT_SECONDS, History
from tray.redaction import StreamRedactor, redact
from tray.retry import Backoff
from tray.run_spec import RunSpec
from tray.scanner import LogScanner, ScanEvent, ScanKind

log = logging.getLogger(__name__)

AUTH_KINDS = frozenset(
    {
        ScanKind.EXPIRED,
        ScanKind.REVOKED,
        ScanKind.INVALID,
        ScanKind.NOT_LOGGED_IN,
        ScanKind.ORG_DISABLED,
        ScanKind.BILLING,
    }
)
RETRY_KINDS = frozenset({ScanKind.RATE_LIMIT, ScanKind.OVERLOADED})
CLAUDE_RERUNS = 3
POLL_SECONDS = 0.5
STREAM_JOIN_SECONDS = 15.0
_MAX_RESULT_LINE = 1024 * 1024
# Daytona's idle auto-stop can ignore a running process: keep it off the shot's way.
AUTO_STOP_MARGIN_MINUTES = 15
LABEL_APP = "app"
LABEL_RUN = "multishot-run"
LABEL_SHOT = "multishot-shot"
APP_LABEL_VALUE = "multishot"


class ShotStatus(str, enum.Enum):
    QUEUED = "queued"
    CREATING = "creating sandbox"
    CLONING = "cloning"
    PREPARING = "preparing"
    RUNNING = "running"
    BACKING_OFF = "backing off"
    COLLECTING = "collecting"
    DELETING = "deleting sandbox"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    AUTH_FAILED = "auth_failed"
    QUOTA_EXHAUSTED = "quota_exhausted"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = {
    ShotStatus.SUCCEEDED,
    ShotStatus.FAILED,
    ShotStatus.AUTH_FAILED,
    ShotStatus.QUOTA_EXHAUSTED,
    ShotStatus.TIMED_OUT,
    ShotStatus.CANCELLED,
}
_WORKING = {ShotStatus.RUNNING.value, ShotStatus.BACKING_OFF.value}


def count_working(statuses: Iterable[str]) -> int:
    """How many of these shot statuses mean Claude is at work (running or backing off)."""
    return sum(1 for status in statuses if status in _WORKING)


@dataclasses.dataclass(frozen=True)
class ShotSnapshot:
    run_id: str
    number: int
    status: ShotStatus
    detail: str = ""
    cost_usd: float | None = None
    duration_ms: int | None = None
    patch_path: str | None = None
    error_kind: str | None = None


@dataclasses.dataclass(frozen=True)
class ShotChanged:
    shot: ShotSnapshot


@dataclasses.dataclass(frozen=True)
class ScanNotice:
    run_id: str
    shot: int
    event: ScanEvent


@dataclasses.dataclass(frozen=True)
class AuthFailure:
    """Once per run: the shared credential failed; every shot of the run was stopped."""

    run_id: str
    kind: ScanKind
    event: ScanEvent


@dataclasses.dataclass(frozen=True)
class RunFinished:
    run_id: str
    status: str
    succeeded: int
    total: int
    detail: str = ""


EngineEvent = ShotChanged | ScanNotice | AuthFailure | RunFinished
Subscriber = Callable[[EngineEvent], None]


def runs_folder() -> Path:
    return config.data_dir() / "runs"


class _Stop:
    """Why a run or shot must stop early; the first reason wins."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.status = ShotStatus.CANCELLED
        self.detail = ""

    def set(self, status: ShotStatus, detail: str) -> None:
        if not self._event.is_set():
            self.status, self.detail = status, detail
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)


class _Run:
    def __init__(self, run_id: str, spec: RunSpec, folder: Path) -> None:
        self.id = run_id
        self.spec = spec
        self.folder = folder
        self.stop = _Stop()
        self.auth_failure: ScanEvent | None = None
        self.fatal: str | None = None
        self.lock = threading.Lock()
        self.done = threading.Event()


class RunManager:
    """Starts, tracks and cancels runs. Thread-safe."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        history: History | None = None,
        results_root: Path | None = None,
        daytona_url: str | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._credentials = credentials
        self._history = history or History()
        self._results_root = results_root or runs_folder()
        self._daytona_url = daytona_url
        self._backoff = backoff or Backoff()
        self._client: DaytonaClient | None = None
        self._client_lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._closing = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name="run-heartbeat", daemon=True)
        self._heartbeat.start()

    @property
    def history(self) -> History:
        return self._history

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def start(self, spec: RunSpec) -> str:
        """Record the run and start its shots in worker threads; return at once."""
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        run = _Run(run_id, spec, self._results_root / run_id)
        with self._lock:
            self._runs[run_id] = run
        coordinator = threading.Thread(
            target=self._coordinate, args=(run,), name=f"run-{run_id}", daemon=True
        )
        coordinator.start()
        return run_id

    def cancel(self, run_id: str) -> bool:
        with self._lock:
            run = self._runs.get(run_id)
        if run is None:
            return self._history.request_cancel(run_id)
        run.stop.set(ShotStatus.CANCELLED, "Cancelled.")
        return True

    def active(self) -> list[str]:
        with self._lock:
            return [run_id for run_id, run in self._runs.items() if not run.done.is_set()]

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        with self._lock:
            run = self._runs.get(run_id)
        return True if run is None else run.done.wait(timeout)

    def shutdown(self, timeout: float = 120) -> None:
        """Cancel every run and wait for their sandboxes to be deleted (app quit)."""
        for run_id in self.active():
            self.cancel(run_id)
        deadline = time.monotonic() + timeout
        for run_id in list(self._runs):
            self.wait(run_id, max(0.0, deadline - time.monotonic()))
        self._closing.set()

    def set_credentials(self, credentials: Credentials) -> None:
        """Use new credentials for every sandbox created from now on."""
        with self._client_lock:
            if credentials.daytona_api_key != self._credentials.daytona_api_key:
                self._client = None
            self._credentials = credentials

    def cleanup_orphans(self) -> list[str]:
        """Delete every Multishot sandbox that no live run owns (after a crash or kill -9).

        Blocking: call it from a worker thread. Runs whose owner stopped heart-beating
        are marked "interrupted" in the history first.
        """
        self._history.mark_abandoned()
        live = self._history.live_run_ids()
        client = self.daytona()
        deleted = []
        for sandbox in client.list_sandboxes({LABEL_APP: APP_LABEL_VALUE}):
            if sandbox.labels.get(LABEL_RUN) in live:
                continue
            client.delete_sandbox(sandbox.id)
            deleted.append(sandbox.id)
        return deleted

    def daytona(self) -> DaytonaClient:
        with self._client_lock:
            if self._client is None:
                self._client = DaytonaClient(
                    self._credentials.daytona_api_key, self._daytona_url, self._backoff
                )
            return self._client

    def _emit(self, event: EngineEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("an engine subscriber failed")

    def _beat(self) -> None:
        while not self._closing.wait(HEARTBEAT_SECONDS):
            active = self.active()
            if not active:
                continue
            try:
                for run_id in self._history.heartbeat(active):
                    self.cancel(run_id)
            except Exception:
                log.exception("heartbeat failed")

    def _coordinate(self, run: _Run) -> None:
        try:
            run.folder.mkdir(parents=True, exist_ok=True)
            spec = dataclasses.asdict(run.spec)
            (run.folder / "run.json").write_text(json.dumps(spec, indent=2))
            self._history.add_run(run.id, run.spec.prompt, spec, run.folder, run.spec.shots)
        except (OSError, sqlite3.Error) as exc:
            detail = f"The run could not be recorded ({exc}); nothing was started."
            run.done.set()
            self._emit(RunFinished(run.id, "failed", 0, run.spec.shots, detail))
            return
        try:
            self.daytona()
        except MultishotError as exc:
            run.fatal = exc.message
            run.stop.set(ShotStatus.FAILED, exc.message)
        workers = [_Shot(self, run, number) for number in range(1, run.spec.shots + 1)]
        threads = [
            threading.Thread(target=w.run, name=f"shot-{run.id}-{w.number}", daemon=True)
            for w in workers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcomes = [w.status for w in workers]
        succeeded = outcomes.count(ShotStatus.SUCCEEDED)
        status, detail = _run_outcome(run, outcomes, succeeded)
        self._history.finish_run(run.id, status, detail)
        (run.folder / "summary.json").write_text(
            json.dumps(
                {
                    "run_id": run.id,
                    "status": status,
                    "detail": detail,
                    "succeeded": succeeded,
                    "shots": [w.summary() for w in workers],
                },
                indent=2,
            )
        )
        run.done.set()
        self._emit(RunFinished(run.id, status, succeeded, len(workers), detail))

    def _report_scan(self, run: _Run, shot: int, event: ScanEvent) -> None:
        self._emit(ScanNotice(run.id, shot, event))
        if event.kind not in AUTH_KINDS:
            return
        with run.lock:
            first = run.auth_failure is None
            if first:
                run.auth_failure = event
        if first:
            run.stop.set(ShotStatus.AUTH_FAILED, _auth_detail(event))
            self._emit(AuthFailure(run.id, event.kind, event))


def _auth_detail(event: ScanEvent) -> str:
    return f"Authentication failed ({event.kind.value}): {event.excerpt}"


def _run_outcome(run: _Run, outcomes: list[ShotStatus], succeeded: int) -> tuple[str, str]:
    if run.fatal:
        return "failed", run.fatal
    if run.auth_failure is not None:
        return "auth_failed", _auth_detail(run.auth_failure)
    if run.stop.is_set() and run.stop.status is ShotStatus.CANCELLED:
        return "cancelled", "Cancelled."
    if succeeded == len(outcomes):
        return "done", f"{succeeded}/{len(outcomes)} shots succeeded."
    if succeeded:
        return "partial", f"{succeeded}/{len(outcomes)} shots succeeded."
    return "failed", "No shot succeeded."


class _ShotStop(Exception):
    """Raised inside a shot to end it with a given status."""

    def __init__(self, status: ShotStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _Shot:
    """One attempt: its sandbox, its Claude runs, its log and its results."""

    def __init__(self, manager: RunManager, run: _Run, number: int) -> None:
        self.manager = manager
        self.run_state = run
        self.spec = run.spec
        self.number = number
        self.folder = run.folder / f"shot-{number}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.status = ShotStatus.QUEUED
        self.detail = ""
        self.sandbox: SandboxHandle | None = None
        self.scanner = LogScanner()
        self.result_event: dict[str, Any] | None = None
        self.exit_code: int | None = None
        self.patch_path: Path | None = None
        self.changed_files: list[str] = []
        self.error_kind: str | None = None
        self.started = time.time()
        self.deadline = time.monotonic() + self.spec.time_limit_minutes * 60
        self._last_scan: ScanEvent | None = None
        self._log = _ShotLog(self.folder)
        self.base = ""
        self.prompt_path = ""

    # -- lifecycle ---------------------------------------------------------------------

    def run(self) -> None:
        history = self.manager.history
        history.update_shot(self.run_state.id, self.number, started_at=self.started)
        try:
            self._check_stop()
            self._set(ShotStatus.CREATING)
            self.sandbox = self._create_sandbox()
            history.update_shot(self.run_state.id, self.number, sandbox_id=self.sandbox.id)
            work = self._prepare_workspace(self.sandbox)
            self._run_claude(self.sandbox, work)
            self._collect(self.sandbox, work)
            self._finish_from_result()
        except _ShotStop as stop:
            self._end(stop.status, stop.detail)
        except DaytonaKeyRejected as exc:
            self.run_state.fatal = exc.message
            self.run_state.stop.set(ShotStatus.FAILED, exc.message)
            self._end(ShotStatus.FAILED, exc.message)
        except MultishotError as exc:
            self._end(ShotStatus.FAILED, exc.message)
        except Exception as exc:
            log.exception("shot %s/%d crashed", self.run_state.id, self.number)
            self._end(
                ShotStatus.FAILED, f"Unexpected error: {redact(str(exc)) or type(exc).__name__}"
            )
        finally:
            self._log.close()
            self._delete_sandbox()
            self._record_final()

    def _create_sandbox(self) -> SandboxHandle:
        labels = {
            LABEL_APP: APP_LABEL_VALUE,
            LABEL_RUN: self.run_state.id,
            LABEL_SHOT: str(self.number),
        }
        try:
            return self.manager.daytona().create_sandbox(
                env=self.manager._credentials.sandbox_env(),
                labels=labels,
                auto_stop_minutes=self.spec.time_limit_minutes + AUTO_STOP_MARGIN_MINUTES,
                auto_delete_minutes=0,
            )
        except SandboxError as exc:
            raise _ShotStop(
                ShotStatus.FAILED, f"The sandbox did not start: {exc.message}"
            ) from None

    def _prepare_workspace(self, sandbox: SandboxHandle) -> str:
        home = sandbox.home.rstrip("/")
        work = f"{home}/work"
        self._check_stop()
        if self.spec.repo_url:
            self._set(ShotStatus.CLONING, f"Cloning {self.spec.repo_url}")
            sandbox.clone(self.spec.repo_url, work, self.spec.branch)
        else:
            self._set(ShotStatus.CLONING, "Starting an empty repository")
            self._exec_ok(
                sandbox,
                f"git init -q {shlex.quote(work)} && cd {shlex.quote(work)} && "
                "git -c user.name=Multishot -c user.email=multishot@localhost "
                "commit -q --allow-empty -m 'Multishot: starting point'",
                "start an empty repository",
            )
        self.base = self._exec_ok(
            sandbox, "git rev-parse HEAD", "read the starting commit", cwd=work
        )
        self._check_stop()
        self._set(ShotStatus.PREPARING, "Checking for Claude Code")
        code, _ = sandbox.exec("claude --version", cwd=home)
        if code != 0:
            self._set(ShotStatus.PREPARING, "Installing Claude Code")
            self._exec_ok(
                sandbox,
                "npm install -g @anthropic-ai/claude-code",
                "install Claude Code",
                timeout=900,
            )
        self.prompt_path = f"{home}/.multishot/prompt-{self.number}.txt"
        # The prompt travels in the request's environment and is written by printf: it
        # reaches Claude on stdin byte for byte, never parsed by a shell.
        self._exec_ok(
            sandbox,
            'mkdir -p "$HOME/.multishot" && printf "%s" "$MULTISHOT_PROMPT" > '
            + shlex.quote(self.prompt_path),
            "hand the prompt to the sandbox",
            env={"MULTISHOT_PROMPT": self.spec.prompt_for(self.number)},
        )
        return work

    def _claude_command(self, work: str) -> str:
        args = [
            "claude",
            "-p",
            "--output-format",
            "stream-json",
            "--verbose",
            "--dangerously-skip-permissions",
        ]
        if self.spec.model:
            args += ["--model", self.spec.model]
        if self.spec.max_turns:
            args += ["--max-turns", str(self.spec.max_turns)]
        if self.spec.max_budget_usd:
            args += ["--max-budget-usd", f"{self.spec.max_budget_usd:g}"]
        quoted = " ".join(shlex.quote(a) for a in args)
        return f"cd {shlex.quote(work)} && {quoted} < {shlex.quote(self.prompt_path)}"

    def _run_claude(self, sandbox: SandboxHandle, work: str) -> None:
        for attempt in range(1, CLAUDE_RERUNS + 2):
            self._check_stop()
            self.scanner.reset()
            self._last_scan = None
            self.result_event = None
            self._set(
                ShotStatus.RUNNING,
                "Claude is working" + (f" (attempt {attempt})" if attempt > 1 else ""),
            )
            self.exit_code = self._attempt(sandbox, work, attempt)
            retry = self._last_scan
            if self._succeeded() or retry is None or retry.kind not in RETRY_KINDS:
                return
            if attempt > CLAUDE_RERUNS:
                raise _ShotStop(
                    ShotStatus.FAILED,
                    f"Still {retry.kind.value.replace('_', ' ')} after {attempt} attempts.",
                )
            delay = self.manager._backoff.delay(attempt, retry.retry_after)
            self._set(
                ShotStatus.BACKING_OFF,
                f"{retry.kind.value.replace('_', ' ').capitalize()}: retrying in {delay:.1f} s",
            )
            if self.run_state.stop.wait(delay):
                self._check_stop()

    def _attempt(self, sandbox: SandboxHandle, work: str, attempt: int) -> int | None:
        session = f"multishot-claude-{attempt}"
        command_id = sandbox.start_command(session, self._claude_command(work))
        pipe = _LogPipe(self)
        pipe.live = sandbox.stream_logs(session, command_id, pipe.on_stdout, pipe.on_stderr)
        try:
            while True:
                self._check_stop()
                pipe.check_stream(0)
                if pipe.dropped:
                    pipe.catch_up(sandbox, session, command_id)
                code = sandbox.exit_code(session, command_id)
                if code is not None:
                    break
                self.run_state.stop.wait(POLL_SECONDS)
            if not pipe.check_stream(STREAM_JOIN_SECONDS) or pipe.dropped:
                pipe.catch_up(sandbox, session, command_id)
            return code
        finally:
            pipe.close()

    def _collect(self, sandbox: SandboxHandle, work: str) -> None:
        self._set(ShotStatus.COLLECTING, "Collecting the changes")
        home = sandbox.home.rstrip("/")
        patch = f"{home}/.multishot/shot-{self.number}.patch"
        names = f"{home}/.multishot/shot-{self.number}.files"
        base = shlex.quote(self.base)
        self._exec_ok(
            sandbox,
            f"git add -A && git diff --cached --binary {base} > {shlex.quote(patch)} && "
            f"git diff --cached --name-only -z {base} > {shlex.quote(names)}",
            "collect the changes",
            cwd=work,
        )
        patch_bytes = sandbox.download(patch)
        self.patch_path = self.folder / "changes.patch"
        self.patch_path.write_bytes(patch_bytes)
        self.changed_files = [
            n for n in sandbox.download(names).decode("utf-8", "replace").split("\0") if n
        ]

    def _finish_from_result(self) -> None:
        result = self.result_event or {}
        if self._last_scan is not None and self._last_scan.kind is ScanKind.SESSION_LIMIT:
            when = self._last_scan.resets_at
            raise _ShotStop(
                ShotStatus.QUOTA_EXHAUSTED,
                "The subscription's usage limit is reached"
                + (f"; it resets {when}." if when else "."),
            )
        if self._succeeded():
            self._end(ShotStatus.SUCCEEDED, f"{len(self.changed_files)} files changed")
            return
        reason = str(result.get("result") or result.get("subtype") or "").strip()
        status = result.get("api_error_status")
        detail = f"Claude exited with code {self.exit_code}"
        if status:
            detail += f" (API error {status})"
        if reason:
            detail += f": {reason[:200]}"
        self._end(ShotStatus.FAILED, redact(detail))

    # -- helpers -----------------------------------------------------------------------

    def _succeeded(self) -> bool:
        """Claude exited 0 and its final result is not an error (a retry on the way is fine)."""
        result = self.result_event
        return self.exit_code == 0 and bool(result) and not (result or {}).get("is_error")

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
            raise _ShotStop(
                ShotStatus.FAILED,
                f"Could not {what} (exit {code}): {redact(output.strip())[-300:]}",
            )
        return output.strip()

    def _check_stop(self) -> None:
        stop = self.run_state.stop
        if stop.is_set():
            raise _ShotStop(stop.status, stop.detail)
        if time.monotonic() > self.deadline:
            raise _ShotStop(
                ShotStatus.TIMED_OUT,
                f"Stopped at the time limit ({_minutes(self.spec.time_limit_minutes)}).",
            )

    def on_scan_event(self, event: ScanEvent) -> None:
        self._last_scan = event
        if event.kind in AUTH_KINDS:
            self.error_kind = event.kind.value
        self.manager._report_scan(self.run_state, self.number, event)

    def on_result_line(self, line: str) -> None:
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict) and event.get("type") == "result":
                self.result_event = event

    def _set(self, status: ShotStatus, detail: str = "") -> None:
        self.status, self.detail = status, detail
        self.manager.history.update_shot(
            self.run_state.id, self.number, status=status.value, detail=detail
        )
        self.manager._emit(ShotChanged(self.snapshot()))

    def _end(self, status: ShotStatus, detail: str) -> None:
        if status is ShotStatus.AUTH_FAILED and self.run_state.auth_failure is not None:
            self.error_kind = self.run_state.auth_failure.kind.value
        self.status, self.detail = status, detail

    def _delete_sandbox(self) -> None:
        if self.sandbox is None:
            return
        final_status, final_detail = self.status, self.detail
        self._set(ShotStatus.DELETING, "Deleting the sandbox")
        try:
            self.manager.daytona().delete_sandbox(self.sandbox.id)
        except MultishotError as exc:
            log.warning("could not delete sandbox %s: %s", self.sandbox.id, exc.message)
            final_detail += f" (the sandbox could not be deleted: {exc.message})"
        self.status, self.detail = final_status, final_detail

    def _record_final(self) -> None:
        result = self.result_event or {}
        fields = {
            "status": self.status.value,
            "detail": self.detail,
            "finished_at": time.time(),
            "exit_code": self.exit_code,
            "cost_usd": _number(result.get("total_cost_usd")),
            "turns": _integer(result.get("num_turns")),
            "duration_ms": _integer(result.get("duration_ms")),
            "error_kind": self.error_kind,
            "log_path": str(self._log.stdout_path),
            "patch_path": str(self.patch_path) if self.patch_path else None,
            "changed_files": self.changed_files,
        }
        self.manager.history.update_shot(self.run_state.id, self.number, **fields)
        (self.folder / "summary.json").write_text(json.dumps(self.summary(), indent=2))
        self.manager._emit(ShotChanged(self.snapshot()))

    def summary(self) -> dict[str, Any]:
        result = self.result_event or {}
        return {
            "shot": self.number,
            "status": self.status.value,
            "detail": self.detail,
            "exit_code": self.exit_code,
            "is_error": result.get("is_error"),
            "api_error_status": result.get("api_error_status"),
            "cost_usd": _number(result.get("total_cost_usd")),
            "turns": _integer(result.get("num_turns")),
            "duration_ms": _integer(result.get("duration_ms")),
            "error_kind": self.error_kind,
            "changed_files": self.changed_files,
            "patch": str(self.patch_path) if self.patch_path else None,
            "log": str(self._log.stdout_path),
        }

    def snapshot(self) -> ShotSnapshot:
        result = self.result_event or {}
        return ShotSnapshot(
            run_id=self.run_state.id,
            number=self.number,
            status=self.status,
            detail=self.detail,
            cost_usd=_number(result.get("total_cost_usd")),
            duration_ms=_integer(result.get("duration_ms")),
            patch_path=str(self.patch_path) if self.patch_path else None,
            error_kind=self.error_kind,
        )


def _minutes(count: int) -> str:
    return f"{count} minute" if count == 1 else f"{count} minutes"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _integer(value: object) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


class _ShotLog:
    """The shot's saved output: stdout (stream-json) and stderr, redacted, append-only.

    Writes are buffered and flushed at most every half second, so a live log viewer
    sees fresh output without a system call per WebSocket frame.
    """

    FLUSH_SECONDS = 0.5

    def __init__(self, folder: Path) -> None:
        self.stdout_path = folder / "stdout.log"
        self.stderr_path = folder / "stderr.log"
        self._files = {
            "stdout": self.stdout_path.open("a", encoding="utf-8"),
            "stderr": self.stderr_path.open("a", encoding="utf-8"),
        }
        self._redactors = {name: StreamRedactor() for name in self._files}
        self._flushed_at = time.monotonic()

    def write(self, stream: str, text: str) -> None:
        self._files[stream].write(self._redactors[stream].feed(text))
        if time.monotonic() - self._flushed_at > self.FLUSH_SECONDS:
            for handle in self._files.values():
                handle.flush()
            self._flushed_at = time.monotonic()

    def flush(self) -> None:
        """Write out what the redactors hold back (an unfinished last line)."""
        for name, handle in self._files.items():
            handle.write(self._redactors[name].flush())
            handle.flush()

    def close(self) -> None:
        for handle in self._files.values():
            with contextlib.suppress(ValueError):
                handle.close()


class _LogPipe:
    """Carries one Claude attempt's output from the sandbox to the log and the scanner.

    The stream callbacks run on the shared log loop; they do only quick, non-waiting
    work (a buffered write, a scan of the chunk), so no WebSocket is ever stalled and
    no thread hop is paid per frame. Characters received
    per stream are counted so that, if the live stream drops, the logs endpoint
    supplies exactly the rest: nothing lost, nothing twice.
    """

    def __init__(self, shot: _Shot) -> None:
        self.shot = shot
        self.dropped = False
        self._received = {"stdout": 0, "stderr": 0}
        self._partial_line = ""
        self._lock = threading.Lock()
        self.live: LogStream | None = None

    def check_stream(self, timeout: float) -> bool:
        """Whether the live stream has ended; a broken one switches to the logs endpoint."""
        if self.live is None or self.dropped:
            return True
        try:
            return self.live.wait(timeout)
        except LogStreamDropped as exc:
            log.info(
                "shot %d: %s; falling back to the logs endpoint", self.shot.number, exc.message
            )
            self.dropped = True
            return True

    def on_stdout(self, text: str) -> None:
        self._take("stdout", text, live=True)

    def on_stderr(self, text: str) -> None:
        self._take("stderr", text, live=True)

    def catch_up(self, sandbox: SandboxHandle, session: str, command_id: str) -> None:
        stdout, stderr = sandbox.fetch_logs(session, command_id)
        with self._lock:
            self.dropped = True  # from now on the endpoint is the source of truth
            for name, full in (("stdout", stdout), ("stderr", stderr)):
                missing = full[self._received[name] :]
                if missing:
                    self._received[name] += len(missing)
                    self._process(name, missing)

    def _take(self, stream: str, text: str, *, live: bool) -> None:
        with self._lock:
            if live and self.dropped:
                return
            self._received[stream] += len(text)
            self._process(stream, text)

    def _process(self, stream: str, text: str) -> None:
        self.shot._log.write(stream, text)
        for event in self.shot.scanner.feed(text, stream):
            self.shot.on_scan_event(event)
        if stream == "stdout":
            self._watch_result(text)

    def _watch_result(self, text: str) -> None:
        """Keep the final `result` event; only chunks that mention one are split."""
        data = self._partial_line + text
        if '"type":"result"' not in data:
            self._partial_line = data[data.rfind("\n") + 1 :][-_MAX_RESULT_LINE:]
            return
        lines = data.split("\n")
        self._partial_line = lines.pop()[-_MAX_RESULT_LINE:]
        for line in lines:
            if _is_result_line(line):
                self.shot.on_result_line(line)

    def close(self) -> None:
        """Stop following the sandbox and flush what is held back."""
        if self.live is not None:
            self.live.cancel()
        with self._lock:
            self.dropped = True  # a late frame from a cancelled stream is not written
            for event in self.shot.scanner.close():
                self.shot.on_scan_event(event)
            tail = self._partial_line
            if _is_result_line(tail):
                self.shot.on_result_line(tail)
            self.shot._log.flush()


def _is_result_line(line: str) -> bool:
    return line.startswith("{") and '"type":"result"' in line
