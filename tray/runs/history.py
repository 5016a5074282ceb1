"""Run history in SQLite (stdlib, WAL): runs, shots, and which runs are still alive.

One connection guarded by a lock serves every thread of a process; WAL and a busy
timeout let several processes (the tray app and a `multishot run` in a terminal)
share the file. A run is alive while its owner refreshes its heartbeat.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tray import config
from tray.errors import HistoryUnreadable
from tray.failures import FailureKind
from tray.runs.status import RunStatus, ShotStatus

__all__ = ["ALIVE_WITHIN_SECONDS", "HEARTBEAT_SECONDS", "History", "RunRecord", "ShotRecord"]

# While runs are active their owner refreshes them (and reads cancel requests) this often.
HEARTBEAT_SECONDS = 1.0
ALIVE_WITHIN_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    prompt TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    finished_at REAL,
    folder TEXT NOT NULL,
    heartbeat_at REAL,
    owner_pid INTEGER,
    owner_host TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS shots (
    run_id TEXT NOT NULL REFERENCES runs(id),
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    sandbox_id TEXT,
    started_at REAL,
    finished_at REAL,
    exit_code INTEGER,
    cost_usd REAL,
    turns INTEGER,
    duration_ms INTEGER,
    error_kind TEXT,
    log_path TEXT,
    patch_path TEXT,
    changed_files TEXT,
    PRIMARY KEY (run_id, number)
);
CREATE TABLE IF NOT EXISTS leftover_sandboxes (
    sandbox_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    shot INTEGER NOT NULL,
    noted_at REAL NOT NULL
);
"""

# Columns added after the first release: a history written by an older version gets them
# when it is opened (SQLite adds a column in place, keeping every row).
_ADDED_COLUMNS = (
    ("runs", "base_commit", "TEXT"),
    ("runs", "parent_run", "TEXT"),
    ("runs", "parent_shot", "INTEGER"),
    ("runs", "round", "INTEGER NOT NULL DEFAULT 1"),
    ("runs", "picked_shot", "INTEGER"),
    ("shots", "setup_exit_code", "INTEGER"),
    ("shots", "check_exit_code", "INTEGER"),
    ("shots", "check_duration_ms", "INTEGER"),
)

SHOT_FIELDS = (
    "status",
    "detail",
    "sandbox_id",
    "started_at",
    "finished_at",
    "exit_code",
    "cost_usd",
    "turns",
    "duration_ms",
    "error_kind",
    "log_path",
    "patch_path",
    "changed_files",
    "setup_exit_code",
    "check_exit_code",
    "check_duration_ms",
)


def default_path() -> Path:
    return config.data_dir() / "history.sqlite3"


@dataclasses.dataclass(frozen=True)
class RunRecord:
    id: str
    created_at: float
    prompt: str
    spec: dict[str, Any]
    status: RunStatus
    detail: str
    finished_at: float | None
    folder: str
    heartbeat_at: float | None
    owner_pid: int | None
    owner_host: str | None
    cancel_requested: bool
    base_commit: (
        str | None
    )  # the commit every shot started from (a later round: before its parent's changes)
    parent_run_id: str | None  # a later round: the run and shot it continues
    parent_shot: int | None
    round: int  # 1 for a first run
    picked_shot: int | None  # the winner the user picked

    def is_alive(self, now: float | None = None) -> bool:
        """Unfinished, with a recent heartbeat from an owner process that still exists."""
        if self.finished_at is not None or self.heartbeat_at is None:
            return False
        if (now or time.time()) - self.heartbeat_at >= ALIVE_WITHIN_SECONDS:
            return False
        if self.owner_host == socket.gethostname() and self.owner_pid is not None:
            return _process_exists(self.owner_pid)
        return True


@dataclasses.dataclass(frozen=True)
class ShotRecord:
    run_id: str
    number: int
    status: ShotStatus
    detail: str
    sandbox_id: str | None
    started_at: float | None
    finished_at: float | None
    exit_code: int | None
    cost_usd: float | None
    turns: int | None
    duration_ms: int | None
    failure: FailureKind | None
    log_path: str | None
    patch_path: str | None
    changed_files: list[str]
    setup_exit_code: int | None
    check_exit_code: int | None  # None: no check ran
    check_duration_ms: int | None


