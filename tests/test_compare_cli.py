"""`multishot compare | pick | apply` as real subprocesses, over runs recorded in the real
history, landing in real git repositories."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.git_repos import GitRepo
from tests.recorded_runs import RecordedShot, record_run
from tests.test_apply import checkout_state
from tray.runs.history import History
from tray.runs.layout import RunFolder, default_runs_root
from tray.runs.status import ShotStatus
from tray.runs.verdict import JudgeVerdict, write_verdict

PROMPT = "Make the greeting friendlier\n\nKeep the tests passing."


@pytest.fixture
def origin(tmp_path: Path) -> GitRepo:
    """The repository the run cloned, at its starting commit."""
    repo = GitRepo.init(tmp_path / "origin")
    repo.write("greet.py", "def greet():\n    return 'hi'\n")
    repo.write("README.md", "# Greeter\n")
    repo.commit("start")
    return repo


@pytest.fixture
def history() -> History:
    return History()


def shot_patch(origin: GitRepo, tmp_path: Path, name: str, files: dict[str, str]) -> bytes:
    """The patch a shot's sandbox records after writing ``files`` into a clone of ``origin``."""
    sandbox = GitRepo(tmp_path / name)
    origin.git("clone", "-q", str(origin.path), str(sandbox.path))
    for path, content in files.items():
        sandbox.write(path, content)
    return sandbox.shot_patch(origin.text("rev-parse", "HEAD"))


@pytest.fixture
def three_shots(origin: GitRepo, tmp_path: Path, history: History) -> str:
    """Shot 1 passes the check with a small edit, shot 2 fails it with a bigger one, shot 3
    changed nothing."""
    small = shot_patch(origin, tmp_path, "s1", {"greet.py": "def greet():\n    return 'hello'\n"})
    big = shot_patch(
        origin,
        tmp_path,
        "s2",
        {"greet.py": "def greet(name):\n    return f'hello {name}'\n", "NOTES.md": "a\nb\n"},
    )
    return record_run(
        history,
        default_runs_root(),
        [
            RecordedShot(small, check_exit_code=0, check_output="3 passed\n", cost_usd=0.30),
            RecordedShot(big, check_exit_code=1, check_output="1 failed\n", cost_usd=0.20),
            RecordedShot(b"", check_exit_code=0, cost_usd=0.10),
        ],
        prompt=PROMPT,
        repo_url=origin.path.as_uri(),
        base_commit=origin.text("rev-parse", "HEAD"),
        check="pytest -q",
    )


@pytest.fixture
def user_clone(origin: GitRepo, tmp_path: Path) -> GitRepo:
    return origin.busy_clone(tmp_path / "my clone")


def test_compare_shows_every_shot_ranked_with_reasons(three_shots: str) -> None:
    result = run_cli("compare", three_shots[:-3])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Run {three_shots} (round 1): done" in out
    assert "Prompt: Make the greeting friendlier Keep the tests passing." in out
    assert "Check: pytest -q" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line[:3].strip().isdigit()}
    assert "passed (4.2 s)" in rows["1"]
    assert "+1 −1" in rows["1"]
    assert "$0.30" in rows["1"]
    assert "1 min 01 s" in rows["1"]
    assert rows["1"].endswith("← recommended")
    assert "failed, exit 1 (4.2 s)" in rows["2"]
    assert "+4 −2" in rows["2"]
    assert re.search(r" 0 +— ", rows["3"])  # no files, no lines
    assert "1. shot 1: check passed" in out
    assert "no changes" in out
    assert f"multishot apply {three_shots} --to PATH" in out


