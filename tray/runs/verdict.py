"""The judge's verdict on a run, as kept in the run's folder (judge.json).

The judge's own answer is validated before it becomes a verdict; an answer that could
not be used is kept as a verdict with a ``problem`` and no ranking, so both shells can
say that the judge ran and why its answer is not shown.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

__all__ = ["JudgeRanking", "JudgeVerdict", "read_verdict", "write_verdict"]


@dataclasses.dataclass(frozen=True)
class JudgeRanking:
    shot: int
    rank: int  # 1 is the best
    reason: str


@dataclasses.dataclass(frozen=True)
class JudgeVerdict:
    ranking: tuple[JudgeRanking, ...]  # best first; empty when ``problem`` says why
    cost_usd: float | None = None
    problem: str | None = None  # the judge's answer was not usable, in words for the user

    def for_shot(self, number: int) -> JudgeRanking | None:
        return next((r for r in self.ranking if r.shot == number), None)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def write_verdict(path: Path, verdict: JudgeVerdict) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(verdict.to_json(), indent=2), encoding="utf-8")
    temporary.replace(path)


def read_verdict(path: Path) -> JudgeVerdict | None:
    """The verdict at ``path``; None when there is none. A damaged file is a verdict
    with a problem, never an exception: a comparison must still open."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return JudgeVerdict((), problem=f"The judge's verdict {path} cannot be read ({exc}).")
    try:
        ranking = tuple(
            JudgeRanking(int(item["shot"]), int(item["rank"]), str(item["reason"]))
            for item in data["ranking"]
        )
        cost = data.get("cost_usd")
        return JudgeVerdict(
            ranking,
            cost_usd=None if cost is None else float(cost),
            problem=data.get("problem"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        return JudgeVerdict((), problem=f"The judge's verdict {path} is damaged ({exc!r}).")
