"""The Linux bundle, built with PyInstaller by the test run, used as a user would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, until
from tests.daytona_standin import VALID_DAYTONA_KEY
from tests.sni_panel import Host
from tests.standins import VALID_ANTHROPIC_KEY
from tests.tray_hosts import xfce_panel
from tray import __version__
from tray.credentials.keychain import CredentialStore
from tray.credentials.model import AuthMethod, Credentials

CREDENTIALS = Credentials(
    VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY
)

BUNDLE = ROOT / "dist" / "multishot"
EXECUTABLE = BUNDLE / "multishot"


@pytest.fixture(scope="session")
def bundle() -> Path:
    completed = subprocess.run(
        ["bash", str(ROOT / "packaging" / "build-linux.sh")],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    print(completed.stdout)  # bundle size and what dominates it, in the test log
    return EXECUTABLE


def test_the_frozen_binary_knows_its_version(bundle: Path) -> None:
    result = subprocess.run([str(bundle), "--version"], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == f"multishot {__version__}"


@pytest.mark.usefixtures("secret_service")
def test_doctor_in_the_bundle_finds_a_secure_keychain_and_bundled_notifications(
    bundle: Path,
) -> None:
    result = subprocess.run(
        [str(bundle), "doctor", "--json"], capture_output=True, text=True, timeout=60, check=True
    )
    report = json.loads(result.stdout)
    assert report["keychain"] == {
        "backend": "Secret Service",
        "secure": True,
    }
    notifications = report["notifications"]
    assert notifications["bundled"] is True
    assert notifications["module"].startswith(str(BUNDLE))
    assert notifications["path"].startswith("plyer NotifySendNotification")


def x_window_names(display: str) -> list[str]:
    """The titles of every window on the X server (python-xlib comes with pystray)."""
    from Xlib.display import Display

    connection = Display(display)
    try:
        names = []
        pending = [connection.screen().root]
        while pending:
            window = pending.pop()
            name = window.get_wm_name()
            if name:
                names.append(str(name))
            pending += window.query_tree().children
        return names
    finally:
        connection.close()


@pytest.fixture
def first_launch(bundle: Path, display: str) -> Iterator[subprocess.Popen[str]]:
    app = subprocess.Popen([str(bundle)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    yield app
    app.kill()
    app.wait(timeout=30)


@pytest.mark.usefixtures("secret_service")
def test_first_launch_of_the_bundle_shows_the_setup_wizard(
    first_launch: subprocess.Popen[str], display: str
) -> None:
    # in its theme: sv-ttk's Tcl and images are sourced at run time, not imported
    assert list(BUNDLE.rglob("sv_ttk/sv.tcl")), "the theme is not in the bundle"
    assert list(BUNDLE.rglob("sv_ttk/theme/spritesheet_dark.png"))
    deadline = time.monotonic() + 30
    while "Multishot setup" not in x_window_names(display):
        assert first_launch.poll() is None, (
            first_launch.stderr.read() if first_launch.stderr else ""
        )
        assert time.monotonic() < deadline, "the wizard did not appear"
        time.sleep(0.2)
    first_launch.send_signal(signal.SIGTERM)
    assert first_launch.wait(timeout=30) == 0


@pytest.mark.usefixtures("secret_service")
def test_under_an_sni_host_the_bundle_has_a_native_menu_whose_new_run_works(
    bundle: Path, display: str, tmp_path: Path
) -> None:
    store = CredentialStore()
    store.save(CREDENTIALS)  # set up: New run… opens the New run dialog, not the wizard
    with xfce_panel(tmp_path / "panel"):
        app = subprocess.Popen([str(bundle)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        host = Host()
        try:
            until(lambda: bool(registered_items(host)), "the bundle's item to register")
            (item,) = registered_items(host)
            bus_name = item.split("/", 1)[0]
            # The account's line, read from the keychain ("_" is doubled: dbusmenu mnemonics)
            until(lambda: "Daytona: dtn__…good" in menu_labels(host, bus_name), "the account")
            labels = menu_labels(host, bus_name)
            assert {"New run…", "Runs", "Log out", "Quit"} <= labels.keys()
            host.call(
                bus_name, "/MenuBar", "com.canonical.dbusmenu", "Event", "isvu",
                (labels["New run…"], "clicked", ("s", ""), 0),
            )  # fmt: skip
            until(lambda: "New run" in x_window_names(display), "the New run dialog")
        finally:
            host.close()
            app.send_signal(signal.SIGTERM)
            assert app.wait(timeout=30) == 0, app.stderr.read() if app.stderr else ""


def menu_labels(host: Host, bus_name: str) -> dict[str, int]:
    """The top menu's items, by label."""
    _revision, (_root, _properties, children) = host.call(
        bus_name, "/MenuBar", "com.canonical.dbusmenu", "GetLayout", "iias", (0, 1, [])
    )
    return {
        str(properties["label"][1]): item_id
        for _signature, (item_id, properties, _children) in children
        if "label" in properties
    }


def registered_items(host: Host) -> list[str]:
    watcher = "org.kde.StatusNotifierWatcher"
    properties = host.properties(watcher, "/StatusNotifierWatcher", watcher)
    return [str(item) for item in properties.get("RegisteredStatusNotifierItems", [])]


def test_the_archive_holds_the_bundle_and_its_desktop_files(bundle: Path, tmp_path: Path) -> None:
    (archive,) = (ROOT / "dist").glob(f"multishot-{__version__}-linux-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        metainfo = tar.extractfile("multishot/io.github.multishot.metainfo.xml")
        assert metainfo is not None
        assert f'<release version="{__version__}"/>' in metainfo.read().decode()
    for member in (
        "multishot/multishot",
        "multishot/install.sh",
        "multishot/io.github.multishot.desktop",
        "multishot/io.github.multishot.metainfo.xml",
        "multishot/icons/multishot-256.png",
    ):
        assert member in names

    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "share"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    subprocess.run(
        [str(BUNDLE / "install.sh")], env=env, check=True, timeout=120, capture_output=True
    )
    installed = home / ".local" / "bin" / "multishot"
    assert (
        subprocess.run(
            [str(installed), "--version"], capture_output=True, text=True, timeout=60
        ).stdout.strip()
        == f"multishot {__version__}"
    )
    assert (home / "share" / "applications" / "io.github.multishot.desktop").exists()
    assert (home / "share" / "icons" / "hicolor" / "256x256" / "apps" / "multishot.png").exists()
    subprocess.run(
        [str(BUNDLE / "install.sh"), "--remove"],
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert not installed.exists()
    assert not (home / "share" / "applications" / "io.github.multishot.desktop").exists()
