"""The tray icon as a StatusNotifierItem (KDE, GNOME with AppIndicator, XFCE, waybar...),
with its menu over com.canonical.dbusmenu: pure Python over jeepney, no PyGObject.

StatusNotifierIcon offers the part of pystray.Icon that the app uses. Its setters may be
called from any one thread; D-Bus calls, and so menu actions and on_activate, run on the
icon's own thread, which blocks on the bus socket.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from typing import Any

from jeepney import DBusAddress
from jeepney.bus_messages import MatchRule
from PIL import Image

from tray.desktop import WATCHER
from tray.ui.dbus_service import Interface, Method, ObjectServer, Variant
from tray.ui.dbusmenu import INTERFACE as MENU_INTERFACE
from tray.ui.dbusmenu import DbusMenu, PystrayMenu

__all__ = ["StatusNotifierIcon", "icon_pixmaps"]

WATCHER_ADDRESS = DBusAddress("/StatusNotifierWatcher", WATCHER, WATCHER)
ITEM_INTERFACE = "org.kde.StatusNotifierItem"
ITEM_PATH = "/StatusNotifierItem"
MENU_PATH = "/MenuBar"
PIXMAP_SIZES = (16, 22, 24, 32, 48)

_instances = itertools.count(1)

Pixmap = tuple[int, int, bytes]


def icon_pixmaps(image: Image.Image) -> list[Pixmap]:
    """The image at the sizes panels ask for, as SNI pixmaps: ARGB32 in network byte order."""
    rgba = image.convert("RGBA")
    pixmaps = []
    for size in PIXMAP_SIZES:
        red, green, blue, alpha = rgba.resize((size, size), Image.Resampling.LANCZOS).split()
        pixmaps.append((size, size, Image.merge("RGBA", (alpha, red, green, blue)).tobytes()))
    return pixmaps


class StatusNotifierIcon:
    """A pystray.Icon look-alike: icon, title, menu and visible are live.

    Activate (a left click) calls on_activate, or else the menu's default item, as
    pystray does. The item's unique bus name is registered with the watcher, again each
    time a watcher (re)appears.
    """

    HAS_MENU = True
    HAS_NOTIFICATION = False

    def __init__(
        self,
        name: str,
        icon: Image.Image,
        title: str = "",
        menu: PystrayMenu | None = None,
        *,
        on_activate: Callable[[], None] | None = None,
        icon_name: str = "",
    ) -> None:
        """icon_name: a themed icon for the few hosts that draw no pixmaps; those that
        prefer names would show it instead of the live image, so leave it empty unless
        the theme has one that follows the state."""
        self.name = name
        self._bus_name = f"org.kde.StatusNotifierItem-{os.getpid()}-{next(_instances)}"
        self._icon_name = icon_name
        self.on_activate = on_activate
        self.anchor: tuple[int, int] | None = None  # where Activate said it was clicked
        self._lock = threading.Lock()
        self._icon = icon
        self._pixmaps = icon_pixmaps(icon)
        self._title = title
        self._visible = True
        self._dbusmenu = DbusMenu(menu, self, self._emitter(MENU_PATH, MENU_INTERFACE))
        self._server = ObjectServer(
            {ITEM_PATH: [self._item_interface()], MENU_PATH: [self._dbusmenu.interface]},
            self._on_signal,
        )

    @property
    def bus_name(self) -> str:
        return self._bus_name

    @property
    def icon(self) -> Image.Image:
        return self._icon

    @icon.setter
    def icon(self, image: Image.Image) -> None:
        pixmaps = icon_pixmaps(image)
        with self._lock:
            self._icon, self._pixmaps = image, pixmaps
            self._emit_item("NewIcon")

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, title: str) -> None:
        with self._lock:
            self._title = title
            self._emit_item("NewTitle")
            self._emit_item("NewToolTip")

    @property
    def menu(self) -> PystrayMenu | None:
        return self._dbusmenu.menu

    @menu.setter
    def menu(self, menu: PystrayMenu | None) -> None:
        self._dbusmenu.set_menu(menu)

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, visible: bool) -> None:
        with self._lock:
            self._visible = visible
            self._emit_item("NewStatus", "s", (self._status(),))

    def run_detached(self) -> None:
        """Connects, registers and answers the bus on a thread of its own; raises OSError,
        ValueError or jeepney's DBusErrorResponse if the session bus cannot be used."""
        self._connect()
        self._server.serve_in_thread("tray-sni")

    def run(self) -> None:
        """Like run_detached, but answers the bus on this thread until stop()."""
        self._connect()
        self._server.serve()

    def stop(self) -> None:
        self._server.stop()

    def _connect(self) -> None:
        watcher_changes = MatchRule(
            type="signal",
            sender="org.freedesktop.DBus",
            interface="org.freedesktop.DBus",
            member="NameOwnerChanged",
            path="/org/freedesktop/DBus",
        )
        watcher_changes.add_arg_condition(0, WATCHER)
        self._server.connect([self._bus_name], [watcher_changes])
        self._register()

    def _register(self) -> None:
        self._server.call(WATCHER_ADDRESS, "RegisterStatusNotifierItem", "s", (self._bus_name,))

    def _on_signal(self, member: str, body: tuple[Any, ...]) -> None:
        if member == "NameOwnerChanged" and body[0] == WATCHER and body[2]:
            self._register()

    def _emitter(self, path: str, interface: str) -> Callable[[str, str, tuple[Any, ...]], None]:
        def emit(signal: str, signature: str, body: tuple[Any, ...]) -> None:
            self._server.emit(path, interface, signal, signature, body)

        return emit

    def _emit_item(self, signal: str, signature: str = "", body: tuple[Any, ...] = ()) -> None:
        self._server.emit(ITEM_PATH, ITEM_INTERFACE, signal, signature, body)

    def _status(self) -> str:
        return "Active" if self._visible else "Passive"

    def _activate(self, x: int, y: int) -> tuple[()]:
        self.anchor = (x, y) if (x, y) != (0, 0) else None  # some hosts send no position
        menu = self._dbusmenu.menu
        if self.on_activate is not None:
            self.on_activate()
        elif menu is not None:
            menu(self)
        return ()

    def _properties(self) -> dict[str, Variant]:
        with self._lock:
            title, pixmaps, status = self._title, self._pixmaps, self._status()
        return {
            "Category": ("s", "ApplicationStatus"),
            "Id": ("s", self.name),
            "Title": ("s", title),
            "Status": ("s", status),
            "IconName": ("s", self._icon_name),
            "IconPixmap": ("a(iiay)", pixmaps),
            "ToolTip": ("(sa(iiay)ss)", ("", [], title, "")),
            "ItemIsMenu": ("b", False),
            "Menu": ("o", MENU_PATH),
        }

    def _item_interface(self) -> Interface:
        def nothing(*_args: object) -> tuple[()]:
            return ()

        return Interface(
            ITEM_INTERFACE,
            methods={
                "Activate": Method("ii", "", self._activate),
                # The host shows the exported menu itself (ItemIsMenu is false).
                "ContextMenu": Method("ii", "", nothing),
                "SecondaryActivate": Method("ii", "", nothing),
                "Scroll": Method("is", "", nothing),
            },
            signals={"NewIcon": "", "NewTitle": "", "NewToolTip": "", "NewStatus": "s"},
            properties=self._properties,
        )
