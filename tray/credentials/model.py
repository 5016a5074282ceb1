"""The credential model: what Multishot needs to run Claude Code in Daytona sandboxes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from tray.errors import IncompleteCredentials
from tray.redaction import mask, remember

__all__ = [
    "ANTHROPIC_API_KEY_ENV",
    "CLAUDE_OAUTH_TOKEN_ENV",
    "AuthMethod",
    "Credentials",
    "SetupStep",
]

ANTHROPIC_API_KEY_ENV = "ANTHROPIC_API_KEY"
CLAUDE_OAUTH_TOKEN_ENV = "CLAUDE_CODE_OAUTH_TOKEN"


class SetupStep(enum.IntEnum):
    """The steps of setting up credentials: the wizard's screens, `multishot login`'s prompts."""

    DAYTONA = 1
    METHOD = 2
    CLAUDE = 3
    VALIDATE = 4


class AuthMethod(str, enum.Enum):
    """How Claude Code in a sandbox authenticates."""

    API_KEY = "api_key"
    OAUTH_TOKEN = "oauth_token"

    @property
    def label(self) -> str:
        return "API key" if self is AuthMethod.API_KEY else "OAuth token"


@dataclasses.dataclass(frozen=True, repr=False)
class Credentials:
    """A Daytona key and one Claude credential. Never shows a secret in repr or str."""

    daytona_api_key: str
    auth_method: AuthMethod
    anthropic_api_key: str | None = None
    claude_oauth_token: str | None = None
    # Known only when the token was imported from a local Claude Code login.
    oauth_token_expires_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "auth_method", AuthMethod(self.auth_method))
        remember(self.daytona_api_key, self.anthropic_api_key, self.claude_oauth_token)
        if not self.daytona_api_key:
            raise IncompleteCredentials("The Daytona API key is missing.")
        self.claude_secret  # noqa: B018 - raises when the chosen method's secret is missing

    @property
    def claude_secret(self) -> str:
        """The secret of the chosen method."""
        if self.auth_method is AuthMethod.API_KEY:
            secret = self.anthropic_api_key
        else:
            secret = self.claude_oauth_token
        if not secret:
            raise IncompleteCredentials(f"The Claude {self.auth_method.label} is missing.")
        return secret

    def sandbox_env(self) -> dict[str, str]:
        """The environment a sandbox receives: exactly one Claude credential, never both.

        Both at once is Claude Code's "Auth conflict" (and the API key would win,
        billing API rates). This is the only place that builds this mapping.
        """
        secret = self.claude_secret
        if self.auth_method is AuthMethod.API_KEY:
            return {ANTHROPIC_API_KEY_ENV: secret}
        return {CLAUDE_OAUTH_TOKEN_ENV: secret}

    def describe(self) -> dict[str, str]:
        """Masked, human-readable view for menus and ``status``."""
        return {
            "daytona": mask(self.daytona_api_key),
            "method": self.auth_method.value,
            "claude": mask(self.claude_secret),
        }

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={mask(value) if value else None!r}"
            for name, value in (
                ("daytona_api_key", self.daytona_api_key),
                ("anthropic_api_key", self.anthropic_api_key),
                ("claude_oauth_token", self.claude_oauth_token),
            )
        )
        return f"Credentials(auth_method={self.auth_method.value!r}, {fields})"

    __str__ = __repr__
