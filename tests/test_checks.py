"""Setup and check commands in the stand-in's sandboxes, with shots that make different edits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from tests.conftest import until
from tests.daytona_standin import DaytonaStandIn
from tests.git_repos import GitRepo
from tests.test_engine import API_KEY, Recorder, make_manager, run
from tray.runs.compare import compare_run
from tray.runs.events import ShotChanged
from tray.runs.manager import RunManager
from tray.runs.spec import RunSpec
from tray.runs.status import ShotStatus

# Shot 1 passes the check, shot 2 fails it, shot 3 changes nothing.
HINTS = ("WRITE result.txt pass", "WRITE result.txt fail", "leave everything as it is")
CHECK = (
    'env > "$HOME/check-env.txt"; echo cache > .check-cache; echo checking; grep -q pass result.txt'
)


def upstream(tmp_path: Path) -> tuple[GitRepo, str]:
    repo = GitRepo.init(tmp_path / "upstream")
    repo.write("README.md", "# Project\n")
    repo.write(".gitignore", "ignored-by-project/\n")
    return repo, repo.commit("init")


def home_of(standin: DaytonaStandIn, shot: int) -> Path:
    return next(s.home for s in standin.created if s.labels["multishot-shot"] == str(shot))


def test_the_check_records_pass_fail_and_skips_a_shot_without_changes(
    manager: RunManager, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    repo, base = upstream(tmp_path)
    spec = RunSpec(
        "Make the check pass",
        shots=3,
        hints=HINTS,
        repo_url=f"file://{repo.path}",
        setup="mkdir -p deps && echo dependency > deps/lib.js && echo setup done",
        check=CHECK,
    )
    run_id, recorder = run(manager, spec)

    shots = {s.number: s for s in manager.history.shots(run_id)}
    assert [shots[n].status for n in (1, 2, 3)] == ["succeeded"] * 3
    assert {n: s.setup_exit_code for n, s in shots.items()} == {1: 0, 2: 0, 3: 0}
    assert (shots[1].check_exit_code, shots[2].check_exit_code) == (0, 1)
    assert shots[3].check_exit_code is None  # no change: nothing to check
    assert shots[1].check_duration_ms is not None
    assert "check passed" in shots[1].detail
    assert "check failed (exit 1)" in shots[2].detail
    assert "check" not in shots[3].detail
    # Neither what setup made (untracked) nor what the check wrote is part of a change.
    assert shots[1].changed_files == ["result.txt"]
    patch = Path(cast(str, shots[2].patch_path)).read_text()
    assert "+fail" in patch
    assert "deps/" not in patch
    assert ".check-cache" not in patch
    assert shots[3].changed_files == []
    for number in (1, 2):
        check_log = tmp_path / "runs" / run_id / f"shot-{number}" / "check.log"
        assert "checking" in check_log.read_text()
        check_env = (home_of(standin, number) / "check-env.txt").read_text()
        assert "ANTHROPIC_API_KEY" not in check_env
        assert API_KEY not in check_env
        assert "FAKE_CLAUDE_SHARED" in check_env  # the rest of the sandbox's environment
    # Claude itself still has its credential.
    assert standin.created[0].env == {"ANTHROPIC_API_KEY": API_KEY}

    statuses = recorder.statuses(1)
    assert ShotStatus.SETTING_UP in statuses
    assert ShotStatus.CHECKING in statuses
    assert statuses.index(ShotStatus.SETTING_UP) < statuses.index(ShotStatus.RUNNING)
    assert statuses.index(ShotStatus.COLLECTING) < statuses.index(ShotStatus.CHECKING)
    last = [e.shot for e in recorder.of(ShotChanged) if e.shot.number == 2][-1]
    assert last.check_exit_code == 1

    record = manager.history.run(run_id)
    assert record is not None
    assert record.base_commit == base
    summary = json.loads((tmp_path / "runs" / run_id / "summary.json").read_text())
    assert summary["base_commit"] == base
    by_number = {s["shot"]: s for s in summary["shots"]}
    assert by_number[1]["check"]["passed"] is True
    assert by_number[2]["check"]["exit_code"] == 1
    assert by_number[3]["check"] is None

    comparison = compare_run(manager.history, run_id)
    assert comparison.recommended == 1
    shot_2 = comparison.shot(2)
    assert shot_2 is not None
    assert shot_2.check is not None
    assert not shot_2.check.passed
    assert "checking" in shot_2.check.output_tail
    assert standin.live == []


def test_a_failing_setup_fails_the_shot_before_claude_starts(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    spec = RunSpec(
        "task",
        shots=2,
        setup="echo 'npm ERR! missing dependency left-pad'; exit 3",
        check="true",
    )
    run_id, _ = run(manager, spec)
    for shot in manager.history.shots(run_id):
        assert shot.status == "failed"
        assert shot.setup_exit_code == 3
        assert "setup command failed with exit code 3" in shot.detail
        assert "missing dependency left-pad" in shot.detail
        assert shot.check_exit_code is None
    assert not any((s.home / ".fake_claude").exists() for s in standin.created)
    assert standin.live == []


def test_a_check_over_its_time_limit_is_stopped_and_recorded(
    standin: DaytonaStandIn, tmp_path: Path
) -> None:
    manager = make_manager(standin, tmp_path, check_time_limit_seconds=1)
    try:
        spec = RunSpec("WRITE a.txt done", shots=1, check="echo started; sleep 120")
        run_id, _ = run(manager, spec)
    finally:
        manager.shutdown(timeout=60)
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "succeeded"  # Claude's work stands; the check's failure is beside it
    assert shot.check_exit_code == 124
    assert "check timed out after 1 s" in shot.detail
    assert "started" in (tmp_path / "runs" / run_id / "shot-1" / "check.log").read_text()
    assert standin.live == []


def test_a_cancel_during_the_check_ends_it_and_deletes_the_sandbox(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    recorder = Recorder()
    manager.subscribe(recorder)
    run_id = manager.start(RunSpec("WRITE a.txt x", shots=1, check="sleep 600"))
    until(lambda: ShotStatus.CHECKING in recorder.statuses(1), "the check to start")
    assert manager.cancel(run_id)
    assert manager.wait(run_id, 60)
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "cancelled"
    assert shot.check_exit_code is None
    assert shot.patch_path is not None  # collected before the check
    assert standin.live == []
