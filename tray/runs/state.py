"""A run as this process holds it while it goes: its spec, its folder, why it stops."""

from __future__ import annotations

import dataclasses
import threading

from tray.failures import FailureKind
from tray.runs.layout import RunFolder
from tray.runs.rounds import FIRST_ROUND, RoundStart
from tray.runs.spec import RunSpec
from tray.runs.status import ShotStatus

__all__ = ["RunState", "Stop"]


class Stop:
    """Why a run's shots must stop early; the first reason wins. Thread-safe."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self.status = ShotStatus.CANCELLED
        self.detail = ""
        self.failure: FailureKind | None = None  # the failure that stopped the run, if any

    def set(self, status: ShotStatus, detail: str, failure: FailureKind | None = None) -> bool:
        """Stop with this reason, unless already stopped; whether this call stopped it."""
        with self._lock:
            if self._event.is_set():
                return False
            self.status, self.detail, self.failure = status, detail, failure
            self._event.set()
            return True

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)


@dataclasses.dataclass
class RunState:
    """A run in this process: its spec, its results folder, why it stops, whether it ended."""

    id: str
    spec: RunSpec
    folder: RunFolder
    stop: Stop = dataclasses.field(default_factory=Stop)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    start: RoundStart = FIRST_ROUND  # a later round: its base commit and the changes on it
    base_commit: str | None = None  # the first one a shot reported (or the round's)
    moved_base: list[int] = dataclasses.field(default_factory=list)  # shots that saw another
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def note_base(self, shot: int, commit: str) -> bool:
        """A shot's starting commit; True for the first one (the run's). All shots clone
        the same branch, but it can move between their clones: such shots are noted."""
        with self._lock:
            if self.base_commit is None:
                self.base_commit = commit
                return True
            if commit != self.base_commit:
                self.moved_base.append(shot)
            return False

    def moved_base_note(self) -> str:
        """For the run's detail: which shots started from another commit than the run's."""
        with self._lock:
            if not self.moved_base:
                return ""
            shots = ", ".join(str(n) for n in sorted(self.moved_base))
            return (
                f" Note: the branch moved while the shots cloned it; shot(s) {shots} started "
                f"from another commit than the run's {self.base_commit}."
            )
