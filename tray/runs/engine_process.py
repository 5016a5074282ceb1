"""The run engine in a child process that lives only while runs are active.

The tray app runs all day. A run loads the Daytona SDK (about 70 MB) and a thread
per shot, and a Python process does not give that memory back. So the tray hands
its runs to a child, `multishot _engine`, running the same `RunManager`, and the
child exits as soon as no run is active and no request is pending: after the last
run the tray is back to its idle size. The two talk in pickled frames over the
child's standard input and output (both ends are this program; the credentials
cross the pipe, never a command line or a file).

If the tray dies, the child reads the end of its input, cancels its runs and
deletes their sandboxes. If the child dies, the tray ends its runs as interrupted
and fails what it was waiting for with `EngineStopped`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import itertools
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, TypeVar

from tray.credentials.model import Credentials
from tray.errors import EngineStopped, MultishotError
from tray.own_process import ENGINE_COMMAND, own_command
from tray.runs.events import EngineEvent, RunFinished, Subscriber
from tray.runs.settings import EngineSettings
from tray.runs.spec import RunSpec
from tray.runs.status import RunStatus
from tray.runs.sweep import Sweep

__all__ = ["EngineProcess", "serve"]

log = logging.getLogger(__name__)

_START_SECONDS = 60.0  # a cold start of the child (interpreter and engine imports)
_EXIT_GRACE_SECONDS = 15.0  # after a shutdown's own timeout, before the child is killed
_HEADER = struct.Struct("!I")

T = TypeVar("T")


# -- messages: tray → engine -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Setup:
    credentials: Credentials
    history_path: Path | None
    results_root: Path | None
    daytona_url: str | None
    settings: EngineSettings | None


@dataclasses.dataclass(frozen=True)
class _Start:
    request: int
    spec: RunSpec


@dataclasses.dataclass(frozen=True)
class _Sweep:
    request: int


@dataclasses.dataclass(frozen=True)
class _Cancel:
    run_id: str


@dataclasses.dataclass(frozen=True)
class _UseCredentials:
    credentials: Credentials


@dataclasses.dataclass(frozen=True)
class _Shutdown:
    timeout: float


# -- messages: engine → tray -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Event:
    event: EngineEvent


@dataclasses.dataclass(frozen=True)
class _Reply:
    request: int
    value: object


@dataclasses.dataclass(frozen=True)
class _Refusal:
    request: int
    error: MultishotError


def _write(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _write_if_open(stream: IO[bytes], message: object) -> None:
    """Write, unless the other end is gone: then its end of stream tells the reader."""
    with contextlib.suppress(OSError, ValueError):
        _write(stream, message)


def _read(stream: IO[bytes]) -> object | None:
    """The next message, or None at the end of the stream (or a frame cut short)."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    # Both ends are this program, over a pipe only they hold: nothing else can write here.
    return pickle.loads(data) if len(data) == size else None  # noqa: S301


# -- the tray's side ---------------------------------------------------------------------


@dataclasses.dataclass
class _Child:
    process: subprocess.Popen[bytes]
    requests: IO[bytes]  # its standard input
    replies: IO[bytes]  # its standard output
    pending: dict[int, tuple[concurrent.futures.Future[object], int]]  # request → its shots
    runs: dict[str, int]  # run id → number of shots
    write_lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    reader: threading.Thread = dataclasses.field(init=False)  # reads `replies` until they end

    def send(self, message: object) -> None:
        """Send, or do nothing if the child is gone: its reader then ends its work."""
        with self.write_lock:
            _write_if_open(self.requests, message)


