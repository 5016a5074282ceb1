"""The freedesktop Secret Service (gnome-keyring, KWallet 5.97+, KeePassXC), spoken to
directly through secretstorage: Linux's keychain without loading keyring.

keyring's own Secret Service backend stores the same items, and what either one
wrote the other reads: one item per entry, attributes ``service``, ``username``
and ``application``. Going around keyring saves every command that reads the
keychain about 40 ms of imports (keyring's plugin machinery loads urllib and
importlib.metadata), and reading all entries takes one D-Bus connection, one
search and one encryption session instead of one of each per entry.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from tray.credentials.backends import BackendAssessment
from tray.errors import KeychainError, KeychainLocked

if TYPE_CHECKING:
    from jeepney.io.blocking import DBusConnection
    from secretstorage.collection import Collection

__all__ = ["SecretServiceKeychain"]

_APPLICATION = "Python keyring library"  # what keyring writes: its entries stay one set


class SecretServiceKeychain:
    """The Secret Service's default collection, unlocked on use."""

    name = "Secret Service"

    def __init__(self, connection: DBusConnection) -> None:
        self._spare: DBusConnection | None = connection  # the probe's, for the first call
        self._lock = threading.Lock()

    @classmethod
    def connect(cls) -> SecretServiceKeychain | None:
        """The keychain, if a Secret Service runs (or can be activated) on the session bus."""
        try:
            import secretstorage
        except ImportError:
            return None
        try:
            connection = secretstorage.dbus_init()
        except (secretstorage.exceptions.SecretStorageException, OSError, ValueError):
            return None  # no session bus (or a dead one): keyring looks for another keychain
        try:
            if secretstorage.check_service_availability(connection):
                return cls(connection)
        except secretstorage.exceptions.SecretStorageException:
            pass
        connection.close()
        return None

    def assess(self) -> BackendAssessment:
        return BackendAssessment(self.name, True)

    def read(self, service: str, names: Sequence[str]) -> dict[str, str | None]:
        entries: dict[str, str | None] = dict.fromkeys(names)
        with self._collection(encrypted=True) as collection:
            for item in collection.search_items({"service": service}):
                name = item.get_attributes().get("username")
                if name in entries and entries[name] is None:
                    if item.is_locked():
                        item.unlock()
                        if item.is_locked():
                            raise KeychainLocked.locked()
                    entries[name] = item.get_secret().decode("utf-8")
        return entries

    def write(self, service: str, name: str, value: str) -> None:
        attributes = {"service": service, "username": name, "application": _APPLICATION}
        with self._collection(encrypted=True) as collection:
            label = f"Password for '{name}' on '{service}'"
            collection.create_item(label, attributes, value.encode("utf-8"), replace=True)

    def delete(self, service: str, name: str) -> None:
        with self._collection(encrypted=False) as collection:
            for item in list(collection.search_items({"service": service, "username": name})):
                item.delete()

    @contextlib.contextmanager
    def _collection(self, *, encrypted: bool) -> Iterator[Collection]:
        """The default collection, unlocked, on a connection of its own for this call."""
        import secretstorage
        from secretstorage.util import open_session

        with self._lock:
            connection, self._spare = self._spare, None
        try:
            connection = connection or secretstorage.dbus_init()
        except (secretstorage.exceptions.SecretStorageException, OSError, ValueError) as exc:
            raise KeychainError(f"No keychain is available: {exc}.") from None
        with contextlib.closing(connection):
            try:
                collection = secretstorage.get_default_collection(connection)
                if collection.is_locked():
                    collection.unlock()  # shows the desktop's unlock prompt, if it can
                    if collection.is_locked():
                        raise KeychainLocked.locked()
                if encrypted:  # one session for every secret of this call
                    collection.session = open_session(connection)
                yield collection
            except secretstorage.exceptions.PromptDismissedException:
                raise KeychainLocked.prompt_dismissed() from None
            except secretstorage.exceptions.LockedException:
                raise KeychainLocked.locked() from None
            except secretstorage.exceptions.SecretStorageException as exc:
                raise KeychainError(f"The keychain failed: {exc}.") from None
