"""Typed errors shared by the core and its shells.

Every error carries a short ``title`` and a user-facing ``message`` that says
what happened and what to do. Neither ever contains a secret: the constructor
passes both through the shared redaction function as a last line of defence.
"""

from __future__ import annotations

from tray.redaction import redact


class MultishotError(Exception):
    """Base class: an error a shell can show to the user as it is."""

    title: str = "Multishot error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        self.message = redact(message)
        if title is not None:
            self.title = redact(title)
        super().__init__(self.message)


class InvalidSecretInput(MultishotError):
    """A pasted key or token is malformed or of the wrong kind; nothing was saved."""

    title = "That doesn't look right"


class KeychainError(MultishotError):
    """The OS keychain could not be used."""

    title = "Keychain problem"


class KeychainLocked(KeychainError):
    title = "Keychain is locked"


class KeychainTimeout(KeychainError):
    title = "Keychain is not answering"


class LocalLoginError(MultishotError):
    """A local Claude Code login exists but could not be read."""

    title = "Could not read the Claude Code login"
