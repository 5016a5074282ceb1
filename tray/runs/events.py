"""What the engine tells its subscribers while runs go on (on worker threads)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from tray.failures import FailureKind
from tray.runs.status import RunStatus, ShotStatus
from tray.runs.verdict import JudgeVerdict

if TYPE_CHECKING:  # the scanner compiles its rules on import: shells that list runs don't
    from tray.scanner import ScanEvent

__all__ = [
    "AuthFailure",
    "EngineEvent",
    "JudgeFinished",
    "JudgeStarted",
    "RunFinished",
    "ScanNotice",
    "ShotChanged",
    "ShotSnapshot",
    "Subscriber",
]


@dataclasses.dataclass(frozen=True)
class ShotSnapshot:
    run_id: str
    number: int
    status: ShotStatus
    detail: str = ""
    cost_usd: float | None = None
    duration_ms: int | None = None
    patch_path: str | None = None
    failure: FailureKind | None = None
    check_exit_code: int | None = None  # None: no check ran (yet)


@dataclasses.dataclass(frozen=True)
class ShotChanged:
    shot: ShotSnapshot


@dataclasses.dataclass(frozen=True)
class ScanNotice:
    """A shot's output showed a failure (each kind once per attempt)."""

    run_id: str
    shot: int
    event: ScanEvent


@dataclasses.dataclass(frozen=True)
class AuthFailure:
    """Once per run: a failure whose policy stops the run; every shot of it was stopped.

    ``excerpt`` is what Claude Code or Daytona said, redacted.
    """

    run_id: str
    kind: FailureKind
    excerpt: str


@dataclasses.dataclass(frozen=True)
class RunFinished:
    run_id: str
    status: RunStatus
    succeeded: int
    total: int
    detail: str = ""
    failure: FailureKind | None = None  # set when a failure stopped the whole run
    sandboxes_left: int = 0  # sandboxes that could not be deleted: `cleanup` retries them


@dataclasses.dataclass(frozen=True)
class JudgeStarted:
    """The run's shots have ended and the judge ranks these (--judge); before RunFinished."""

    run_id: str
    shots: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class JudgeFinished:
    """The judge's verdict (a usable ranking, or the problem that kept it from one)."""

    run_id: str
    verdict: JudgeVerdict


EngineEvent = ShotChanged | ScanNotice | AuthFailure | JudgeStarted | JudgeFinished | RunFinished
Subscriber = Callable[[EngineEvent], None]
