"""Work for the Tk thread, posted from any thread, waking Tk only when there is some.

On Unix a pipe watched by Tk's file handler wakes the event loop the moment an
action is posted, so an idle app schedules no timer and wakes no thread. Where Tk
has no file handlers (Windows), the queue is checked on a timer instead.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import queue
import sys
import threading
import tkinter as tk
from collections.abc import Callable

__all__ = ["Post", "TkInbox"]

log = logging.getLogger(__name__)
Action = Callable[[], None]
Post = Callable[[Action], None]


class _Doorbell:
    """A pipe whose read end Tk watches; ringing writes one byte. Thread-safe."""

    def __init__(self) -> None:
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.read_end, False)
        os.set_blocking(self.write_end, False)
        self._lock = threading.Lock()
        self._closed = False

    def ring(self) -> None:
        with self._lock:
            if not self._closed:
                # A full pipe already holds a wake-up.
                with contextlib.suppress(BlockingIOError):
                    os.write(self.write_end, b"\0")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self.read_end)
                os.close(self.write_end)


def _post(actions: queue.SimpleQueue[Action], doorbell: _Doorbell | None, action: Action) -> None:
    actions.put(action)
    if doorbell is not None:
        doorbell.ring()


class TkInbox:
    """``post`` from any thread; the actions run on the Tk thread, in order."""

    POLL_MS = 100  # only where there is no file handler

    def __init__(self, root: tk.Misc) -> None:
        self._root = root
        self._actions: queue.SimpleQueue[Action] = queue.SimpleQueue()
        self._doorbell: _Doorbell | None = None
        if sys.platform != "win32" and hasattr(root.tk, "createfilehandler"):
            self._doorbell = _Doorbell()
            root.tk.createfilehandler(self._doorbell.read_end, tk.READABLE, self._woken)
        else:
            root.after(self.POLL_MS, self._poll)

    @property
    def wakeup_fd(self) -> int | None:
        """For ``signal.set_wakeup_fd``: a signal then wakes Tk, so that its Python
        handler runs even though the event loop sleeps in C with no timer."""
        return None if self._doorbell is None else self._doorbell.write_end

    def post(self, action: Action) -> None:
        _post(self._actions, self._doorbell, action)

    def poster(self) -> Post:
        """``post`` for other threads to keep: it holds the queue and the pipe, never
        the Tk root (a root let go of on another thread makes Tcl abort)."""
        return functools.partial(_post, self._actions, self._doorbell)

    def close(self) -> None:
        """Stop watching the pipe and close it (the app quits, or a test ends)."""
        if self._doorbell is not None:
            with contextlib.suppress(tk.TclError):
                self._root.tk.deletefilehandler(self._doorbell.read_end)
            self._doorbell.close()

    def _woken(self, fd: int, _mask: int) -> None:
        # Empty the pipe before the queue: an action posted after this read writes
        # again and wakes Tk again, so nothing waits for the next wake-up.
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(fd, 4096):
                pass
        self._run_all()

    def _poll(self) -> None:
        self._run_all()
        self._root.after(self.POLL_MS, self._poll)

    def _run_all(self) -> None:
        while True:
            try:
                action = self._actions.get_nowait()
            except queue.Empty:
                return
            try:
                action()
            except Exception:
                log.exception("a tray action failed")
