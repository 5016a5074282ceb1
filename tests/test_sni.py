"""The StatusNotifierItem tray icon and its dbusmenu, seen from a test panel on the
private session bus (tests/sni_panel.py): registration, properties, menu, signals."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from tests.sni_panel import Host, Watcher
from tray.desktop import watcher_available
from tray.ui.sni import StatusNotifierIcon

pytestmark = pytest.mark.timeout(30)

ITEM = "org.kde.StatusNotifierItem"
MENU = "com.canonical.dbusmenu"
RED = Image.new("RGBA", (64, 64), (255, 0, 0, 255))
BLUE = Image.new("RGBA", (64, 64), (0, 0, 255, 128))


class Clicks:
    """Which menu actions ran, in order, and on which icon."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.icons: list[object] = []
        self._changed = threading.Condition()

    def action(self, name: str) -> Callable[[Any, Any], None]:
        def run(icon: Any, _item: Any) -> None:
            with self._changed:
                self.ran.append(name)
                self.icons.append(icon)
                self._changed.notify_all()

        return run

    def wait_for(self, count: int) -> list[str]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.ran) >= count, timeout=5), self.ran
            return list(self.ran)


@pytest.fixture
def pystray(display: str) -> Any:
    """pystray picks its backend when imported, and the xorg one opens the display."""
    import pystray as module

    return module


@pytest.fixture
def watcher() -> Iterator[Watcher]:
    started = Watcher()
    yield started
    started.stop()


@pytest.fixture
def host() -> Iterator[Host]:
    panel = Host()
    yield panel
    panel.close()


@pytest.fixture
def clicks() -> Clicks:
    return Clicks()


@pytest.fixture
def menu(pystray: Any, clicks: Clicks) -> Any:
    Menu, MenuItem = pystray.Menu, pystray.MenuItem
    ticked = {"value": False}

    def toggle(icon: Any, item: Any) -> None:
        ticked["value"] = not ticked["value"]
        clicks.action("toggle")(icon, item)

    return Menu(
        MenuItem("New run…", clicks.action("new run"), default=True),
        MenuItem(lambda _item: "Runs_window", clicks.action("runs")),
        MenuItem("Hidden", clicks.action("hidden"), visible=False),
        Menu.SEPARATOR,
        Menu.SEPARATOR,
        MenuItem("Log out", clicks.action("log out"), enabled=False),
        MenuItem("Start at login", toggle, checked=lambda _item: ticked["value"]),
        MenuItem("Fast", clicks.action("fast"), checked=lambda _item: True, radio=True),
        MenuItem("Run 1", Menu(MenuItem("Cancel", clicks.action("cancel")))),
    )


@pytest.fixture
def activated() -> threading.Event:
    return threading.Event()


@pytest.fixture
def icon(menu: Any, watcher: Watcher, activated: threading.Event) -> Iterator[StatusNotifierIcon]:
    tray_icon = StatusNotifierIcon(
        "multishot", RED, "Multishot: idle", menu, on_activate=activated.set
    )
    tray_icon.run_detached()
    assert watcher.registered.get(timeout=5) == tray_icon.bus_name
    yield tray_icon
    tray_icon.stop()


def layout(host: Host, icon: StatusNotifierIcon) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
    """The revision, and each item below the root depth-first as (id, properties)."""
    revision, root = host.call(icon.bus_name, "/MenuBar", MENU, "GetLayout", "iias", (0, -1, []))
    items: list[tuple[int, dict[str, Any]]] = []

    def walk(node: tuple[int, dict[str, Any], list[Any]], depth: int) -> None:
        item_id, properties, children = node
        if depth:
            items.append((item_id, {name: value for name, (_sig, value) in properties.items()}))
        for _signature, child in children:
            walk(child, depth + 1)

    walk(root, 0)
    return revision, items


def item_id(host: Host, icon: StatusNotifierIcon, label: str) -> int:
    return next(i for i, props in layout(host, icon)[1] if props.get("label") == label)


