"""The tray's engine in a child process: the same runs, and a child that lives only
while runs are active (against the Daytona stand-in, real SDK in the child)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import until
from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.test_engine import API_KEY, Recorder
from tray.credentials.model import AuthMethod, Credentials
from tray.errors import DaytonaKeyRejected
from tray.runs.engine_process import EngineProcess
from tray.runs.events import JudgeFinished, JudgeStarted, RunFinished, ShotChanged
from tray.runs.history import History
from tray.runs.settings import EngineSettings
from tray.runs.spec import RunSpec
from tray.runs.status import RunStatus, ShotStatus
from tray.sandbox.retry import Backoff
from tray.service import CancelOutcome, Service

CREDENTIALS = Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=API_KEY)
RUNNING = ShotStatus.RUNNING
SETTINGS = EngineSettings(backoff=Backoff(attempts=4, base_seconds=0.05, max_seconds=0.5))


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[DaytonaStandIn]:
    with DaytonaStandIn(tmp_path / "daytona") as server:
        yield server


@pytest.fixture
def service(standin: DaytonaStandIn, tmp_path: Path) -> Iterator[Service]:
    service = Service(
        history_path=tmp_path / "history.sqlite3",
        results_root=tmp_path / "runs",
        daytona_url=standin.api_url,
        settings=SETTINGS,
        engine_process=True,
    )
    yield service
    service.shutdown(timeout=60)


def engine_of(service: Service) -> EngineProcess:
    engine = service.use_credentials(CREDENTIALS)
    assert isinstance(engine, EngineProcess)
    return engine


def gone(pid: int) -> bool:
    """The process has ended (a zombie left for a reaper that isn't ours counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


def running_shots(recorder: Recorder) -> set[int]:
    return {e.shot.number for e in recorder.of(ShotChanged) if e.shot.status is RUNNING}


def start_hanging_run(
    service: Service, standin: DaytonaStandIn, shots: int
) -> tuple[str, Recorder]:
    """A run whose shots all hang in Claude, once every one of them is running."""
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    recorder = Recorder()
    service.subscribe(recorder)
    run_id = service.start_run(CREDENTIALS, RunSpec("Hang", shots=shots))
    until(lambda: running_shots(recorder) == set(range(1, shots + 1)), "every shot to run")
    return run_id, recorder


def test_a_run_goes_through_the_child_which_ends_after_the_last_run(
    service: Service, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    engine = engine_of(service)
    recorder = Recorder()
    service.subscribe(recorder)
    assert engine.children() == []  # nothing is started before the first run

    run_id = service.start_run(CREDENTIALS, RunSpec("Say hello", shots=2))
    (child,) = engine.children()
    assert service.active_runs() == [run_id]
    assert service.wait(run_id, 90)

    (finished,) = recorder.of(RunFinished)
    assert (finished.run_id, finished.status, finished.succeeded) == (run_id, RunStatus.DONE, 2)
    assert recorder.statuses(1)[-1] is ShotStatus.SUCCEEDED
    until(lambda: engine.children() == [] and gone(child), "the child to end")
    assert standin.live == []
    record = History(tmp_path / "history.sqlite3").find_runs(run_id)[0]
    assert record.status is RunStatus.DONE
    assert (tmp_path / "runs" / run_id / "shot-1" / "stdout.log").stat().st_size > 0

    second = service.start_run(CREDENTIALS, RunSpec("Again", shots=1))
    (next_child,) = engine.children()
    assert next_child != child  # a new child for a new run, once the last one ended
    assert service.wait(second, 90)
    until(lambda: engine.children() == [], "the child to end")


def test_cancel_reaches_the_child_and_its_sandboxes_are_deleted(
    service: Service, standin: DaytonaStandIn
) -> None:
    run_id, recorder = start_hanging_run(service, standin, shots=2)

    assert service.cancel_run(run_id) is CancelOutcome.CANCELLED
    assert service.wait(run_id, 60)
    (finished,) = recorder.of(RunFinished)
    assert finished.status is RunStatus.CANCELLED
    assert standin.live == []
    until(lambda: engine_of(service).children() == [], "the child to end")


def test_a_sweep_runs_in_the_child_and_its_errors_come_back_typed(
    service: Service, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    orphan_owner = Service(
        history_path=tmp_path / "other.sqlite3",
        results_root=tmp_path / "other",
        daytona_url=standin.api_url,
        settings=SETTINGS,
    )
    orphan = orphan_owner.start_run(CREDENTIALS, RunSpec("Hang", shots=1))
    until(lambda: len(standin.live) == 1, "the orphan's sandbox")
    orphan_id = standin.live[0].id

    sweep = service.sweep(CREDENTIALS)
    assert sweep.deleted == [orphan_id]  # not a live run of *this* history: an orphan
    orphan_owner.shutdown(timeout=30)
    assert orphan_owner.wait(orphan, 30)

    refused = Credentials("dtn_" + "b" * 30, AuthMethod.API_KEY, anthropic_api_key=API_KEY)
    with pytest.raises(DaytonaKeyRejected):
        service.sweep(refused)
    until(lambda: engine_of(service).children() == [], "the child to end")


def test_a_child_that_dies_ends_its_runs_as_interrupted(
    service: Service, standin: DaytonaStandIn
) -> None:
    run_id, recorder = start_hanging_run(service, standin, shots=1)
    (child,) = engine_of(service).children()
    os.kill(child, signal.SIGKILL)

    assert service.wait(run_id, 30)
    (finished,) = recorder.of(RunFinished)
    assert finished.status is RunStatus.INTERRUPTED
    assert "stopped unexpectedly (exit code -9)" in finished.detail
    assert "`multishot cleanup`" in finished.detail
    assert service.active_runs() == []
    assert len(standin.live) == 1
    assert service.sweep(CREDENTIALS).deleted == [standin.created[0].id]


def test_requests_sent_to_a_dead_child_do_not_keep_its_runs_from_ending(
    service: Service, standin: DaytonaStandIn
) -> None:
    """A request written after the child died stays in the pipe's buffer; closing the
    pipe then fails to flush it, which once left the run running for ever."""
    run_id, recorder = start_hanging_run(service, standin, shots=1)
    (child,) = engine_of(service).children()
    os.kill(child, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not service.wait(run_id, 0.001) and time.monotonic() < deadline:
        service.cancel_run(run_id)  # into a pipe nobody reads any more
    (finished,) = recorder.of(RunFinished)
    assert finished.status is RunStatus.INTERRUPTED
    assert service.active_runs() == []


PARENT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tray.credentials.model import AuthMethod, Credentials
    from tray.runs.spec import RunSpec
    from tray.service import Service
    from tests.test_engine_process import CREDENTIALS, SETTINGS
    tmp = Path(sys.argv[2])
    service = Service(history_path=tmp / "h.sqlite3", results_root=tmp / "runs",
                      daytona_url=sys.argv[1], settings=SETTINGS, engine_process=True)
    service.start_run(CREDENTIALS, RunSpec("Hang", shots=2))
    print(*service.use_credentials(CREDENTIALS).children(), flush=True)
    time.sleep(600)
    """
)


def test_when_the_tray_is_killed_the_child_deletes_its_sandboxes_and_exits(
    standin: DaytonaStandIn, tmp_path: Path
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, standin.api_url, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        until(
            lambda: len(standin.created) == 2 and all(s.processes for s in standin.live),
            "both shots to run",
        )
    finally:
        parent.kill()
        parent.wait(timeout=10)
    until(lambda: standin.live == [] and gone(child), "the deletes and the exit", timeout=60)


def test_the_judge_and_the_check_cross_the_pipe(
    service: Service, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "edits"
    answer = {
        "ranking": [{"shot": 2, "rank": 1, "reason": "B"}, {"shot": 1, "rank": 2, "reason": "A"}]
    }
    (standin.shared / "judge-answer").write_text(json.dumps(answer))
    recorder = Recorder()
    service.subscribe(recorder)
    spec = RunSpec(
        "Judge us", shots=2, hints=("WRITE a.txt a", "WRITE b.txt b"), check="true", judge=True
    )
    run_id = service.start_run(CREDENTIALS, spec)
    assert service.wait(run_id, 90)
    until(lambda: recorder.of(RunFinished) != [], "the run's end to arrive")
    (started,) = recorder.of(JudgeStarted)
    assert started == JudgeStarted(run_id, (1, 2))
    (finished,) = recorder.of(JudgeFinished)
    assert [(r.shot, r.reason) for r in finished.verdict.ranking] == [(2, "B"), (1, "A")]
    checked = [e.shot for e in recorder.of(ShotChanged) if e.shot.check_exit_code is not None]
    assert {s.number for s in checked} == {1, 2}
    assert standin.live == []
