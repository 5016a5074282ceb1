"""Sandboxes the engine could not delete: retried in the background until none is left.

They cost money by the second, so while any is on record the tray sweeps again
after a pause that grows from half a minute to ten; with none left nothing is
scheduled (an idle tray sets no timers).
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable

from tray.credentials.model import Credentials
from tray.service import Service

__all__ = ["LeftoverSweeper"]

RunInWorker = Callable[
    [Callable[[], int], Callable[[int], None], Callable[[Exception], None]], None
]


class LeftoverSweeper:
    """Counts the sandboxes still alive and deletes them; all methods on the Tk thread."""

    FIRST_PAUSE_MS = 30_000
    LONGEST_PAUSE_MS = 600_000

    def __init__(
        self,
        root: tk.Misc,
        service: Service,
        credentials: Callable[[], Credentials | None],
        in_worker: RunInWorker,
        changed: Callable[[], None],
    ) -> None:
        self.count = 0
        self._root = root
        self._service = service
        self._credentials = credentials
        self._in_worker = in_worker
        self._changed = changed
        self._pause_ms = self.FIRST_PAUSE_MS
        self._timer: str | None = None
        self._sweeping = False

    @property
    def retry_scheduled(self) -> bool:
        return self._timer is not None

    def found(self, count: int) -> None:
        """A run (or the start-up sweep) left ``count`` sandboxes it could not delete."""
        if count <= 0:
            return
        self.count = max(self.count, count)
        self._changed()
        self._schedule()

    def sweep_now(self) -> None:
        """Delete every leftover now (the menu's action, and each retry)."""
        credentials = self._credentials()
        if self._sweeping or credentials is None:
            return
        if self._timer is not None:
            self._root.after_cancel(self._timer)
            self._timer = None
        self._sweeping = True

        def sweep() -> int:
            self._service.sweep(credentials)
            return len(self._service.sandboxes_left())

        self._in_worker(sweep, self._swept, lambda _error: self._swept(self.count))

    def _swept(self, left: int) -> None:
        self._sweeping = False
        self.count = left
        self._changed()
        if left:
            self._pause_ms = min(self._pause_ms * 2, self.LONGEST_PAUSE_MS)
            self._schedule()
        else:
            self._pause_ms = self.FIRST_PAUSE_MS

    def _schedule(self) -> None:
        if self._timer is None and not self._sweeping:
            self._timer = self._root.after(self._pause_ms, self._retry)

    def _retry(self) -> None:
        self._timer = None
        self.sweep_now()
