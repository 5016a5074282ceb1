"""Import the OAuth access token of this computer's own Claude Code login.

Only the access token and its expiry are read; the refresh token is never
copied, returned or logged. A missing or unknown login is "nothing to import",
with a message, never a crash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tray.errors import LocalLoginError
from tray.redaction import remember

__all__ = [
    "CLAUDE_CONFIG_DIR_ENV",
    "MACOS_KEYCHAIN_SERVICE",
    "SHORT_LIVED",
    "LocalLogin",
    "credential_files",
    "find_local_login",
    "parse_login",
]

CLAUDE_CONFIG_DIR_ENV = "CLAUDE_CONFIG_DIR"
MACOS_KEYCHAIN_SERVICE = "Claude Code-credentials"
SHORT_LIVED = dt.timedelta(days=1)
_MAX_FILE_BYTES = 1024 * 1024
_KEYCHAIN_TIMEOUT_SECONDS = 10.0


@dataclasses.dataclass(frozen=True, repr=False)
class LocalLogin:
    access_token: str
    source: str
    expires_at: dt.datetime | None = None
    subscription_type: str | None = None

    def expires_soon(self, now: dt.datetime | None = None) -> bool:
        """True when the token lasts less than a day: recommend `claude setup-token`."""
        if self.expires_at is None:
            return False
        return self.expires_at - (now or dt.datetime.now(dt.timezone.utc)) < SHORT_LIVED

    def __repr__(self) -> str:
        return f"LocalLogin(source={self.source!r}, expires_at={self.expires_at!r})"


def credential_files(home: Path | None = None) -> list[Path]:
    """Where Claude Code keeps its login on disk, most current first."""
    home = home or Path.home()
    config_dir = os.environ.get(CLAUDE_CONFIG_DIR_ENV)
    current = Path(config_dir) if config_dir else home / ".claude"
    return [current / ".credentials.json", home / ".config" / "claude-code" / "auth.json"]


def find_local_login(home: Path | None = None) -> LocalLogin:
    """The first usable login found; :class:`LocalLoginError` says why there is none."""
    sources: list[tuple[str, Callable[[], str | None]]] = [
        (str(path), _file_reader(path)) for path in credential_files(home)
    ]
    if sys.platform == "darwin":
        sources.insert(1, (f"macOS Keychain item '{MACOS_KEYCHAIN_SERVICE}'", _read_macos_keychain))
    problems: list[str] = []
    for where, read in sources:
        try:
            text = read()
        except LocalLoginError as exc:
            problems.append(exc.message)
            continue
        if text is None:
            continue
        try:
            return parse_login(text, where)
        except LocalLoginError as exc:
            problems.append(exc.message)
    if problems:
        raise LocalLoginError(" ".join(problems))
    looked = ", ".join(where for where, _ in sources)
    raise LocalLoginError(
        f"No Claude Code login was found on this computer (looked in {looked}). "
        "Run `claude setup-token` and paste the token it prints.",
        title="No Claude Code login found",
    )


def _file_reader(path: Path) -> Callable[[], str | None]:
    def read() -> str | None:
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LocalLoginError(f"{path} exists but cannot be read ({exc.strerror}).") from None
        if len(data) > _MAX_FILE_BYTES:
            raise LocalLoginError(f"{path} is too large to be a Claude Code login.")
        return data.decode("utf-8", errors="replace")

    return read


def _read_macos_keychain() -> str | None:
    try:
        completed = subprocess.run(
            ["security", "find-generic-password", "-s", MACOS_KEYCHAIN_SERVICE, "-w"],
            capture_output=True,
            text=True,
            timeout=_KEYCHAIN_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        raise LocalLoginError("The macOS Keychain could not be read.") from None
    if completed.returncode != 0:
        return None
    return completed.stdout


def parse_login(text: str, source: str) -> LocalLogin:
    """Read ``claudeAiOauth.accessToken`` and ``expiresAt`` (epoch ms) from a login document."""
    try:
        document = json.loads(text)
    except ValueError:
        raise LocalLoginError(f"{source} is not valid JSON.") from None
    oauth = document.get("claudeAiOauth") if isinstance(document, dict) else None
    token = oauth.get("accessToken") if isinstance(oauth, dict) else None
    if not isinstance(oauth, dict) or not isinstance(token, str) or not token.strip():
        raise LocalLoginError(
            f"{source} has no Claude Code OAuth token in a format Multishot knows."
        )
    token = token.strip()
    remember(token)
    subscription = oauth.get("subscriptionType")
    return LocalLogin(
        access_token=token,
        source=source,
        expires_at=_expiry(oauth.get("expiresAt")),
        subscription_type=subscription if isinstance(subscription, str) else None,
    )


def _expiry(value: object) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
