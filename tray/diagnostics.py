"""What `multishot doctor` reports: the desktop services and folders the app relies on.

Each probe catches everything: a broken part is reported, never raised.
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import sys
import warnings
from typing import Any

from tray import __version__, config
from tray.app_logging import log_file
from tray.credentials.keychain import CredentialStore
from tray.errors import KeychainError

__all__ = [
    "collect",
    "keychain_report",
    "notification_report",
    "tk_report",
    "tray_report",
]

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
    """The tray icon backend this desktop gets, why, and what it can do."""
    from tray.desktop import choose_backend

    backend = choose_backend()
    report: Report = {
        "backend": backend.name,
        "why": backend.why,
        "menu": backend.name in ("sni", "pystray"),
        "click_opens": {"sni": "Runs window", "xembed": "actions window"}.get(backend.name),
    }
    if backend.name == "none":
        report["problem"] = "No system tray can be reached: the app would run without an icon."
    return report


def notification_report() -> Report:
    """Which of plyer's notification implementations this system gets, and from where."""
    module_name = {
        "win32": "plyer.platforms.win.notification",
        "darwin": "plyer.platforms.macosx.notification",
    }.get(sys.platform, "plyer.platforms.linux.notification")
    try:
        with warnings.catch_warnings():  # plyer warns about the paths it skips
            warnings.simplefilter("ignore")
            module = importlib.import_module(module_name)
            implementation = type(module.instance()).__name__
    except Exception as exc:
        return {"path": None, "module": module_name, "problem": f"{type(exc).__name__}: {exc}"}
    report: Report = {
        "path": f"plyer {implementation}",
        "module": getattr(module, "__file__", None),
        "bundled": bool(getattr(sys, "frozen", False)),
    }
    if implementation == "NotifySendNotification":
        report["path"] += f" ({shutil.which('notify-send')})"
    elif implementation == "Notification":  # plyer's do-nothing base class
        report["problem"] = "No notification path: install libnotify-bin (notify-send)."
    return report


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
