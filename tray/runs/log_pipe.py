"""One shot's output on its way from the sandbox: the saved log, the scanner, the result.

Threads: the live stream's callbacks run on the shared log loop (see
``tray.sandbox.daytona``); the shot's own thread reads what they found through
:class:`ClaudeOutput`, and calls :meth:`LogPipe.catch_up` and :meth:`LogPipe.close`.
Every piece of state that both touch is behind a lock, and says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from tray.errors import LogStreamDropped
from tray.failures import policy_for
from tray.redaction import StreamRedactor
from tray.runs.layout import ShotFolder
from tray.sandbox.daytona import LogStream, SandboxHandle
from tray.scanner import LogScanner, ScanEvent

__all__ = ["ClaudeOutput", "LogPipe", "ShotLog"]

log = logging.getLogger(__name__)
_MAX_RESULT_LINE = 1024 * 1024


class ClaudeOutput:
    """What one shot learned from Claude's output: its final result and its failures.

    Written from the log loop, read from the shot's thread: every access holds the lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._result: dict[str, Any] | None = None
        self._last_failure: ScanEvent | None = None
        self._stopping_failure: ScanEvent | None = None
        self._retrying: ScanEvent | None = None  # the CLI's latest retry of its own
        self._last_stderr_line = ""

    def start_attempt(self) -> None:
        """Forget the previous attempt's result and failure (a stopping one is kept)."""
        with self._lock:
            self._result = None
            self._last_failure = None
            self._retrying = None

    def record_result(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._result = event

    def record_stderr(self, text: str) -> None:
        lines = [line for line in text.splitlines() if line.strip()]
        if lines:
            with self._lock:
                self._last_stderr_line = lines[-1].strip()[-300:]

    @property
    def last_stderr_line(self) -> str:
        """What the CLI last said on stderr (say, why it refused to start), as it said
        it: whoever shows it redacts it, as every shot detail is."""
        with self._lock:
            return self._last_stderr_line

    @property
    def retrying(self) -> ScanEvent | None:
        """The CLI's latest retry of a rate limit or overload in this attempt."""
        with self._lock:
            return self._retrying

    def record_failure(self, event: ScanEvent) -> None:
        with self._lock:
            if event.attempt is not None:
                self._retrying = event
            self._last_failure = event
            if self._stopping_failure is None and policy_for(event.kind).stops_run:
                self._stopping_failure = event

    @property
    def result(self) -> dict[str, Any]:
        """Claude's final ``result`` event, or an empty mapping before (or without) one."""
        with self._lock:
            return dict(self._result or {})

    @property
    def cost_usd(self) -> float | None:
        value = self.result.get("total_cost_usd")
        return (
            float(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            else None
        )

    @property
    def turns(self) -> int | None:
        return _integer(self.result.get("num_turns"))

    @property
    def duration_ms(self) -> int | None:
        return _integer(self.result.get("duration_ms"))

    @property
    def last_failure(self) -> ScanEvent | None:
        with self._lock:
            return self._last_failure

    @property
    def stopping_failure(self) -> ScanEvent | None:
        """The first failure in this shot's own output whose policy stops the run."""
        with self._lock:
            return self._stopping_failure


class ShotLog:
    """The shot's saved output: stdout (stream-json) and stderr, redacted, append-only.

    Writes are buffered and flushed at most every half second, so a live log viewer
    sees fresh output without a system call per WebSocket frame.
    """

    FLUSH_SECONDS = 0.5

    def __init__(self, folder: ShotFolder) -> None:
        self._files = {
            "stdout": folder.stdout_log.open("a", encoding="utf-8"),
            "stderr": folder.stderr_log.open("a", encoding="utf-8"),
        }
        self._redactors = {name: StreamRedactor() for name in self._files}
        self._flushed_at = time.monotonic()

    def write(self, stream: str, text: str) -> None:
        self._files[stream].write(self._redactors[stream].feed(text))
        if time.monotonic() - self._flushed_at > self.FLUSH_SECONDS:
            for handle in self._files.values():
                handle.flush()
            self._flushed_at = time.monotonic()

    def flush(self) -> None:
        """Write out what the redactors hold back (an unfinished last line)."""
        for name, handle in self._files.items():
            handle.write(self._redactors[name].flush())
            handle.flush()

    def close(self) -> None:
        for handle in self._files.values():
            with contextlib.suppress(ValueError):
                handle.close()


class LogPipe:
    """Carries one Claude attempt's output to the log, the scanner and ``ClaudeOutput``.

    The stream callbacks do only quick, non-waiting work (a buffered write, a scan of
    the chunk), so no WebSocket is ever stalled and no thread hop is paid per frame.
    Characters received per stream are counted so that, if the live stream drops,
    the logs endpoint supplies exactly the rest: nothing lost, nothing twice. The
    counts, the partial line and ``dropped`` are shared by both threads, under the lock.
    """

    def __init__(
        self,
        shot_log: ShotLog,
        scanner: LogScanner,
        output: ClaudeOutput,
        on_failure: Callable[[ScanEvent], None],
    ) -> None:
        self._shot_log = shot_log
        self._scanner = scanner
        self._output = output
        self._on_failure = on_failure
        self._lock = threading.Lock()
        self._dropped = False
        self._received = {"stdout": 0, "stderr": 0}
        self._partial_line = ""
        self._live: LogStream | None = None

    def follow(self, sandbox: SandboxHandle, session: str, command_id: str) -> None:
        self._live = sandbox.stream_logs(session, command_id, self.on_stdout, self.on_stderr)

    @property
    def dropped(self) -> bool:
        with self._lock:
            return self._dropped

    def stream_ended(self, timeout: float) -> bool:
        """Whether the live stream has ended; a broken one switches to the logs endpoint."""
        if self._live is None or self.dropped:
            return True
        try:
            return self._live.wait(timeout)
        except LogStreamDropped as exc:
            log.info("%s; falling back to the logs endpoint", exc.message)
            with self._lock:
                self._dropped = True
            return True

    def on_stdout(self, text: str) -> None:
        self._take("stdout", text)

    def on_stderr(self, text: str) -> None:
        self._take("stderr", text)

    def catch_up(self, sandbox: SandboxHandle, session: str, command_id: str) -> None:
        stdout, stderr = sandbox.fetch_logs(session, command_id)
        with self._lock:
            self._dropped = True  # from now on the endpoint is the source of truth
            for name, full in (("stdout", stdout), ("stderr", stderr)):
                missing = full[self._received[name] :]
                if missing:
                    self._received[name] += len(missing)
                    self._process(name, missing)

    def close(self) -> None:
        """Stop following the sandbox and flush what is held back."""
        if self._live is not None:
            self._live.cancel()
        with self._lock:
            self._dropped = True  # a late frame from a cancelled stream is not written
            for event in self._scanner.close():
                self._report(event)
            if _is_result_line(self._partial_line):
                self._record_result(self._partial_line)
            self._shot_log.flush()

    def _take(self, stream: str, text: str) -> None:
        with self._lock:
            if self._dropped:
                return
            self._received[stream] += len(text)
            self._process(stream, text)

    def _process(self, stream: str, text: str) -> None:
        self._shot_log.write(stream, text)
        if stream == "stderr":
            self._output.record_stderr(text)
        for event in self._scanner.feed(text, stream):
            self._report(event)
        if stream == "stdout":
            self._watch_result(text)

    def _report(self, event: ScanEvent) -> None:
        self._output.record_failure(event)
        self._on_failure(event)

    def _watch_result(self, text: str) -> None:
        """Keep the final `result` event; only chunks that mention one are split."""
        data = self._partial_line + text
        if '"type":"result"' not in data:
            self._partial_line = data[data.rfind("\n") + 1 :][-_MAX_RESULT_LINE:]
            return
        lines = data.split("\n")
        self._partial_line = lines.pop()[-_MAX_RESULT_LINE:]
        for line in lines:
            if _is_result_line(line):
                self._record_result(line)

    def _record_result(self, line: str) -> None:
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict) and event.get("type") == "result":
                self._output.record_result(event)


def _is_result_line(line: str) -> bool:
    return line.startswith("{") and '"type":"result"' in line


def _integer(value: object) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None
