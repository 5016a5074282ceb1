"""The history's schema grows in place, and links rounds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tray.runs.history import History
from tray.runs.status import RunStatus, ShotStatus

# The tables as the first release wrote them.
_FIRST_SCHEMA = """
CREATE TABLE runs (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, prompt TEXT NOT NULL,
    spec_json TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '',
    finished_at REAL, folder TEXT NOT NULL, heartbeat_at REAL, owner_pid INTEGER,
    owner_host TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE shots (
    run_id TEXT NOT NULL REFERENCES runs(id), number INTEGER NOT NULL, status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '', sandbox_id TEXT, started_at REAL, finished_at REAL,
    exit_code INTEGER, cost_usd REAL, turns INTEGER, duration_ms INTEGER, error_kind TEXT,
    log_path TEXT, patch_path TEXT, changed_files TEXT, PRIMARY KEY (run_id, number)
);
INSERT INTO runs (id, created_at, prompt, spec_json, status, folder)
    VALUES ('old-run', 1.0, 'fix it', '{"prompt": "fix it"}', 'done', '/tmp/old-run');
INSERT INTO shots (run_id, number, status, cost_usd) VALUES ('old-run', 1, 'succeeded', 0.5);
"""


def test_a_history_from_the_first_release_keeps_its_runs_and_gains_the_new_columns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(_FIRST_SCHEMA)
    history = History(path)
    run = history.run("old-run")
    assert run is not None
    assert (run.prompt, run.status, run.round, run.parent_run_id) == (
        "fix it",
        RunStatus.DONE,
        1,
        None,
    )
    [shot] = history.shots("old-run")
    assert (shot.status, shot.cost_usd, shot.check_exit_code) == (ShotStatus.SUCCEEDED, 0.5, None)
    history.update_shot("old-run", 1, check_exit_code=0, check_duration_ms=1200)
    history.close()
    reopened = History(path)
    [shot] = reopened.shots("old-run")
    assert (shot.check_exit_code, shot.check_duration_ms) == (0, 1200)


def test_rounds_chain_back_to_the_first_and_a_pick_is_kept(tmp_path: Path) -> None:
    history = History(tmp_path / "history.sqlite3")
    history.add_run("r1", "first", {"prompt": "first"}, tmp_path / "r1", 3)
    history.set_base_commit("r1", "a" * 40)
    history.pick_shot("r1", 2)
    follow_up = {"prompt": "then", "parent_run_id": "r1", "parent_shot": 2}
    history.add_run("r2", "then", follow_up, tmp_path / "r2", 2, round_number=2)
    history.add_run("r3", "last", {"prompt": "last", "parent_run_id": "r2", "parent_shot": 1},
                    tmp_path / "r3", 1, round_number=3)  # fmt: skip
    chain = history.rounds("r3")
    assert [(r.id, r.round, r.parent_run_id, r.parent_shot) for r in chain] == [
        ("r1", 1, None, None),
        ("r2", 2, "r1", 2),
        ("r3", 3, "r2", 1),
    ]
    assert (chain[0].picked_shot, chain[0].base_commit) == (2, "a" * 40)
    history.pick_shot("r1", None)
    first = history.run("r1")
    assert first is not None
    assert first.picked_shot is None
