"""A run as this process holds it while it goes: its spec, its folder, why it stops."""

from __future__ import annotations

import dataclasses
import threading

from tray.failures import FailureKind
from tray.runs.layout import RunFolder
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