class EngineProcess:
    """The `Engine` interface over a child process started on demand. Thread-safe."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        history_path: Path | None = None,
        results_root: Path | None = None,
        daytona_url: str | None = None,
        settings: EngineSettings | None = None,
    ) -> None:
        self._setup = _Setup(credentials, history_path, results_root, daytona_url, settings)
        self._changed = threading.Condition()  # guards everything below; notified on any end
        self._current: _Child | None = None  # the child new work goes to
        self._children: list[_Child] = []  # every live child, including one shutting down
        self._subscribers: list[Subscriber] = []
        self._requests = itertools.count(1)

    def subscribe(self, callback: Subscriber) -> None:
        with self._changed:
            self._subscribers.append(callback)

    def start(self, spec: RunSpec) -> str:
        return self._ask(lambda request: _Start(request, spec), str, spec.shots, _START_SECONDS)

    def cleanup_orphans(self) -> Sweep:
        return self._ask(_Sweep, Sweep, 0, None)

    def cancel(self, run_id: str) -> bool:
        with self._changed:
            owner = next((c for c in self._children if run_id in c.runs), None)
        if owner is None:
            return False
        owner.send(_Cancel(run_id))
        return True

    def active(self) -> list[str]:
        with self._changed:
            return [run_id for child in self._children for run_id in child.runs]

    def wait(self, run_id: str, timeout: float | None = None) -> bool:
        with self._changed:
            return self._changed.wait_for(
                lambda: all(run_id not in child.runs for child in self._children), timeout
            )

    def set_credentials(self, credentials: Credentials) -> None:
        with self._changed:
            self._setup = dataclasses.replace(self._setup, credentials=credentials)
            current = self._current
        if current is not None:
            current.send(_UseCredentials(credentials))

    def shutdown(self, timeout: float = 120) -> None:
        """Cancel every run, wait for its sandboxes to be deleted, end every child."""
        with self._changed:
            self._current = None
            children = list(self._children)
        for child in children:
            child.send(_Shutdown(timeout))
        for child in children:
            child.reader.join(timeout + _EXIT_GRACE_SECONDS)
            if child.reader.is_alive():
                log.warning("the run engine (pid %d) did not stop; killing it", child.process.pid)
                child.process.kill()
                child.reader.join(_EXIT_GRACE_SECONDS)

    def children(self) -> list[int]:
        """The pids of the engine's live child processes (none while no run is active)."""
        with self._changed:
            return [child.process.pid for child in self._children]

    def _ask(
        self,
        request_for: Callable[[int], object],
        answer_type: type[T],
        shots: int,
        timeout: float | None,
    ) -> T:
        with self._changed:
            child = self._current or self._spawn()
            request = next(self._requests)
            answer: concurrent.futures.Future[object] = concurrent.futures.Future()
            child.pending[request] = (answer, shots)
        child.send(request_for(request))
        try:
            value = answer.result(timeout)
        except concurrent.futures.TimeoutError:
            raise EngineStopped(
                f"The run engine did not answer within {timeout:g} seconds."
            ) from None
        if not isinstance(value, answer_type):
            raise EngineStopped(f"The run engine answered with a {type(value).__name__}.")
        return value

    def _spawn(self) -> _Child:
        """A new child for new work (called with the lock held)."""
        try:
            process = subprocess.Popen(
                own_command(ENGINE_COMMAND),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except OSError as exc:
            raise EngineStopped(f"The run engine could not start: {exc}.") from None
        if process.stdin is None or process.stdout is None:
            raise EngineStopped("The run engine started without its pipes.")
        child = _Child(process, process.stdin, process.stdout, {}, {})
        child.reader = threading.Thread(
            target=self._read_from, args=(child,), name=f"engine-{process.pid}", daemon=True
        )
        child.send(self._setup)
        self._current = child
        self._children.append(child)
        child.reader.start()
        return child

    def _read_from(self, child: _Child) -> None:
        try:
            while (message := _read(child.replies)) is not None:
                self._take(child, message)
        except Exception:
            log.exception("the run engine's messages could not be read")
        finally:
            self._ended(child)

    def _take(self, child: _Child, message: object) -> None:
        if isinstance(message, _Event):
            self._emit(message.event)
            if isinstance(message.event, RunFinished):  # told before a waiter wakes
                with self._changed:
                    child.runs.pop(message.event.run_id, None)
                    self._changed.notify_all()
        elif isinstance(message, _Reply | _Refusal):
            with self._changed:
                answer, shots = child.pending.pop(message.request)
                if isinstance(message, _Reply) and isinstance(message.value, str):
                    child.runs[message.value] = shots
            if isinstance(message, _Reply):
                answer.set_result(message.value)
            else:
                answer.set_exception(message.error)
        self._release_if_idle(child)

    def _release_if_idle(self, child: _Child) -> None:
        """Let the child go once it has nothing to do: its memory goes with it."""
        with self._changed:
            idle = child is self._current and not child.runs and not child.pending
            if idle:
                self._current = None
        if idle:
            child.send(_Shutdown(0))

    def _ended(self, child: _Child) -> None:
        """The child's output ended: end what it still owed, as interrupted."""
        try:
            code = child.process.wait(_EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            child.process.kill()
            code = child.process.wait()
        # Closing flushes what was still buffered for the child, which is gone: a broken
        # pipe here must not keep its runs from being ended below.
        with contextlib.suppress(OSError):
            child.requests.close()
        child.replies.close()
        stopped = f"The run engine stopped unexpectedly (exit code {code})"
        with self._changed:
            runs, pending = dict(child.runs), list(child.pending.values())
            child.pending.clear()
        for answer, _shots in pending:
            answer.set_exception(EngineStopped(f"{stopped}."))
        for run_id, shots in runs.items():
            detail = f"{stopped}; `multishot cleanup` deletes the sandboxes it left."
            self._emit(RunFinished(run_id, RunStatus.INTERRUPTED, 0, shots, detail))
        with self._changed:
            child.runs.clear()
            self._children.remove(child)
            if self._current is child:
                self._current = None
            self._changed.notify_all()

    def _emit(self, event: EngineEvent) -> None:
        with self._changed:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("an engine subscriber failed")


# -- the child's side --------------------------------------------------------------------


def serve() -> int:
    """`multishot _engine`: run the engine for the tray until told to stop or orphaned."""
    if sys.stdin.isatty():
        print("This command is for the tray app's own use.", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the tray's terminal: the tray decides
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break a frame
    requests = sys.stdin.buffer
    setup = _read(requests)
    if not isinstance(setup, _Setup):
        return 2
    from tray.app_logging import configure_logging

    configure_logging()
    server = _Server(setup, replies)
    timeout = 120.0  # orphaned: the tray is gone, so take the time to delete every sandbox
    while (message := _read(requests)) is not None:
        if isinstance(message, _Shutdown):
            timeout = message.timeout
            break
        server.handle(message)
    server.manager.shutdown(timeout)
    replies.close()
    return 0


class _Server:
    """The child's engine, answering the tray's requests and forwarding its events."""

    def __init__(self, setup: _Setup, replies: IO[bytes]) -> None:
        from tray.runs.history import History
        from tray.runs.manager import RunManager

        self.manager = RunManager(
            setup.credentials,
            history=History(setup.history_path),
            results_root=setup.results_root,
            daytona_url=setup.daytona_url,
            settings=setup.settings,
        )
        self._replies = replies
        self._send_lock = threading.Lock()
        self.manager.subscribe(lambda event: self._send(_Event(event)))

    def handle(self, message: object) -> None:
        if isinstance(message, _Start):
            with self._send_lock:  # the reply goes before any event of the run it names
                run_id = self.manager.start(message.spec)
                _write_if_open(self._replies, _Reply(message.request, run_id))
        elif isinstance(message, _Sweep):
            threading.Thread(target=self._sweep, args=(message.request,), daemon=True).start()
        elif isinstance(message, _Cancel):
            self.manager.cancel(message.run_id)
        elif isinstance(message, _UseCredentials):
            self.manager.set_credentials(message.credentials)

    def _sweep(self, request: int) -> None:
        try:
            self._send(_Reply(request, self.manager.cleanup_orphans()))
        except MultishotError as exc:
            self._send(_Refusal(request, exc))
        except Exception as exc:
            log.exception("the sweep failed")
            self._send(_Refusal(request, MultishotError(f"The sweep failed: {exc}")))

    def _send(self, message: object) -> None:
        with self._send_lock:
            _write_if_open(self._replies, message)
