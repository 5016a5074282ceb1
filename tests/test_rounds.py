"""Rounds: a run continues from a shot of an earlier one, in the stand-in's sandboxes, and the
chain of patches lands in a real local clone with one commit per round."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from tests.daytona_standin import DaytonaStandIn
from tests.git_repos import GitRepo
from tests.test_checks import upstream
from tests.test_engine import run
from tray.errors import InvalidRunSpec, RunNotFound
from tray.repo.apply import Change, apply_to_branch, apply_to_new_folder
from tray.runs.history import History
from tray.runs.layout import RunFolder
from tray.runs.manager import RunManager
from tray.runs.rounds import chain_changes, continue_spec
from tray.runs.spec import RunSpec
from tray.runs.state import RunState


def last_change(history: History, run_id: str, shot: int) -> Change:
    """The whole chain that ends with this shot, as apply takes it."""
    chain = history.rounds(run_id)
    return chain_changes(history, chain, shot)[-1]


def test_a_second_round_starts_from_the_first_winner_and_applies_as_two_commits(
    manager: RunManager, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    repo, base = upstream(tmp_path)
    repo.git("checkout", "-qb", "feature")
    repo.write("feature.txt", "on the branch\n")
    feature_base = repo.commit("feature work")
    first = RunSpec(
        "First round",
        shots=2,
        hints=("WRITE round1.txt from the winner", "WRITE loser.txt from the other shot"),
        repo_url=f"file://{repo.path}",
        branch="feature",
        model="claude-opus-4-1",
        setup="echo setting up",
    )
    first_id, _ = run(manager, first)
    assert manager.history.run(first_id).base_commit == feature_base  # type: ignore[union-attr]
    # The branch moves on after round 1: round 2 must still start where round 1 did.
    repo.write("README.md", "# Moved on\n")
    repo.commit("later upstream work")

    second = continue_spec(
        manager.history,
        first_id,
        1,
        "WRITE round2.txt second round",
        check="test -f round1.txt && test ! -f loser.txt && grep -q 'on the branch' feature.txt"
        " && grep -q '# Project' README.md",
    )
    assert (second.repo_url, second.branch, second.model) == (
        first.repo_url,
        "feature",
        "claude-opus-4-1",
    )
    assert (second.shots, second.setup) == (2, "echo setting up")
    second_id, _ = run(manager, second)

    record = manager.history.run(second_id)
    assert record is not None
    assert (record.round, record.parent_run_id, record.parent_shot) == (2, first_id, 1)
    assert record.base_commit == feature_base
    shots = manager.history.shots(second_id)
    assert [s.check_exit_code for s in shots] == [0, 0]  # their sandboxes held round 1's change
    assert [s.changed_files for s in shots] == [["round2.txt"], ["round2.txt"]]
    assert [r.id for r in manager.history.rounds(second_id)] == [first_id, second_id]

    # Into the user's clone (another branch checked out, a dirty tree): one commit per round.
    user = GitRepo(tmp_path / "user")
    repo.git("clone", "-q", "--no-checkout", str(repo.path), str(user.path))
    user.git("checkout", "-q", "main")
    user.write("README.md", "uncommitted edit\n")
    changes = chain_changes(manager.history, manager.history.rounds(second_id), 2)
    assert [(c.run_id, c.shot) for c in changes] == [(first_id, 1), (second_id, 2)]
    landing = apply_to_branch(user.path, changes, base=feature_base)
    assert len(landing.commits) == 2
    files = user.text("ls-tree", "-r", "--name-only", cast(str, landing.branch)).splitlines()
    assert {"round1.txt", "round2.txt", "feature.txt"} <= set(files)
    assert "loser.txt" not in files
    log = user.text("log", "--format=%s", f"{feature_base}..{landing.branch}").splitlines()
    assert log == ["WRITE round2.txt second round", "First round"]
    assert (user.path / "README.md").read_text() == "uncommitted edit\n"
    assert user.text("rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert base != feature_base
    assert standin.live == []


def test_rounds_without_a_repository_start_from_the_same_empty_commit(
    manager: RunManager, tmp_path: Path
) -> None:
    first_id, _ = run(manager, RunSpec("WRITE notes/one.txt first", shots=2))
    first = manager.history.run(first_id)
    assert first is not None
    assert first.base_commit is not None
    assert "branch moved" not in first.detail  # every sandbox made the same empty commit

    second = continue_spec(
        manager.history, first_id, 2, "WRITE two.txt second", shots=1, check="test -f notes/one.txt"
    )
    second_id, _ = run(manager, second)
    (shot,) = manager.history.shots(second_id)
    assert shot.check_exit_code == 0
    assert shot.changed_files == ["two.txt"]
    assert manager.history.run(second_id).base_commit == first.base_commit  # type: ignore[union-attr]

    landing = apply_to_new_folder(
        tmp_path / "new project",
        [last_change(manager.history, first_id, 2), last_change(manager.history, second_id, 1)],
    )
    assert (landing.target / "notes" / "one.txt").read_text() == "first\n"
    assert (landing.target / "two.txt").read_text() == "second\n"


def test_continue_refuses_what_it_cannot_start_from(manager: RunManager, tmp_path: Path) -> None:
    run_id, _ = run(manager, RunSpec("task", shots=2, hints=("WRITE a.txt x", "no change")))
    with pytest.raises(InvalidRunSpec, match="changed nothing: there is nothing to continue"):
        continue_spec(manager.history, run_id, 2, "more")
    with pytest.raises(InvalidRunSpec, match="has no shot 3"):
        continue_spec(manager.history, run_id, 3, "more")
    with pytest.raises(RunNotFound):
        continue_spec(manager.history, "no-such-run", 1, "more")
    patch = manager.history.shots(run_id)[0].patch_path
    Path(cast(str, patch)).unlink()
    with pytest.raises(InvalidRunSpec, match="are gone"):
        continue_spec(manager.history, run_id, 1, "more")
    manager.history.add_run("still-going", "p", {"shots": 1}, tmp_path, 1)
    with pytest.raises(InvalidRunSpec, match="still going"):
        continue_spec(manager.history, "still-going", 1, "more")


def test_a_branch_that_moves_between_clones_keeps_the_first_commit_and_says_so(
    tmp_path: Path,
) -> None:
    run = RunState("RUN", RunSpec("task", shots=3), RunFolder(tmp_path))
    assert run.note_base(2, "aaa")
    assert not run.note_base(1, "aaa")
    assert not run.note_base(3, "bbb")
    assert run.base_commit == "aaa"
    assert run.moved_base_note() == (
        " Note: the branch moved while the shots cloned it; shot(s) 3 started from another "
        "commit than the run's aaa."
    )
    assert RunState("R2", RunSpec("task"), RunFolder(tmp_path)).moved_base_note() == ""
