"""Notifications with buttons on Linux, straight over D-Bus (org.freedesktop.Notifications).

plyer hands Linux notifications to notify-send, which cannot say which button was
pressed. When the notification server advertises "actions", notices that carry
actions go out here instead: each action is a button, and pressing it calls the
action's function on this module's listener thread (callers hand it to Tk). A server
without actions, or no server, leaves them to plyer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from tray.ui.messages import NoticeAction

__all__ = ["ActionNotifications"]

log = logging.getLogger(__name__)

_BUS_NAME = "org.freedesktop.Notifications"
_PATH = "/org/freedesktop/Notifications"
_CALL_SECONDS = 5.0
_URGENCY_NORMAL, _URGENCY_CRITICAL = 1, 2


class ActionNotifications:
    """One connection to the session bus, opened by the first notice with actions."""

    def __init__(self, app_name: str, icon: str, timeout_seconds: int) -> None:
        self._app_name, self._icon, self._timeout_ms = app_name, icon, timeout_seconds * 1000
        self._lock = threading.Lock()
        self._router: Any = None
        self._signals: queue.Queue[Any] = queue.Queue()
        self._supported: bool | None = None  # None until the server was asked
        self._pending: dict[int, dict[str, Callable[[], None]]] = {}
        self._filter: Any = None  # keeps the server's signals coming to _signals

    def send(self, title: str, body: str, actions: Sequence[NoticeAction], *, urgent: bool) -> bool:
        """Show the notice with its buttons; False when no server here offers buttons.

        Urgent notices are critical and stay until dismissed.
        """
        router = self._connect()
        if router is None:
            return False
        from jeepney import DBusAddress, new_method_call
        from jeepney.wrappers import unwrap_msg

        keys = [f"action-{index}" for index in range(len(actions))]
        buttons = [
            part for key, action in zip(keys, actions, strict=True) for part in (key, action.label)
        ]
        hints = {
            "urgency": ("y", _URGENCY_CRITICAL if urgent else _URGENCY_NORMAL),
            "desktop-entry": ("s", "multishot"),
        }
        timeout = 0 if urgent else self._timeout_ms
        address = DBusAddress(_PATH, bus_name=_BUS_NAME, interface=_BUS_NAME)
        call = new_method_call(
            address,
            "Notify",
            "susssasa{sv}i",
            (self._app_name, 0, self._icon, title, body, buttons, hints, timeout),
        )
        (notification_id,) = unwrap_msg(router.send_and_get_reply(call, timeout=_CALL_SECONDS))
        with self._lock:
            self._pending[notification_id] = {
                key: action.run for key, action in zip(keys, actions, strict=True)
            }
        return True

    def close(self) -> None:
        with self._lock:
            router, self._router = self._router, None
        if router is not None:
            self._signals.put(None)
            router.close()
            router.conn.close()

    def _connect(self) -> Any:
        """The router, once the server is known to offer buttons; None otherwise."""
        with self._lock:
            if self._supported is False:
                return None
            if self._router is not None:
                return self._router
            try:
                self._router = self._open()
            except Exception as exc:  # no session bus, or no notification server on it
                log.info("notifications with buttons are not available: %s", exc)
                self._supported = False
                return None
            self._supported = True
            return self._router

    def _open(self) -> Any:
        from jeepney import DBusAddress, new_method_call
        from jeepney.bus_messages import MatchRule, message_bus
        from jeepney.io.threading import DBusRouter, open_dbus_connection
        from jeepney.wrappers import unwrap_msg

        router = DBusRouter(open_dbus_connection(bus="SESSION"))
        try:
            address = DBusAddress(_PATH, bus_name=_BUS_NAME, interface=_BUS_NAME)
            reply = router.send_and_get_reply(
                new_method_call(address, "GetCapabilities"), timeout=_CALL_SECONDS
            )
            (capabilities,) = unwrap_msg(reply)
            if "actions" not in capabilities:
                raise RuntimeError("the notification server shows no buttons")
            rule = MatchRule(type="signal", interface=_BUS_NAME, path=_PATH)
            self._filter = router.filter(rule, queue=self._signals)
            router.send_and_get_reply(message_bus.AddMatch(rule), timeout=_CALL_SECONDS)
        except BaseException:
            router.close()
            raise
        threading.Thread(target=self._listen, name="notification-actions", daemon=True).start()
        return router

    def _listen(self) -> None:
        """Wait for the server's signals (blocking: an idle app is not woken)."""
        from jeepney import HeaderFields

        while (message := self._signals.get()) is not None:
            member = message.header.fields.get(HeaderFields.member)
            if member == "ActionInvoked":
                notification_id, key = message.body
                with self._lock:
                    run = self._pending.get(notification_id, {}).get(key)
                if run is not None:
                    try:
                        run()
                    except Exception:
                        log.exception("a notification's action failed")
            elif member == "NotificationClosed":
                with self._lock:
                    self._pending.pop(message.body[0], None)
