"""The only module that talks to Daytona, and the only one that imports its SDK.

The SDK costs about a second and 70 MB to import, so it is imported inside the
functions that need it, on worker threads, never at module import time. SDK
errors are translated here into Multishot's own typed errors, and 429/5xx
answers to create and delete are retried with backoff.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from tray import config
from tray.deadline import DeadlineExceeded, call_with_deadline
from tray.errors import (
    DaytonaKeyRejected,
    DaytonaRateLimited,
    DaytonaUnreachable,
    LogStreamDropped,
    MultishotError,
    SandboxError,
    connection_problem,
)
from tray.redaction import redact
from tray.sandbox.retry import Backoff

if TYPE_CHECKING:
    from daytona import AsyncDaytona, Daytona, Sandbox

__all__ = [
    "APP_LABELS",
    "LABEL_RUN",
    "LABEL_SHOT",
    "DaytonaClient",
    "LogStream",
    "SandboxCreation",
    "SandboxHandle",
    "SandboxInfo",
    "connect",
    "sandbox_labels",
    "translated_errors",
    "verify_api_key",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

# Every sandbox Multishot creates carries these labels, so a crashed run's can be found.
APP_LABELS = {"app": "multishot"}
LABEL_RUN = "multishot-run"
LABEL_SHOT = "multishot-shot"


def sandbox_labels(run_id: str, shot: int) -> dict[str, str]:
    return {**APP_LABELS, LABEL_RUN: run_id, LABEL_SHOT: str(shot)}


def connect(api_key: str, api_url: str | None = None) -> Daytona:
    """A client with explicit configuration, so a stray ``.env`` cannot pick the account."""
    from daytona import Daytona, DaytonaConfig

    return Daytona(DaytonaConfig(api_key=api_key, api_url=api_url or config.daytona_api_url()))


def verify_api_key(api_key: str, api_url: str | None = None, timeout: float = 15.0) -> None:
    """Make one cheap authenticated call (list one sandbox); raise a typed error if it fails."""
    from daytona import ListSandboxesQuery

    url = api_url or config.daytona_api_url()

    def list_one() -> None:
        with translated_errors("check the key", url):
            client = connect(api_key, url)
            next(iter(client.list(ListSandboxesQuery(limit=1), request_timeout=timeout)), None)

    # The SDK retries a request that timed out: without a deadline of our own a silent
    # server takes several times ``timeout`` to be reported.
    try:
        call_with_deadline(list_one, timeout, "daytona-key-check")
    except DeadlineExceeded:
        raise DaytonaUnreachable(
            f"Daytona did not answer within {timeout:g} seconds. Check the internet "
            "connection and try again."
        ) from None


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
            log.info("could not reach Daytona at %s: %s", where, _detail(exc))
            raise DaytonaUnreachable(
                f"Could not connect to Daytona ({connection_problem(exc)}). Check the "
                "internet connection and try again."
            ) from None
        if exc.status_code is not None and exc.status_code >= 500:
            log.info("Daytona at %s: %s", where, _detail(exc))
            raise DaytonaUnreachable(
                f"Daytona answered with an error (HTTP {exc.status_code}) while trying to "
                f"{operation}. Try again later."
            ) from None
        raise SandboxError(f"Could not {operation}: {_detail(exc)}") from None


def _looks_like_connection_failure(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(
        sign in text
        for sign in ("max retries", "refused", "timed out", "timeout", "connect", "resolution")
    )


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


class DaytonaClient:
    """The Daytona account, as the run engine uses it. Call from worker threads only."""

    def __init__(self, api_key: str, api_url: str | None = None, backoff: Backoff | None = None):
        self.api_url = api_url or config.daytona_api_url()
        self.backoff = backoff or Backoff()
        self._api_key = api_key
        self._logs: _LogLoop | None = None
        self._lock = threading.Lock()
        with translated_errors("connect", self.api_url):
            self._sdk = connect(api_key, self.api_url)

    def create_sandbox(
        self,
        *,
        env: dict[str, str],
        labels: dict[str, str],
        auto_stop_minutes: int,
        auto_delete_minutes: int,
        lifetime_minutes: int = 0,
        timeout: float = 120,
    ) -> SandboxHandle:
        """Create a sandbox; if it fails to start, delete what was left behind and raise."""
        from daytona import CreateSandboxFromSnapshotParams

        params = CreateSandboxFromSnapshotParams(
            env_vars=env,
            labels=labels,
            auto_stop_interval=auto_stop_minutes,
            auto_delete_interval=auto_delete_minutes,
            ttl_minutes=lifetime_minutes,
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
        return SandboxHandle(sandbox, self._log_loop())

    def start_creating(
        self,
        *,
        env: dict[str, str],
        labels: dict[str, str],
        auto_stop_minutes: int,
        auto_delete_minutes: int,
        lifetime_minutes: int,
    ) -> SandboxCreation:
        """Create a sandbox on a thread of its own, so that the caller can give up on it."""
        return SandboxCreation(
            self,
            labels,
            lambda: self.create_sandbox(
                env=env,
                labels=labels,
                auto_stop_minutes=auto_stop_minutes,
                auto_delete_minutes=auto_delete_minutes,
                lifetime_minutes=lifetime_minutes,
            ),
        )

    def _log_loop(self) -> _LogLoop:
        with self._lock:
            if self._logs is None:
                self._logs = _LogLoop(self._api_key, self.api_url)
            return self._logs

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
                SandboxInfo(s.id, dict(s.labels or {}))
                for s in self._sdk.list(ListSandboxesQuery(labels=labels))
            ]


class SandboxCreation:
    """A sandbox on its way up. Creating one waits for it to start (seconds, sometimes
    minutes); a cancelled run must not wait that long to delete it, nor forget it."""

    ABANDON_POLL_SECONDS = 0.5

    def __init__(
        self, client: DaytonaClient, labels: dict[str, str], create: Callable[[], SandboxHandle]
    ) -> None:
        self._client = client
        self._labels = labels
        self.undeleted: list[str] = []
        self._future: concurrent.futures.Future[SandboxHandle] = concurrent.futures.Future()
        threading.Thread(
            target=self._create, args=(create,), name="sandbox-create", daemon=True
        ).start()

    def _create(self, create: Callable[[], SandboxHandle]) -> None:
        try:
            self._future.set_result(create())
        except BaseException as exc:  # handed to the waiting thread, which raises it
            self._future.set_exception(exc)

    def wait(self, stopped: Callable[[], bool], poll_seconds: float = 0.2) -> SandboxHandle | None:
        """The started sandbox, or None as soon as ``stopped()`` says to give up on it."""
        while True:
            try:
                return self._future.result(poll_seconds)
            except concurrent.futures.TimeoutError:
                if stopped():
                    return None

    def abandon(self) -> None:
        """Delete what this creation made, as soon as Daytona lists it; return once it is
        gone. If a delete fails, its sandbox id is in ``undeleted`` when the error is raised."""
        deleted: set[str] = set()
        while True:
            for leftover in self._client.list_sandboxes(self._labels):
                if leftover.id not in deleted:
                    self._delete(leftover.id)
                    deleted.add(leftover.id)
            try:
                sandbox = self._future.result(self.ABANDON_POLL_SECONDS)
            except concurrent.futures.TimeoutError:
                continue
            except Exception:  # a create that failed deleted what it left
                return
            if sandbox.id not in deleted:
                self._delete(sandbox.id)
            return

    def _delete(self, sandbox_id: str) -> None:
        try:
            self._client.delete_sandbox(sandbox_id)
        except MultishotError:
            self.undeleted.append(sandbox_id)
            raise


class SandboxHandle:
    """One sandbox: commands, sessions, live logs, files. Never logged: it carries its env."""

    def __init__(self, sandbox: Sandbox, log_loop: _LogLoop) -> None:
        self._sandbox = sandbox
        self._log_loop = log_loop
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

    def start_command(self, session_id: str, command: str, what: str = "start Claude Code") -> str:
        """Run ``command`` asynchronously in a new session; return its command id."""
        from daytona import SessionExecuteRequest

        with translated_errors(what):
            self._sandbox.process.create_session(session_id)
            response = self._sandbox.process.execute_session_command(
                session_id, SessionExecuteRequest(command=command, run_async=True)
            )
        if not response.cmd_id:
            raise SandboxError("The sandbox did not return a command id.")
        return str(response.cmd_id)

    def exit_code(
        self, session_id: str, command_id: str, what: str = "check on Claude Code"
    ) -> int | None:
        """The command's exit code, or None while it runs."""
        with translated_errors(what):
            command = self._sandbox.process.get_session_command(session_id, command_id)
        return None if command.exit_code is None else int(command.exit_code)

    def stream_logs(
        self,
        session_id: str,
        command_id: str,
        on_stdout: Callable[[str], Any],
        on_stderr: Callable[[str], Any],
    ) -> LogStream:
        """Start following the command's output; callbacks must not block."""
        return self._log_loop.follow(self.id, session_id, command_id, on_stdout, on_stderr)

    def fetch_logs(self, session_id: str, command_id: str) -> tuple[str, str]:
        """Everything the command has written so far, from the logs endpoint."""
        with translated_errors("read Claude Code's output"):
            logs = self._sandbox.process.get_session_command_logs(session_id, command_id)
        return logs.stdout or "", logs.stderr or ""

    def upload(self, data: bytes, path: str) -> None:
        """Write ``data`` to ``path`` in the sandbox (its folder must exist)."""
        with translated_errors(f"upload {path}"):
            self._sandbox.fs.upload_file(data, path)

    def download(self, path: str) -> bytes:
        with translated_errors(f"download {path}"):
            data = self._sandbox.fs.download_file(path)
        return bytes(data or b"")


