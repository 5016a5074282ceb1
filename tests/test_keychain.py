"""CredentialStore against the real Secret Service (gnome-keyring) that scripts/test starts."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import keyring.backends.fail
import pytest
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring

from tests.conftest import ROOT, stored_entries
from tray.credentials.backends import KeyringKeychain
from tray.credentials.keychain import CredentialStore, StorageOutcome
from tray.credentials.model import AuthMethod, Credentials

DAYTONA = "dtn_" + "k" * 28 + "d4e5"
API_KEY = "sk-ant-api03-" + "s" * 40 + "a1b2"
TOKEN = "sk-ant-oat01-" + "t" * 40 + "f6g7"

pytestmark = pytest.mark.usefixtures("secret_service")


def api_key_credentials() -> Credentials:
    return Credentials(DAYTONA, AuthMethod.API_KEY, anthropic_api_key=API_KEY)


def test_the_real_secret_service_is_secure() -> None:
    store = CredentialStore()
    assert store.is_secure
    assert store.assessment().name == "Secret Service"


def test_save_load_clear_round_trip_with_one_entry_per_secret() -> None:
    store = CredentialStore()
    assert store.load() is None
    assert store.save(api_key_credentials()) is StorageOutcome.KEYCHAIN

    entries = stored_entries()
    assert entries.count("attribute.service = multishot") == 3
    for username in ("daytona_api_key", "anthropic_api_key", "auth_method"):
        assert f"attribute.username = {username}" in entries
    assert "claude_oauth_token" not in entries

    loaded = CredentialStore().load()  # a fresh store reads the keychain, not memory
    assert loaded == api_key_credentials()

    store.clear()
    assert "multishot" not in stored_entries()
    assert CredentialStore().load() is None
    store.clear()  # idempotent: nothing stored is not an error


def test_switching_method_removes_the_other_secret() -> None:
    store = CredentialStore()
    store.save(api_key_credentials())
    expires = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
    token_creds = Credentials(
        DAYTONA, AuthMethod.OAUTH_TOKEN, claude_oauth_token=TOKEN, oauth_token_expires_at=expires
    )
    store.save(token_creds)
    entries = stored_entries()
    assert "anthropic_api_key" not in entries
    assert API_KEY not in entries
    loaded = store.load()
    assert loaded is not None
    assert loaded.sandbox_env() == {"CLAUDE_CODE_OAUTH_TOKEN": TOKEN}
    assert loaded.oauth_token_expires_at == expires


def store_entry(username: str, value: str) -> None:
    """Write one entry with `secret-tool`, as another program (or an older version) might."""
    subprocess.run(
        ["secret-tool", "store", "--label=test", "service", "multishot", "username", username],
        input=value,
        text=True,
        check=True,
        timeout=10,
    )


def test_incomplete_entries_load_as_none() -> None:
    store_entry("auth_method", "api_key")
    assert CredentialStore().load() is None
    store_entry("daytona_api_key", DAYTONA)
    assert CredentialStore().load() is None  # the API key itself is still missing


def test_an_unknown_method_loads_as_none() -> None:
    store = CredentialStore()
    store.save(api_key_credentials())
    store_entry("auth_method", "carrier_pigeon")
    assert store.load() is None


def test_fail_backend_means_session_only_and_nothing_persisted() -> None:
    # keyring's KeyringBackend.__init__ has no annotations.
    no_keychain = keyring.backends.fail.Keyring()  # type: ignore[no-untyped-call]
    store = CredentialStore(keychain=KeyringKeychain(no_keychain))
    assessment = store.assessment()
    assert not assessment.secure
    assert "No keychain is available" in assessment.advice
    assert "gnome-keyring" in assessment.advice
    assert "memory for this session only" in assessment.advice
    assert store.save(api_key_credentials()) is StorageOutcome.SESSION_ONLY
    assert store.load() == api_key_credentials()
    assert "multishot" not in stored_entries()
    store.clear()
    assert store.load() is None


def test_plaintext_backend_is_never_written(tmp_path: Path) -> None:
    plaintext = PlaintextKeyring()
    plaintext.file_path = str(tmp_path / "keyring_pass.cfg")
    assert not KeyringKeychain(plaintext).assess().secure
    store = CredentialStore(keychain=KeyringKeychain(plaintext))
    assert "plaintext" in store.assessment().advice
    assert store.save(api_key_credentials()) is StorageOutcome.SESSION_ONLY
    assert not (tmp_path / "keyring_pass.cfg").exists()


def test_low_priority_backend_is_not_secure() -> None:
    class Dubious(KeyringBackend):
        priority = 0.5

        def get_password(self, service: str, username: str) -> str | None:
            raise AssertionError("must not be read")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise AssertionError("must not be written")

        def delete_password(self, service: str, username: str) -> None:
            raise AssertionError("must not be touched")

    # keyring's KeyringBackend.__init__ has no annotations.
    store = CredentialStore(keychain=KeyringKeychain(Dubious()))  # type: ignore[no-untyped-call]
    assert not store.is_secure
    assert store.save(api_key_credentials()) is StorageOutcome.SESSION_ONLY


def _in_private_session(script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a shell script in its own D-Bus session (its own keychain), as the user would."""
    # No DISPLAY: with one (the Tk tests' Xvfb) gnome-keyring would show a real
    # unlock prompt and wait for it, instead of failing as on a headless session.
    env = {name: value for name, value in os.environ.items() if name != "DISPLAY"}
    return subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=False,
    )


LOCK_DEFAULT_COLLECTION = (
    "import secretstorage; secretstorage.get_default_collection(secretstorage.dbus_init()).lock()"
)


def test_a_locked_keychain_gives_a_clear_message() -> None:
    # (`secret-tool lock` segfaults on Debian 12, sometimes before it has locked.)
    result = _in_private_session(
        "scripts/lib/with-keyring bash -c "
        f"'{sys.executable} -c \"{LOCK_DEFAULT_COLLECTION}\" && {sys.executable} -m tray status'"
    )
    assert result.returncode == 1
    assert "Keychain is locked" in result.stderr
    assert "Unlock it" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_hanging_keychain_times_out_with_a_clear_message() -> None:
    helper = ROOT / "tests" / "helpers" / "hanging_secret_service.py"
    result = _in_private_session(
        f"MULTISHOT_KEYCHAIN_TIMEOUT=2 {sys.executable} {helper} {sys.executable} -m tray status"
    )
    assert result.returncode == 1
    assert "Keychain is not answering" in result.stderr
    assert "within 2 seconds" in result.stderr
    assert "Traceback" not in result.stderr
