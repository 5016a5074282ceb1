"""A small D-Bus object server on the session bus, over jeepney.

Objects are tables of interfaces (methods, signals, a property snapshot); the server
answers their calls, org.freedesktop.DBus.Properties and Introspectable, from one thread
that blocks on the socket (no timeout, so an idle server never wakes up). Signals may be
emitted from any thread: jeepney's threading connection serialises sends. Message bodies
are never logged.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jeepney import (
    DBusAddress,
    HeaderFields,
    MessageFlag,
    MessageType,
    new_error,
    new_method_call,
    new_method_return,
    new_signal,
)
from jeepney.bus_messages import MatchRule, message_bus
from jeepney.io.threading import (
    DBusConnection,
    DBusRouter,
    Proxy,
    ReceiveStopped,
    open_dbus_connection,
)

__all__ = [
    "DBusError",
    "Interface",
    "Method",
    "ObjectServer",
    "Variant",
    "split_signature",
]

log = logging.getLogger(__name__)

PROPERTIES = "org.freedesktop.DBus.Properties"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
SETUP_TIMEOUT = 2.0
REQUEST_NAME_DO_NOT_QUEUE = 4
PRIMARY_OWNER = 1

Variant = tuple[str, Any]
"""A D-Bus variant as jeepney writes it: (signature, value)."""


class DBusError(Exception):
    """Raised by a method to answer its caller with this D-Bus error."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@dataclasses.dataclass(frozen=True)
class Method:
    in_signature: str
    out_signature: str
    call: Callable[..., tuple[Any, ...]]


@dataclasses.dataclass(frozen=True)
class Interface:
    name: str
    methods: Mapping[str, Method]
    signals: Mapping[str, str]
    properties: Callable[[], dict[str, Variant]]
    """Reads every property at once, so that GetAll is one consistent snapshot."""


def split_signature(signature: str) -> list[str]:
    """The complete types of a signature: "ia{sv}av" -> ["i", "a{sv}", "av"]."""
    types: list[str] = []
    start = depth = 0
    for index, char in enumerate(signature):
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if depth == 0 and char != "a":
            types.append(signature[start : index + 1])
            start = index + 1
    return types


def _arguments(signature: str, direction: str = "") -> str:
    attribute = f' direction="{direction}"' if direction else ""
    return "".join(f'<arg type="{type_}"{attribute}/>' for type_ in split_signature(signature))


_STANDARD_INTERFACES = (
    f'<interface name="{INTROSPECTABLE}">'
    '<method name="Introspect"><arg type="s" direction="out"/></method></interface>'
    f'<interface name="{PROPERTIES}">'
    '<method name="Get"><arg type="s" direction="in"/><arg type="s" direction="in"/>'
    '<arg type="v" direction="out"/></method>'
    '<method name="GetAll"><arg type="s" direction="in"/>'
    '<arg type="a{sv}" direction="out"/></method>'
    '<signal name="PropertiesChanged"><arg type="s"/><arg type="a{sv}"/><arg type="as"/>'
    "</signal></interface>"
)


def _interface_xml(interface: Interface) -> str:
    methods = "".join(
        f'<method name="{name}">{_arguments(method.in_signature, "in")}'
        f"{_arguments(method.out_signature, 'out')}</method>"
        for name, method in interface.methods.items()
    )
    signals = "".join(
        f'<signal name="{name}">{_arguments(signature)}</signal>'
        for name, signature in interface.signals.items()
    )
    properties = "".join(
        f'<property name="{name}" type="{signature}" access="read"/>'
        for name, (signature, _value) in interface.properties().items()
    )
    return f'<interface name="{interface.name}">{methods}{signals}{properties}</interface>'