class LogStream:
    """One command's live output, followed on the shared log loop."""

    def __init__(self, future: concurrent.futures.Future[None]) -> None:
        self._future = future

    def wait(self, timeout: float) -> bool:
        """True once the command's output has ended; LogStreamDropped if the stream broke."""
        try:
            self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        except concurrent.futures.CancelledError:
            return True
        except Exception as exc:  # the SDK's and the WebSocket layer's own types
            raise LogStreamDropped(f"The live log stream ended early: {_detail(exc)}") from None
        return True

    def cancel(self) -> None:
        """Stop following, from any thread; the connection is closed."""
        self._future.cancel()


class _LogLoop:
    """A daemon thread running one event loop that follows every live log stream.

    It uses the SDK's async client, whose WebSocket reader (aiohttp) costs a fraction
    of the sync client's per-frame thread hand-offs; the callbacks run on this thread.
    """

    def __init__(self, api_key: str, api_url: str) -> None:
        import asyncio  # a few MB: loaded with the first run, not at app start

        self._api_key = api_key
        self._api_url = api_url
        self._loop = asyncio.new_event_loop()
        self._client: AsyncDaytona | None = None
        threading.Thread(target=self._loop.run_forever, name="log-streams", daemon=True).start()

    def follow(
        self,
        sandbox_id: str,
        session_id: str,
        command_id: str,
        on_stdout: Callable[[str], Any],
        on_stderr: Callable[[str], Any],
    ) -> LogStream:
        import asyncio

        async def follow_logs() -> None:
            sandbox = await self._async_client().get(sandbox_id)
            await sandbox.process.get_session_command_logs_async(
                session_id, command_id, on_stdout, on_stderr
            )

        return LogStream(asyncio.run_coroutine_threadsafe(follow_logs(), self._loop))

    def _async_client(self) -> AsyncDaytona:
        """Created on the loop's thread, where its aiohttp session lives."""
        if self._client is None:
            from daytona import AsyncDaytona, DaytonaConfig

            self._client = AsyncDaytona(DaytonaConfig(api_key=self._api_key, api_url=self._api_url))
        return self._client
