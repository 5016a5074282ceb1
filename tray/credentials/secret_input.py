"""Input hygiene for pasted secrets, shared by the setup wizard and the CLI.

``read_secret(kind, pasted)`` turns what a user pasted into the bare secret or
raises :class:`InvalidSecretInput` with a message that says what was pasted and
what is expected. Messages describe a secret by its kind and mask, never by value.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Mapping

from tray.credentials.model import (
    ANTHROPIC_API_KEY_ENV,
    CLAUDE_OAUTH_TOKEN_ENV,
    AuthMethod,
    Credentials,
)
from tray.errors import InvalidSecretInput
from tray.redaction import mask

__all__ = [
    "ANTHROPIC_PREFIX",
    "API_KEY_PREFIX",
    "DAYTONA_API_KEY_ENV",
    "DAYTONA_PREFIX",
    "MAX_SECRET_LENGTH",
    "MIN_SECRET_LENGTH",
    "OAUTH_TOKEN_PREFIX",
    "REFRESH_TOKEN_PREFIX",
    "SecretKind",
    "check_secret",
    "credentials_from_environment",
    "credentials_from_input",
    "normalise_secret",
    "read_secret",
]

API_KEY_PREFIX = "sk-ant-api"
OAUTH_TOKEN_PREFIX = "sk-ant-oat"
REFRESH_TOKEN_PREFIX = "sk-ant-ort"
ANTHROPIC_PREFIX = "sk-ant-"
DAYTONA_PREFIX = "dtn_"

DAYTONA_API_KEY_ENV = "DAYTONA_API_KEY"

MIN_SECRET_LENGTH = 16
# Real keys are about 100 characters; 1024 also keeps one entry well under
# Windows Credential Manager's 2560-byte cap (keyring stores UTF-16 there).
MAX_SECRET_LENGTH = 1024

# A variable's name is short: a long paste with a ':' or '=' in it is not an assignment
# (its head was once cut off, and the length message counted only the rest).
_ASSIGNMENT = re.compile(
    r"^(?:export\s+|set\s+)?\$?[A-Za-z_][A-Za-z0-9_]{0,63}\s*[=:]\s*(?P<value>.*)$"
)
_QUOTES = "\"'`“”‘’"


class SecretKind(enum.Enum):
    DAYTONA_API_KEY = "Daytona API key"
    ANTHROPIC_API_KEY = "Anthropic API key"
    CLAUDE_OAUTH_TOKEN = "Claude Code OAuth token"

    @property
    def expected(self) -> str:
        return _EXPECTED[self]


_EXPECTED = {
    SecretKind.DAYTONA_API_KEY: "a Daytona API key (dtn_…) from app.daytona.io → API Keys",
    SecretKind.ANTHROPIC_API_KEY: (
        "an Anthropic API key (sk-ant-api03-…) from console.anthropic.com → API Keys"
    ),
    SecretKind.CLAUDE_OAUTH_TOKEN: (
        "a Claude Code OAuth token (sk-ant-oat01-…), best made with `claude setup-token`"
    ),
}


def normalise_secret(pasted: str) -> str:
    """Strip what commonly comes along with a pasted secret.

    Surrounding whitespace and quotes, a shell ``export NAME=value`` or
    ``NAME=value`` line, and a Claude Code credentials JSON document (reduced to
    ``claudeAiOauth.accessToken``; the refresh token is never looked at).
    """
    text = pasted.strip()
    if text.startswith("{"):
        return _access_token_from_json(text)
    assignment = _ASSIGNMENT.match(text)
    if assignment:
        text = assignment.group("value").strip()
        if text.endswith(";"):
            text = text[:-1].rstrip()
    return text.strip(_QUOTES).strip()


def _access_token_from_json(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidSecretInput(
            "This looks like the start of a JSON document but it is not valid JSON. "
            "Paste the token itself, or the whole credentials file."
        ) from None
    oauth = document.get("claudeAiOauth") if isinstance(document, dict) else None
    token = oauth.get("accessToken") if isinstance(oauth, dict) else None
    if not isinstance(token, str) or not token:
        raise InvalidSecretInput(
            "This JSON has no claudeAiOauth.accessToken, so it is not a Claude Code "
            "credentials file. Paste the token itself."
        )
    return token.strip()


def read_secret(kind: SecretKind, pasted: str) -> str:
    """Normalise ``pasted`` and check that it can be a ``kind``; return the bare secret."""
    secret = normalise_secret(pasted)
    check_secret(kind, secret, pasted_length=len(pasted.strip()))
    return secret


def check_secret(kind: SecretKind, secret: str, *, pasted_length: int | None = None) -> None:
    """Raise :class:`InvalidSecretInput` when ``secret`` cannot be a ``kind``;
    ``pasted_length``: how long the text was before normalising (what the user saw)."""
    label = kind.value
    if not secret:
        raise InvalidSecretInput(f"Nothing was pasted. Paste {kind.expected}.")
    if any(ch.isspace() for ch in secret):
        raise InvalidSecretInput(
            f"The {label} contains spaces or line breaks, so part of something else was "
            f"pasted with it. Paste {kind.expected}, on its own."
        )
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in secret):
        raise InvalidSecretInput(
            f"The {label} contains control characters (often from a terminal). "
            f"Copy it again as plain text: {kind.expected}."
        )
    if not secret.isascii():
        raise InvalidSecretInput(
            f"The {label} contains characters that keys never have (such as curly quotes "
            f"or accented letters). Copy it again as plain text: {kind.expected}."
        )
    if len(secret) > MAX_SECRET_LENGTH:
        raise InvalidSecretInput(
            f"What was pasted is {max(len(secret), pasted_length or 0):,} characters long; "
            f"{kind.expected} is "
            "about 100. Paste only the key."
        )
    wrong_kind = _wrong_kind_message(kind, secret)
    if wrong_kind:
        raise InvalidSecretInput(wrong_kind)
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidSecretInput(
            f"What was pasted is only {len(secret)} characters: too short for "
            f"{kind.expected}. Was it cut off?"
        )


def _wrong_kind_message(kind: SecretKind, secret: str) -> str | None:
    shown = mask(secret)
    if kind is SecretKind.DAYTONA_API_KEY:
        if secret.startswith(ANTHROPIC_PREFIX):
            return (
                f"'{shown}' is an Anthropic key or token, not a Daytona key. "
                f"The Daytona key is {kind.expected}."
            )
        return None
    if secret.startswith(DAYTONA_PREFIX):
        return (
            f"'{shown}' is a Daytona API key. Here Multishot needs {kind.expected}; "
            "the Daytona key goes in the first step."
        )
    if secret.startswith(REFRESH_TOKEN_PREFIX):
        return (
            f"'{shown}' is a refresh token (sk-ant-ort01-…), which only the Claude Code "
            "app itself can use. Run `claude setup-token` and paste the token it prints "
            "(sk-ant-oat01-…)."
        )
    if kind is SecretKind.ANTHROPIC_API_KEY and secret.startswith(OAUTH_TOKEN_PREFIX):
        return (
            f"'{shown}' is a Claude Code OAuth token (sk-ant-oat01-…), not an API key. "
            f"Choose the OAuth token method for it, or paste {kind.expected}."
        )
    if kind is SecretKind.CLAUDE_OAUTH_TOKEN and secret.startswith(API_KEY_PREFIX):
        return (
            f"'{shown}' is an Anthropic API key (sk-ant-api03-…), not an OAuth token. "
            f"Choose the API key method for it, or paste {kind.expected}."
        )
    return None


def credentials_from_input(
    *,
    daytona_api_key: str,
    auth_method: AuthMethod,
    claude_secret: str,
    oauth_token_expires_at: dt.datetime | None = None,
) -> Credentials:
    """Build :class:`Credentials` from what the user pasted, checking each part."""
    daytona = read_secret(SecretKind.DAYTONA_API_KEY, daytona_api_key)
    if auth_method is AuthMethod.API_KEY:
        return Credentials(
            daytona_api_key=daytona,
            auth_method=auth_method,
            anthropic_api_key=read_secret(SecretKind.ANTHROPIC_API_KEY, claude_secret),
        )
    return Credentials(
        daytona_api_key=daytona,
        auth_method=auth_method,
        claude_oauth_token=read_secret(SecretKind.CLAUDE_OAUTH_TOKEN, claude_secret),
        oauth_token_expires_at=oauth_token_expires_at,
    )


def credentials_from_environment(environ: Mapping[str, str]) -> Credentials:
    """``DAYTONA_API_KEY`` and one of ``ANTHROPIC_API_KEY``, ``CLAUDE_CODE_OAUTH_TOKEN``."""
    daytona = environ.get(DAYTONA_API_KEY_ENV, "")
    api_key = environ.get(ANTHROPIC_API_KEY_ENV, "")
    token = environ.get(CLAUDE_OAUTH_TOKEN_ENV, "")
    if not daytona.strip():
        raise InvalidSecretInput(f"{DAYTONA_API_KEY_ENV} is not set.")
    if api_key.strip() and token.strip():
        raise InvalidSecretInput(
            f"Both {ANTHROPIC_API_KEY_ENV} and {CLAUDE_OAUTH_TOKEN_ENV} are set. A sandbox "
            "gets exactly one (with both, Claude Code reports an auth conflict and the API "
            "key wins, billed at API rates). Unset the one you don't want to use.",
            title="Auth conflict",
        )
    if not api_key.strip() and not token.strip():
        raise InvalidSecretInput(
            f"Set {ANTHROPIC_API_KEY_ENV} (an API key) or {CLAUDE_OAUTH_TOKEN_ENV} "
            "(a token from `claude setup-token`)."
        )
    method = AuthMethod.API_KEY if api_key.strip() else AuthMethod.OAUTH_TOKEN
    return credentials_from_input(
        daytona_api_key=daytona, auth_method=method, claude_secret=api_key or token
    )
