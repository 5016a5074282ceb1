"""The app's log file, with every record passed through the shared redaction."""

from __future__ import annotations

import logging
from pathlib import Path

from tray import config
from tray.redaction import install_redaction

__all__ = [
    "LOG_FILE_NAME",
    "configure_logging",
    "log_file",
]

LOG_FILE_NAME = "multishot.log"
_MAX_LOG_BYTES = 2 * 1024 * 1024
_BACKUPS = 3
_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def log_file() -> Path:
    return config.log_dir() / LOG_FILE_NAME


def configure_logging(*, verbose: bool = False) -> None:
    """Log to the app's rotating log file (and to stderr when ``verbose``), redacted."""
    package_logger = logging.getLogger("tray")
    if package_logger.handlers:
        return
    package_logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    package_logger.propagate = False
    handlers: list[logging.Handler] = [_LogFile(log_file())]
    if verbose:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        package_logger.addHandler(install_redaction(handler))


class _LogFile(logging.Handler):
    """The rotating log file, opened by the first record: a command that logs nothing
    (most do) neither loads logging.handlers nor touches the file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._target: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._target is None:  # Handler.handle holds this handler's lock here
            import logging.handlers

            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._target = logging.handlers.RotatingFileHandler(
                    self._path, maxBytes=_MAX_LOG_BYTES, backupCount=_BACKUPS, encoding="utf-8"
                )
            except OSError:  # an unwritable log folder must not stop the app
                self._target = logging.StreamHandler()
            self._target.setFormatter(self.formatter)
        self._target.emit(record)

    def close(self) -> None:
        if self._target is not None:
            self._target.close()
        super().close()
