"""Runs recorded the way the engine records them (the real History and RunFolder), without
sandboxes: for comparisons, picks and applies that need many or large shots quickly."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from tray.runs.history import History
from tray.runs.layout import RunFolder
from tray.runs.status import RunStatus, ShotStatus


@dataclasses.dataclass(frozen=True)
class RecordedShot:
    patch: bytes | None = None  # None: the shot kept no patch
    status: ShotStatus = ShotStatus.SUCCEEDED
    check_exit_code: int | None = None
    check_output: str = ""
    cost_usd: float | None = 0.25
    duration_ms: int | None = 61_000
    turns: int | None = 7


def record_run(
    history: History,
    results_root: Path,
    shots: Sequence[RecordedShot],
    *,
    prompt: str = "Fix the parser",
    repo_url: str | None = None,
    base_commit: str | None = None,
    check: str | None = None,
    parent: tuple[str, int] | None = None,
    finished: bool = True,
) -> str:
    """A run with ``shots``, its patches and check logs in its folder; its id."""
    run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    folder = RunFolder(results_root / run_id)
    folder.path.mkdir(parents=True)
    spec: dict[str, object] = {"prompt": prompt, "shots": len(shots), "repo_url": repo_url}
    if check is not None:
        spec["check"] = check
    round_number = 1
    if parent is not None:
        spec.update(parent_run_id=parent[0], parent_shot=parent[1])
        parent_run = history.run(parent[0])
        assert parent_run is not None
        round_number = parent_run.round + 1
    folder.spec.write_text(json.dumps(spec), encoding="utf-8")
    history.add_run(run_id, prompt, spec, folder.path, len(shots), round_number=round_number)
    if base_commit is not None:
        history.set_base_commit(run_id, base_commit)
    for number, shot in enumerate(shots, start=1):
        shot_folder = folder.shot(number)
        shot_folder.path.mkdir()
        fields: dict[str, object] = {
            "status": shot.status.value,
            "cost_usd": shot.cost_usd,
            "duration_ms": shot.duration_ms,
            "turns": shot.turns,
            "finished_at": time.time() if shot.status.is_final else None,
            "check_exit_code": shot.check_exit_code,
            "check_duration_ms": None if shot.check_exit_code is None else 4_200,
        }
        if shot.patch is not None:
            shot_folder.patch.write_bytes(shot.patch)
            fields["patch_path"] = str(shot_folder.patch)
        if shot.check_exit_code is not None:
            shot_folder.check_log.write_text(shot.check_output, encoding="utf-8")
        history.update_shot(run_id, number, **fields)
    if finished:
        history.finish_run(run_id, RunStatus.DONE, "")
    return run_id
