"""A freedesktop notification server on the test's private session bus, recording calls."""

from __future__ import annotations

import dataclasses
import threading

from jeepney import MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"


@dataclasses.dataclass(frozen=True)
class Notification:
    app_name: str
    icon: str
    summary: str
    body: str
    timeout_ms: int


class NotificationServer:
    def __init__(self) -> None:
        self.received: list[Notification] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> NotificationServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the notification server did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _serve(self) -> None:
        connection = open_dbus_connection(bus="SESSION")
        try:
            connection.send_and_get_reply(message_bus.RequestName(NAME, 4))  # replace existing
            self._ready.set()
            ids = 0
            while not self._stop.is_set():
                try:
                    message = connection.receive(timeout=0.2)
                except TimeoutError:
                    continue
                header = message.header
                if header.message_type is not MessageType.method_call:
                    continue
                member = header.fields.get(3)  # HeaderFields.member
                if member == "Notify":
                    app, _replaces, icon, summary, body, _actions, _hints, timeout = message.body
                    self.received.append(Notification(app, icon, summary, body, timeout))
                    ids += 1
                    connection.send(new_method_return(message, "u", (ids,)))
                elif member == "GetCapabilities":
                    connection.send(new_method_return(message, "as", (["body"],)))
                elif member == "GetServerInformation":
                    connection.send(
                        new_method_return(message, "ssss", ("tests", "multishot", "1", "1.2"))
                    )
                else:
                    connection.send(new_error(message, "org.freedesktop.DBus.Error.UnknownMethod"))
        finally:
            connection.close()