def _process_exists(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # no cheap, safe probe there: the heartbeat alone decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class History:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            with self._db:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA busy_timeout=10000")
                self._db.executescript(_SCHEMA)
                self._add_missing_columns()
        except (OSError, sqlite3.Error) as exc:
            raise _unreadable(self.path, exc) from None

    def _add_missing_columns(self) -> None:
        for table, column, declaration in _ADDED_COLUMNS:
            present = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add_run(
        self,
        run_id: str,
        prompt: str,
        spec: dict[str, Any],
        folder: Path,
        shots: int,
        *,
        round_number: int = 1,
    ) -> None:
        """``spec``'s parent_run_id and parent_shot link a later round to the run it continues."""
        now = time.time()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO runs (id, created_at, prompt, spec_json, status, folder, heartbeat_at,"
                " owner_pid, owner_host, parent_run, parent_shot, round)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    now,
                    prompt,
                    json.dumps(spec),
                    RunStatus.RUNNING.value,
                    str(folder),
                    now,
                    os.getpid(),
                    socket.gethostname(),
                    spec.get("parent_run_id"),
                    spec.get("parent_shot"),
                    round_number,
                ),
            )
            self._db.executemany(
                "INSERT INTO shots (run_id, number, status) VALUES (?, ?, ?)",
                [(run_id, n, ShotStatus.QUEUED.value) for n in range(1, shots + 1)],
            )

    def update_shot(self, run_id: str, number: int, **fields: Any) -> None:
        unknown = set(fields) - set(SHOT_FIELDS)
        if unknown:
            raise ValueError(f"unknown shot fields: {sorted(unknown)}")
        if "changed_files" in fields and isinstance(fields["changed_files"], list):
            fields["changed_files"] = json.dumps(fields["changed_files"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._lock, self._db:
            self._db.execute(
                f"UPDATE shots SET {assignments} WHERE run_id = ? AND number = ?",  # noqa: S608
                (*fields.values(), run_id, number),
            )

    def finish_run(self, run_id: str, status: RunStatus, detail: str = "") -> None:
        with self._lock, self._db:
            self._db.execute(
                "UPDATE runs SET status = ?, detail = ?, finished_at = ? WHERE id = ?",
                (status.value, detail, time.time(), run_id),
            )

    def set_base_commit(self, run_id: str, commit: str) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE runs SET base_commit = ? WHERE id = ?", (commit, run_id))

    def pick_shot(self, run_id: str, number: int | None) -> None:
        """Record the user's winner (None: take the pick back)."""
        with self._lock, self._db:
            self._db.execute("UPDATE runs SET picked_shot = ? WHERE id = ?", (number, run_id))

    def rounds(self, run_id: str) -> list[RunRecord]:
        """The chain of runs that led to ``run_id``, the first round first, ``run_id`` last."""
        chain: list[RunRecord] = []
        next_id: str | None = run_id
        while next_id is not None and all(r.id != next_id for r in chain):
            record = self.run(next_id)
            if record is None:
                break
            chain.append(record)
            next_id = record.parent_run_id
        return chain[::-1]

    def heartbeat(self, run_ids: list[str]) -> list[str]:
        """Refresh the given runs' heartbeats; return those another process asked to cancel."""
        now = time.time()
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE runs SET heartbeat_at = ? WHERE id = ?", [(now, r) for r in run_ids]
            )
            rows = self._db.execute(
                f"SELECT id FROM runs WHERE cancel_requested = 1 AND id IN "  # noqa: S608
                f"({', '.join('?' * len(run_ids))})",
                run_ids,
            ).fetchall()
        return [row["id"] for row in rows]

    def request_cancel(self, run_id: str) -> bool:
        with self._lock, self._db:
            changed = self._db.execute(
                "UPDATE runs SET cancel_requested = 1 WHERE id = ? AND finished_at IS NULL",
                (run_id,),
            ).rowcount
        return changed > 0

    def mark_abandoned(self, now: float | None = None) -> list[str]:
        """Runs whose owner died (crash, kill -9) are marked "interrupted"; return their ids."""
        dead = [r.id for r in self.runs() if r.finished_at is None and not r.is_alive(now)]
        for run_id in dead:
            self.finish_run(
                run_id, RunStatus.INTERRUPTED, "Multishot stopped while this run was going."
            )
            with self._lock, self._db:
                self._db.execute(
                    # a shot that ended, however, has its finished_at
                    "UPDATE shots SET status = ? WHERE run_id = ? AND finished_at IS NULL",
                    (ShotStatus.INTERRUPTED.value, run_id),
                )
        return dead

    def note_leftover(self, sandbox_id: str, run_id: str, shot: int) -> None:
        """A sandbox the engine could not delete: it costs money until a sweep deletes it."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO leftover_sandboxes VALUES (?, ?, ?, ?)",
                (sandbox_id, run_id, shot, time.time()),
            )

    def leftovers(self, run_id: str | None = None) -> list[str]:
        """Sandboxes (of one run, or of all) that could not be deleted and that no sweep
        has deleted since."""
        with self._lock:
            rows = self._db.execute(
                "SELECT sandbox_id FROM leftover_sandboxes WHERE ? IS NULL OR run_id = ? "
                "ORDER BY noted_at",
                (run_id, run_id),
            ).fetchall()
        return [row["sandbox_id"] for row in rows]

    def forget_leftovers(self, sandbox_ids: list[str]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM leftover_sandboxes WHERE sandbox_id = ?", [(i,) for i in sandbox_ids]
            )

    def run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_record(row) if row else None

    def find_runs(self, prefix: str, limit: int = 10) -> list[RunRecord]:
        """Runs whose id is or starts with ``prefix`` (an exact match alone, if there is one)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY created_at DESC LIMIT ?",
                (escaped + "%", limit),
            ).fetchall()
        records = [_run_record(row) for row in rows]
        exact = [r for r in records if r.id == prefix]
        return exact or records

    def runs(self, limit: int = 1000) -> list[RunRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs ORDER BY created_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_run_record(row) for row in rows]

    def shots(self, run_id: str) -> list[ShotRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM shots WHERE run_id = ? ORDER BY number", (run_id,)
            ).fetchall()
        return [_shot_record(row) for row in rows]

    def live_run_ids(self) -> set[str]:
        return {r.id for r in self.runs() if r.is_alive()}


