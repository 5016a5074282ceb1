"""Checking credentials before they are saved, without spending money.

Results are tri-state (valid, invalid, could not check; plus "skipped" for a
token that cannot be checked without a run). A network failure never makes a
credential "invalid".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import json
import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tray import config
from tray.credentials.model import AuthMethod, Credentials
from tray.errors import (
    DaytonaKeyRejected,
    DaytonaRateLimited,
    DaytonaUnreachable,
    SandboxError,
    connection_problem,
)
from tray.redaction import redact

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ANTHROPIC_VERSION",
    "CONNECT_TIMEOUT_SECONDS",
    "TOTAL_TIMEOUT_SECONDS",
    "CheckResult",
    "CheckStatus",
    "CredentialsCheck",
    "check_anthropic_api_key",
    "check_credentials",
    "check_daytona_api_key",
    "check_oauth_token",
    "credential_checks",
    "describe_expiry",
]

log = logging.getLogger(__name__)
ANTHROPIC_VERSION = "2023-06-01"
CONNECT_TIMEOUT_SECONDS = 5.0
TOTAL_TIMEOUT_SECONDS = 15.0
_MAX_BODY_BYTES = 64 * 1024


class CheckStatus(str, enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"


@dataclasses.dataclass(frozen=True)
class CheckResult:
    status: CheckStatus
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", redact(self.message))


@dataclasses.dataclass(frozen=True)
class CredentialsCheck:
    """Results for both halves of a :class:`Credentials`."""

    daytona: CheckResult
    claude: CheckResult

    @property
    def any_invalid(self) -> bool:
        return CheckStatus.INVALID in (self.daytona.status, self.claude.status)

    @property
    def all_confirmed(self) -> bool:
        return self.daytona.status is CheckStatus.VALID and self.claude.status in (
            CheckStatus.VALID,
            CheckStatus.SKIPPED,
        )


def check_credentials(credentials: Credentials) -> CredentialsCheck:
    """Check both credentials (blocking: call it from a worker thread)."""
    daytona, claude = credential_checks(credentials)
    claude_result = claude()
    return CredentialsCheck(daytona=daytona(), claude=claude_result)


def credential_checks(
    credentials: Credentials,
) -> tuple[Callable[[], CheckResult], Callable[[], CheckResult]]:
    """The Daytona check and the Claude check of :func:`check_credentials`, to run apart
    (a window shows each result as soon as it has it)."""
    daytona = functools.partial(check_daytona_api_key, credentials.daytona_api_key)
    if credentials.auth_method is AuthMethod.API_KEY:
        return daytona, functools.partial(check_anthropic_api_key, credentials.claude_secret)
    claude = functools.partial(
        check_oauth_token, credentials.claude_secret, credentials.oauth_token_expires_at
    )
    return daytona, claude


def check_anthropic_api_key(
    api_key: str,
    *,
    base_url: str | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    total_timeout: float = TOTAL_TIMEOUT_SECONDS,
) -> CheckResult:
    """``GET /v1/models``: free, and answers 401/403 for a bad key."""
    import httpx  # about 9 MB: loaded when a key is checked, not when the app starts

    base = (base_url or config.anthropic_base_url()).rstrip("/")
    host = urlsplit(base).netloc or base
    timeout = httpx.Timeout(total_timeout, connect=connect_timeout)
    deadline = time.monotonic() + total_timeout
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream(
                "GET",
                f"{base}/v1/models",
                params={"limit": 1},
                headers={"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION},
            ) as response,
        ):
            body = _read_capped(response, deadline)
    except httpx.TimeoutException:
        return CheckResult(
            CheckStatus.UNREACHABLE,
            f"Anthropic's API did not answer within {total_timeout:g} seconds, so the key "
            "could not be checked. Check the internet connection and try again.",
        )
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        return CheckResult(
            CheckStatus.UNREACHABLE,
            f"The Anthropic API address '{base}' is not a valid http(s) URL "
            f"(check {config.ANTHROPIC_BASE_URL_ENV}).",
        )
    except httpx.HTTPError as exc:
        log.info("could not reach %s: %s", host, exc)
        return CheckResult(
            CheckStatus.UNREACHABLE,
            f"Could not connect to Anthropic's API ({connection_problem(exc)}), so the key "
            "could not be checked. Check the internet connection and try again.",
        )
    return _interpret_anthropic_answer(response.status_code, body)


def _read_capped(response: httpx.Response, deadline: float) -> bytes:
    import httpx

    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _MAX_BODY_BYTES:
            break
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("total time limit exceeded")
    return b"".join(chunks)


def _interpret_anthropic_answer(status: int, body: bytes) -> CheckResult:
    message = _api_error_message(body)
    said = f": {message}" if message else ""
    if status == HTTPStatus.OK:
        return CheckResult(CheckStatus.VALID, "The Anthropic API key works.")
    if status == HTTPStatus.UNAUTHORIZED:
        return CheckResult(
            CheckStatus.INVALID,
            f"Anthropic rejected the API key{said}. Check it at console.anthropic.com → "
            "API Keys, or create a new one.",
        )
    if status == HTTPStatus.FORBIDDEN:
        return CheckResult(
            CheckStatus.INVALID,
            f"Anthropic refused the API key{said}. It may be revoked or disabled: check it "
            "at console.anthropic.com → API Keys.",
        )
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return CheckResult(
            CheckStatus.VALID,
            f"The API key is valid, but the account is rate limited right now{said}.",
        )
    if status == HTTPStatus.PAYMENT_REQUIRED:
        return CheckResult(
            CheckStatus.VALID,
            f"The API key is valid, but the account cannot pay for requests{said}. Add "
            "credits at console.anthropic.com → Billing.",
        )
    return CheckResult(
        CheckStatus.UNREACHABLE,
        f"Anthropic's API answered with an error (HTTP {status}){said}, so the key could "
        "not be checked. Try again later.",
    )


def _api_error_message(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message)[:300] if message else ""


def check_daytona_api_key(
    api_key: str, *, api_url: str | None = None, timeout: float = TOTAL_TIMEOUT_SECONDS
) -> CheckResult:
    """List one sandbox with the real SDK."""
    from tray.sandbox import daytona  # the Daytona side loads when a key is checked

    try:
        daytona.verify_api_key(api_key, api_url, timeout)
    except DaytonaKeyRejected as exc:
        return CheckResult(CheckStatus.INVALID, exc.message)
    except DaytonaRateLimited as exc:
        return CheckResult(CheckStatus.VALID, exc.message)
    except (DaytonaUnreachable, SandboxError) as exc:
        return CheckResult(CheckStatus.UNREACHABLE, exc.message)
    return CheckResult(CheckStatus.VALID, "The Daytona API key works.")


def check_oauth_token(
    token: str, expires_at: dt.datetime | None = None, *, now: dt.datetime | None = None
) -> CheckResult:
    """What can be known without a run: the shape, and the expiry when it is known."""
    if not token.startswith("sk-ant-oat"):
        return CheckResult(
            CheckStatus.INVALID,
            "This is not a Claude Code OAuth token (they start with sk-ant-oat01-).",
        )
    live_check = "A live check needs a run."
    if expires_at is None:
        return CheckResult(CheckStatus.SKIPPED, f"The token looks right. {live_check}")
    current = now or dt.datetime.now(dt.timezone.utc)
    if expires_at <= current:
        return CheckResult(
            CheckStatus.INVALID,
            f"The token expired {describe_expiry(expires_at, current)}. Run `claude "
            "setup-token` for a token that lasts a year, and paste it.",
        )
    return CheckResult(
        CheckStatus.SKIPPED,
        f"The token looks right and expires {describe_expiry(expires_at, current)}. {live_check}",
    )


def describe_expiry(expires_at: dt.datetime, now: dt.datetime) -> str:
    """'in 5 hours', 'in 300 days', '2 hours ago', with the date."""
    seconds = (expires_at - now).total_seconds()
    span = abs(seconds)
    if span < 3600:
        amount = f"{max(1, round(span / 60))} minutes"
    elif span < 2 * 86400:
        amount = f"{round(span / 3600)} hours"
    else:
        amount = f"{round(span / 86400)} days"
    when = f"in {amount}" if seconds > 0 else f"{amount} ago"
    return f"{when} ({expires_at.astimezone():%Y-%m-%d %H:%M})"
