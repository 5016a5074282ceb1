"""Credential storage in the OS keychain, through ``keyring``; never plaintext.

One keychain entry per secret plus one for the method, under the service name
``multishot``. When the active backend is not a secure keychain, nothing is
persisted: credentials live in this process's memory for the session only.
Every keychain call runs in a daemon thread with a timeout, so a locked
Secret Service waiting on a prompt cannot hang the app.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import json
import logging
import math
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from tray.credentials.model import AuthMethod, Credentials
from tray.deadline import DeadlineExceeded, call_with_deadline
from tray.errors import IncompleteCredentials, KeychainError, KeychainLocked, KeychainTimeout
from tray.own_process import KEYCHAIN_LOAD_COMMAND, own_command
from tray.redaction import redact

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "ALL_ENTRIES",
    "DEFAULT_TIMEOUT_SECONDS",
    "ENTRY_ANTHROPIC_KEY",
    "ENTRY_DAYTONA_KEY",
    "ENTRY_METHOD",
    "ENTRY_OAUTH_EXPIRY",
    "ENTRY_OAUTH_TOKEN",
    "SERVICE_NAME",
    "TIMEOUT_ENV",
    "BackendAssessment",
    "CredentialStore",
    "StorageOutcome",
    "assess_backend",
    "backend_name",
    "dump_for_parent",
    "fix_for_platform",
    "load_isolated",
    "timeout_setting",
]

SERVICE_NAME = "multishot"
TIMEOUT_ENV = "MULTISHOT_KEYCHAIN_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 10.0
MIN_TIMEOUT_SECONDS = 0.5
MAX_TIMEOUT_SECONDS = 600.0

ENTRY_METHOD = "auth_method"
ENTRY_DAYTONA_KEY = "daytona_api_key"
ENTRY_ANTHROPIC_KEY = "anthropic_api_key"
ENTRY_OAUTH_TOKEN = "claude_oauth_token"
ENTRY_OAUTH_EXPIRY = "claude_oauth_token_expires_at"
# Every entry any version of the app has written; clear() removes all of them.
ALL_ENTRIES = (
    ENTRY_METHOD,
    ENTRY_DAYTONA_KEY,
    ENTRY_ANTHROPIC_KEY,
    ENTRY_OAUTH_TOKEN,
    ENTRY_OAUTH_EXPIRY,
)
_MAX_DUPLICATE_ENTRIES = 16

log = logging.getLogger(__name__)
T = TypeVar("T")


class StorageOutcome(enum.Enum):
    KEYCHAIN = "keychain"
    SESSION_ONLY = "session_only"


@dataclasses.dataclass(frozen=True)
class BackendAssessment:
    """Which keyring backend is active and whether it may hold secrets."""

    name: str
    secure: bool
    problem: str | None = None

    @property
    def advice(self) -> str:
        """What the user reads when the backend is not secure."""
        return (
            f"{self.problem} Multishot never stores secrets in plaintext, so your "
            "credentials are kept in memory for this session only. To keep them, "
            f"{fix_for_platform()} and restart Multishot."
        )


def fix_for_platform() -> str:
    if sys.platform == "darwin":
        return "make sure the login Keychain is available"
    if sys.platform == "win32":
        return "make sure Windows Credential Manager is available"
    return (
        "install and unlock a Secret Service such as gnome-keyring "
        "(Debian/Ubuntu: sudo apt install gnome-keyring) or KWallet"
    )


def backend_name(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def assess_backend(backend: KeyringBackend) -> BackendAssessment:
    """Secure means a real OS keychain: not ``fail``, not plaintext, priority >= 1."""
    from keyring.backends import fail

    name = backend_name(backend)
    if isinstance(backend, fail.Keyring):
        return BackendAssessment(name, False, "No keychain is available on this system.")
    lowered = name.lower()
    if "plaintext" in lowered or lowered.startswith("keyrings.alt"):
        return BackendAssessment(name, False, f"The keyring backend {name} stores plaintext.")
    try:
        priority = float(backend.priority)
    except Exception as exc:  # a backend reports it is unusable by raising here
        return BackendAssessment(name, False, f"The keychain is unusable: {exc}.")
    if priority < 1:
        return BackendAssessment(
            name, False, f"The keyring backend {name} is not a secure keychain."
        )
    return BackendAssessment(name, True)


def _resolve_backend() -> KeyringBackend:
    # keyring costs about 16 MB with its backends: it loads when a store is used.
    import keyring
    import keyring.core
    from keyring.backends import chainer, fail

    # What the user configured wins; on Linux the Secret Service is tried first,
    # because keyring's own search imports every platform's backend, and the macOS
    # one alone takes about 70 ms to import there.
    configured = keyring.core.load_env() or keyring.core.load_config()
    backend = configured or _viable_secret_service() or keyring.get_keyring()
    if isinstance(backend, chainer.ChainerBackend):
        # The chainer writes to its first backend: judge and use that one directly,
        # so a low-priority plaintext backend behind it is never read from.
        chained = chainer.ChainerBackend.backends
        return chained[0] if chained else fail.Keyring()  # type: ignore[no-untyped-call]
    return backend


def _viable_secret_service() -> KeyringBackend | None:
    if not sys.platform.startswith("linux"):
        return None
    from keyring.backends import SecretService

    if not SecretService.Keyring.viable:
        return None
    return SecretService.Keyring()  # type: ignore[no-untyped-call]


def _is_secret_service(backend: KeyringBackend) -> bool:
    return type(backend).__module__ == "keyring.backends.SecretService"


def _read_secret_service(backend: Any, service: str) -> dict[str, str | None]:
    """All of the app's entries in one D-Bus connection, one search and one encryption
    session (keyring opens one of each per entry: about 35 ms against 13 ms here)."""
    from secretstorage.util import open_session

    collection = backend.get_preferred_collection()  # unlocks it, or says it is locked
    entries: dict[str, str | None] = dict.fromkeys(ALL_ENTRIES)
    with contextlib.closing(collection.connection):
        collection.session = open_session(collection.connection)
        for item in collection.search_items({"service": service}):
            name = item.get_attributes().get("username")
            if name in entries and entries[name] is None:
                backend.unlock(item)
                entries[name] = item.get_secret().decode("utf-8")
    return entries


def timeout_setting(environ: Mapping[str, str] = os.environ) -> tuple[float, str | None]:
    """The keychain time limit from MULTISHOT_KEYCHAIN_TIMEOUT, and what is wrong with it."""
    raw = environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS, None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not MIN_TIMEOUT_SECONDS <= seconds <= MAX_TIMEOUT_SECONDS:
        return DEFAULT_TIMEOUT_SECONDS, (
            f"{TIMEOUT_ENV}={raw[:20]!r} is not a number of seconds from "
            f"{MIN_TIMEOUT_SECONDS:g} to {MAX_TIMEOUT_SECONDS:g}; "
            f"using {DEFAULT_TIMEOUT_SECONDS:g}."
        )
    return seconds, None


def _timeout_from_env() -> float:
    seconds, problem = timeout_setting()
    if problem:
        log.warning("%s", problem)
    return seconds


class CredentialStore:
    """Load, save and clear :class:`Credentials` in the OS keychain."""

    def __init__(
        self,
        service: str = SERVICE_NAME,
        *,
        backend: KeyringBackend | None = None,
        timeout: float | None = None,
    ) -> None:
        self.service = service
        self.timeout = _timeout_from_env() if timeout is None else timeout
        self._backend = backend
        self._assessment: BackendAssessment | None = None
        self._session_credentials: Credentials | None = None
        self._lock = threading.Lock()

    def assessment(self) -> BackendAssessment:
        """Resolve the backend (once) and say whether it is secure."""
        with self._lock:
            if self._assessment is None:
                backend = self._backend or self._timed("open", _resolve_backend)
                self._assessment = self._timed("check", lambda: assess_backend(backend))
                self._backend = backend
            return self._assessment

    @property
    def is_secure(self) -> bool:
        return self.assessment().secure

    def load(self) -> Credentials | None:
        """The stored credentials, or None when absent or incomplete."""
        if not self.is_secure:
            return self._session_credentials
        return _credentials_from_entries(self.read_entries())

    def read_entries(self) -> dict[str, str | None]:
        """Every entry the app writes, as stored (secure backends only)."""
        backend = self._require_backend()
        if _is_secret_service(backend):
            return self._timed("read", lambda: _read_secret_service(backend, self.service))
        return self._timed(
            "read",
            lambda: {name: backend.get_password(self.service, name) for name in ALL_ENTRIES},
        )

    def save(self, credentials: Credentials) -> StorageOutcome:
        """Store ``credentials``; in session-only mode keep them in memory instead."""
        if not self.is_secure:
            self._session_credentials = credentials
            return StorageOutcome.SESSION_ONLY
        backend = self._require_backend()
        wanted = _entries_from_credentials(credentials)

        def write() -> None:
            # Secrets first, then the method, then stale entries: an interruption at
            # any point leaves either the old or the new credentials loadable.
            for name, value in wanted.items():
                if value is not None and name != ENTRY_METHOD:
                    backend.set_password(self.service, name, value)
            backend.set_password(self.service, ENTRY_METHOD, credentials.auth_method.value)
            for name, value in wanted.items():
                if value is None:
                    self._delete_entry(backend, name)

        self._timed("write", write)
        self._session_credentials = None
        return StorageOutcome.KEYCHAIN

    def clear(self) -> StorageOutcome:
        """Remove every entry the app ever wrote, and the session copy. Idempotent.

        SESSION_ONLY means no keychain could be reached: only the session copy went,
        and whatever an earlier session saved is still in the keychain.
        """
        self._session_credentials = None
        if not self.is_secure:
            return StorageOutcome.SESSION_ONLY
        backend = self._require_backend()

        def delete_all() -> None:
            for name in ALL_ENTRIES:
                self._delete_entry(backend, name)

        self._timed("delete", delete_all)
        return StorageOutcome.KEYCHAIN

    def _delete_entry(self, backend: KeyringBackend, name: str) -> None:
        import keyring.errors

        # Some backends delete only the first match; repeat until none is left.
        for _ in range(_MAX_DUPLICATE_ENTRIES):
            try:
                backend.delete_password(self.service, name)
            except keyring.errors.PasswordDeleteError:
                return

    def _require_backend(self) -> KeyringBackend:
        self.assessment()
        if self._backend is None:
            raise KeychainError("The keychain backend could not be opened.")
        return self._backend

    def _timed(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call_with_deadline(call, self.timeout, f"keychain-{what}")
        except DeadlineExceeded:
            raise KeychainTimeout(
                f"The keychain did not answer within {self.timeout:g} seconds "
                f"(while trying to {what}). It may be locked and waiting for a password "
                "prompt that cannot appear. Unlock it (for example by logging in to the "
                "desktop session) and try again."
            ) from None
        except Exception as exc:
            raise _translate(what, exc) from None


def _translate(what: str, exc: BaseException) -> BaseException:
    import keyring.errors

    if isinstance(exc, KeychainError) or not isinstance(exc, Exception):
        return exc
    detail = redact(str(exc)).rstrip(". ") or type(exc).__name__
    log.warning("keychain %s failed: %s: %s", what, type(exc).__name__, detail)
    lowered = detail.lower()
    if isinstance(exc, keyring.errors.KeyringLocked) or "locked" in lowered:
        return KeychainLocked(
            "The keychain is locked, or its unlock prompt was dismissed. Unlock it (for "
            "example by logging in to the desktop session) and try again."
        )
    if "prompt dismissed" in lowered:
        return KeychainLocked(
            "The keychain asked for a password, and the prompt was dismissed or could not be "
            "shown. Unlock the keychain (or create its default collection) in your desktop "
            "session, then try again."
        )
    if isinstance(exc, keyring.errors.NoKeyringError):
        return KeychainError(f"No keychain is available: {detail}.")
    if isinstance(exc, keyring.errors.InitError):
        return KeychainError(f"The keychain could not be opened: {detail}.")
    if isinstance(exc, keyring.errors.PasswordSetError):
        return KeychainError(f"The keychain refused to store the credentials: {detail}.")
    return KeychainError(f"The keychain failed while trying to {what}: {detail}.")


_CHILD_START_SECONDS = 15.0
_ERRORS = {cls.__name__: cls for cls in (KeychainError, KeychainLocked, KeychainTimeout)}


def load_isolated(
    service: str = SERVICE_NAME, timeout: float | None = None
) -> tuple[BackendAssessment, Credentials | None]:
    """Read the keychain in a short-lived child process (blocking: call from a worker).

    keyring and its backends cost the process that loads them about 16 MB for good;
    the tray app only needs them again when the user saves or logs out. The child
    hands the entries back through a pipe, never a file or a command line.
    """
    command = own_command(KEYCHAIN_LOAD_COMMAND, service)
    limit = (timeout or _timeout_from_env()) + _CHILD_START_SECONDS
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired:
        raise KeychainTimeout(f"The keychain did not answer within {limit:g} seconds.") from None
    except OSError as exc:
        raise KeychainError(f"The keychain reader could not start: {exc}.") from None
    try:
        document = json.loads(completed.stdout)
    except ValueError:
        raise KeychainError(
            f"The keychain reader failed: {redact(completed.stderr.strip())[-300:]}"
        ) from None
    if "error" in document:
        error = document["error"]
        raise _ERRORS.get(error["type"], KeychainError)(error["message"])
    assessment = BackendAssessment(document["backend"], document["secure"], document["problem"])
    entries = document["entries"]
    return assessment, _credentials_from_entries(entries) if entries else None


def dump_for_parent(service: str = SERVICE_NAME) -> str:
    """The child's side of :func:`load_isolated`: a JSON document for its parent's pipe."""
    store = CredentialStore(service)
    try:
        assessment = store.assessment()
        entries = store.read_entries() if assessment.secure else None
    except KeychainError as exc:
        return json.dumps({"error": {"type": type(exc).__name__, "message": exc.message}})
    return json.dumps(
        {
            "backend": assessment.name,
            "secure": assessment.secure,
            "problem": assessment.problem,
            "entries": entries,
        }
    )


def _entries_from_credentials(credentials: Credentials) -> dict[str, str | None]:
    expiry = credentials.oauth_token_expires_at
    return {
        ENTRY_DAYTONA_KEY: credentials.daytona_api_key,
        ENTRY_ANTHROPIC_KEY: credentials.anthropic_api_key,
        ENTRY_OAUTH_TOKEN: credentials.claude_oauth_token,
        ENTRY_OAUTH_EXPIRY: expiry.isoformat() if expiry else None,
        ENTRY_METHOD: credentials.auth_method.value,
    }


def _credentials_from_entries(entries: dict[str, str | None]) -> Credentials | None:
    method = entries.get(ENTRY_METHOD)
    daytona_key = entries.get(ENTRY_DAYTONA_KEY)
    if not method or not daytona_key:
        return None
    try:
        return Credentials(
            daytona_api_key=daytona_key,
            auth_method=AuthMethod(method),
            anthropic_api_key=entries.get(ENTRY_ANTHROPIC_KEY),
            claude_oauth_token=entries.get(ENTRY_OAUTH_TOKEN),
            oauth_token_expires_at=_parse_expiry(entries.get(ENTRY_OAUTH_EXPIRY)),
        )
    except (ValueError, IncompleteCredentials):  # an unknown method name, or a gap
        log.warning("stored credentials are incomplete or unreadable; treating them as absent")
        return None


def _parse_expiry(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None