def test_compare_json_follows_the_documented_schema(three_shots: str) -> None:
    result = run_cli("compare", three_shots, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == 1
    assert document["run_id"] == three_shots
    assert document["check_command"] == "pytest -q"
    assert document["recommended_shot"] == 1
    assert document["picked_shot"] is None
    assert document["judge"] is None
    first, second, third = document["shots"]
    assert first["check"] == {
        "exit_code": 0,
        "passed": True,
        "duration_ms": 4200,
        "output_tail": "3 passed\n",
    }
    assert first["files"] == [
        {"path": "greet.py", "old_path": None, "added": 1, "removed": 1, "binary": False}
    ]
    assert second["check"]["passed"] is False
    assert (second["files_changed"], second["lines_added"], second["lines_removed"]) == (2, 4, 2)
    assert Path(second["patch"]).is_file()
    assert third["patch"] is None
    assert [s["rank"] for s in document["shots"]] == [1, 2, 3]


def test_pick_is_kept_in_the_history_and_shown(three_shots: str, history: History) -> None:
    picked = run_cli("pick", three_shots, "2")
    assert picked.returncode == 0, picked.stderr
    assert f"Picked shot 2 of run {three_shots}" in picked.stdout
    record = history.run(three_shots)
    assert record is not None
    assert record.picked_shot == 2
    out = run_cli("compare", three_shots).stdout
    assert [line.split()[0] for line in out.splitlines() if line.endswith("← picked")] == ["2"]
    assert "← recommended" not in out
    assert json.loads(run_cli("compare", three_shots, "--json").stdout)["picked_shot"] == 2


def test_apply_makes_a_branch_and_leaves_the_checkout_alone(
    three_shots: str, user_clone: GitRepo, origin: GitRepo
) -> None:
    before = checkout_state(user_clone)
    result = run_cli("apply", three_shots, "--to", str(user_clone.path))
    assert result.returncode == 0, result.stderr
    branch = f"multishot/{three_shots}-shot-1"  # the recommended shot: nothing was picked
    assert f"on the new branch {branch} of {user_clone.path}" in result.stdout
    assert "(1 commit, 1 file)" in result.stdout
    assert checkout_state(user_clone) == before
    assert user_clone.text("symbolic-ref", "--short", "HEAD") == "mine"
    assert user_clone.text("show", f"{branch}:greet.py") == "def greet():\n    return 'hello'"
    assert user_clone.text("rev-parse", f"{branch}~1") == origin.text("rev-parse", "HEAD")
    message = user_clone.text("log", "-1", "--format=%B", branch)
    assert message.startswith("Make the greeting friendlier\n")
    assert f"Multishot run {three_shots}, shot 1." in message
    assert user_clone.text("worktree", "list").count("\n") == 0  # the temporary one is gone


def test_apply_the_picked_shot_with_a_branch_name(three_shots: str, user_clone: GitRepo) -> None:
    assert run_cli("pick", three_shots, "2").returncode == 0
    result = run_cli("apply", three_shots, "--to", str(user_clone.path), "--branch", "try/two")
    assert result.returncode == 0, result.stderr
    assert "(1 commit, 2 files)" in result.stdout
    assert user_clone.text("show", "try/two:NOTES.md") == "a\nb"


def test_a_missing_starting_commit_says_how_to_fetch_it(
    three_shots: str, origin: GitRepo, tmp_path: Path
) -> None:
    stranger = GitRepo.init(tmp_path / "unrelated")
    stranger.write("x", "x\n")
    stranger.commit("another history")
    result = run_cli("apply", three_shots, "--to", str(stranger.path))
    assert result.returncode == 1
    base = origin.text("rev-parse", "HEAD")
    assert "The run's starting commit is missing" in result.stderr
    assert f"git -C {stranger.path} fetch {origin.path.as_uri()} {base}" in result.stderr
    assert stranger.text("branch", "--list").split() == ["*", "main"]


def test_a_patch_that_does_not_apply_names_the_file(
    three_shots: str, history: History, user_clone: GitRepo
) -> None:
    patch = Path(history.shots(three_shots)[0].patch_path or "")
    patch.write_bytes(patch.read_bytes().replace(b"-    return 'hi'", b"-    return 'howdy'"))
    result = run_cli("apply", three_shots, "1", "--to", str(user_clone.path))
    assert result.returncode == 1
    assert "The changes do not apply" in result.stderr
    assert "conflicts in greet.py" in result.stderr
    assert "multishot/" not in user_clone.text("branch", "--list")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["3"], "Shot 3 of run {run} changed nothing: there is nothing to apply."),
        (["9"], "Run {run} has no shot 9: its shots are numbered 1 to 3."),
        (["1", "--branch", "mine"], "The branch mine already exists"),
        (["1", "--branch", "bad..name"], "'bad..name' is not a valid branch name."),
    ],
)
def test_bad_apply_input_exits_2(
    three_shots: str, user_clone: GitRepo, args: list[str], message: str
) -> None:
    result = run_cli("apply", three_shots, *args, "--to", str(user_clone.path))
    assert result.returncode == 2, result.stderr
    assert message.format(run=three_shots) in result.stderr


