"""The whole loop against the stand-ins, from the command line and from the tray: run 3 shots
with a check → compare → pick → apply to a local clone (a new branch, the user's tree
untouched) → continue for a second round → apply again (one commit per round)."""

from __future__ import annotations

import json
import tkinter as tk
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.git_repos import GitRepo
from tests.standins import VALID_ANTHROPIC_KEY
from tests.test_apply import checkout_state
from tests.test_checks import upstream
from tests.test_cli_runs import ENV
from tests.test_tray import pump
from tray.credentials.keychain import CredentialStore
from tray.credentials.model import AuthMethod, Credentials
from tray.runs.spec import RunSpec
from tray.service import Service
from tray.ui.app import TrayApp
from tray.ui.compare_window import CompareWindow

# Shot 1 makes the check pass, shot 2 makes it fail, shot 3 changes nothing.
HINTS = ("WRITE fix.txt good", "WRITE fix.txt bad", "leave everything as it is")
CHECK = "grep -q good fix.txt"
# Round 2 writes a second file; its check passes only if round 1's winner is in its sandbox.
FOLLOW_UP = "WRITE more.txt round two"
PROJECT = {"README.md": "# Project", ".gitignore": "ignored-by-project/"}  # upstream()'s files


@pytest.fixture
def origin(tmp_path: Path) -> GitRepo:
    return upstream(tmp_path)[0]


@pytest.fixture
def clone(origin: GitRepo, tmp_path: Path) -> GitRepo:
    return origin.busy_clone(tmp_path / "my clone")


@pytest.fixture
def edits(daytona: DaytonaStandIn) -> DaytonaStandIn:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "edits"
    return daytona


def files_on(repo: GitRepo, branch: str) -> dict[str, str]:
    names = repo.text("ls-tree", "-r", "--name-only", branch).splitlines()
    return {name: repo.text("show", f"{branch}:{name}") for name in names}


def test_the_loop_from_the_command_line(
    edits: DaytonaStandIn, origin: GitRepo, clone: GitRepo
) -> None:
    hints = [arg for hint in HINTS for arg in ("--hint", hint)]
    first = run_cli(
        "run", "Make the check pass", "--shots", "3", *hints,
        "--repo", origin.path.as_uri(), "--check", CHECK, "--json",
        env=ENV,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    run_id = json.loads(first.stdout)["run_id"]

    compared = run_cli("compare", run_id)
    assert compared.returncode == 0, compared.stderr
    rows = {line.split()[0]: line for line in compared.stdout.splitlines() if line[:3].strip()}
    assert "passed" in rows["1"]
    assert rows["1"].endswith("← recommended")
    assert "failed, exit 1" in rows["2"]
    document = json.loads(run_cli("compare", run_id, "--json").stdout)
    assert [s["files_changed"] for s in document["shots"]] == [1, 1, 0]
    assert document["base_commit"] == origin.text("rev-parse", "HEAD")

    assert run_cli("pick", run_id, "1").returncode == 0
    before = checkout_state(clone)
    applied = run_cli("apply", run_id, "--to", str(clone.path))
    assert applied.returncode == 0, applied.stderr
    assert checkout_state(clone) == before
    assert files_on(clone, f"multishot/{run_id}-shot-1") == {**PROJECT, "fix.txt": "good"}

    second = run_cli("continue", run_id, FOLLOW_UP, "--shots", "1", "--json", env=ENV)
    assert second.returncode == 0, second.stderr
    second_id = json.loads(second.stdout)["run_id"]
    round_two = json.loads(run_cli("compare", second_id, "--json").stdout)
    assert (round_two["round"], round_two["parent"]) == (2, {"run_id": run_id, "shot": 1})
    assert round_two["shots"][0]["check"]["passed"]  # round 1's fix.txt was in its sandbox
    assert [f["path"] for f in round_two["shots"][0]["files"]] == ["more.txt"]

    again = run_cli("apply", second_id, "--to", str(clone.path))
    assert again.returncode == 0, again.stderr
    assert "with the chosen shots of its 1 earlier rounds" in again.stdout
    branch = f"multishot/{second_id}-shot-1"
    assert files_on(clone, branch) == {**PROJECT, "fix.txt": "good", "more.txt": "round two"}
    assert clone.text("rev-list", "--count", f"{origin.text('rev-parse', 'HEAD')}..{branch}") == "2"
    assert checkout_state(clone) == before


@pytest.fixture
def app(root: tk.Tk, tmp_path: Path) -> Iterator[TrayApp]:
    service = Service(CredentialStore(), history_path=tmp_path / "h.sqlite3")
    app = TrayApp(root, service=service, with_icon=False)
    app.credentials = Credentials(
        VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY
    )
    yield app
    service.shutdown(timeout=30)
    app.notifier.close()
    app.close()


def finished_window(app: TrayApp, run_id: str) -> CompareWindow:
    pump(app.root, lambda: app.run_status.get(run_id) == "done", timeout=90)
    app.open_compare(run_id)
    pump(app.root, lambda: run_id in app.compare_windows)
    window = app.compare_windows[run_id]
    pump(app.root, lambda: window.shown_shot is not None)
    return window


@pytest.mark.usefixtures("display")
def test_the_loop_from_the_tray(
    app: TrayApp, edits: DaytonaStandIn, origin: GitRepo, clone: GitRepo
) -> None:
    started: list[str] = []
    spec = RunSpec(
        "Make the check pass", shots=3, hints=HINTS, repo_url=origin.path.as_uri(), check=CHECK
    )
    app.start_run(spec, started.append)
    pump(app.root, lambda: bool(started), timeout=60)
    window = finished_window(app, started[0])
    first = window.tree.item("1", "values")
    assert tuple(first[:2]) == ("1 (recommended)", "succeeded")
    assert str(first[2]).startswith("passed")
    assert str(window.tree.item("2", "values")[2]).startswith("failed, exit 1")
    assert "+good" in window.diff.text.get("1.0", "end")

    window.pick_button.invoke()
    pump(app.root, lambda: window.tree.item("1", "values")[0] == "1 (picked)")
    before = checkout_state(clone)
    app.choose_folder = lambda _title, _start: clone.path
    window.apply_button.invoke()
    pump(app.root, lambda: "Applied" in str(window.message.cget("text")), timeout=60)
    assert checkout_state(clone) == before
    assert files_on(clone, f"multishot/{started[0]}-shot-1")["fix.txt"] == "good"

    window.continue_button.invoke()
    pump(app.root, lambda: app.continue_dialog is not None)
    dialog = app.continue_dialog
    assert dialog is not None
    assert (dialog.shots.get(), dialog.check.get()) == ("3", CHECK)
    dialog.prompt.insert("1.0", FOLLOW_UP)
    dialog.shots.set("1")
    known = set(app.run_status)
    dialog.start_button.invoke()
    pump(app.root, lambda: not dialog.top.winfo_exists(), timeout=60)
    pump(app.root, lambda: bool(set(app.run_status) - known), timeout=60)
    (second_id,) = set(app.run_status) - known
    second = finished_window(app, second_id)
    assert str(second.tree.item("1", "values")[2]).startswith("passed")
    assert second.files.get(0, "end") == ("more.txt  (+1 −0)",)

    second.apply_button.invoke()
    pump(app.root, lambda: "Applied" in str(second.message.cget("text")), timeout=60)
    assert "(2 commits, 2 files)" in str(second.message.cget("text"))
    assert files_on(clone, f"multishot/{second_id}-shot-1") == {
        **PROJECT,
        "fix.txt": "good",
        "more.txt": "round two",
    }
    assert checkout_state(clone) == before
