"""The default order of a run's shots, with no model: evidence first, then size, then cost.

A shot ranks higher when, in this order of importance:

1. it changed something: a shot with nothing to land ranks after every shot with a
   change, whatever its status (and no check runs on a shot that changed nothing, so
   it could otherwise outrank one whose check failed);
2. its check passed (exit code 0);
3. Claude reported success (``ShotStatus.SUCCEEDED``);
4. its check did not fail: with equal status, a failed check ranks below no check;
5. its change is smaller (lines added plus removed);
6. it cost less (an unknown cost counts as the highest);
7. its shot number is lower.

Pure functions over :class:`Candidate`, so the shells and a future judge share them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

from tray.runs.status import ShotStatus

__all__ = ["Candidate", "Ranked", "rank_shots"]


@dataclasses.dataclass(frozen=True)
class Candidate:
    """What the ranking knows of one shot."""

    number: int
    status: ShotStatus
    check_exit_code: int | None  # None: no check ran
    lines_changed: int  # added plus removed, from its diffstat
    files_changed: int
    cost_usd: float | None

    @property
    def check_passed(self) -> bool:
        return self.check_exit_code == 0

    @property
    def check_failed(self) -> bool:
        return self.check_exit_code is not None and self.check_exit_code != 0

    @property
    def succeeded(self) -> bool:
        return self.status is ShotStatus.SUCCEEDED

    @property
    def changed_nothing(self) -> bool:
        return self.files_changed == 0


@dataclasses.dataclass(frozen=True)
class Ranked:
    number: int
    rank: int  # 1 is the best
    reason: str  # why it is where it is, in a few words


_Tier = tuple[bool, bool, bool]


def rank_shots(candidates: Iterable[Candidate]) -> list[Ranked]:
    """Every shot with its rank and the reason for it, best first. Shot numbers are unique."""
    ordered = sorted(candidates, key=_sort_key)
    changers_by_tier: dict[_Tier, list[Candidate]] = {}
    for candidate in ordered:
        if not candidate.changed_nothing:
            changers_by_tier.setdefault(_tier(candidate), []).append(candidate)
    return [
        Ranked(c.number, rank, _reason(c, changers_by_tier.get(_tier(c), [])))
        for rank, c in enumerate(ordered, start=1)
    ]


def _tier(c: Candidate) -> _Tier:
    """The evidence about a shot; False sorts first."""
    return (not c.check_passed, not c.succeeded, c.check_failed)


def _sort_key(c: Candidate) -> tuple[bool, bool, bool, bool, int, float, int]:
    cost = math.inf if c.cost_usd is None else c.cost_usd
    return (c.changed_nothing, *_tier(c), c.lines_changed, cost, c.number)


def _reason(c: Candidate, changers: list[Candidate]) -> str:
    """``changers``: the shots of ``c``'s tier that changed something, in rank order."""
    parts = [_evidence(c)]
    if c.changed_nothing:
        parts.append("no changes")
        return ", ".join(parts)
    index = changers.index(c)
    if index == 0 and len(changers) > 1:
        parts.append(f"smallest diff of the {_tier_name(c)} shots ({_size(c)})")
    else:
        parts.append(_size(c))
    above = changers[index - 1] if index > 0 else None
    below = changers[index + 1] if index + 1 < len(changers) else None
    if above is not None and above.lines_changed == c.lines_changed:
        parts.append(_compared_cost(c, above))
    elif below is not None and below.lines_changed == c.lines_changed:
        parts.append(_compared_cost(c, below))
    return ", ".join(parts)


def _evidence(c: Candidate) -> str:
    parts = []
    if c.check_passed:
        parts.append("check passed")
    elif c.check_failed:
        parts.append(f"check failed (exit {c.check_exit_code})")
    if not c.succeeded:
        parts.append(f"Claude did not succeed ({c.status.label})")
    elif c.check_exit_code is None:
        parts.append("Claude succeeded")
    return ", ".join(parts)


def _tier_name(c: Candidate) -> str:
    if c.check_exit_code is None:
        return "successful" if c.succeeded else "unsuccessful"
    name = "passing" if c.check_passed else "failing"
    return name if c.succeeded else f"{name}, unsuccessful"


def _size(c: Candidate) -> str:
    if c.lines_changed:
        return _count(c.lines_changed, "line") + " changed"
    return _count(c.files_changed, "file") + " changed, no lines (binary or mode changes)"


def _compared_cost(c: Candidate, other: Candidate) -> str:
    """Words for the cost, the tie-breaker between two shots of the same size."""
    if c.cost_usd == other.cost_usd:
        return f"same size and cost as shot {other.number}"
    costs = f"({_money(c.cost_usd)} vs {_money(other.cost_usd)})"
    if _sort_key(c) < _sort_key(other):
        return f"cheaper than shot {other.number} {costs}"
    return f"costs more than shot {other.number} {costs}"


def _money(cost: float | None) -> str:
    return "unknown" if cost is None else f"${cost:.2f}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
