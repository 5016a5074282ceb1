"""A pystray menu exported as com.canonical.dbusmenu, the menu of a StatusNotifierItem.

pystray's Menu and MenuItem stay the one menu definition: the menu is walked as pystray's
own backends do (iterating a Menu yields its visible items with redundant separators
dropped), and a "clicked" event calls the item as pystray does, ``item(icon)``.
Walking evaluates the items' callables (text, checked, ...), never under the lock.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from tray.ui.dbus_service import INVALID_ARGS, DBusError, Interface, Method, Variant

__all__ = ["INTERFACE", "DbusMenu", "PystrayMenu", "PystrayMenuItem"]

INTERFACE = "com.canonical.dbusmenu"
ROOT = 0
NODE_SIGNATURE = "(ia{sv}av)"
ROOT_PROPERTIES: dict[str, Variant] = {"children-display": ("s", "submenu")}


class PystrayMenuItem(Protocol):
    """What is read from a pystray.MenuItem."""

    @property
    def text(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def checked(self) -> bool | None: ...
    @property
    def radio(self) -> bool: ...
    @property
    def submenu(self) -> PystrayMenu | None: ...
    def __call__(self, icon: Any) -> object: ...


class PystrayMenu(Protocol):
    """What is read from a pystray.Menu."""

    SEPARATOR: PystrayMenuItem

    def __iter__(self) -> Iterator[PystrayMenuItem]: ...
    def __call__(self, icon: Any) -> object: ...


@dataclasses.dataclass(frozen=True)
class _Node:
    item: PystrayMenuItem
    properties: dict[str, Variant]
    children: tuple[_Node, ...]


@dataclasses.dataclass(frozen=True)
class _Entry:
    item: PystrayMenuItem | None  # None for the root
    properties: dict[str, Variant]
    children: tuple[int, ...]


_Layout = dict[int, _Entry]

Emit = Callable[[str, str, tuple[Any, ...]], None]
"""Sends a signal of this interface: (name, signature, body)."""


def _properties(item: PystrayMenuItem, separator: PystrayMenuItem) -> dict[str, Variant]:
    if item is separator:
        return {"type": ("s", "separator")}
    # dbusmenu labels take "_" as the mnemonic marker: a literal one is doubled.
    properties: dict[str, Variant] = {
        "label": ("s", item.text.replace("_", "__")),
        "enabled": ("b", bool(item.enabled)),
    }
    checked = item.checked
    if checked is not None:
        properties["toggle-type"] = ("s", "radio" if item.radio else "checkmark")
        properties["toggle-state"] = ("i", int(checked))
    if item.submenu is not None:
        properties["children-display"] = ("s", "submenu")
    return properties


def _walk(menu: PystrayMenu | None) -> tuple[_Node, ...]:
    if menu is None:
        return ()
    return tuple(
        _Node(item, _properties(item, menu.SEPARATOR), _walk(item.submenu)) for item in menu
    )


def _number(nodes: tuple[_Node, ...], first_id: int) -> _Layout:
    """Ids in depth-first order from first_id; the root is always 0."""
    layout: _Layout = {}
    ids = itertools.count(first_id)

    def add(siblings: tuple[_Node, ...]) -> tuple[int, ...]:
        numbered = []
        for node in siblings:
            node_id = next(ids)
            layout[node_id] = _Entry(node.item, node.properties, add(node.children))
            numbered.append(node_id)
        return tuple(numbered)

    layout[ROOT] = _Entry(None, ROOT_PROPERTIES, add(nodes))
    return layout


def _filter(properties: dict[str, Variant], names: list[str]) -> dict[str, Variant]:
    return {k: v for k, v in properties.items() if k in names} if names else properties


class DbusMenu:
    """The exported menu: a numbered snapshot of the pystray menu and its revision.

    A new menu whose tree has the same shape keeps its ids and only announces the
    properties that changed (ItemsPropertiesUpdated). Any other change is a new revision
    (LayoutUpdated) numbered with ids never used before: a click that a panel sends from a
    stale menu is then refused instead of running whichever item took its id.
    """

    def __init__(self, menu: PystrayMenu | None, icon: object, emit: Emit) -> None:
        self._icon = icon
        self._emit = emit
        self._lock = threading.Lock()
        self._menu = menu
        self._first_id = 1
        self._layout = _number(_walk(menu), self._first_id)
        self._revision = 1
        self.interface = Interface(
            INTERFACE,
            methods={
                "GetLayout": Method("iias", f"u{NODE_SIGNATURE}", self._get_layout),
                "GetGroupProperties": Method("aias", "a(ia{sv})", self._get_group_properties),
                "GetProperty": Method("is", "v", self._get_property),
                "Event": Method("isvu", "", self._event),
                "EventGroup": Method("a(isvu)", "ai", self._event_group),
                "AboutToShow": Method("i", "b", self._about_to_show),
                "AboutToShowGroup": Method("ai", "aiai", self._about_to_show_group),
            },
            signals={"ItemsPropertiesUpdated": "a(ia{sv})a(ias)", "LayoutUpdated": "ui"},
            properties=lambda: {
                "Version": ("u", 3),
                "TextDirection": ("s", "ltr"),
                "Status": ("s", "normal"),
                "IconThemePath": ("as", []),
            },
        )

    @property
    def menu(self) -> PystrayMenu | None:
        return self._menu

    def set_menu(self, menu: PystrayMenu | None) -> None:
        nodes = _walk(menu)
        with self._lock:
            self._menu = menu
            self._install(nodes)

    def refresh(self) -> bool:
        """Walks the menu again (its callables may answer differently now); True if the
        exported menu changed."""
        menu = self._menu
        nodes = _walk(menu)
        with self._lock:
            return menu is self._menu and self._install(nodes)

    def _install(self, nodes: tuple[_Node, ...]) -> bool:
        """Under the lock, so that signals leave in the order of the revisions."""
        old = self._layout
        new = _number(nodes, self._first_id)
        if {i: e.children for i, e in new.items()} != {i: e.children for i, e in old.items()}:
            self._first_id += len(old) - 1  # past the ids of the old items (not the root)
            self._layout = _number(nodes, self._first_id)
            self._revision += 1
            self._emit("LayoutUpdated", "ui", (self._revision, ROOT))
            return True
        self._layout = new
        updated = []
        removed = []
        for item_id, entry in new.items():
            before = old[item_id].properties
            changed = {k: v for k, v in entry.properties.items() if before.get(k) != v}
            gone = [k for k in before if k not in entry.properties]
            updated += [(item_id, changed)] if changed else []
            removed += [(item_id, gone)] if gone else []
        if updated or removed:
            self._emit("ItemsPropertiesUpdated", "a(ia{sv})a(ias)", (updated, removed))
        return bool(updated or removed)

    def _entry(self, item_id: int) -> _Entry:
        entry = self._layout.get(item_id)
        if entry is None:
            raise DBusError(INVALID_ARGS, f"no menu item {item_id}")
        return entry

    def _node(self, layout: _Layout, item_id: int, depth: int, names: list[str]) -> tuple[Any, ...]:
        entry = layout[item_id]
        children = (
            [
                (NODE_SIGNATURE, self._node(layout, child, depth - 1, names))
                for child in entry.children
            ]
            if depth != 0
            else []
        )
        return item_id, _filter(entry.properties, names), children

    def _get_layout(self, parent: int, depth: int, names: list[str]) -> tuple[Any, ...]:
        with self._lock:
            layout, revision = self._layout, self._revision
        if parent not in layout:
            raise DBusError(INVALID_ARGS, f"no menu item {parent}")
        return revision, self._node(layout, parent, depth, names)

    def _get_group_properties(self, ids: list[int], names: list[str]) -> tuple[Any, ...]:
        layout = self._layout
        wanted = ids or list(layout)
        return ([(i, _filter(layout[i].properties, names)) for i in wanted if i in layout],)

    def _get_property(self, item_id: int, name: str) -> tuple[Any, ...]:
        value = self._entry(item_id).properties.get(name)
        if value is None:
            raise DBusError(INVALID_ARGS, f"menu item {item_id} has no {name}")
        return (value,)

    def _event(self, item_id: int, event: str, _data: Variant, _timestamp: int) -> tuple[Any, ...]:
        item = self._entry(item_id).item
        if event == "clicked" and item is not None and item.enabled:
            item(self._icon)
            self.refresh()  # a checkmark may have changed
        return ()

    def _event_group(self, events: list[tuple[int, str, Variant, int]]) -> tuple[Any, ...]:
        errors = []
        for item_id, event, data, timestamp in events:
            try:
                self._event(item_id, event, data, timestamp)
            except DBusError:
                errors.append(item_id)
        return (errors,)

    def _about_to_show(self, item_id: int) -> tuple[Any, ...]:
        self._entry(item_id)
        return (self.refresh(),)

    def _about_to_show_group(self, ids: list[int]) -> tuple[Any, ...]:
        changed = self.refresh()
        layout = self._layout
        return (
            [i for i in ids if i in layout] if changed else [],
            [i for i in ids if i not in layout],
        )
