"""Runs recorded the way the engine records them (the real History and RunFolder), without
sandboxes: for comparisons, picks and applies that need many or large shots quickly."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from tests.git_repos import GitRepo
from tray.runs.diffstat import parse_patch
from tray.runs.history import History
from tray.runs.layout import RunFolder
from tray.runs.status import RunStatus, ShotStatus
from tray.runs.verdict import JudgeRanking, JudgeVerdict, write_verdict


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
            fields["changed_files"] = list(parse_patch(shot.patch).paths)
        if shot.check_exit_code is not None:
            shot_folder.check_log.write_text(shot.check_output, encoding="utf-8")
        history.update_shot(run_id, number, **fields)
    if finished:
        history.finish_run(run_id, RunStatus.DONE, "")
    return run_id


PROMPT = (
    "Make the date parser accept ISO week dates (2024-W05-3) and keep every existing test passing."
)
PARSER = """def parse(text):
    year, month, day = text.split("-")
    return date(int(year), int(month), int(day))
"""


def three_shot_run(history: History, results_root: Path, folder: Path) -> str:
    """Three shots at one prompt, the repository they started from in ``folder``: shot 1
    passes the check (the judge's first choice), shot 2 fails it, shot 3 changed nothing."""
    origin = GitRepo.init(folder / "origin")
    origin.write("dates/parser.py", PARSER)
    origin.write("tests/test_parser.py", "def test_plain():\n    assert parse('2024-01-31')\n")
    base = origin.commit("start")

    def shot(name: str, files: dict[str, str]) -> bytes:
        sandbox = GitRepo(folder / name)
        origin.git("clone", "-q", str(origin.path), str(sandbox.path))
        for path, content in files.items():
            sandbox.write(path, content)
        return sandbox.shot_patch(base)

    week = PARSER.replace(
        '    year, month, day = text.split("-")\n',
        '    if "-W" in text:\n        return date.fromisocalendar(*_week(text))\n'
        '    year, month, day = text.split("-")\n',
    ) + (
        "\n\ndef _week(text):\n"
        '    year, week, day = text.replace("W", "").split("-")\n'
        "    return int(year), int(week), int(day)\n"
    )
    calendar = week.replace("int(day))\n", "int(day))  # a calendar date\n")
    test = "\n\ndef test_week():\n    assert parse('2024-W05-3') == date(2024, 1, 31)\n"
    run_id = record_run(
        history,
        results_root,
        [
            RecordedShot(
                shot("one", {"dates/parser.py": calendar, "tests/test_week.py": test}),
                check_exit_code=0,
                cost_usd=0.41,
                duration_ms=148_000,
                turns=12,
            ),
            RecordedShot(
                shot("two", {"dates/parser.py": week.replace("fromisocalendar", "from_iso")}),
                check_exit_code=1,
                cost_usd=0.29,
                duration_ms=97_000,
                turns=9,
            ),
            RecordedShot(b"", cost_usd=0.12, duration_ms=40_000, turns=4),  # no check: no change
        ],
        prompt=PROMPT,
        repo_url="https://github.com/octo/dates.git",
        base_commit=base,
        check="pytest -q",
    )
    record = history.run(run_id)
    assert record is not None
    write_verdict(
        Path(record.folder) / "judge.json",
        JudgeVerdict(
            (
                JudgeRanking(1, 1, "Uses the standard library's ISO calendar and adds a test."),
                JudgeRanking(2, 2, "Calls a function that does not exist; its check fails."),
                JudgeRanking(3, 3, "Made no change."),
            ),
            cost_usd=0.05,
        ),
    )
    return run_id