def _unreadable(path: Path, exc: Exception) -> HistoryUnreadable:
    if path.is_dir():
        problem = "it is a folder, not a file"
    elif isinstance(exc, sqlite3.DatabaseError) and "locked" not in str(exc):
        problem = f"{exc}"
    else:
        return HistoryUnreadable(f"The run history {path} could not be opened: {exc}.")
    aside = path.with_name(path.name + ".broken")
    return HistoryUnreadable(
        f"The run history {path} cannot be read ({problem}). Move it aside and Multishot "
        f"starts a new one, keeping the old for inspection:\n  mv '{path}' '{aside}'"
    )


def _run_record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"],
        created_at=row["created_at"],
        prompt=row["prompt"],
        spec=json.loads(row["spec_json"]),
        status=RunStatus(row["status"]),
        detail=row["detail"],
        finished_at=row["finished_at"],
        folder=row["folder"],
        heartbeat_at=row["heartbeat_at"],
        owner_pid=row["owner_pid"],
        owner_host=row["owner_host"],
        cancel_requested=bool(row["cancel_requested"]),
        base_commit=row["base_commit"],
        parent_run_id=row["parent_run"],
        parent_shot=row["parent_shot"],
        round=row["round"],
        picked_shot=row["picked_shot"],
    )


def _shot_record(row: sqlite3.Row) -> ShotRecord:
    return ShotRecord(
        run_id=row["run_id"],
        number=row["number"],
        status=ShotStatus(row["status"]),
        detail=row["detail"],
        sandbox_id=row["sandbox_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        exit_code=row["exit_code"],
        cost_usd=row["cost_usd"],
        turns=row["turns"],
        duration_ms=row["duration_ms"],
        failure=FailureKind(row["error_kind"]) if row["error_kind"] else None,
        log_path=row["log_path"],
        patch_path=row["patch_path"],
        changed_files=json.loads(row["changed_files"]) if row["changed_files"] else [],
        setup_exit_code=row["setup_exit_code"],
        check_exit_code=row["check_exit_code"],
        check_duration_ms=row["check_duration_ms"],
    )
