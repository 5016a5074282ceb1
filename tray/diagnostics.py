"""What `multishot doctor` reports: the desktop services and folders the app relies on.

Each probe catches everything: a broken part is reported, never raised.
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import sys
from typing import Any

from tray import __version__, config
from tray.app_logging import log_file
from tray.errors import KeychainError
from tray.keychain import CredentialStore

Report = dict[str, Any]


def collect(store: CredentialStore) -> Report:
    return {
        "version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "keychain": keychain_report(store),
        "tray": tray_report(),
        "notifications": notification_report(),
        "tk": tk_report(),
        "endpoints": {
            "anthropic": config.anthropic_base_url(),
            "daytona": config.daytona_api_url(),
        },
        "folders": {
            "data": str(config.data_dir()),
            "config": str(config.config_dir()),
            "logs": str(config.log_dir()),
            "log_file": str(log_file()),
        },
    }


def keychain_report(store: CredentialStore) -> Report:
    try:
        assessment = store.assessment()
    except KeychainError as exc:
        return {"backend": None, "secure": False, "problem": exc.message}
    report: Report = {"backend": assessment.name, "secure": assessment.secure}
    if not assessment.secure:
        report["problem"] = assessment.advice
    return report


def tray_report() -> Report:
    requested = os.environ.get("PYSTRAY_BACKEND")
    try:
        pystray = importlib.import_module("pystray")
    except Exception as exc:  # pystray opens the display at import time
        return {
            "backend": None,
            "requested": requested,
            "problem": f"{type(exc).__name__}: {exc}".strip(": "),
        }
    icon_class = pystray.Icon
    return {
        "backend": icon_class.__module__.rsplit(".", 1)[-1].lstrip("_"),
        "requested": requested,
        "menu": bool(icon_class.HAS_MENU),
        "notifications": bool(icon_class.HAS_NOTIFICATION),
        "click_action": bool(icon_class.HAS_DEFAULT_ACTION),
    }


def notification_report() -> Report:
    if sys.platform.startswith("linux"):
        if os.path.isdir("/app"):
            return {"path": "plyer: Flatpak desktop portal"}
        try:
            importlib.import_module("dbus")
        except ImportError:
            pass
        else:
            return {"path": "plyer: D-Bus (dbus-python)"}
        notify_send = shutil.which("notify-send")
        if notify_send:
            return {"path": f"plyer: notify-send ({notify_send})"}
        return {
            "path": None,
            "problem": "No notification path: install libnotify-bin (notify-send).",
        }
    if sys.platform == "win32":
        return {"path": "plyer: Windows balloon"}
    if sys.platform == "darwin":
        return {"path": "plyer: macOS notification center"}
    return {"path": None, "problem": f"No notification support on {sys.platform}."}


def tk_report() -> Report:
    try:
        tkinter = importlib.import_module("tkinter")
    except ImportError as exc:
        return {"available": False, "problem": f"tkinter is missing ({exc}): install python3-tk."}
    report: Report = {"available": True, "version": str(tkinter.TkVersion)}
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        report["display"] = None
        report["problem"] = "No display (DISPLAY is not set): windows cannot open here."
    else:
        report["display"] = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    return report
