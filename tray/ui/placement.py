"""Where windows appear: next to the tray icon that opened them, and in front when the
app is asked to come forward (a second launch)."""

from __future__ import annotations

import logging
import re
import sys
import tkinter as tk

from tray.ui import style

__all__ = ["bring_forward", "place_near", "position_near"]

log = logging.getLogger(__name__)

Point = tuple[int, int]
ICON_CLEARANCE = 4  # paddings (32 px at 96 dpi) between the pointer on the icon and the window
# Where the tray is when the icon does not say: Windows' notification area is at the
# bottom right, macOS's menu bar extras and most Linux panels' trays at the top right.
TASKBAR = 48  # pixels at 96 dpi kept free for Windows' taskbar, or macOS's menu bar


def position_near(
    anchor: Point | None, size: Point, screen: Point, *, platform: str, clearance: int, gap: int
) -> Point | None:
    """The top-left corner for a window of ``size`` near ``anchor`` (a point on the
    tray icon), on the side of it towards the middle of the screen, all of it on
    the screen. Without an anchor: the corner of the tray on Windows and macOS; on
    Linux, where panels can be anywhere, None (the window manager decides)."""
    width, height = size
    screen_width, screen_height = screen
    if anchor is None:
        if platform not in ("win32", "darwin"):
            return None
        bottom = platform == "win32"
        anchor = (screen_width - gap, screen_height - gap if bottom else gap)
    x, y = anchor
    left = x - width // 2
    top = y + clearance if y < screen_height // 2 else y - clearance - height
    left = max(gap, min(left, screen_width - width - gap))
    top = max(gap, min(top, screen_height - height - gap))
    return left, top


def place_near(window: tk.Toplevel, anchor: Point | None) -> None:
    """Put a new window next to the tray icon (``anchor``: where it was clicked, if
    the tray said)."""
    window.withdraw()  # measured and moved before it shows: it never jumps
    window.update_idletasks()
    size = _size(window)
    screen = (window.winfo_screenwidth(), window.winfo_screenheight())
    clearance = style.pad(window, ICON_CLEARANCE)
    gap = style.pad(window) if anchor is not None else style.wrap(window, TASKBAR)
    corner = position_near(
        anchor, size, screen, platform=sys.platform, clearance=clearance, gap=gap
    )
    if corner is not None:
        window.geometry(f"+{corner[0]}+{corner[1]}")
    window.deiconify()


def _size(window: tk.Toplevel) -> Point:
    """The size the window will have: the one it set itself, else what it asks for."""
    given = re.match(r"(\d+)x(\d+)", window.wm_geometry())
    if given and int(given[1]) > 1 and int(given[2]) > 1:
        return int(given[1]), int(given[2])
    return window.winfo_reqwidth(), window.winfo_reqheight()


def bring_forward(window: tk.Toplevel) -> None:
    """Show a window in front with the keyboard focus, even when it was minimised or
    behind others. On X11 the window manager is also asked to activate it, as a pager
    would: many refuse focus to a program that was not clicked last (a second launch
    happens in another process)."""
    window.deiconify()
    window.lift()
    window.focus_force()
    if window.tk.call("tk", "windowingsystem") != "x11":
        return
    if window.winfo_ismapped():
        _activate_on_x11(window)
        return

    def mapped(event: tk.Event[tk.Misc]) -> None:
        if event.widget is window:
            window.unbind("<Map>", binding)
            _activate_on_x11(window)

    binding = window.bind("<Map>", mapped, add="+")


def _activate_on_x11(window: tk.Toplevel) -> None:
    """Send _NET_ACTIVE_WINDOW for the window's frame that the window manager manages."""
    try:
        from Xlib import X
        from Xlib import display as xdisplay
        from Xlib.protocol import event

        connection = xdisplay.Display(window.winfo_screen())
    except Exception as exc:  # no Xlib, or the display refuses a second connection
        log.info("could not ask the window manager to raise a window: %s", exc)
        return
    try:
        inner = connection.create_resource_object("window", window.winfo_id())
        managed = inner.query_tree().parent  # Tk's wrapper: the window the WM manages
        root = connection.screen().root
        message = event.ClientMessage(
            window=managed,
            client_type=connection.intern_atom("_NET_ACTIVE_WINDOW"),
            data=(32, [2, X.CurrentTime, 0, 0, 0]),  # 2: asked for by a pager, i.e. the user
        )
        mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
        root.send_event(message, event_mask=mask)
        connection.flush()
    except Exception as exc:
        log.info("could not ask the window manager to raise a window: %s", exc)
    finally:
        connection.close()
