"""Credential storage in the OS keychain (see :mod:`tray.credentials.backends`); never
plaintext.

One keychain entry per secret plus one for the method, under the service name
``multishot``. When the active backend is not a secure keychain, nothing is
persisted: credentials live in this process's memory for the session only.
Every keychain call runs in a daemon thread with a timeout, so a locked
Secret Service waiting on a prompt cannot hang the app.
"""

from __future__ import annotations

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

from tray.credentials.backends import BackendAssessment, fix_for_platform
from tray.credentials.model import AuthMethod, Credentials
from tray.deadline import DeadlineExceeded, call_with_deadline
from tray.errors import IncompleteCredentials, KeychainError, KeychainLocked, KeychainTimeout
from tray.own_process import KEYCHAIN_LOAD_COMMAND, own_command
from tray.redaction import redact

if TYPE_CHECKING:
    from tray.credentials.backends import Keychain

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

log = logging.getLogger(__name__)
T = TypeVar("T")


class StorageOutcome(enum.Enum):
    KEYCHAIN = "keychain"
    SESSION_ONLY = "session_only"


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
        keychain: Keychain | None = None,
        timeout: float | None = None,
    ) -> None:
        """``keychain``: the one to use; by default the one this system and keyring's
        configuration call for, resolved on first use."""
        self.service = service
        self.timeout = _timeout_from_env() if timeout is None else timeout
        self._keychain = keychain
        self._assessment: BackendAssessment | None = None
        self._session_credentials: Credentials | None = None
        self._lock = threading.Lock()

    def assessment(self) -> BackendAssessment:
        """Resolve the keychain (once) and say whether it is secure."""
        from tray.credentials.backends import resolve_keychain

        with self._lock:
            if self._assessment is None:
                keychain = self._keychain or self._timed("open", resolve_keychain)
                self._assessment = self._timed("check", keychain.assess)
                self._keychain = keychain
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
        keychain = self._require_keychain()
        return self._timed("read", lambda: keychain.read(self.service, ALL_ENTRIES))

    def save(self, credentials: Credentials) -> StorageOutcome:
        """Store ``credentials``; in session-only mode keep them in memory instead."""
        if not self.is_secure:
            self._session_credentials = credentials
            return StorageOutcome.SESSION_ONLY
        keychain = self._require_keychain()
        wanted = _entries_from_credentials(credentials)

        def write() -> None:
            # Secrets first, then the method, then stale entries: an interruption at
            # any point leaves either the old or the new credentials loadable.
            for name, value in wanted.items():
                if value is not None and name != ENTRY_METHOD:
                    keychain.write(self.service, name, value)
            keychain.write(self.service, ENTRY_METHOD, credentials.auth_method.value)
            for name, value in wanted.items():
                if value is None:
                    keychain.delete(self.service, name)

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
        keychain = self._require_keychain()

        def delete_all() -> None:
            for name in ALL_ENTRIES:
                keychain.delete(self.service, name)

        self._timed("delete", delete_all)
        return StorageOutcome.KEYCHAIN

    def _require_keychain(self) -> Keychain:
        self.assessment()
        if self._keychain is None:
            raise KeychainError("The keychain could not be opened.")
        return self._keychain

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
    if isinstance(exc, KeychainError) or not isinstance(exc, Exception):
        return exc
    detail = redact(str(exc)).rstrip(". ") or type(exc).__name__
    log.warning("keychain %s failed: %s: %s", what, type(exc).__name__, detail)
    lowered = detail.lower()
    keyring_errors: Any = sys.modules.get("keyring.errors")  # loaded if keyring raised it
    if "locked" in lowered or (
        keyring_errors is not None and isinstance(exc, keyring_errors.KeyringLocked)
    ):
        return KeychainLocked.locked()
    if "prompt dismissed" in lowered:
        return KeychainLocked.prompt_dismissed()
    if keyring_errors is not None:
        for error, says in (
            (keyring_errors.NoKeyringError, "No keychain is available"),
            (keyring_errors.InitError, "The keychain could not be opened"),
            (keyring_errors.PasswordSetError, "The keychain refused to store the credentials"),
        ):
            if isinstance(exc, error):
                return KeychainError(f"{says}: {detail}.")
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
