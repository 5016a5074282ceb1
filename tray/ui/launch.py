"""`multishot` on a desktop: one instance, the icon first, then Tk and the app.

On Linux the icon is on screen before tkinter and the app's modules load (our tray
backends need neither), so it docks about as soon as a bare Tk + pystray app would;
the app adopts it and gives it its menu and state once the keychain is read.
"""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING

from tray.ui.single_instance import InstanceLock, ask_running_app_to_show

if TYPE_CHECKING:
    from tray.ui.tray_icon import TrayIcon

__all__ = ["run_tray_app", "show_icon_early"]


def run_tray_app() -> int:
    lock = InstanceLock()
    if not lock.acquire():
        if ask_running_app_to_show():
            return 0  # the running app opened its window
        print("Multishot is already running (look for its icon in the system tray).")
        return 0
    asked_to_quit: list[int] = []  # a SIGTERM while the app loads is kept for it
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, _frame: asked_to_quit.append(number))
    icon = show_icon_early() if sys.platform.startswith("linux") else None
    import tkinter as tk

    from tray.ui.style import make_dpi_aware

    make_dpi_aware()  # Windows: before Tk starts, or Windows stretches a 96 dpi bitmap

    from tray.ui.app import TrayApp

    root = tk.Tk()
    root.withdraw()
    app = TrayApp(root, icon=icon)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: app.terminate())
    if app.wakeup_fd is not None:
        signal.set_wakeup_fd(app.wakeup_fd)
    app.start()
    lock.listen(app.show)
    if asked_to_quit:
        app.terminate()
    try:
        root.mainloop()
    finally:
        if app.wakeup_fd is not None:
            signal.set_wakeup_fd(-1)
        app.close()
        lock.release()
    return 0


def show_icon_early() -> TrayIcon | None:
    """Linux's icon, shown before Tk and the app load (the app adopts it)."""
    from tray.desktop import choose_backend
    from tray.ui.icons import IconState, draw_icon
    from tray.ui.tray_icon import create_icon, start_icon

    image = draw_icon(IconState.SETUP_NEEDED, 0)
    # A click before the app adopts the icon does nothing; the app sets its own handler.
    icon = create_icon(choose_backend(), image, "Multishot: starting", None, lambda: None)
    if icon is not None:
        start_icon(icon)
    return icon
