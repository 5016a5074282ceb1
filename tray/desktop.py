"""What this desktop offers the tray app, found without loading any UI (for the app
and for `multishot doctor`): which tray icon backend it gets, and why.

- Linux with a StatusNotifierWatcher on the session bus (KDE Plasma, GNOME with the
  AppIndicator extension, XFCE, Cinnamon, MATE, waybar): "sni", a StatusNotifierItem
  with a native menu over D-Bus.
- Linux on X11 otherwise: "xembed", an icon in the X11 system tray; a click opens a
  window with the menu's actions.
- Windows and macOS: "pystray", its own backend with a native menu.
"""

from __future__ import annotations

import dataclasses
import os
import sys

__all__ = ["WATCHER", "IconBackend", "choose_backend", "watcher_available"]

WATCHER = "org.kde.StatusNotifierWatcher"


@dataclasses.dataclass(frozen=True)
class IconBackend:
    name: str  # "sni", "xembed", "pystray" or "none"
    why: str


def choose_backend() -> IconBackend:
    if sys.platform.startswith("linux"):
        if watcher_available():
            return IconBackend("sni", "a StatusNotifierWatcher is on the session bus")
        if os.environ.get("DISPLAY"):
            return IconBackend("xembed", "no StatusNotifierWatcher; an X11 system tray")
        return IconBackend("none", "neither a StatusNotifierWatcher nor an X11 display")
    return IconBackend("pystray", f"pystray's own backend for {sys.platform}")


def watcher_available(timeout: float = 0.5) -> bool:
    """Whether a StatusNotifierWatcher is on the session bus; False on any D-Bus error."""
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.wrappers import DBusErrorResponse, unwrap_msg

    try:
        with open_dbus_connection(bus="SESSION", auth_timeout=timeout) as connection:
            reply = connection.send_and_get_reply(
                message_bus.NameHasOwner(WATCHER), timeout=timeout
            )
            (owned,) = unwrap_msg(reply)
    except (OSError, ValueError, KeyError, RuntimeError, DBusErrorResponse):
        return False
    return bool(owned)
