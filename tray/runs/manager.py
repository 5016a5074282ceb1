"""The run engine: N shots of Claude Code, each in its own Daytona sandbox, in parallel.

`RunManager` is the API the service facade uses. Every blocking call happens on
worker threads; events reach subscribers on those threads (a Tk shell hands them
to its main thread through a queue). Every sandbox is deleted when its shot ends,
whatever happened, and every run reaches its end: ``RunFinished`` is always
emitted, even when the history cannot be written.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tray.credentials.model import Credentials
from tray.errors import MultishotError
from tray.failures import FailureKind, policy_for
from tray.runs.events import (
    AuthFailure,
    EngineEvent,
    RunFinished,
    ScanNotice,
    Subscriber,
)
from tray.runs.history import HEARTBEAT_SECONDS, History
from tray.runs.judge import judge_shots
from tray.runs.layout import RunFolder, default_runs_root
from tray.runs.rounds import round_start
from tray.runs.settings import EngineSettings
from tray.runs.shot import Shot, failure_detail
from tray.runs.spec import RunSpec
from tray.runs.state import RunState
from tray.runs.status import RunStatus, ShotStatus
from tray.runs.sweep import Sweep
from tray.runs.verdict import JudgeVerdict
from tray.sandbox.daytona import APP_LABELS, LABEL_RUN, DaytonaClient
from tray.scanner import ScanEvent

__all__ = ["RunManager"]

log = logging.getLogger(__name__)


class RunManager:
    """Starts, tracks and cancels runs. Thread-safe."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        history: History | None = None,
        results_root: Path | None = None,
        daytona_url: str | None = None,
        settings: EngineSettings | None = None,
    ) -> None:
        self._credentials = credentials
        self._history = history or History()
        self._results_root = results_root or default_runs_root()
        self._daytona_url = daytona_url
        self._settings = settings or EngineSettings()
        self._client: DaytonaClient | None = None
        self._client_lock = threading.Lock()
        self._runs: dict[str, RunState] = {}
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._closing = threading.Event()
        self._run_started = threading.Event()  # wakes the heartbeat out of its idle wait
        self._heartbeat = threading.Thread(target=self._beat, name="run-heartbeat", daemon=True)
        self._heartbeat.start()

    @property
    def history(self) -> History:
        return self._history

    @property
    def settings(self) -> EngineSettings:
        return self._settings

    @property
    def credentials(self) -> Credentials:
        with self._client_lock:
            return self._credentials

    def subscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def start(self, spec: RunSpec) -> str:
        """Register the run and start its shots in worker threads; return at once."""
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        run = RunState(run_id, spec, RunFolder(self._results_root / run_id))
        with self._lock:
            self._runs[run_id] = run
        self._run_started.set()
        coordinator = threading.Thread(
            target=self._coordinate, args=(run,), name=f"run-{run_id}", daemon=True
        )
        coordinator.start()
        return run_id

    def cancel(self, run_id: str) -> bool:
        """Cancel a run of this process, or ask the process that owns it to."""
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
        with self._lock:
            run_ids = list(self._runs)
        for run_id in run_ids:
            self.wait(run_id, max(0.0, deadline - time.monotonic()))
        self._closing.set()
        self._run_started.set()
        if threading.current_thread() is not self._heartbeat:
            # Ended here, not later on its own: nothing of this engine (or of what
            # subscribed to it) is then let go on a thread of its own.
            self._heartbeat.join(timeout=5)

    def set_credentials(self, credentials: Credentials) -> None:
        """Use new credentials for every sandbox created from now on."""
        with self._client_lock:
            if credentials.daytona_api_key != self._credentials.daytona_api_key:
                self._client = None
            self._credentials = credentials

    def cleanup_orphans(self) -> Sweep:
        """Delete every Multishot sandbox that no live run owns (after a crash or kill -9).

        Blocking: call it from a worker thread. Runs whose owner stopped heart-beating
        are marked "interrupted" in the history first. A sandbox that cannot be deleted
        does not stop the sweep; it stays on the history's list of leftovers.
        """
        self._history.mark_abandoned()
        live = self._history.live_run_ids()
        client = self.daytona()
        sweep = Sweep()
        listed = client.list_sandboxes(APP_LABELS)
        for sandbox in listed:
            if sandbox.labels.get(LABEL_RUN) in live:
                continue
            try:
                client.delete_sandbox(sandbox.id)
            except MultishotError as exc:
                log.warning("could not delete sandbox %s: %s", sandbox.id, exc.message)
                sweep.failed.append(sandbox.id)
                sweep.problem = exc.message
            else:
                sweep.deleted.append(sandbox.id)
        still_there = {s.id for s in listed} - set(sweep.deleted)
        self._history.forget_leftovers(
            [i for i in self._history.leftovers() if i not in still_there]
        )
        return sweep

    def daytona(self) -> DaytonaClient:
        with self._client_lock:
            if self._client is None:
                self._client = DaytonaClient(
                    self._credentials.daytona_api_key, self._daytona_url, self._settings.backoff
                )
            return self._client

    def emit(self, event: EngineEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("an engine subscriber failed")

    def report_failure(self, run: RunState, shot: int, event: ScanEvent) -> None:
        """A failure in a shot's output: tell subscribers; stop the run if the policy says so."""
        self.emit(ScanNotice(run.id, shot, event))
        if policy_for(event.kind).stops_run:
            self.stop_run(run, event.kind, event.excerpt)

    def note_base_commit(self, run: RunState, shot: int, commit: str) -> None:
        """A shot's starting commit: the first one becomes the run's, in the history now
        (a comparison or an apply needs it even if the run never ends well)."""
        if run.note_base(shot, commit):
            try:
                self._history.set_base_commit(run.id, commit)
            except sqlite3.Error as exc:
                log.warning("run %s: its starting commit could not be recorded: %s", run.id, exc)

    def stop_run(self, run: RunState, kind: FailureKind, excerpt: str) -> None:
        """Stop every shot of the run for this failure; only the first one is announced."""
        if run.stop.set(policy_for(kind).shot_status, failure_detail(kind, excerpt), kind):
            self.emit(AuthFailure(run.id, kind, excerpt))

    def _beat(self) -> None:
        """While runs are active, refresh them and pick up cancels; idle, sleep until one starts."""
        while not self._closing.is_set():
            if not self.active():
                self._run_started.wait()
                self._run_started.clear()  # a start after this is seen by active() above
                continue
            if self._closing.wait(HEARTBEAT_SECONDS):
                return
            active = self.active()
            if not active:
                continue
            try:
                for run_id in self._history.heartbeat(active):
                    self.cancel(run_id)
            except Exception:
                log.exception("heartbeat failed")

    def _coordinate(self, run: RunState) -> None:
        """The run's own thread: record it, run its shots, always reach its end."""
        shots: list[Shot] = []
        status, detail = RunStatus.FAILED, "The run stopped unexpectedly."
        try:
            try:
                self._record_start(run)
            except MultishotError as exc:  # a later round whose chain is gone since
                detail = f"{exc.message} Nothing was started."
                return
            except (OSError, sqlite3.Error) as exc:
                detail = f"The run could not be recorded ({exc}); nothing was started."
                return
            shots = [Shot(self, run, number) for number in range(1, run.spec.shots + 1)]
            threads = [
                threading.Thread(target=s.run, name=f"shot-{run.id}-{s.number}", daemon=True)
                for s in shots
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            status, detail = _run_outcome(run, [s.status for s in shots])
            verdict = judge_shots(self, run, shots)
            detail += run.moved_base_note()
            detail = self._record_end(run, _summary(run, shots, status, detail, verdict))
        except Exception:
            log.exception("run %s failed", run.id)
        finally:
            run.done.set()
            succeeded = sum(1 for s in shots if s.status is ShotStatus.SUCCEEDED)
            left = sum(1 for s in shots if s.sandbox_left)
            self.emit(
                RunFinished(
                    run.id, status, succeeded, run.spec.shots, detail, run.stop.failure, left
                )
            )

    def _record_start(self, run: RunState) -> None:
        run.start = round_start(self._history, run.spec)
        run.folder.path.mkdir(parents=True, exist_ok=True)
        spec = dataclasses.asdict(run.spec)
        run.folder.spec.write_text(json.dumps(spec, indent=2))
        folder, shots, round_number = run.folder.path, run.spec.shots, run.start.number
        self._history.add_run(
            run.id, run.spec.prompt, spec, folder, shots, round_number=round_number
        )
        if run.start.base_commit is not None:
            self.note_base_commit(run, 0, run.start.base_commit)

    def _record_end(self, run: RunState, summary: dict[str, Any]) -> str:
        """Write the run's end; a failure to write is said in the returned detail."""
        problems, status, detail = [], RunStatus(summary["status"]), summary["detail"]
        try:
            self._history.finish_run(run.id, status, detail)
        except sqlite3.Error as exc:
            log.warning("run %s: the history could not record its end: %s", run.id, exc)
            problems.append(f"the history could not record its end ({exc})")
        try:
            run.folder.summary.write_text(json.dumps(summary, indent=2))
        except OSError as exc:
            problems.append(f"its summary could not be written ({exc})")
        return str(detail) + (f" Note: {'; '.join(problems)}." if problems else "")


def _summary(
    run: RunState, shots: list[Shot], status: RunStatus, detail: str, verdict: JudgeVerdict | None
) -> dict[str, Any]:
    """The run's summary.json."""
    return {
        "run_id": run.id,
        "status": status.value,
        "detail": detail,
        "base_commit": run.base_commit,
        "round": run.start.number,
        "judge": None if verdict is None else verdict.to_json(),
        "succeeded": sum(1 for s in shots if s.status is ShotStatus.SUCCEEDED),
        "shots": [s.summary() for s in shots],
    }


def _run_outcome(run: RunState, outcomes: list[ShotStatus]) -> tuple[RunStatus, str]:
    succeeded = outcomes.count(ShotStatus.SUCCEEDED)
    if run.stop.failure is not None:
        return RunStatus.AUTH_FAILED, run.stop.detail
    if run.stop.is_set() and run.stop.status is ShotStatus.CANCELLED:
        return RunStatus.CANCELLED, "Cancelled."
    if succeeded == len(outcomes):
        return RunStatus.DONE, f"{succeeded}/{len(outcomes)} shots succeeded."
    if succeeded:
        return RunStatus.PARTIAL, f"{succeeded}/{len(outcomes)} shots succeeded."
    return RunStatus.FAILED, "No shot succeeded."