def test_other_bad_input_exits_2(three_shots: str, tmp_path: Path, history: History) -> None:
    not_a_repo = run_cli("apply", three_shots, "--to", str(tmp_path))
    assert not_a_repo.returncode == 2
    assert "is not a git work tree" in not_a_repo.stderr
    assert run_cli("apply", "nosuchrun", "--to", str(tmp_path)).returncode == 2
    assert "no shot 7" in run_cli("pick", three_shots, "7").stderr
    assert run_cli("apply", three_shots).returncode == 2  # --to or --patch is required
    both = run_cli("apply", three_shots, "--patch", "x.patch", "--branch", "b")
    assert both.returncode == 2
    assert "--branch goes with --to" in both.stderr
    running = record_run(
        history,
        default_runs_root(),
        [RecordedShot(b"", status=ShotStatus.RUNNING)],
        finished=False,
    )
    still = run_cli("pick", running, "1")
    assert still.returncode == 2
    assert f"Shot 1 of run {running} is still going (running)" in still.stderr


def test_save_patch_writes_what_git_apply_takes(
    three_shots: str, tmp_path: Path, origin: GitRepo
) -> None:
    target = tmp_path / "shot.patch"
    result = run_cli("apply", three_shots, "2", "--patch", str(target))
    assert result.returncode == 0, result.stderr
    assert f"to {target} (2 files)" in result.stdout
    checkout = GitRepo(tmp_path / "check")
    origin.git("clone", "-q", str(origin.path), str(checkout.path))
    checkout.git("apply", str(target))
    assert (checkout.path / "NOTES.md").read_text() == "a\nb\n"
    again = run_cli("apply", three_shots, "2", "--patch", str(target))
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_a_later_round_lands_as_one_commit_per_round(
    origin: GitRepo, tmp_path: Path, history: History, user_clone: GitRepo
) -> None:
    base = origin.text("rev-parse", "HEAD")
    sandbox = GitRepo(tmp_path / "chain")
    origin.git("clone", "-q", str(origin.path), str(sandbox.path))
    sandbox.write("greet.py", "def greet():\n    return 'hello'\n")
    first_patch = sandbox.shot_patch(base)
    first = record_run(
        history,
        default_runs_root(),
        [RecordedShot(b""), RecordedShot(first_patch)],
        repo_url=origin.path.as_uri(),
        base_commit=base,
    )
    # The second round's sandboxes start from the first winner's changes, committed.
    start = sandbox.commit("round 1")
    sandbox.write("greet.py", "def greet():\n    return 'hello, world'\n")
    second = record_run(
        history,
        default_runs_root(),
        [RecordedShot(sandbox.shot_patch(start))],
        prompt="Say hello to the world",
        repo_url=origin.path.as_uri(),
        base_commit=base,
        parent=(first, 2),
    )
    compared = json.loads(run_cli("compare", second, "--json").stdout)
    assert compared["round"] == 2
    assert compared["parent"] == {"run_id": first, "shot": 2}
    result = run_cli("apply", second, "--to", str(user_clone.path))
    assert result.returncode == 0, result.stderr
    assert "with the chosen shots of its 1 earlier rounds" in result.stdout
    branch = f"multishot/{second}-shot-1"
    subjects = user_clone.text("log", "--format=%s%n%b", f"{base}..{branch}")
    assert subjects.index(f"run {second}, shot 1") < subjects.index(f"run {first}, shot 2")
    assert user_clone.text("rev-list", "--count", f"{base}..{branch}") == "2"
    assert user_clone.text("show", f"{branch}:greet.py").endswith("'hello, world'")


