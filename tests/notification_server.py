"""A freedesktop notification server on the test's private session bus, recording calls."""

from __future__ import annotations

import dataclasses
import queue
import threading

from jeepney import DBusAddress, MessageType, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"
SIGNALS = DBusAddress("/org/freedesktop/Notifications", interface=NAME)


@dataclasses.dataclass(frozen=True)
class Notification:
    app_name: str
    icon: str
    summary: str
    body: str
    timeout_ms: int
    id: int = 0
    actions: tuple[str, ...] = ()  # key, label, key, label...
    urgency: int | None = None

    def action_key(self, label: str) -> str:
        labels = self.actions[1::2]
        return self.actions[2 * labels.index(label)]


class NotificationServer:
    """With ``actions``, it advertises buttons, and `press` answers as a user would."""

    def __init__(self, *, actions: bool = False) -> None:
        self.capabilities = ["body", "actions"] if actions else ["body"]
        self.received: list[Notification] = []
        self._presses: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> NotificationServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the notification server did not start")
        return self

    def press(self, notification: Notification, label: str) -> None:
        """Press one of the notification's buttons (the ActionInvoked signal)."""
        self._presses.put((notification.id, notification.action_key(label)))

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
                while not self._presses.empty():
                    notification_id, key = self._presses.get()
                    signal = new_signal(SIGNALS, "ActionInvoked", "us", (notification_id, key))
                    connection.send(signal)
                try:
                    message = connection.receive(timeout=0.05)
                except TimeoutError:
                    continue
                header = message.header
                if header.message_type is not MessageType.method_call:
                    continue
                member = header.fields.get(3)  # HeaderFields.member
                if member == "Notify":
                    app, _replaces, icon, summary, body, actions, hints, timeout = message.body
                    ids += 1
                    urgency = hints.get("urgency", (None, None))[1]
                    self.received.append(
                        Notification(
                            app, icon, summary, body, timeout, ids, tuple(actions), urgency
                        )
                    )
                    connection.send(new_method_return(message, "u", (ids,)))
                elif member == "GetCapabilities":
                    connection.send(new_method_return(message, "as", (self.capabilities,)))
                elif member == "GetServerInformation":
                    connection.send(
                        new_method_return(message, "ssss", ("tests", "multishot", "1", "1.2"))
                    )
                else:
                    connection.send(new_error(message, "org.freedesktop.DBus.Error.UnknownMethod"))
        finally:
            connection.close()
