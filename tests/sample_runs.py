"""A run history with one run of each kind the Runs window shows: for its tests and its
screenshots. Written through the real History."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from tray.runs.display import RunOverview
from tray.runs.history import History
from tray.runs.status import RunStatus, ShotStatus

LONG_PROMPT = (
    "Make the login form remember the last user name and explain why the session cookie "
    "expires early on Safari\n\nDetails: the cookie is set with SameSite=None but..."
)
RUNNING, FAILED, DONE = "20261130-101500-aaaaaa", "20261130-093000-bbbbbb", "20261129-170000-cccccc"


def sample_history(folder: Path, *, extra_runs: int = 0) -> History:
    """Newest first: a running run (2 shots, one working), a run whose token expired, a
    finished run with a patch and costs, and ``extra_runs`` more finished ones."""
    history = History(folder / "history.sqlite3")
    for number in range(extra_runs):
        run_id = f"20261101-0000{number:02d}-old{number:03d}"
        history.add_run(run_id, f"Old task {number}", {}, folder / run_id, 1)
        history.update_shot(run_id, 1, status=ShotStatus.SUCCEEDED.value, cost_usd=0.5)
        history.finish_run(run_id, RunStatus.DONE, "1 of 1 shots succeeded")
    history.add_run(
        DONE,
        "Add a dark mode toggle to the settings page",
        {"repo_url": "https://github.com/example/webapp.git"},
        folder / DONE,
        2,
    )
    (folder / DONE / "shot-1").mkdir(parents=True)
    patch = folder / DONE / "shot-1" / "changes.patch"
    patch.write_text("diff --git a/x b/x\n")
    history.update_shot(
        DONE,
        1,
        status=ShotStatus.SUCCEEDED.value,
        cost_usd=0.4213,
        duration_ms=312_000,
        detail="1 file changed",
        patch_path=str(patch),
        started_at=time.time() - 400,
        finished_at=time.time() - 88,
    )
    history.update_shot(
        DONE,
        2,
        status=ShotStatus.FAILED.value,
        cost_usd=0.0031,
        duration_ms=95_000,
        detail="Claude Code exited with status 1 after editing 3 files: the test suite "
        "failed in tests/test_settings.py::test_toggle_persists_across_reloads",
    )
    history.finish_run(DONE, RunStatus.PARTIAL, "1 of 2 shots succeeded")
    history.add_run(
        FAILED, "Fix the flaky upload test", {"repo_url": "git@github.com:example/api.git"},
        folder / FAILED, 1,
    )  # fmt: skip
    history.update_shot(
        FAILED, 1, status=ShotStatus.AUTH_FAILED.value, detail="Claude token expired"
    )
    history.finish_run(FAILED, RunStatus.AUTH_FAILED, "The Claude token expired; fix it")
    history.add_run(RUNNING, LONG_PROMPT, {}, folder / RUNNING, 2)
    history.update_shot(
        RUNNING, 1, status=ShotStatus.RUNNING.value, started_at=time.time() - 75, cost_usd=None
    )
    _backdate(history.path, {RUNNING: (80, None), FAILED: (3600, 3540), DONE: (7200, 6800)})
    return history


def _backdate(path: Path, ages: dict[str, tuple[float, float | None]]) -> None:
    """Start (and end) runs some seconds ago: the history has no call for that."""
    now = time.time()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        for run_id, (started, finished) in ages.items():
            db.execute(
                "UPDATE runs SET created_at = ?, finished_at = ? WHERE id = ?",
                (now - started, now - finished if finished is not None else None, run_id),
            )


def overviews(history: History) -> list[RunOverview]:
    return [RunOverview(record, history.shots(record.id)) for record in history.runs(50)]
