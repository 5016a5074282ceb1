"""The run engine with the real Daytona SDK against the loopback stand-in."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar, cast

import pytest
from aiohttp import WSCloseCode

from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tray.credentials.model import AuthMethod, Credentials
from tray.failures import FailureKind
from tray.runs.events import AuthFailure, EngineEvent, RunFinished, ShotChanged
from tray.runs.history import History
from tray.runs.manager import RunManager
from tray.runs.settings import EngineSettings
from tray.runs.spec import RunSpec
from tray.runs.status import ShotStatus
from tray.sandbox.retry import Backoff

API_KEY = "sk-ant-api03-" + "E" * 40 + "ng1n"
TOKEN = "sk-ant-oat01-" + "T" * 40 + "tk2n"
_Event = TypeVar("_Event", bound=EngineEvent)
TRICKY_PROMPT = "Fix \"it\" 'now' $(rm -rf ~) `id` $HOME \\n\nsecond line ✓ — ünïcode\n\n"


class Recorder:
    def __init__(self) -> None:
        self.events: list[EngineEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: EngineEvent) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: type[_Event]) -> list[_Event]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]

    def statuses(self, shot: int) -> list[ShotStatus]:
        return [e.shot.status for e in self.of(ShotChanged) if e.shot.number == shot]


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[DaytonaStandIn]:
    with DaytonaStandIn(tmp_path / "daytona") as server:
        yield server


def make_manager(
    standin: DaytonaStandIn,
    tmp_path: Path,
    credentials: Credentials | None = None,
    *,
    time_limit_seconds: float | None = None,
    check_time_limit_seconds: float | None = None,
) -> RunManager:
    return RunManager(
        credentials
        or Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=API_KEY),
        history=History(tmp_path / "history.sqlite3"),
        results_root=tmp_path / "runs",
        daytona_url=standin.api_url,
        settings=EngineSettings(
            backoff=Backoff(attempts=4, base_seconds=0.05, max_seconds=0.5),
            time_limit_seconds=time_limit_seconds,
            check_time_limit_seconds=check_time_limit_seconds,
        ),
    )


@pytest.fixture
def manager(standin: DaytonaStandIn, tmp_path: Path) -> Iterator[RunManager]:
    manager = make_manager(standin, tmp_path)
    yield manager
    manager.shutdown(timeout=60)


def run(manager: RunManager, spec: RunSpec, timeout: float = 90) -> tuple[str, Recorder]:
    recorder = Recorder()
    manager.subscribe(recorder)
    run_id = manager.start(spec)
    assert manager.wait(run_id, timeout), "the run did not finish"
    return run_id, recorder


def sandbox_home(standin: DaytonaStandIn, index: int) -> Path:
    return standin.created[index].home


def assert_no_secret_saved(runs: Path) -> None:
    """Nothing the engine wrote (results, history and its WAL) holds a secret."""
    for path in [*runs.rglob("*"), *runs.parent.glob("history.sqlite3*")]:
        if path.is_file():
            data = path.read_bytes()
            for secret in (API_KEY, TOKEN, VALID_DAYTONA_KEY):
                assert secret.encode() not in data, path


def test_successful_shots_keep_their_work_and_leave_no_sandbox(
    manager: RunManager, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    spec = RunSpec(TRICKY_PROMPT, shots=3, hints=("go fast", "go deep"), model="claude-opus-4-1")
    run_id, recorder = run(manager, spec)

    (finished,) = recorder.of(RunFinished)
    assert (finished.status, finished.succeeded, finished.total) == ("done", 3, 3)
    assert standin.live == []
    assert sorted(standin.deleted) == sorted(s.id for s in standin.created)
    for sandbox in standin.created:
        claude_env = {
            k for k in sandbox.env if k in ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")
        }
        assert sandbox.env == {"ANTHROPIC_API_KEY": API_KEY}
        assert claude_env == {"ANTHROPIC_API_KEY"}
        assert sandbox.labels["app"] == "multishot"
        assert sandbox.labels["multishot-run"] == run_id
        assert sandbox.body["autoDeleteInterval"] == 0
        assert sandbox.body["autoStopInterval"] >= 60

    prompts = {
        s.labels["multishot-shot"]: (s.home / ".fake_claude" / "prompt-1").read_text("utf-8")
        for s in standin.created
    }
    assert prompts["3"] == TRICKY_PROMPT
    assert prompts["1"] == TRICKY_PROMPT + "\n\nApproach to take in this attempt: go fast"
    assert prompts["2"].endswith("go deep")
    argv = (standin.created[0].home / ".fake_claude" / "argv-1").read_text()
    assert '"--model", "claude-opus-4-1"' in argv
    assert API_KEY not in argv

    shots = manager.history.shots(run_id)
    assert [s.status for s in shots] == ["succeeded"] * 3
    for shot in shots:
        patch = Path(cast(str, shot.patch_path)).read_bytes()
        assert b'+Solved: Fix "it"' in patch
        assert b"GIT binary patch" in patch
        assert sorted(shot.changed_files) == ["binary.bin", "solution.txt"]
        assert shot.cost_usd == pytest.approx(0.0421)
        assert shot.turns == 4
        assert shot.exit_code == 0
        log = Path(cast(str, shot.log_path)).read_text()
        assert '"type":"result"' in log
    statuses = recorder.statuses(1)
    for step in (
        ShotStatus.CREATING,
        ShotStatus.CLONING,
        ShotStatus.PREPARING,
        ShotStatus.RUNNING,
        ShotStatus.COLLECTING,
        ShotStatus.DELETING,
        ShotStatus.SUCCEEDED,
    ):
        assert step in statuses
    assert_no_secret_saved(tmp_path / "runs")


def test_a_repository_is_cloned_and_its_diff_collected(
    manager: RunManager, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    repo = tmp_path / "upstream"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "README.md").write_text("# Project\n")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    subprocess.run([*git, "checkout", "-qb", "feature"], check=True)

    run_id, _ = run(
        manager, RunSpec("Edit the readme", shots=1, repo_url=f"file://{repo}", branch="feature")
    )
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "succeeded"
    patch = Path(cast(str, shot.patch_path)).read_text("utf-8", "replace")
    assert "+Edited by the fake agent." in patch
    assert "README.md" in shot.changed_files
    assert standin.live == []


def test_an_invalid_key_stops_every_shot_once(manager: RunManager, standin: DaytonaStandIn) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "invalid_key"
    run_id, recorder = run(manager, RunSpec("task", shots=4))
    failures = recorder.of(AuthFailure)
    assert len(failures) == 1
    assert failures[0].kind is FailureKind.INVALID
    shots = manager.history.shots(run_id)
    assert [s.status for s in shots] == ["auth_failed"] * 4
    assert {s.failure for s in shots} == {FailureKind.INVALID}
    (finished,) = recorder.of(RunFinished)
    assert finished.status == "auth_failed"
    assert standin.live == []


def test_a_token_expiring_mid_run_stops_the_other_shots(
    standin: DaytonaStandIn, tmp_path: Path
) -> None:
    standin.extra_env.update(FAKE_CLAUDE_SCENARIO="expire_mid_run", FAKE_CLAUDE_SLOW_SECONDS="60")
    oauth = Credentials(VALID_DAYTONA_KEY, AuthMethod.OAUTH_TOKEN, claude_oauth_token=TOKEN)
    manager = make_manager(standin, tmp_path, oauth)
    try:
        started = time.monotonic()
        run_id, recorder = run(manager, RunSpec("task", shots=4))
        assert time.monotonic() - started < 45  # the slow shots did not run to the end
    finally:
        manager.shutdown(timeout=60)
    assert [e.kind for e in recorder.of(AuthFailure)] == [FailureKind.EXPIRED]
    shots = manager.history.shots(run_id)
    assert [s.status for s in shots] == ["auth_failed"] * 4
    assert {s.failure for s in shots} == {FailureKind.EXPIRED}
    for sandbox in standin.created:
        assert sandbox.env == {"CLAUDE_CODE_OAUTH_TOKEN": TOKEN}
    assert standin.live == []
    assert_no_secret_saved(tmp_path / "runs")


def test_claude_refusing_to_start_is_reported_in_its_own_words(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "root_refusal"
    run_id, _ = run(manager, RunSpec("task", shots=1))
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "failed"
    assert shot.detail == (
        "Claude exited with code 1: --dangerously-skip-permissions cannot be used with "
        "root/sudo privileges for security reasons"
    )
    (command,) = [c for c in standin.created[0].commands.values() if "claude -p" in c.command]
    assert "IS_SANDBOX=1 CLAUDE_CODE_MAX_RETRIES=6" in command.command


def test_a_rate_limit_backs_off_and_reruns_in_the_same_sandbox(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "rate_limit_then_success"
    run_id, recorder = run(manager, RunSpec("task", shots=1))
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "succeeded"
    assert ShotStatus.BACKING_OFF in recorder.statuses(1)
    assert len(standin.created) == 1
    assert (standin.created[0].home / ".fake_claude" / "prompt-2").exists()


def test_a_session_limit_stops_the_shot_with_the_reset_time(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "session_limit"
    run_id, _ = run(manager, RunSpec("task", shots=2))
    shots = manager.history.shots(run_id)
    assert [s.status for s in shots] == ["quota_exhausted"] * 2
    assert re.search(r"it resets at (\w{3} \d+ \w{3} )?\d\d:\d\d\.$", shots[0].detail)
    assert standin.live == []


def test_cancel_stops_a_hanging_run_and_deletes_its_sandboxes(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    recorder = Recorder()
    manager.subscribe(recorder)
    run_id = manager.start(RunSpec("task", shots=3))
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline
        and len(
            {e.shot.number for e in recorder.of(ShotChanged) if e.shot.status is ShotStatus.RUNNING}
        )
        < 3
    ):
        time.sleep(0.05)
    assert manager.active() == [run_id]
    assert manager.cancel(run_id)
    assert manager.wait(run_id, 30)
    assert [s.status for s in manager.history.shots(run_id)] == ["cancelled"] * 3
    assert recorder.of(RunFinished)[0].status == "cancelled"
    assert standin.live == []
    assert manager.active() == []


def test_a_dropped_stream_loses_and_duplicates_nothing(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.extra_env.update(FAKE_CLAUDE_SCENARIO="huge_output", FAKE_CLAUDE_LINES="3000")
    standin.drop_stream_after_bytes = 200_000
    run_id, _ = run(manager, RunSpec("task", shots=1))
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "succeeded"
    saved = Path(cast(str, shot.log_path)).read_bytes()
    (command,) = [c for c in standin.created[0].commands.values() if "claude -p" in c.command]
    assert saved == bytes(command.stdout)
    assert len(saved) > 3_000_000


def test_a_normal_close_mid_run_is_a_drop_and_loses_nothing(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.drop_stream_after_bytes = 1  # after the first frame
    standin.drop_close_code = WSCloseCode.OK
    standin.extra_env.update(FAKE_CLAUDE_SCENARIO="huge_output", FAKE_CLAUDE_LINES="200")
    run_id, _ = run(manager, RunSpec("task", shots=1))
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "succeeded", shot.detail
    (command,) = [c for c in standin.created[0].commands.values() if "claude -p" in c.command]
    assert Path(cast(str, shot.log_path)).read_bytes() == bytes(command.stdout)


def test_an_expired_token_after_a_normal_close_still_stops_the_run(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.drop_stream_after_bytes = 1
    standin.drop_close_code = WSCloseCode.OK
    standin.extra_env.update(
        FAKE_CLAUDE_SCENARIO="expire_mid_run", FAKE_CLAUDE_LINES="10", FAKE_CLAUDE_SLOW_SECONDS="60"
    )
    run_id, recorder = run(manager, RunSpec("task", shots=2), timeout=45)
    statuses = sorted(s.status for s in manager.history.shots(run_id))
    assert statuses == ["auth_failed", "auth_failed"]
    (failure,) = recorder.of(AuthFailure)
    assert failure.kind is FailureKind.EXPIRED
    assert recorder.of(RunFinished)[0].status == "auth_failed"
    assert standin.live == []


def test_daytona_5xx_and_429_on_create_and_delete_are_retried(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.create_faults = [500, 429, 503]
    standin.delete_faults = [502]
    run_id, _ = run(manager, RunSpec("task", shots=1))
    assert manager.history.shots(run_id)[0].status == "succeeded"
    assert standin.live == []


def test_a_sandbox_that_fails_to_start_fails_only_its_shot(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.fail_start = True
    run_id, recorder = run(manager, RunSpec("task", shots=2))
    shots = manager.history.shots(run_id)
    assert [s.status for s in shots] == ["failed"] * 2
    assert "did not start" in shots[0].detail
    assert standin.live == []  # the half-started sandboxes were found by label and deleted
    assert recorder.of(RunFinished)[0].status == "failed"


def test_an_invalid_daytona_key_stops_the_run_with_a_clear_message(
    standin: DaytonaStandIn, tmp_path: Path
) -> None:
    bad = Credentials("dtn_" + "b" * 30, AuthMethod.API_KEY, anthropic_api_key=API_KEY)
    manager = make_manager(standin, tmp_path, bad)
    try:
        _, recorder = run(manager, RunSpec("task", shots=3))
    finally:
        manager.shutdown(timeout=30)
    (finished,) = recorder.of(RunFinished)
    assert finished.status == "auth_failed"
    assert finished.failure is FailureKind.DAYTONA_KEY_REJECTED
    assert "Daytona did not accept the API key" in finished.detail
    assert [e.kind for e in recorder.of(AuthFailure)] == [FailureKind.DAYTONA_KEY_REJECTED]
    assert standin.created == []


def test_cleanup_deletes_orphans_but_not_live_runs(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    client = manager.daytona()
    orphan = client.create_sandbox(
        env={},
        labels={"app": "multishot", "multishot-run": "crashed-run"},
        auto_stop_minutes=1,
        auto_delete_minutes=0,
    )
    run_id = manager.start(RunSpec("task", shots=1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(standin.created) < 2:
        time.sleep(0.05)
    assert manager.cleanup_orphans().deleted == [orphan.id]
    assert [s.labels["multishot-run"] for s in standin.live] == [run_id]
    manager.cancel(run_id)
    assert manager.wait(run_id, 30)
    assert standin.live == []


def test_claude_is_installed_with_npm_only_when_missing(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.claude_preinstalled = False
    run_id, recorder = run(manager, RunSpec("task", shots=1))
    assert manager.history.shots(run_id)[0].status == "succeeded"
    details = [e.shot.detail for e in recorder.of(ShotChanged)]
    assert "Installing Claude Code" in details


def test_cancel_during_a_slow_create_still_deletes_the_sandbox(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.create_delay = 1.5
    run_id = manager.start(RunSpec("task", shots=2))
    time.sleep(0.5)
    manager.cancel(run_id)
    assert manager.wait(run_id, 30)
    assert [s.status for s in manager.history.shots(run_id)] == ["cancelled"] * 2
    assert len(standin.created) == 2
    assert standin.live == []


def test_cancel_while_a_sandbox_starts_deletes_it_without_waiting_for_the_start(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.start_delay = 60  # longer than the run may take to end after the cancel
    run_id = manager.start(RunSpec("task", shots=2))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(standin.created) < 2:
        time.sleep(0.05)
    manager.cancel(run_id)
    assert manager.wait(run_id, 20), "the cancel waited for the sandboxes to start"
    assert [s.status for s in manager.history.shots(run_id)] == ["cancelled"] * 2
    assert sorted(standin.deleted) == sorted(s.id for s in standin.created)
    assert standin.live == []


def test_every_sandbox_carries_daytonas_own_safety_nets(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    run(manager, RunSpec("task", shots=1, time_limit_minutes=20))
    body = standin.created[0].body
    assert body["autoStopInterval"] == 20 + 15
    assert body["autoDeleteInterval"] == 0  # deleted as soon as it stops
    assert body["ttlMinutes"] == 20 + 30  # destroyed after that, whatever its state


def test_a_sandbox_that_cannot_be_deleted_is_reported_and_swept_later(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    standin.delete_faults = [500] * 4  # every attempt of the shot's delete fails
    run_id, recorder = run(manager, RunSpec("task", shots=1))
    (shot,) = manager.history.shots(run_id)
    sandbox_id = standin.created[0].id
    assert shot.status == "succeeded"
    assert f"Its sandbox {sandbox_id} could not be deleted" in shot.detail
    assert "`multishot cleanup` deletes it" in shot.detail
    assert recorder.of(RunFinished)[0].sandboxes_left == 1
    assert manager.history.leftovers() == [sandbox_id]
    assert [s.id for s in standin.live] == [sandbox_id]

    standin.delete_faults = [500] * 4
    sweep = manager.cleanup_orphans()
    assert (sweep.deleted, sweep.failed) == ([], [sandbox_id])
    assert manager.history.leftovers() == [sandbox_id]
    sweep = manager.cleanup_orphans()
    assert (sweep.deleted, sweep.failed) == ([sandbox_id], [])
    assert manager.history.leftovers() == []
    assert standin.live == []


def test_a_run_that_cannot_be_recorded_starts_nothing(
    standin: DaytonaStandIn, tmp_path: Path
) -> None:
    manager = make_manager(standin, tmp_path)
    (tmp_path / "runs").write_text("a file where the results folder should be")
    try:
        _, recorder = run(manager, RunSpec("task", shots=2))
    finally:
        manager.shutdown(timeout=30)
    (finished,) = recorder.of(RunFinished)
    assert finished.status == "failed"
    assert "could not be recorded" in finished.detail
    assert standin.created == []


def test_a_shot_over_its_time_limit_is_stopped_and_its_sandbox_deleted(
    standin: DaytonaStandIn, tmp_path: Path
) -> None:
    standin.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    manager = make_manager(standin, tmp_path, time_limit_seconds=3)
    try:
        run_id, recorder = run(manager, RunSpec("task", shots=1), timeout=60)
    finally:
        manager.shutdown(timeout=30)
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "timed_out"
    assert "time limit (3 s)" in shot.detail
    assert recorder.of(RunFinished)[0].status == "failed"
    assert standin.live == []
