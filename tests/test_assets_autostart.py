"""Icon files rendered from the one design, and start at login on each system."""

from __future__ import annotations

import plistlib
import runpy
import shlex
import sys
from pathlib import Path

from PIL import Image

from tests.conftest import ROOT
from tray.ui.autostart import APP_ID, LaunchAgent, WindowsRunKey, XdgAutostart

ASSETS = ROOT / "assets"


def test_the_committed_icons_are_exactly_what_the_script_renders(tmp_path: Path) -> None:
    render = runpy.run_path(str(ROOT / "scripts" / "render_icons.py"))["render"]
    written = render(tmp_path)
    assert {p.name for p in written} == {p.name for p in ASSETS.iterdir()}
    for path in written:
        assert path.read_bytes() == (ASSETS / path.name).read_bytes(), path.name


def test_every_format_the_systems_need() -> None:
    with Image.open(ASSETS / "multishot.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(ASSETS / "multishot.icns") as icns:
        assert icns.format == "ICNS"
        assert max(icns.info.get("sizes", [(0, 0, 1)]))[0] >= 512
    for state in ("setup-needed", "idle", "running", "attention"):
        with Image.open(ASSETS / f"tray-{state}.png") as png:
            assert png.size == (64, 64)
    with Image.open(ASSETS / "multishotTemplate@2x.png") as template:
        data = template.convert("RGBA").tobytes()
        pixels = [data[i : i + 4] for i in range(0, len(data), 4)]
        colours = {tuple(pixel[:3]) for pixel in pixels if pixel[3]}
        assert colours == {(0, 0, 0)}  # a template image is black and alpha only


def test_xdg_autostart_is_written_and_removed_for_real(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tray", "tray"]
    autostart = XdgAutostart(command, config_home=tmp_path)
    assert not autostart.is_enabled()
    autostart.enable()
    path = tmp_path / "autostart" / f"{APP_ID}.desktop"
    assert autostart.is_enabled()
    text = path.read_text()
    assert text.startswith("[Desktop Entry]\n")
    assert f"Exec={shlex.join(command)}\n" in text
    assert "Type=Application\n" in text
    autostart.disable()
    assert not path.exists()
    autostart.disable()  # idempotent


def test_launch_agent_plist() -> None:
    agent = LaunchAgent(
        ["/Applications/Multishot.app/Contents/MacOS/multishot", "tray"], home=Path("/Users/u")
    )
    assert agent.path == Path(f"/Users/u/Library/LaunchAgents/{APP_ID}.plist")
    plist = plistlib.loads(agent.render())
    assert plist == {
        "Label": APP_ID,
        "ProgramArguments": ["/Applications/Multishot.app/Contents/MacOS/multishot", "tray"],
        "RunAtLoad": True,
        "ProcessType": "Interactive",
    }


def test_windows_run_value() -> None:
    key, name, data = WindowsRunKey([r"C:\Program Files\Multishot\multishot.exe", "tray"]).render()
    assert key == r"Software\Microsoft\Windows\CurrentVersion\Run"
    assert name == "Multishot"
    assert data == r'"C:\Program Files\Multishot\multishot.exe" "tray"'