class ObjectServer:
    """Exports objects under the given paths once connect() has run; serve() answers them."""

    def __init__(
        self,
        objects: Mapping[str, Sequence[Interface]],
        on_signal: Callable[[str, tuple[Any, ...]], None],
    ) -> None:
        self._objects = {
            path: {i.name: i for i in interfaces} for path, interfaces in objects.items()
        }
        self._on_signal = on_signal
        self._connection: DBusConnection | None = None
        self._serving: threading.Thread | None = None

    def connect(self, names: Sequence[str], rules: Sequence[MatchRule]) -> None:
        """Opens the connection, owns the bus names and subscribes to the signals; raises
        OSError, ValueError or jeepney's DBusErrorResponse when the bus says no."""
        connection = open_dbus_connection(bus="SESSION")
        try:
            with DBusRouter(connection) as router:
                bus = Proxy(message_bus, router, timeout=SETUP_TIMEOUT)
                for name in names:
                    (result,) = bus.RequestName(name, REQUEST_NAME_DO_NOT_QUEUE)
                    if result != PRIMARY_OWNER:
                        raise ValueError(f"the bus name {name} is taken")
                for rule in rules:
                    bus.AddMatch(rule)
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def serve_in_thread(self, name: str) -> None:
        thread = threading.Thread(target=self.serve, name=name, daemon=True)
        self._serving = thread
        thread.start()

    def serve(self) -> None:
        """Answers calls until stop(); closes the connection when it returns."""
        connection = self._connection
        if connection is None:
            raise RuntimeError("connect() first")
        self._serving = threading.current_thread()
        try:
            while True:
                self._handle(connection, connection.receive())
        except ReceiveStopped:
            pass
        except OSError as error:
            log.warning("The D-Bus connection broke: %s", error)
        finally:
            self._connection = None
            connection.close()

    def stop(self) -> None:
        """Makes serve() return; waits for it unless called from its own thread."""
        connection, serving = self._connection, self._serving
        if connection is not None:
            connection.interrupt()
        if serving is not None and serving is not threading.current_thread():
            serving.join(timeout=SETUP_TIMEOUT)

    def call(
        self, address: DBusAddress, method: str, signature: str, body: tuple[Any, ...]
    ) -> None:
        """Sends a method call without waiting: serve() logs an error reply if one comes."""
        self._send(new_method_call(address, method, signature, body))

    def emit(
        self, path: str, interface: str, signal: str, signature: str, body: tuple[Any, ...]
    ) -> None:
        """Sends a signal, from any thread; does nothing when not connected."""
        self._send(new_signal(DBusAddress(path, interface=interface), signal, signature, body))

    def _send(self, message: Any) -> None:
        connection = self._connection
        if connection is None:
            return
        try:
            connection.send(message)
        except OSError as error:  # closed under us by stop()
            log.debug("D-Bus message not sent: %s", error)

    def _handle(self, connection: DBusConnection, message: Any) -> None:
        header = message.header
        if header.message_type is MessageType.signal:
            self._on_signal(header.fields.get(HeaderFields.member, ""), message.body)
        elif header.message_type is MessageType.error:
            log.warning("A D-Bus call failed: %s", header.fields.get(HeaderFields.error_name))
        elif header.message_type is MessageType.method_call:
            reply = self._answer(message)
            if not header.flags & MessageFlag.no_reply_expected:
                connection.send(reply)

    def _answer(self, message: Any) -> Any:
        fields = message.header.fields
        interface = fields.get(HeaderFields.interface, "")
        member = fields.get(HeaderFields.member, "")
        try:
            signature, body = self._invoke(
                fields.get(HeaderFields.path, ""),
                interface,
                member,
                fields.get(HeaderFields.signature, ""),
                message.body,
            )
            return new_method_return(message, signature, body)
        except DBusError as error:
            return new_error(message, error.name, "s", (error.message,))
        except Exception:
            log.exception("The D-Bus method %s.%s failed", interface, member)
            return new_error(message, "org.freedesktop.DBus.Error.Failed", "s", ("failed",))

    def _invoke(
        self, path: str, interface: str, member: str, signature: str, args: tuple[Any, ...]
    ) -> tuple[str, tuple[Any, ...]]:
        if (interface, member) == (INTROSPECTABLE, "Introspect") or (
            not interface and member == "Introspect"
        ):
            return "s", (self._introspect(path),)
        interfaces = self._objects.get(path)
        if interfaces is None:
            raise DBusError("org.freedesktop.DBus.Error.UnknownObject", f"no object at {path}")
        if interface == PROPERTIES:
            return self._properties(interfaces, member, signature, args)
        for candidate in (
            [interfaces[interface]] if interface in interfaces else interfaces.values()
        ):
            method = candidate.methods.get(member)
            if method is not None:
                if signature != method.in_signature:
                    raise DBusError(INVALID_ARGS, f"{member} takes ({method.in_signature})")
                return method.out_signature, method.call(*args)
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"no method {member}")

    @staticmethod
    def _properties(
        interfaces: Mapping[str, Interface], member: str, signature: str, args: tuple[Any, ...]
    ) -> tuple[str, tuple[Any, ...]]:
        if member == "Get" and signature == "ss":
            name, property_name = args
            value = interfaces[name].properties().get(property_name) if name in interfaces else None
            if value is None:
                raise DBusError(INVALID_ARGS, f"no property {property_name}")
            return "v", (value,)
        if member == "GetAll" and signature == "s":
            (name,) = args
            return "a{sv}", (interfaces[name].properties() if name in interfaces else {},)
        if member == "Set":
            raise DBusError("org.freedesktop.DBus.Error.PropertyReadOnly", "read-only")
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"no method {member}")

    def _introspect(self, path: str) -> str:
        prefix = path.rstrip("/") + "/"
        children = sorted(
            {
                other[len(prefix) :].split("/")[0]
                for other in self._objects
                if other.startswith(prefix)
            }
        )
        interfaces = self._objects.get(path, {})
        body = "".join(_interface_xml(interface) for interface in interfaces.values())
        standard = _STANDARD_INTERFACES if interfaces else ""
        nodes = "".join(f'<node name="{child}"/>' for child in children)
        return (
            '<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN" '
            '"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n'
            f"<node>{standard}{body}{nodes}</node>"
        )
