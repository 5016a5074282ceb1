"""Start at login: XDG autostart on Linux, a LaunchAgent on macOS, HKCU Run on Windows.

One interface, one implementation per platform, chosen at run time (like keyring).
What each writes is built by ``render()`` so it can be checked on any system.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Protocol

__all__ = [
    "APP_ID",
    "RUN_KEY",
    "RUN_VALUE",
    "Autostart",
    "LaunchAgent",
    "WindowsRunKey",
    "XdgAutostart",
    "for_this_system",
    "launch_command",
]

APP_ID = "io.github.multishot"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Multishot"


def launch_command() -> list[str]:
    """How to start the tray app: the frozen executable, or this Python with -m tray."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "tray"]
    return [sys.executable, "-m", "tray", "tray"]


class Autostart(Protocol):
    def is_enabled(self) -> bool: ...
    def enable(self) -> None: ...
    def disable(self) -> None: ...


class XdgAutostart:
    def __init__(self, command: list[str] | None = None, config_home: Path | None = None) -> None:
        self.command = command or launch_command()
        home = config_home or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        self.path = home / "autostart" / f"{APP_ID}.desktop"

    def render(self) -> str:
        return (
            "[Desktop Entry]\n"
            "Type=Application\n"
            "Name=Multishot\n"
            "Comment=Parallel Claude Code attempts in Daytona sandboxes\n"
            f"Exec={shlex.join(self.command)}\n"
            "Icon=multishot\n"
            "Terminal=false\n"
            "X-GNOME-Autostart-enabled=true\n"
        )

    def is_enabled(self) -> bool:
        return self.path.exists()

    def enable(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.render(), encoding="utf-8")

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


class LaunchAgent:
    def __init__(self, command: list[str] | None = None, home: Path | None = None) -> None:
        self.command = command or launch_command()
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{APP_ID}.plist"

    def render(self) -> bytes:
        import plistlib  # macOS only: not loaded at every start elsewhere

        return plistlib.dumps(
            {
                "Label": APP_ID,
                "ProgramArguments": self.command,
                "RunAtLoad": True,
                "ProcessType": "Interactive",
            }
        )

    def is_enabled(self) -> bool:
        return self.path.exists()

    def enable(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(self.render())

    def disable(self) -> None:
        self.path.unlink(missing_ok=True)


class WindowsRunKey:
    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or launch_command()

    def render(self) -> tuple[str, str, str]:
        """(key under HKEY_CURRENT_USER, value name, value data)."""
        return RUN_KEY, RUN_VALUE, " ".join(f'"{part}"' for part in self.command)

    def is_enabled(self) -> bool:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, RUN_VALUE)
        except OSError:
            return False
        return True

    def enable(self) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        key_path, name, data = self.render()
        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, key_path) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, data)

    def disable(self) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, RUN_VALUE)
        except FileNotFoundError:
            return


def for_this_system() -> Autostart:
    if sys.platform == "darwin":
        return LaunchAgent()
    if sys.platform == "win32":
        return WindowsRunKey()
    return XdgAutostart()
