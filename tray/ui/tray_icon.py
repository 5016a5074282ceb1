"""The tray icon behind the one interface the app uses (which backend a desktop gets
is decided in :mod:`tray.desktop`).

- Linux with a StatusNotifierWatcher on the session bus (KDE Plasma, GNOME with the
  AppIndicator extension, XFCE, Cinnamon, MATE, waybar): `StatusNotifierIcon`, with a
  native menu over D-Bus.
- Linux on X11 otherwise: `XEmbedIcon` in the system tray; a click opens a window with
  the menu's actions.
- Windows and macOS: pystray's own backend, with its native menu.

Who calls the backend: our two Linux backends make every call into their tray from
one thread of their own, and their setters only store the next look and wake it; so
the Tk thread never waits on a tray. pystray's Windows backend is safe to call from
any thread, and its macOS backend must be called from the main thread, which is Tk's.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from PIL import Image

from tray.desktop import IconBackend

__all__ = [
    "TrayIcon",
    "create_icon",
    "load_pystray",
    "start_icon",
]

NAME = "multishot"


class TrayIcon(Protocol):
    HAS_MENU: bool
    on_activate: Callable[[], None] | None  # our backends' click; pystray's use their menu
    menu: Any
    # Where on the screen the icon was last clicked, when the tray says (X11, SNI):
    # set before on_activate is called, for windows to open next to it.
    anchor: tuple[int, int] | None

    @property
    def icon(self) -> Image.Image: ...
    @icon.setter
    def icon(self, image: Image.Image) -> None: ...
    @property
    def title(self) -> str: ...
    @title.setter
    def title(self, title: str) -> None: ...
    def run_detached(self) -> None: ...
    def stop(self) -> None: ...


def load_pystray() -> Any:
    """pystray, for its Menu and MenuItem everywhere and its Icon off Linux.

    On Linux its own backends are never used: it gets the dummy one, which neither
    opens the display nor loads Xlib at import.
    """
    if sys.platform.startswith("linux"):
        os.environ.setdefault("PYSTRAY_BACKEND", "dummy")
    import pystray

    return pystray


def create_icon(
    backend: IconBackend,
    image: Image.Image,
    title: str,
    menu: Any,
    on_activate: Callable[[], None],
) -> TrayIcon | None:
    """The icon, not yet running (``run_detached`` shows it); None when there is no tray.

    ``on_activate``: a left click (SNI's Activate; any click on XEmbed, which has no
    menu). pystray's backends show their menu instead.
    """
    if backend.name == "sni":
        from tray.ui.sni import StatusNotifierIcon

        return StatusNotifierIcon(NAME, image, title, menu, on_activate=on_activate)
    if backend.name == "xembed":
        from tray.ui.xembed import XEmbedIcon

        return XEmbedIcon(NAME, image, title, on_activate)
    if backend.name == "none":
        return None
    icon: TrayIcon = load_pystray().Icon(NAME, image, title, menu)
    icon.anchor = None  # pystray does not say where its icon is
    return icon


def start_icon(icon: TrayIcon) -> None:
    """Show the icon: ours and macOS's pystray run detached, pystray's Windows backend
    runs its message loop on a thread of its own."""
    if sys.platform == "win32":
        runner: Any = icon
        threading.Thread(target=runner.run, name="tray-icon", daemon=True).start()
    else:
        icon.run_detached()