def click(host: Host, icon: StatusNotifierIcon, target: int) -> None:
    body = (target, "clicked", ("i", 0), 0)
    host.call(icon.bus_name, "/MenuBar", MENU, "Event", "isvu", body)


def test_watcher_available_follows_the_watcher(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not watcher_available()
    started = Watcher()
    try:
        assert watcher_available()
    finally:
        started.stop()
    assert not watcher_available()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    began = time.monotonic()
    assert not watcher_available()
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    assert not watcher_available()
    assert time.monotonic() - began < 0.5


def test_item_registers_and_shows_its_properties(icon: StatusNotifierIcon, host: Host) -> None:
    properties = host.properties(icon.bus_name, "/StatusNotifierItem", ITEM)

    assert properties["Category"] == "ApplicationStatus"
    assert properties["Id"] == "multishot"
    assert properties["Title"] == "Multishot: idle"
    assert properties["Status"] == "Active"
    assert properties["ItemIsMenu"] is False
    assert properties["Menu"] == "/MenuBar"
    assert properties["ToolTip"] == ("", [], "Multishot: idle", "")
    pixmaps = properties["IconPixmap"]
    assert [(w, h) for w, h, _data in pixmaps] == [(s, s) for s in (16, 22, 24, 32, 48)]
    for width, height, data in pixmaps:
        assert data == b"\xff\xff\x00\x00" * (width * height)  # ARGB, network byte order
    (title,) = host.call(
        icon.bus_name,
        "/StatusNotifierItem",
        "org.freedesktop.DBus.Properties",
        "Get",
        "ss",
        (ITEM, "Title"),
    )
    assert title == ("s", "Multishot: idle")
    menu_properties = host.properties(icon.bus_name, "/MenuBar", MENU)
    assert menu_properties == {
        "Version": 3,
        "TextDirection": "ltr",
        "Status": "normal",
        "IconThemePath": [],
    }


def test_item_introspects(icon: StatusNotifierIcon, host: Host) -> None:
    introspectable = "org.freedesktop.DBus.Introspectable"
    (root,) = host.call(icon.bus_name, "/", introspectable, "Introspect")
    (item,) = host.call(icon.bus_name, "/StatusNotifierItem", introspectable, "Introspect")
    (menu,) = host.call(icon.bus_name, "/MenuBar", introspectable, "Introspect")

    assert '<node name="MenuBar"/>' in root
    assert '<node name="StatusNotifierItem"/>' in root
    assert f'<interface name="{ITEM}">' in item
    assert '<method name="Activate"><arg type="i" direction="in"/>' in item
    assert '<property name="IconPixmap" type="a(iiay)" access="read"/>' in item
    assert '<signal name="NewStatus"><arg type="s"/></signal>' in item
    assert (
        '<method name="GetLayout"><arg type="i" direction="in"/><arg type="i" direction="in"/>'
        '<arg type="as" direction="in"/><arg type="u" direction="out"/>'
        '<arg type="(ia{sv}av)" direction="out"/></method>'
    ) in menu


def test_activate_calls_on_activate(
    icon: StatusNotifierIcon, host: Host, activated: threading.Event
) -> None:
    host.call(icon.bus_name, "/StatusNotifierItem", ITEM, "Activate", "ii", (10, 20))
    assert activated.wait(5)
    assert icon.anchor == (10, 20)  # where a window opened by the click goes
    activated.clear()
    host.call(icon.bus_name, "/StatusNotifierItem", ITEM, "Activate", "ii", (0, 0))
    assert activated.wait(5)
    assert icon.anchor is None  # a host that does not say where
    for method, signature, body in (
        ("SecondaryActivate", "ii", (1, 2)),
        ("ContextMenu", "ii", (1, 2)),
        ("Scroll", "is", (1, "vertical")),
    ):
        assert host.call(icon.bus_name, "/StatusNotifierItem", ITEM, method, signature, body) == ()


def test_activate_without_callback_runs_the_default_item(
    menu: Any, watcher: Watcher, host: Host, clicks: Clicks
) -> None:
    tray_icon = StatusNotifierIcon("multishot", RED, "Multishot", menu)
    tray_icon.run_detached()
    try:
        watcher.registered.get(timeout=5)
        host.call(tray_icon.bus_name, "/StatusNotifierItem", ITEM, "Activate", "ii", (0, 0))
        assert clicks.wait_for(1) == ["new run"]
    finally:
        tray_icon.stop()


def test_menu_layout_follows_pystray(icon: StatusNotifierIcon, host: Host) -> None:
    revision, items = layout(host, icon)

    assert revision == 1
    assert [props for _id, props in items] == [
        {"label": "New run…", "enabled": True},
        {"label": "Runs__window", "enabled": True},  # "_" would be a mnemonic
        {"type": "separator"},
        {"label": "Log out", "enabled": False},
        {"label": "Start at login", "enabled": True, "toggle-type": "checkmark", "toggle-state": 0},
        {"label": "Fast", "enabled": True, "toggle-type": "radio", "toggle-state": 1},
        {"label": "Run 1", "enabled": True, "children-display": "submenu"},
        {"label": "Cancel", "enabled": True},
    ]
    ids = [item for item, _props in items]
    (groups,) = host.call(
        icon.bus_name, "/MenuBar", MENU, "GetGroupProperties", "aias", (ids[:2], ["label"])
    )
    assert groups == [
        (ids[0], {"label": ("s", "New run…")}),
        (ids[1], {"label": ("s", "Runs__window")}),
    ]
    assert host.call(icon.bus_name, "/MenuBar", MENU, "GetProperty", "is", (ids[3], "enabled")) == (
        ("b", False),
    )
    _revision, (root_id, _root, children) = host.call(
        icon.bus_name, "/MenuBar", MENU, "GetLayout", "iias", (0, 0, [])
    )
    assert (root_id, children) == (0, [])


def test_clicks_run_the_pystray_actions(
    icon: StatusNotifierIcon, host: Host, clicks: Clicks
) -> None:
    host.call(icon.bus_name, "/MenuBar", MENU, "AboutToShow", "i", (0,))
    click(host, icon, item_id(host, icon, "Log out"))  # disabled: nothing runs
    click(host, icon, item_id(host, icon, "Cancel"))
    assert clicks.wait_for(1) == ["cancel"]
    assert clicks.icons == [icon]

    with host.signals("/MenuBar", MENU) as signals:
        toggle = item_id(host, icon, "Start at login")
        events = [(toggle, "clicked", ("i", 0), 0), (999_999, "clicked", ("i", 0), 0)]
        (errors,) = host.call(icon.bus_name, "/MenuBar", MENU, "EventGroup", "a(isvu)", (events,))
        assert errors == [999_999]
        updated, removed = signals.wait_for("ItemsPropertiesUpdated")
    assert clicks.wait_for(2) == ["cancel", "toggle"]
    assert updated == [(toggle, {"toggle-state": ("i", 1)})]
    assert removed == []


def test_menu_change_updates_the_layout(
    icon: StatusNotifierIcon, host: Host, pystray: Any, clicks: Clicks
) -> None:
    old_cancel = item_id(host, icon, "Cancel")
    with host.signals("/MenuBar", MENU) as signals:
        icon.menu = pystray.Menu(pystray.MenuItem("Quit", clicks.action("quit")))
        assert signals.wait_for("LayoutUpdated") == (2, 0)
    revision, items = layout(host, icon)
    assert revision == 2
    assert [props for _id, props in items] == [{"label": "Quit", "enabled": True}]
    with pytest.raises(Exception, match="no menu item"):  # a stale id runs nothing
        click(host, icon, old_cancel)
    click(host, icon, items[0][0])
    assert clicks.wait_for(1) == ["quit"]


def test_same_shaped_menu_only_updates_properties(
    icon: StatusNotifierIcon, host: Host, pystray: Any
) -> None:
    Menu, MenuItem = pystray.Menu, pystray.MenuItem
    icon.menu = Menu(MenuItem("Runs: 1", None), MenuItem("Quit", None))
    first, items = layout(host, icon)
    with host.signals("/MenuBar", MENU) as signals:
        icon.menu = Menu(MenuItem("Runs: 2", None), MenuItem("Quit", None, enabled=False))
        updated, removed = signals.wait_for("ItemsPropertiesUpdated")
        icon.menu = Menu(MenuItem("Runs: 2", None), MenuItem("Quit", None, enabled=False))
        layout(host, icon)  # its reply comes after any signal sent before it
        assert signals.pending() == []
    assert updated == [
        (items[0][0], {"label": ("s", "Runs: 2")}),
        (items[1][0], {"enabled": ("b", False)}),
    ]
    assert removed == []
    assert layout(host, icon)[0] == first
    (needs_update,) = host.call(icon.bus_name, "/MenuBar", MENU, "AboutToShow", "i", (0,))
    assert needs_update is False


def test_setters_signal_the_panel(icon: StatusNotifierIcon, host: Host) -> None:
    with host.signals("/StatusNotifierItem", ITEM) as signals:
        icon.icon = BLUE
        signals.wait_for("NewIcon")
        icon.title = "Multishot: 2 runs"
        signals.wait_for("NewTitle")
        signals.wait_for("NewToolTip")
        icon.visible = False
        assert signals.wait_for("NewStatus") == ("Passive",)
    properties = host.properties(icon.bus_name, "/StatusNotifierItem", ITEM)
    assert properties["ToolTip"][2] == "Multishot: 2 runs"
    assert properties["Status"] == "Passive"
    assert properties["IconPixmap"][0][2][:4] == b"\x80\x00\x00\xff"


def test_registers_again_when_the_watcher_restarts(
    icon: StatusNotifierIcon, watcher: Watcher
) -> None:
    for _restart in range(2):
        watcher.restart()
        assert watcher.registered.get(timeout=5) == icon.bus_name


def test_stop_from_a_menu_action_frees_the_bus_name(
    watcher: Watcher, host: Host, pystray: Any
) -> None:
    quitting = threading.Event()

    def quit_app(icon: StatusNotifierIcon, _item: Any) -> None:
        icon.stop()
        quitting.set()

    tray_icon = StatusNotifierIcon("multishot", RED, "Multishot", pystray.Menu())
    tray_icon.menu = pystray.Menu(pystray.MenuItem("Quit", quit_app))
    runner = threading.Thread(target=tray_icon.run, daemon=True)
    runner.start()
    watcher.registered.get(timeout=5)
    with host.signals("/org/freedesktop/DBus", "org.freedesktop.DBus") as bus_signals:
        click(host, tray_icon, item_id(host, tray_icon, "Quit"))
        assert quitting.wait(5)
        runner.join(5)
        assert not runner.is_alive()
        while bus_signals.wait_for("NameOwnerChanged")[0] != tray_icon.bus_name:
            pass
    assert not host.name_has_owner(tray_icon.bus_name)
    tray_icon.title = "after stop"  # no connection any more: nothing is sent, nothing fails


def test_setters_from_another_thread_while_the_panel_reads(
    icon: StatusNotifierIcon, host: Host, pystray: Any
) -> None:
    def owner() -> None:
        for index in range(20):
            icon.title = f"title {index}"
            icon.menu = pystray.Menu(
                *(pystray.MenuItem(str(i), None) for i in range(index % 3 + 1))
            )

    icon.menu = pystray.Menu(pystray.MenuItem("0", None))
    thread = threading.Thread(target=owner)
    thread.start()
    while thread.is_alive():
        _revision, items = layout(host, icon)
        assert [props["label"] for _id, props in items] in (["0"], ["0", "1"], ["0", "1", "2"])
        host.properties(icon.bus_name, "/StatusNotifierItem", ITEM)
    thread.join(5)
    assert host.properties(icon.bus_name, "/StatusNotifierItem", ITEM)["Title"] == "title 19"
    assert [props["label"] for _id, props in layout(host, icon)[1]] == ["0", "1"]  # 19 % 3 + 1
