"""A test-side tray panel on the private session bus: a StatusNotifierWatcher that records
the items registering with it, and a host connection that reads an item, calls its menu
and collects its signals. Written on jeepney directly, apart from the code under test."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    MessageType,
    new_error,
    new_method_call,
    new_method_return,
)
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.io.threading import (
    DBusConnection,
    DBusRouter,
    Proxy,
    ReceiveStopped,
    open_dbus_connection,
)
from jeepney.wrappers import unwrap_msg

WATCHER = "org.kde.StatusNotifierWatcher"
TIMEOUT = 5.0


class Watcher:
    """Owns org.kde.StatusNotifierWatcher on a connection of its own; stop() closes that
    connection, which gives the name up, as a panel that quits does."""

    def __init__(self) -> None:
        self.registered: queue.Queue[str] = queue.Queue()
        self._items: list[str] = []
        self._start()

    def stop(self) -> None:
        self._connection.interrupt()
        self._thread.join(TIMEOUT)
        self._connection.close()

    def restart(self) -> None:
        """Gives the name up and takes it again from a new connection."""
        self.stop()
        self._items.clear()
        self._start()

    def _start(self) -> None:
        # Not through a temporary DBusRouter, as jeepney does it: that would drop an item's
        # call arriving as soon as the name is owned.
        self._connection: DBusConnection = open_dbus_connection(bus="SESSION")
        self._replies: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="test-watcher", daemon=True)
        self._thread.start()
        self._connection.send(message_bus.RequestName(WATCHER, 4))
        if self._replies.get(timeout=TIMEOUT) != (1,):
            self.stop()
            raise RuntimeError("another StatusNotifierWatcher owns the name")

    def _serve(self) -> None:
        with contextlib.suppress(ReceiveStopped):
            while True:
                message = self._connection.receive()
                if message.header.message_type is MessageType.method_return:
                    self._replies.put(message.body)
                elif message.header.message_type is MessageType.method_call:
                    self._connection.send(self._answer(message))

    def _answer(self, message: Any) -> Any:
        member = message.header.fields.get(HeaderFields.member)
        if member == "RegisterStatusNotifierItem":
            (service,) = message.body
            self._items.append(service)
            self.registered.put(service)
            return new_method_return(message)
        if member == "RegisterStatusNotifierHost":
            return new_method_return(message)
        properties = {
            "RegisteredStatusNotifierItems": ("as", list(self._items)),
            "IsStatusNotifierHostRegistered": ("b", True),
            "ProtocolVersion": ("i", 0),
        }
        if member == "GetAll":
            return new_method_return(message, "a{sv}", (properties,))
        if member == "Get" and message.body[1] in properties:
            return new_method_return(message, "v", (properties[message.body[1]],))
        return new_error(message, "org.freedesktop.DBus.Error.UnknownMethod")


class Host:
    """The panel's side that shows an item: calls it and listens to its signals."""

    def __init__(self) -> None:
        self._connection = open_dbus_connection(bus="SESSION")
        self._router = DBusRouter(self._connection)
        self._bus = Proxy(message_bus, self._router, timeout=TIMEOUT)

    def close(self) -> None:
        self._router.close()
        self._connection.close()

    def call(
        self,
        destination: str,
        path: str,
        interface: str,
        method: str,
        signature: str = "",
        body: tuple[Any, ...] = (),
    ) -> tuple[Any, ...]:
        address = DBusAddress(path, destination, interface)
        reply = self._router.send_and_get_reply(
            new_method_call(address, method, signature or None, body), timeout=TIMEOUT
        )
        result: tuple[Any, ...] = unwrap_msg(reply)
        return result

    def properties(self, destination: str, path: str, interface: str) -> dict[str, Any]:
        (values,) = self.call(
            destination, path, "org.freedesktop.DBus.Properties", "GetAll", "s", (interface,)
        )
        return {name: value for name, (_signature, value) in values.items()}

    def name_has_owner(self, name: str) -> bool:
        (owned,) = self._bus.NameHasOwner(name)
        return bool(owned)

    @contextlib.contextmanager
    def signals(self, path: str, interface: str) -> Iterator[Signals]:
        """Collects the signals sent from that object path on that interface."""
        rule = MatchRule(type="signal", path=path, interface=interface)
        self._bus.AddMatch(rule)
        messages: queue.Queue[Any] = queue.Queue()
        try:
            with self._router.filter(rule, queue=messages):
                yield Signals(messages)
        finally:
            self._bus.RemoveMatch(rule)


class Signals:
    def __init__(self, messages: queue.Queue[Any]) -> None:
        self._messages = messages

    def wait_for(self, member: str, timeout: float = TIMEOUT) -> tuple[Any, ...]:
        """The body of the next signal of that name; the others before it are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._messages.get(timeout=max(0.0, deadline - time.monotonic()))
            if message.header.fields.get(HeaderFields.member) == member:
                body: tuple[Any, ...] = message.body
                return body

    def pending(self) -> list[str]:
        """The names of the signals received and not yet waited for."""
        names = []
        while not self._messages.empty():
            names.append(self._messages.get_nowait().header.fields.get(HeaderFields.member))
        return names
