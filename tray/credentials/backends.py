"""The keychains credentials can live in: one interface, one backend chosen at run time.

On Linux, unless the user configured keyring (``PYTHON_KEYRING_BACKEND`` or a
keyringrc.cfg), the Secret Service is used directly (`SecretServiceKeychain`);
everywhere else keyring picks the platform's backend (`KeyringKeychain`). Whether a
backend may hold secrets is decided here, once: never plaintext, never a backend
keyring itself rates as unsuitable.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "BackendAssessment",
    "Keychain",
    "KeyringKeychain",
    "fix_for_platform",
    "resolve_keychain",
]

_MAX_DUPLICATE_ENTRIES = 16


@dataclasses.dataclass(frozen=True)
class BackendAssessment:
    """Which keychain is active and whether it may hold secrets."""

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


class Keychain(Protocol):
    """Entries are (service, name) → value; every call may block on the OS keychain."""

    def assess(self) -> BackendAssessment: ...

    def read(self, service: str, names: Sequence[str]) -> dict[str, str | None]:
        """Each name's value, None where absent."""

    def write(self, service: str, name: str, value: str) -> None: ...

    def delete(self, service: str, name: str) -> None:
        """Remove every entry of that name; none is not an error."""


class KeyringKeychain:
    """A keyring backend: the platform's keychain, or the one the user configured."""

    def __init__(self, backend: KeyringBackend) -> None:
        self.backend = backend
        cls = type(backend)
        self.name = f"{cls.__module__}.{cls.__qualname__}"

    def assess(self) -> BackendAssessment:
        """Secure means a real OS keychain: not ``fail``, not plaintext, priority >= 1."""
        from keyring.backends import fail

        if isinstance(self.backend, fail.Keyring):
            return BackendAssessment(self.name, False, "No keychain is available on this system.")
        lowered = self.name.lower()
        if "plaintext" in lowered or lowered.startswith("keyrings.alt"):
            problem = f"The keyring backend {self.name} stores plaintext."
            return BackendAssessment(self.name, False, problem)
        try:
            priority = float(self.backend.priority)
        except Exception as exc:  # a backend reports it is unusable by raising here
            return BackendAssessment(self.name, False, f"The keychain is unusable: {exc}.")
        if priority < 1:
            problem = f"The keyring backend {self.name} is not a secure keychain."
            return BackendAssessment(self.name, False, problem)
        return BackendAssessment(self.name, True)

    def read(self, service: str, names: Sequence[str]) -> dict[str, str | None]:
        return {name: self.backend.get_password(service, name) for name in names}

    def write(self, service: str, name: str, value: str) -> None:
        self.backend.set_password(service, name, value)

    def delete(self, service: str, name: str) -> None:
        import keyring.errors

        # Some backends delete only the first match; repeat until none is left.
        for _ in range(_MAX_DUPLICATE_ENTRIES):
            try:
                self.backend.delete_password(service, name)
            except keyring.errors.PasswordDeleteError:
                return


def resolve_keychain() -> Keychain:
    if sys.platform.startswith("linux") and not _keyring_configured():
        from tray.credentials.secret_service import SecretServiceKeychain

        keychain = SecretServiceKeychain.connect()
        if keychain is not None:
            return keychain
    return KeyringKeychain(_keyring_backend())


def _keyring_configured() -> bool:
    """Did the user tell keyring which backend to use? Then keyring decides."""
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    config = Path(config_home) / "python_keyring" / "keyringrc.cfg"
    return bool(os.environ.get("PYTHON_KEYRING_BACKEND")) or config.exists()


def _keyring_backend() -> KeyringBackend:
    # keyring costs about 16 MB and 40 ms with its backends: it loads only here.
    import keyring
    import keyring.core
    from keyring.backends import chainer, fail

    backend = keyring.core.load_env() or keyring.core.load_config() or keyring.get_keyring()
    if isinstance(backend, chainer.ChainerBackend):
        # The chainer writes to its first backend: judge and use that one directly,
        # so a low-priority plaintext backend behind it is never read from.
        chained = chainer.ChainerBackend.backends
        return chained[0] if chained else fail.Keyring()  # type: ignore[no-untyped-call]
    return backend
