"""Where a run's results live on disk: one folder per run, one sub-folder per shot.

<data dir>/runs/<run id>/run.json             the spec, as given
                        /summary.json         the outcome of every shot
                        /shot-<n>/stdout.log  Claude's output (stream-json), redacted
                        /shot-<n>/stderr.log
                        /shot-<n>/changes.patch
                        /shot-<n>/summary.json
                        /shot-<n>/check.log   the check's last 200 lines, redacted
                        /judge.json           the judge's verdict (--judge)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tray import config

__all__ = ["RunFolder", "ShotFolder", "default_runs_root"]


def default_runs_root() -> Path:
    return config.data_dir() / "runs"


@dataclasses.dataclass(frozen=True)
class ShotFolder:
    path: Path

    @property
    def stdout_log(self) -> Path:
        return self.path / "stdout.log"

    @property
    def stderr_log(self) -> Path:
        return self.path / "stderr.log"

    @property
    def patch(self) -> Path:
        return self.path / "changes.patch"

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def check_log(self) -> Path:
        return self.path / "check.log"


@dataclasses.dataclass(frozen=True)
class RunFolder:
    path: Path

    @property
    def spec(self) -> Path:
        return self.path / "run.json"

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def judge_verdict(self) -> Path:
        return self.path / "judge.json"

    def shot(self, number: int) -> ShotFolder:
        return ShotFolder(self.path / f"shot-{number}")
