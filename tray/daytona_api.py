"""The only module that talks to Daytona, and the only one that imports its SDK.

The SDK costs about a second and 70 MB to import, so it is imported inside the
functions that need it, on worker threads, never at module import time. SDK
errors are translated here into Multishot's own typed errors, and 429/5xx
answers to create and delete are retried with backoff.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from tray import config
from tray.errors import MultishotError
from tray.redaction import redact
from tray.retry import Backoff

if TYPE_CHECKING:
    from daytona import Daytona, Sandbox

log = logging.getLogger(__name__)
T = TypeVar("T")


class DaytonaKeyRejected(MultishotError):
    title = "Daytona rejected the API key"


class DaytonaRateLimited(MultishotError):
    title = "Daytona is rate limiting requests"


class DaytonaUnreachable(MultishotError):
    title = "Could not reach Daytona"


class SandboxError(MultishotError):
    """A sandbox operation failed (the sandbox did not start, a command could not run...)."""

    title = "Sandbox problem"


class LogStreamDropped(MultishotError):
    title = "The live log stream dropped"


def connect(api_key: str, api_url: str | None = None) -> Daytona:
    """A client with explicit configuration, so a stray ``.env`` cannot pick the account."""
    from daytona import Daytona, DaytonaConfig

    return Daytona(DaytonaConfig(api_key=api_key, api_url=api_url or config.daytona_api_url()))


def verify_api_key(api_key: str, api_url: str | None = None, timeout: float = 15.0) -> None:
    """Make one cheap authenticated call (list one sandbox); raise a typed error if it fails."""
    from daytona import ListSandboxesQuery

    url = api_url or config.daytona_api_url()
    with translated_errors("check the key", url):
        client = connect(api_key, url)
        next(iter(client.list(ListSandboxesQuery(limit=1), request_timeout=timeout)), None)


@contextlib.contextmanager
def translated_errors(operation: str, url: str | None = None) -> Iterator[None]:
    """Turn the SDK's errors into Multishot's, with a message a person can act on."""
    from daytona import (
        DaytonaAuthenticationError,
        DaytonaConnectionError,
        DaytonaError,
        DaytonaForbiddenError,
        DaytonaRateLimitError,
        DaytonaTimeoutError,
    )

    where = url or config.daytona_api_url()
    try:
        yield
    except DaytonaAuthenticationError as exc:
        raise DaytonaKeyRejected(
            f"Daytona did not accept the API key ({_detail(exc)}). Check it at "
            "app.daytona.io → API Keys, or create a new one."
        ) from None
    except DaytonaForbiddenError as exc:
        raise DaytonaKeyRejected(
            f"The Daytona API key may not manage sandboxes ({_detail(exc)}). Create a key "
            "with sandbox permissions at app.daytona.io → API Keys."
        ) from None
    except DaytonaRateLimitError as exc:
        raise DaytonaRateLimited(
            f"Daytona is rate limiting requests ({_detail(exc)}). Try again in a minute."
        ) from None
    except DaytonaError as exc:
        # The SDK reports a refused connection as a plain DaytonaError wrapping urllib3's
        # MaxRetryError; no HTTP status means Daytona never answered.
        if isinstance(exc, (DaytonaConnectionError, DaytonaTimeoutError)) or (
            exc.status_code is None and _looks_like_connection_failure(exc)
        ):
            raise DaytonaUnreachable(
                f"Could not connect to Daytona at {where} ({_connection_problem(exc)}). Check "
                "the network and try again."
            ) from None
        if exc.status_code is not None and exc.status_code >= 500:
            raise DaytonaUnreachable(
                f"Daytona at {where} answered with an error ({_detail(exc)}) while trying to "
                f"{operation}. Try again later."
            ) from None
        raise SandboxError(f"Could not {operation}: {_detail(exc)}") from None


def _looks_like_connection_failure(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(
        sign in text
        for sign in ("max retries", "refused", "timed out", "timeout", "connect", "resolution")
    )


def _connection_problem(exc: BaseException) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "timed out" in text or "timeout" in text:
        return "no answer in time"
    if "name or service not known" in text or "resolution" in text or "getaddrinfo" in text:
        return "the host name could not be resolved"
    return _detail(exc)


def _detail(exc: BaseException) -> str:
    return redact(str(exc)).strip() or type(exc).__name__


def _retrying(operation: Callable[[], T], backoff: Backoff, what: str) -> T:
    """Retry on 429 and 5xx (and dropped connections); anything else fails at once."""
    for attempt in range(1, backoff.attempts + 1):
        try:
            return operation()
        except (DaytonaRateLimited, DaytonaUnreachable) as exc:
            if attempt == backoff.attempts:
                raise
            delay = backoff.delay(attempt)
            log.info("%s failed (%s); retry %d in %.1f s", what, exc.message, attempt, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


@dataclasses.dataclass(frozen=True)
class SandboxInfo:
    id: str
    labels: dict[str, str]
    state: str


class DaytonaClient:
    """The Daytona account, as the run engine uses it. Call from worker threads only."""

    def __init__(self, api_key: str, api_url: str | None = None, backoff: Backoff | None = None):
        self.api_url = api_url or config.daytona_api_url()
        self.backoff = backoff or Backoff()
        with translated_errors("connect", self.api_url):
            self._sdk = connect(api_key, self.api_url)

    def create_sandbox(
        self,
        *,
        env: dict[str, str],
        labels: dict[str, str],
        auto_stop_minutes: int,
        auto_delete_minutes: int,
        timeout: float = 120,
    ) -> SandboxHandle:
        """Create a sandbox; if it fails to start, delete what was left behind and raise."""
        from daytona import CreateSandboxFromSnapshotParams

        params = CreateSandboxFromSnapshotParams(
            env_vars=env,
            labels=labels,
            auto_stop_interval=auto_stop_minutes,
            auto_delete_interval=auto_delete_minutes,
        )

        def create() -> Sandbox:
            with translated_errors("create a sandbox", self.api_url):
                return self._sdk.create(params, timeout=timeout)

        try:
            sandbox = _retrying(create, self.backoff, "create sandbox")
        except (SandboxError, DaytonaUnreachable, DaytonaRateLimited):
            # A sandbox that failed to start still exists: find it by its labels.
            for leftover in self.list_sandboxes(labels):
                self.delete_sandbox(leftover.id)
            raise
        return SandboxHandle(sandbox)

    def delete_sandbox(self, sandbox_id: str) -> None:
        """Delete a sandbox; one that is already gone is not an error."""
        from daytona import DaytonaNotFoundError

        def delete() -> None:
            with translated_errors("delete a sandbox", self.api_url):
                try:
                    sandbox = self._sdk.get(sandbox_id)
                    self._sdk.delete(sandbox)
                except DaytonaNotFoundError:
                    return

        _retrying(delete, self.backoff, f"delete sandbox {sandbox_id}")

    def list_sandboxes(self, labels: dict[str, str]) -> list[SandboxInfo]:
        from daytona import ListSandboxesQuery

        with translated_errors("list sandboxes", self.api_url):
            return [
                SandboxInfo(s.id, dict(s.labels or {}), str(s.state))
                for s in self._sdk.list(ListSandboxesQuery(labels=labels))
            ]


class SandboxHandle:
    """One sandbox: commands, sessions, live logs, files. Never logged: it carries its env."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self.id: str = sandbox.id
        self._home: str | None = None

    def __repr__(self) -> str:
        return f"SandboxHandle(id={self.id!r})"

    @property
    def home(self) -> str:
        """The sandbox user's home, as the sandbox reports it."""
        if self._home is None:
            with translated_errors("read the sandbox's home folder"):
                self._home = self._sandbox.get_user_home_dir()
        return self._home

    def exec(
        self,
        command: str,
        *,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout: int = 300,
    ) -> tuple[int, str]:
        with translated_errors("run a command in the sandbox"):
            response = self._sandbox.process.exec(command, cwd=cwd, env=env, timeout=timeout)
        return int(response.exit_code or 0), response.result or ""

    def clone(self, url: str, path: str, branch: str | None) -> None:
        with translated_errors(f"clone {url}"):
            self._sandbox.git.clone(url, path, branch=branch)

    def start_command(self, session_id: str, command: str) -> str:
        """Run ``command`` asynchronously in a new session; return its command id."""
        from daytona import SessionExecuteRequest

        with translated_errors("start Claude Code"):
            self._sandbox.process.create_session(session_id)
            response = self._sandbox.process.execute_session_command(
                session_id, SessionExecuteRequest(command=command, run_async=True)
            )
        if not response.cmd_id:
            raise SandboxError("The sandbox did not return a command id.")
        return str(response.cmd_id)

    def exit_code(self, session_id: str, command_id: str) -> int | None:
        """The command's exit code, or None while it runs."""
        with translated_errors("check on Claude Code"):
            command = self._sandbox.process.get_session_command(session_id, command_id)
        return None if command.exit_code is None else int(command.exit_code)

    def stream_logs(
        self,
        session_id: str,
        command_id: str,
        on_stdout: Callable[[str], Any],
        on_stderr: Callable[[str], Any],
    ) -> LogStream:
        """A live log stream of the command; ``run()`` it on a worker thread."""
        return LogStream(
            self._sandbox.process.get_session_command_logs_async(
                session_id, command_id, on_stdout, on_stderr
            )
        )

    def fetch_logs(self, session_id: str, command_id: str) -> tuple[str, str]:
        """Everything the command has written so far, from the logs endpoint."""
        with translated_errors("read Claude Code's output"):
            logs = self._sandbox.process.get_session_command_logs(session_id, command_id)
        return logs.stdout or "", logs.stderr or ""

    def download(self, path: str) -> bytes:
        with translated_errors(f"download {path}"):
            data = self._sandbox.fs.download_file(path)
        return bytes(data or b"")


