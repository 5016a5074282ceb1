"""The statuses a run and a shot can have, and the moves a shot may make between them."""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = ["SHOT_TRANSITIONS", "RunStatus", "ShotStatus", "count_working"]


class ShotStatus(str, enum.Enum):
    QUEUED = "queued"
    CREATING = "creating sandbox"
    CLONING = "cloning"
    PREPARING = "preparing"
    SETTING_UP = "running setup"  # the run's setup command
    RUNNING = "running"
    BACKING_OFF = "backing off"
    COLLECTING = "collecting"
    CHECKING = "checking"  # the run's check command, after the changes are collected
    DELETING = "deleting sandbox"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    AUTH_FAILED = "auth_failed"
    QUOTA_EXHAUSTED = "quota_exhausted"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # its process died; set by the history, never by a shot

    @property
    def is_final(self) -> bool:
        return self in _FINAL_SHOT

    @property
    def is_working(self) -> bool:
        """Claude is at work: running, or waiting to run again after a rate limit."""
        return self in (ShotStatus.RUNNING, ShotStatus.BACKING_OFF)

    @property
    def label(self) -> str:
        """The status in words, for people."""
        return _SHOT_LABELS.get(self, self.value)


class RunStatus(str, enum.Enum):
    RUNNING = "running"
    DONE = "done"
    PARTIAL = "partial"
    FAILED = "failed"
    AUTH_FAILED = "auth_failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_final(self) -> bool:
        return self is not RunStatus.RUNNING

    @property
    def label(self) -> str:
        return _RUN_LABELS.get(self, self.value)


_FINAL_SHOT = frozenset(
    {
        ShotStatus.SUCCEEDED,
        ShotStatus.FAILED,
        ShotStatus.AUTH_FAILED,
        ShotStatus.QUOTA_EXHAUSTED,
        ShotStatus.TIMED_OUT,
        ShotStatus.CANCELLED,
        ShotStatus.INTERRUPTED,
    }
)
_SHOT_LABELS = {
    ShotStatus.AUTH_FAILED: "authentication failed",
    ShotStatus.QUOTA_EXHAUSTED: "usage limit reached",
    ShotStatus.TIMED_OUT: "timed out",
}
_RUN_LABELS = {
    RunStatus.PARTIAL: "partly succeeded",
    RunStatus.AUTH_FAILED: "authentication failed",
}

# Where a shot may go from each status. Every status may also "move" to itself with a
# new detail ("Installing Claude Code", "attempt 2"). A shot that has a sandbox passes
# through DELETING on its way to its final status; one that never got a sandbox ends
# directly. The history alone sets INTERRUPTED, for shots whose process died.
_ENDINGS = frozenset(_FINAL_SHOT - {ShotStatus.INTERRUPTED})
SHOT_TRANSITIONS: dict[ShotStatus, frozenset[ShotStatus]] = {
    ShotStatus.QUEUED: frozenset({ShotStatus.CREATING, *_ENDINGS}),
    ShotStatus.CREATING: frozenset({ShotStatus.CLONING, ShotStatus.DELETING, *_ENDINGS}),
    ShotStatus.CLONING: frozenset({ShotStatus.PREPARING, ShotStatus.DELETING}),
    ShotStatus.PREPARING: frozenset(
        {ShotStatus.SETTING_UP, ShotStatus.RUNNING, ShotStatus.DELETING}
    ),
    ShotStatus.SETTING_UP: frozenset({ShotStatus.RUNNING, ShotStatus.DELETING}),
    ShotStatus.RUNNING: frozenset(
        {ShotStatus.BACKING_OFF, ShotStatus.COLLECTING, ShotStatus.DELETING}
    ),
    ShotStatus.BACKING_OFF: frozenset({ShotStatus.RUNNING, ShotStatus.DELETING}),
    ShotStatus.COLLECTING: frozenset({ShotStatus.CHECKING, ShotStatus.DELETING}),
    ShotStatus.CHECKING: frozenset({ShotStatus.DELETING}),
    ShotStatus.DELETING: _ENDINGS,
    **{status: frozenset() for status in _FINAL_SHOT},
}


def count_working(statuses: Iterable[ShotStatus]) -> int:
    """How many of these shots have Claude at work."""
    return sum(1 for status in statuses if status.is_working)
