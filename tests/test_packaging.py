"""What a `pip install` of the wheel gets: the icons, the type marker, one version."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT
from tray import __version__


def test_the_wheel_carries_the_icons_and_the_one_version(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("multishot-*.whl")
    assert wheel.name.startswith(f"multishot-{__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = {p.name for p in (ROOT / "assets").iterdir()}
    assert {f"tray/assets/{name}" for name in shipped} <= names
    assert "tray/py.typed" in names
    assert "tray/ui/app.py" in names
    assert "tray/runs/shot.py" in names


def test_the_version_is_written_in_one_place() -> None:
    tracked = subprocess.run(
        ["git", "grep", "-l", "-F", __version__, "--", ".", ":!CHANGELOG.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout.split()
    assert tracked == ["tray/__init__.py"]
