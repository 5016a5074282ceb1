"""One Multishot tray app per user: an OS file lock, released when the process dies.

The app holding the lock also listens on a local channel only this user can reach (a
Unix socket in the user's runtime folder, a named pipe on Windows, authenticated with a
key kept beside the lock), so a second launch asks it to come forward instead of
starting: the user who double-clicks the launcher again sees a window, not nothing.
"""

from __future__ import annotations

import getpass
import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import platformdirs

from tray.config import APP_NAME

__all__ = [
    "InstanceLock",
    "ask_running_app_to_show",
    "lock_path",
]

log = logging.getLogger(__name__)
_SHOW = "show"
_CONNECT_SECONDS = 5.0


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
        self._listener: Any = None

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

    def listen(self, on_show: Callable[[], None]) -> None:
        """While the lock is held, call ``on_show`` (on a listener thread) each time a
        second launch asks this app to come forward."""
        from multiprocessing.connection import Listener

        key = secrets.token_bytes(32)
        key_file = self.path.with_name("tray.key")
        key_file.unlink(missing_ok=True)
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as written:
            written.write(key)
        address, family = _address(self.path)
        if family == "AF_UNIX":
            Path(address).unlink(missing_ok=True)  # left by an app that was killed
        self._listener = Listener(address, family, authkey=key)
        threading.Thread(
            target=self._serve, args=(self._listener, on_show), name="second-launch", daemon=True
        ).start()

    def release(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def _serve(self, listener: Any, on_show: Callable[[], None]) -> None:
        """Accept second launches (blocking: an idle app is not woken) until released."""
        while self._listener is listener:
            try:
                with listener.accept() as connection:
                    if connection.poll(_CONNECT_SECONDS) and connection.recv() == _SHOW:
                        on_show()
            except Exception as exc:  # a caller without the key, a broken message, release()
                log.debug("a second launch was not heard: %s", exc)


def ask_running_app_to_show(path: Path | None = None) -> bool:
    """From a second launch: ask the running app to come forward; False if it can't."""
    from multiprocessing.connection import Client

    lock = path or lock_path()
    try:
        key = lock.with_name("tray.key").read_bytes()
        address, family = _address(lock)
        with Client(address, family, authkey=key) as connection:
            connection.send(_SHOW)
    except Exception:  # an older app without a listener, or one that is quitting
        return False
    return True


def _address(lock: Path) -> tuple[str, str]:
    if sys.platform == "win32":
        return rf"\\.\pipe\multishot-{getpass.getuser()}", "AF_PIPE"
    return str(lock.with_name("tray.sock")), "AF_UNIX"


def _lock(handle: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
