"""Shared fixtures: an isolated home per test, the real keychain, loopback stand-ins, the CLI."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.daytona_standin import DaytonaStandIn
from tests.notification_server import NotificationServer
from tests.standins import AnthropicStandIn
from tray.credentials.keychain import ALL_ENTRIES, SERVICE_NAME

if TYPE_CHECKING:
    import tkinter as tk

    from tray.runs.manager import RunManager

ROOT = Path(__file__).resolve().parent.parent
# The environment scripts/test set up (private D-Bus, keyring folders), before any
# test changes HOME or XDG_*: a restarted Secret Service must live there too.
SESSION_ENV = dict(os.environ)
KEYRING_PASSWORD = "multishot-tests"
CREDENTIAL_ENV = (
    "DAYTONA_API_KEY",
    "ANTHROPIC_API_KEY",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "DAYTONA_API_URL",
    "CLAUDE_CONFIG_DIR",
    "PYTHON_KEYRING_BACKEND",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own HOME and XDG folders, and no credentials in its environment."""
    # The runtime folder holds the tray's socket: a short path (Unix sockets allow ~100
    # bytes), and every test its own, so no test sees another's (or a real) app.
    runtime = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    home = tmp_path / "home"
    for sub in ("config", "data", "state", "cache"):
        (home / sub).mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("MULTISHOT_KEYCHAIN_TIMEOUT", "10")
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield home
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def secret_service() -> Iterator[None]:
    """The real Secret Service started by scripts/test; emptied of Multishot's entries after."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.fail("No D-Bus session: run the tests with ./scripts/test")
    if not _secret_service_running():
        # Seen once in a full run: the daemon was gone before the keychain tests.
        # Start it again, unlocked, rather than fail every later test for it.
        warnings.warn("gnome-keyring had stopped; restarting it", stacklevel=1)
        _restart_secret_service()
    yield
    for entry in ALL_ENTRIES:
        subprocess.run(
            ["secret-tool", "clear", "service", SERVICE_NAME, "username", entry],
            check=False,
            timeout=10,
        )


_RESTARTED: list[subprocess.Popen[str]] = []


def _restart_secret_service() -> None:
    """A new unlocked daemon, our child (stopped by its pid when the tests end)."""
    daemon = subprocess.Popen(
        ["gnome-keyring-daemon", "--foreground", "--replace", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=SESSION_ENV,
    )
    assert daemon.stdin is not None
    daemon.stdin.write(KEYRING_PASSWORD)
    daemon.stdin.close()
    _RESTARTED.append(daemon)
    deadline = time.monotonic() + 10
    while not _secret_service_running():
        assert time.monotonic() < deadline, "the restarted Secret Service did not come up"
        time.sleep(0.1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Collect each test's leftovers on the main (Tk) thread once it has ended.

    pytest drops a test's fixture values only after every teardown, the root fixture's
    collection included; a Tk variable or image in those leftovers would otherwise be
    finalised by whichever thread next triggers a collection (a later test's shot
    thread), and Tcl aborts the process for a call from the wrong thread.
    """
    yield
    gc.collect()


def pytest_sessionfinish() -> None:
    for daemon in _RESTARTED:
        daemon.terminate()
        daemon.wait(timeout=10)


def _secret_service_running() -> bool:
    """Whether a process owns org.freedesktop.secrets now (not just could be activated)."""
    completed = subprocess.run(
        [
            "dbus-send",
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return "boolean true" in completed.stdout


def stored_entries() -> str:
    """What `secret-tool` finds for Multishot: attributes and secrets, as text."""
    completed = subprocess.run(
        ["secret-tool", "search", "--all", "service", SERVICE_NAME],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return completed.stdout + completed.stderr


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    """A real X server (Xvfb) for Tk, started once for the tests that need one."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        number = numbers.readline().strip()
    if not number:
        server.kill()
        pytest.fail("Xvfb did not start: run the tests with ./scripts/test")
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = f":{number}"
    try:
        yield f":{number}"
    finally:
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
        server.terminate()
        server.wait(timeout=10)


def until(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Wait for something another thread or process does; fail naming it if it doesn't."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def root() -> Iterator[tk.Tk]:
    """A hidden Tk root on the test's display, destroyed on the Tk thread afterwards."""
    import tkinter as tk

    from tray.ui.widgets import close_window

    root = tk.Tk()
    root.withdraw()
    yield root
    close_window(root)


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[DaytonaStandIn]:
    """A Daytona stand-in whose fake Claude makes the edits each shot's hint asks for
    (``WRITE name text``); modules that need another stand-in define their own."""
    with DaytonaStandIn(tmp_path / "daytona") as server:
        server.extra_env["FAKE_CLAUDE_SCENARIO"] = "edits"
        yield server


@pytest.fixture
def manager(standin: DaytonaStandIn, tmp_path: Path) -> Iterator[RunManager]:
    """A run engine over ``standin``, shut down (its sandboxes deleted) after the test."""
    from tests.test_engine import make_manager

    manager = make_manager(standin, tmp_path)
    yield manager
    manager.shutdown(timeout=60)


@pytest.fixture
def notifications() -> Iterator[NotificationServer]:
    with NotificationServer() as server:
        yield server


@pytest.fixture
def anthropic(monkeypatch: pytest.MonkeyPatch) -> Iterator[AnthropicStandIn]:
    with AnthropicStandIn() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        yield server


@pytest.fixture
def daytona(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[DaytonaStandIn]:
    with DaytonaStandIn(tmp_path / "daytona") as server:
        monkeypatch.setenv("DAYTONA_API_URL", server.api_url)
        yield server


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """`python -m tray ARGS` in a real subprocess with the test's environment plus ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "tray", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