class LogStream:
    """Follows a command's output on its own event loop until it ends or is cancelled."""

    def __init__(self, follow: Coroutine[Any, Any, None]) -> None:
        self._follow = follow
        self._loop = asyncio.new_event_loop()
        self._loop.set_default_executor(_DaemonThreads())
        self._task: asyncio.Task[None] | None = None
        self._cancelled = False
        self._lock = threading.Lock()

    def run(self) -> None:
        """Block until the command's output ends; LogStreamDropped if the stream broke."""
        from daytona import DaytonaError

        with self._lock:
            if self._cancelled:
                self._follow.close()
                self._loop.close()
                return
            self._task = self._loop.create_task(self._follow)
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            return
        except (DaytonaError, Exception) as exc:  # the WebSocket layer has its own types
            raise LogStreamDropped(f"The live log stream ended early: {_detail(exc)}") from None
        finally:
            self._loop.close()

    def cancel(self) -> None:
        """Stop following, from any thread; the connection is closed."""
        with self._lock:
            self._cancelled = True
            task = self._task
        if task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                self._loop.call_soon_threadsafe(task.cancel)


class _DaemonThreads(concurrent.futures.ThreadPoolExecutor):
    """One reusable daemon worker thread for a stream's blocking reads.

    The SDK reads the WebSocket with ``asyncio.to_thread(ws.receive)``, one call per
    frame; once a stream is cancelled a read may never return, and a pooled
    (non-daemon) thread would then keep the process from exiting.
    """

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self._work: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def call() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        self._work.put(call)
        if self._worker is None:
            self._worker = threading.Thread(target=self._serve, name="log-stream-read", daemon=True)
            self._worker.start()
        return future

    def _serve(self) -> None:
        while (call := self._work.get()) is not None:
            call()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the worker end; never join it (at worst it is blocked on a dead stream)."""
        self._work.put(None)
