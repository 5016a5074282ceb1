"""One Multishot tray app per user: an OS file lock, released when the process dies."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

import platformdirs

from tray.config import APP_NAME

__all__ = [
    "InstanceLock",
    "lock_path",
]


def lock_path() -> Path:
    return (
        Path(platformdirs.user_runtime_dir(APP_NAME, appauthor=False, ensure_exists=True))
        / "tray.lock"
    )


class InstanceLock:
    """Hold it for the life of the app; ``acquire`` is False if another app holds it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or lock_path()
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _lock(handle: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