def test_a_run_without_a_repository_applies_into_a_new_folder(
    tmp_path: Path, history: History
) -> None:
    scratch = GitRepo.init(tmp_path / "scratch")
    scratch.write("app.py", "print('made from nothing')\n")
    run_id = record_run(
        history,
        default_runs_root(),
        [RecordedShot(scratch.shot_patch("4b825dc642cb6eb9a060e54bf8d69288fbee4904"))],
    )
    target = tmp_path / "new project"
    with_branch = run_cli("apply", run_id, "--to", str(target), "--branch", "x")
    assert with_branch.returncode == 2
    assert "a branch name has no use" in with_branch.stderr
    result = run_cli("apply", run_id, "--to", str(target))
    assert result.returncode == 0, result.stderr
    assert f"in the new repository {target}" in result.stdout
    assert (target / "app.py").read_text() == "print('made from nothing')\n"
    assert GitRepo(target).text("status", "--porcelain") == ""


def test_a_shot_that_changed_nothing_is_never_recommended(
    origin: GitRepo, tmp_path: Path, history: History, user_clone: GitRepo
) -> None:
    failing = shot_patch(origin, tmp_path, "s1", {"greet.py": "oops\n"})
    run_id = record_run(
        history,
        default_runs_root(),
        [RecordedShot(failing, check_exit_code=1), RecordedShot(b"")],
        repo_url=origin.path.as_uri(),
        base_commit=origin.text("rev-parse", "HEAD"),
        check="pytest -q",
    )
    document = json.loads(run_cli("compare", run_id, "--json").stdout)
    assert [s["rank"] for s in document["shots"]] == [1, 2]  # a change outranks no change
    assert document["recommended_shot"] == 1
    applied = run_cli("apply", run_id, "--to", str(user_clone.path))
    assert applied.returncode == 0, applied.stderr
    assert f"multishot/{run_id}-shot-1" in applied.stdout

    nothing = record_run(history, default_runs_root(), [RecordedShot(b""), RecordedShot(None)])
    out = run_cli("compare", nothing).stdout
    assert "← recommended" not in out
    assert "No shot changed anything: there is nothing to apply." in out
    assert json.loads(run_cli("compare", nothing, "--json").stdout)["recommended_shot"] is None
    refused = run_cli("apply", nothing, "--to", str(user_clone.path))
    assert refused.returncode == 2
    assert f"Run {nothing} has no shots to apply" in refused.stderr


def test_an_unusable_judge_answer_is_shown_not_trusted(three_shots: str, history: History) -> None:
    record = history.run(three_shots)
    assert record is not None
    write_verdict(
        RunFolder(Path(record.folder)).judge_verdict,
        JudgeVerdict((), cost_usd=0.04, problem="The judge ranked shot 7, which does not exist."),
    )
    out = run_cli("compare", three_shots).stdout
    assert "Its answer is not used: The judge ranked shot 7, which does not exist." in out
    assert out.splitlines()[5].endswith("← recommended")  # the default ranking's first: shot 1
    document = json.loads(run_cli("compare", three_shots, "--json").stdout)
    assert document["judge"] == {
        "ranking": [],
        "cost_usd": 0.04,
        "problem": "The judge ranked shot 7, which does not exist.",
    }
    assert document["recommended_shot"] == 1
    assert {s["judge_rank"] for s in document["shots"]} == {None}
