"""Work for the Tk thread, posted from any thread, waking Tk only when there is some.

On Unix a pipe watched by Tk's file handler wakes the event loop the moment an
action is posted, so an idle app schedules no timer and wakes no thread. Where Tk
has no file handlers (Windows), the queue is checked on a timer instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import tkinter as tk
from collections.abc import Callable

__all__ = ["TkInbox"]

log = logging.getLogger(__name__)


class TkInbox:
    """``post`` from any thread; the actions run on the Tk thread, in order."""

    POLL_MS = 100  # only where there is no file handler

    def __init__(self, root: tk.Misc) -> None:
        self._root = root
        self._actions: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._pipe: tuple[int, int] | None = None
        if sys.platform != "win32" and hasattr(root.tk, "createfilehandler"):
            read_end, write_end = os.pipe()
            os.set_blocking(read_end, False)
            os.set_blocking(write_end, False)
            self._pipe = (read_end, write_end)
            root.tk.createfilehandler(read_end, tk.READABLE, self._woken)
        else:
            root.after(self.POLL_MS, self._poll)

    @property
    def wakeup_fd(self) -> int | None:
        """For ``signal.set_wakeup_fd``: a signal then wakes Tk, so that its Python
        handler runs even though the event loop sleeps in C with no timer."""
        return None if self._pipe is None else self._pipe[1]

    def post(self, action: Callable[[], None]) -> None:
        self._actions.put(action)
        if self._pipe is not None:
            # A full pipe already holds a wake-up; a closed one means the app has quit.
            with contextlib.suppress(BlockingIOError, OSError):
                os.write(self._pipe[1], b"\0")

    def close(self) -> None:
        """Stop watching the pipe and close it (the app quits, or a test ends)."""
        if self._pipe is not None:
            read_end, write_end = self._pipe
            self._pipe = None
            with contextlib.suppress(tk.TclError):
                self._root.tk.deletefilehandler(read_end)
            os.close(read_end)
            os.close(write_end)

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
