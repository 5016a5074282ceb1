"""A run's shots side by side, ranked: what both shells show to compare and pick one.

Built from the history and the run's folder only (no network): the patch of each shot
gives its diffstat, the history its status, check, cost and time, the default ranking
(tray.runs.ranking) its rank, and the judge's verdict (judge.json), if any, its reason.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from tray.errors import RunNotFound
from tray.runs.diffstat import DiffStat, parse_patch
from tray.runs.display import format_change, format_check
from tray.runs.history import History, RunRecord, ShotRecord
from tray.runs.layout import RunFolder
from tray.runs.ranking import Candidate, rank_shots
from tray.runs.status import ShotStatus
from tray.runs.verdict import JudgeVerdict, read_verdict

__all__ = [
    "COMPARISON_SCHEMA_VERSION",
    "RunComparison",
    "ShotCheck",
    "ShotComparison",
    "compare_run",
]

COMPARISON_SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True)
class ShotCheck:
    exit_code: int
    duration_ms: int | None
    output_tail: str  # its last lines, redacted

    @property
    def passed(self) -> bool:
        return self.exit_code == 0


@dataclasses.dataclass(frozen=True)
class ShotComparison:
    number: int
    status: ShotStatus
    detail: str
    check: ShotCheck | None  # None: no check ran
    diff: DiffStat  # no files when the shot changed nothing or kept no patch
    patch_path: Path | None  # None: no change to apply
    cost_usd: float | None
    duration_ms: int | None
    turns: int | None
    rank: int  # the default ranking, 1 is the best
    rank_reason: str
    judge_rank: int | None
    judge_reason: str | None

    @property
    def check_label(self) -> str:
        """ "passed (4.2 s)", "failed, exit 1 (3.0 s)", or "—" when no check ran."""
        check = self.check
        return "—" if check is None else format_check(check.exit_code, check.duration_ms)

    @property
    def change_label(self) -> str:
        return format_change(self.diff.added, self.diff.removed, self.diff.binary_files)


@dataclasses.dataclass(frozen=True)
class RunComparison:
    run: RunRecord
    shots: tuple[ShotComparison, ...]  # in shot-number order
    verdict: JudgeVerdict | None  # None: no judge ran

    def shot(self, number: int) -> ShotComparison | None:
        return next((s for s in self.shots if s.number == number), None)

    @property
    def recommended(self) -> int | None:
        """The judge's first choice when it gave a usable ranking, else the best-ranked shot
        that changed something; None when no shot did (there is nothing to land)."""
        if self.verdict is not None and self.verdict.ranking:
            return self.verdict.ranking[0].shot
        changers = [shot for shot in self.shots if shot.patch_path is not None]
        best = min(changers, key=lambda s: s.rank, default=None)
        return None if best is None else best.number

    def mark(self, number: int) -> str | None:
        """ "picked" for the user's pick; "recommended" for the recommended shot while
        nothing is picked; None for every other shot."""
        if self.run.picked_shot == number:
            return "picked"
        if self.run.picked_shot is None and self.recommended == number:
            return "recommended"
        return None

    @property
    def winner(self) -> int | None:
        """The user's pick; without one, the recommended shot."""
        return self.run.picked_shot or self.recommended

    def to_json(self) -> dict[str, Any]:
        """The `multishot compare --json` document (its schema is in the README)."""
        run = self.run
        return {
            "schema": COMPARISON_SCHEMA_VERSION,
            "run_id": run.id,
            "prompt": run.prompt,
            "status": run.status.value,
            "repository": run.spec.get("repo_url"),
            "branch": run.spec.get("branch"),
            "base_commit": run.base_commit,
            "round": run.round,
            "parent": (
                {"run_id": run.parent_run_id, "shot": run.parent_shot}
                if run.parent_run_id
                else None
            ),
            "check_command": run.spec.get("check"),
            "picked_shot": run.picked_shot,
            "recommended_shot": self.recommended,
            "judge": None if self.verdict is None else self.verdict.to_json(),
            "shots": [_shot_json(shot) for shot in self.shots],
        }


def compare_run(history: History, run_id: str) -> RunComparison:
    """The comparison of the run with exactly this id."""
    run = history.run(run_id)
    if run is None:
        raise RunNotFound(f"No run has the id '{run_id}'. `multishot runs` lists them.")
    folder = RunFolder(Path(run.folder))
    verdict = read_verdict(folder.judge_verdict)
    records = history.shots(run.id)
    diffs = {record.number: _diffstat(record) for record in records}
    ranks = {
        ranked.number: ranked
        for ranked in rank_shots(_candidate(record, diffs[record.number]) for record in records)
    }
    shots = []
    for record in records:
        judged = None if verdict is None else verdict.for_shot(record.number)
        diff = diffs[record.number]
        shots.append(
            ShotComparison(
                number=record.number,
                status=record.status,
                detail=record.detail,
                check=_check(record, folder),
                diff=diff,
                patch_path=Path(record.patch_path) if record.patch_path and diff.files else None,
                cost_usd=record.cost_usd,
                duration_ms=record.duration_ms,
                turns=record.turns,
                rank=ranks[record.number].rank,
                rank_reason=ranks[record.number].reason,
                judge_rank=None if judged is None else judged.rank,
                judge_reason=None if judged is None else judged.reason,
            )
        )
    return RunComparison(run, tuple(shots), verdict)


def _diffstat(record: ShotRecord) -> DiffStat:
    if not record.patch_path:
        return DiffStat(())
    try:
        return parse_patch(Path(record.patch_path).read_bytes())
    except OSError:
        return DiffStat(())


def _check(record: ShotRecord, folder: RunFolder) -> ShotCheck | None:
    if record.check_exit_code is None:
        return None
    try:
        tail = folder.shot(record.number).check_log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        tail = ""
    return ShotCheck(record.check_exit_code, record.check_duration_ms, tail)


def _candidate(record: ShotRecord, diff: DiffStat) -> Candidate:
    return Candidate(
        number=record.number,
        status=record.status,
        check_exit_code=record.check_exit_code,
        lines_changed=diff.lines_changed,
        files_changed=diff.files_changed,
        cost_usd=record.cost_usd,
    )


def _shot_json(shot: ShotComparison) -> dict[str, Any]:
    check = shot.check
    return {
        "shot": shot.number,
        "status": shot.status.value,
        "detail": shot.detail,
        "check": (
            None
            if check is None
            else {
                "exit_code": check.exit_code,
                "passed": check.passed,
                "duration_ms": check.duration_ms,
                "output_tail": check.output_tail,
            }
        ),
        "files_changed": shot.diff.files_changed,
        "lines_added": shot.diff.added,
        "lines_removed": shot.diff.removed,
        "binary_files": shot.diff.binary_files,
        "files": [
            {
                "path": f.path,
                "old_path": f.old_path,
                "added": f.added,
                "removed": f.removed,
                "binary": f.binary,
            }
            for f in shot.diff.files
        ],
        "patch": None if shot.patch_path is None else str(shot.patch_path),
        "cost_usd": shot.cost_usd,
        "duration_ms": shot.duration_ms,
        "turns": shot.turns,
        "rank": shot.rank,
        "rank_reason": shot.rank_reason,
        "judge_rank": shot.judge_rank,
        "judge_reason": shot.judge_reason,
    }
