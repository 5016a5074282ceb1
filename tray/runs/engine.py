"""What the service needs of a run engine, wherever it runs.

`RunManager` runs the engine in this process (the command line: the process ends
with its run). `EngineProcess` runs the same `RunManager` in a child process that
lives only while runs are active (the tray app: its memory returns to idle after
a run, because the Daytona SDK and the shots' threads go with the child).
"""

from __future__ import annotations

from typing import Protocol

from tray.credentials.model import Credentials
from tray.runs.events import Subscriber
from tray.runs.spec import RunSpec
from tray.runs.sweep import Sweep

__all__ = ["Engine"]


class Engine(Protocol):
    def subscribe(self, callback: Subscriber) -> None:
        """Engine events, on worker threads, from now on."""

    def start(self, spec: RunSpec) -> str:
        """Start a run; return its id once it is registered."""

    def cancel(self, run_id: str) -> bool:
        """Cancel a run of this engine (its shots stop, their sandboxes are deleted)."""

    def active(self) -> list[str]: ...

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        """True once the run has ended (or is not one of this engine's)."""

    def shutdown(self, timeout: float = 120) -> None:
        """Cancel every run and wait for their sandboxes to be deleted."""

    def set_credentials(self, credentials: Credentials) -> None:
        """Credentials for every sandbox created from now on."""

    def cleanup_orphans(self) -> Sweep:
        """Delete every Multishot sandbox that no live run owns (blocking)."""
