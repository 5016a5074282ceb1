"""Desktop notifications through plyer, with its 2.1.0 bugs worked around; on Linux,
notices with buttons go straight over D-Bus when the server shows buttons
(:mod:`tray.ui.dbus_notify`).

Delivery happens on a worker thread (a notification server that hangs never
blocks Tk or the engine); a failure falls back to pystray's own notify, and a
failure of that is logged. Nothing here ever raises to the caller.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from tray.redaction import redact
from tray.ui.dbus_notify import ActionNotifications
from tray.ui.messages import Notice

__all__ = [
    "APP_NAME",
    "BODY_LIMIT",
    "TIMEOUT_SECONDS",
    "TITLE_LIMIT",
    "Notifier",
    "clip",
]

TITLE_LIMIT = 64  # Windows balloons refuse longer titles...
BODY_LIMIT = 256  # ...and longer messages; the same limits read well everywhere
TIMEOUT_SECONDS = 10
APP_NAME = "Multishot"

log = logging.getLogger(__name__)
Fallback = Callable[[str, str], None]


def clip(text: str, limit: int) -> str:
    """One redacted line within ``limit``; never starting with "-" (notify-send options)."""
    text = " ".join(redact(text).split())
    if text.startswith("-"):
        text = "–" + text[1:]
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Notifier:
    def __init__(self, icon_path: Path | None = None, fallback: Fallback | None = None) -> None:
        self._icon_path = icon_path
        self.fallback = fallback
        self._with_buttons = (
            ActionNotifications(APP_NAME, str(icon_path or ""), TIMEOUT_SECONDS)
            if sys.platform.startswith("linux")
            else None
        )
        self._queue: queue.SimpleQueue[Notice | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="notifications", daemon=True)
        self._thread.start()

    def notify(self, notice: Notice) -> None:
        self._queue.put(notice)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        if self._with_buttons is not None:
            self._with_buttons.close()

    def _work(self) -> None:
        while (notice := self._queue.get()) is not None:
            self._deliver(notice)

    def _deliver(self, notice: Notice) -> None:
        title, body = clip(notice.title, TITLE_LIMIT), clip(notice.body, BODY_LIMIT)
        if notice.actions and self._with_buttons is not None:
            try:
                if self._with_buttons.send(title, body, notice.actions, urgent=notice.urgent):
                    return
            except Exception as exc:
                log.info("the notice's buttons could not be shown (%s); plyer shows it", exc)
        try:
            self._with_plyer(title, body)
            return
        except Exception as exc:
            log.info(
                "plyer could not notify (%s: %s); trying the tray icon", type(exc).__name__, exc
            )
        if self.fallback is None:
            log.warning("no way to show a notification: %s", title)
            return
        try:
            self.fallback(title, body)
        except Exception:
            log.exception("the tray icon could not notify either")

    def _with_plyer(self, title: str, body: str) -> None:
        with warnings.catch_warnings():  # plyer warns when it falls back to notify-send
            warnings.simplefilter("ignore")
            from plyer import notification

            notification.__class__  # noqa: B018 - resolve the platform implementation here

        icon = str(self._icon_path) if self._icon_path else ""
        implementation = notification.__class__.__name__  # the proxy forwards to the platform's
        if implementation == "NotifySendNotification":
            # 2.1.0 reads `icon` and `expire_time`, not the facade's `app_icon`/`timeout`,
            # and hands title and body to notify-send as arguments.
            notification._notify(  # noqa: SLF001 - the facade drops icon and expire_time
                title=title,
                message=body,
                icon=icon,
                app_name=APP_NAME,
                expire_time=str(TIMEOUT_SECONDS * 1000),
                hint="string:desktop-entry:multishot",
            )
            return
        if sys.platform == "win32" and icon and not icon.endswith(".ico"):
            icon = ""  # the Windows balloon accepts only an .ico
        notification.notify(
            title=title, message=body, app_name=APP_NAME, app_icon=icon, timeout=TIMEOUT_SECONDS
        )
