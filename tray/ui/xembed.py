"""A tray icon for X11 system trays (the XEmbed "System Tray Protocol"), on one thread.

pystray's xorg backend shares one Xlib connection between its event thread and
whichever thread sets the icon; under a real tray that froze the app (the setter
waits for an event thread that is itself inside Xlib). Here one thread owns the
connection and makes every X call; setters only store what to show next and wake
that thread through a pipe, so they never block and an idle icon wakes nobody.

It also does what the xorg backend did not: clicks reach the app (left or right
button: ``on_activate``), the icon is drawn on the tray's ARGB visual when the tray
offers one (real transparency) and otherwise with a shape mask over the panel's
own background, and it docks again when the tray restarts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from collections.abc import Callable
from typing import Any

from PIL import Image

__all__ = ["XEmbedIcon"]

log = logging.getLogger(__name__)

_DOCK_REQUEST = 0  # SYSTEM_TRAY_REQUEST_DOCK
_XEMBED_MAPPED = 1
_DOCK_WAIT_SECONDS = 1.0
_SIDE = 24  # the size asked of the tray; it may give another, and the icon is drawn to fit


class XEmbedIcon:
    """An icon in the X11 system tray; setters may be called from any thread."""

    HAS_MENU = False
    menu: Any = None  # trays draw no menus for XEmbed icons: a click opens the app's window

    def __init__(
        self, name: str, icon: Image.Image, title: str, on_activate: Callable[[], None]
    ) -> None:
        self.name = name
        self.on_activate: Callable[[], None] | None = on_activate  # any click, owner thread
        self.anchor: tuple[int, int] | None = None  # where it was last clicked
        self._lock = threading.Lock()
        self._image, self._title = icon, title
        self._image_changed = self._title_changed = True
        self._stopping = False
        self._asked_to_dock = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)
        self._pipe_closed = False
        self._thread = threading.Thread(target=self._run, name="tray-xembed", daemon=True)

    @property
    def icon(self) -> Image.Image:
        return self._image

    @icon.setter
    def icon(self, image: Image.Image) -> None:
        with self._lock:
            self._image, self._image_changed = image, True
        self._wake()

    @property
    def title(self) -> str:
        return self._title

    @title.setter
    def title(self, title: str) -> None:
        with self._lock:
            self._title, self._title_changed = title, True
        self._wake()

    def run_detached(self) -> None:
        """Start the owner thread; return once it has asked the tray to dock the icon
        (or found none), so that the app's own start-up does not hold it back."""
        self._thread.start()
        self._asked_to_dock.wait(_DOCK_WAIT_SECONDS)

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        self._wake()
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join(timeout=5)

    def _wake(self) -> None:
        with self._lock:
            if self._pipe_closed:  # the icon has stopped: its numbers may be reused
                return
            with contextlib.suppress(BlockingIOError):  # full: the thread is waking anyway
                os.write(self._wake_write, b"\0")

    # -- the owner thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            _Tray(self, self._asked_to_dock).serve()
        except Exception:
            log.exception("the X11 tray icon stopped")
        finally:
            self._asked_to_dock.set()
            with self._lock:
                self._pipe_closed = True
                os.close(self._wake_read)
                os.close(self._wake_write)

    @property
    def wake_fd(self) -> int:
        """Readable when a setter has something for the owner thread."""
        return self._wake_read

    def take_changes(self) -> tuple[bool, Image.Image | None, str | None]:
        """What changed since the last look: (stopping, new image, new title)."""
        with self._lock:
            image = self._image if self._image_changed else None
            title = self._title if self._title_changed else None
            self._image_changed = self._title_changed = False
            return self._stopping, image, title


class _Tray:
    """The X side, used only on the owner thread."""

    def __init__(self, icon: XEmbedIcon, asked_to_dock: threading.Event) -> None:
        from Xlib import X, Xatom, Xutil
        from Xlib import display as xdisplay
        from Xlib.protocol import event

        self.X, self.Xatom, self.Xutil, self.events = X, Xatom, Xutil, event
        self.icon = icon
        self.asked_to_dock = asked_to_dock
        self.display = xdisplay.Display()
        self.screen = self.display.screen()
        self.root = self.screen.root
        atom = self.display.intern_atom
        self.selection = atom(f"_NET_SYSTEM_TRAY_S{self.display.get_default_screen()}")
        self.opcode = atom("_NET_SYSTEM_TRAY_OPCODE")
        self.manager_atom = atom("MANAGER")
        self.visual_atom = atom("_NET_SYSTEM_TRAY_VISUAL")
        self.xembed_info = atom("_XEMBED_INFO")
        self.root.change_attributes(event_mask=X.StructureNotifyMask)  # MANAGER messages
        self.manager: Any = None
        self.window: Any = None
        self.depth = 0
        self.image: Image.Image = icon.icon
        self.size = (0, 0)
        self.dirty = False

    def serve(self) -> None:
        try:
            self.dock(self.display.get_selection_owner(self.selection))
            self.display.flush()
            self.asked_to_dock.set()
            while self.step():
                pass
        finally:
            if self.window is not None:
                self.window.destroy()
            self.display.close()

    def step(self) -> bool:
        """Handle what is pending, then sleep until X or a setter has something."""
        while self.display.pending_events():
            self.handle(self.display.next_event())
        stopping, image, title = self.icon.take_changes()
        if stopping:
            return False
        if title is not None and self.window is not None:
            self.window.set_wm_name(title)
        if image is not None:
            self.image, self.dirty = image, True
        if self.dirty and self.window is not None:
            self.draw()
        self.display.flush()
        wake = self.icon.wake_fd
        readable, _, _ = select.select([self.display.fileno(), wake], [], [])
        if wake in readable:
            os.read(wake, 4096)
        return True

    def handle(self, event: Any) -> None:
        X = self.X
        if event.type == X.ClientMessage and event.client_type == self.manager_atom:
            if event.data[1][1] == self.selection:  # a (new) tray took the selection
                self.dock(self.display.get_selection_owner(self.selection))
        elif event.type == X.DestroyNotify and self.manager is not None:
            if event.window.id == self.manager.id:  # the tray went away: wait for the next
                self.manager = None
        elif self.window is None or getattr(event, "window", None) != self.window:
            return
        elif event.type == X.ConfigureNotify:
            self.size, self.dirty = (event.width, event.height), True
        elif event.type == X.Expose and event.count == 0:
            self.dirty = True
        elif event.type == X.ButtonPress and event.detail in (1, 3) and self.icon.on_activate:
            self.icon.anchor = (event.root_x, event.root_y)
            self.icon.on_activate()

    def dock(self, manager: Any) -> None:
        X = self.X
        if manager == X.NONE:
            return
        self.manager = manager
        manager.change_attributes(event_mask=X.StructureNotifyMask)
        if self.window is None:
            self.window = self.create_window(manager)
        self.window.change_property(self.xembed_info, self.xembed_info, 32, [0, _XEMBED_MAPPED])
        self.window.set_wm_name(self.icon.title)
        message = self.events.ClientMessage(
            window=manager,
            client_type=self.opcode,
            data=(32, [X.CurrentTime, _DOCK_REQUEST, self.window.id, 0, 0]),
        )
        manager.send_event(message, event_mask=X.NoEventMask)
        self.dirty = True

    def create_window(self, manager: Any) -> Any:
        X = self.X
        mask = X.ExposureMask | X.StructureNotifyMask | X.ButtonPressMask
        visual = self.tray_visual(manager)
        if visual is not None:  # 32-bit ARGB: the icon's own alpha over the panel
            self.depth = 32
            colormap = self.root.create_colormap(visual, X.AllocNone)
            window = self.root.create_window(
                0, 0, _SIDE, _SIDE, 0, 32, X.InputOutput, visual,
                colormap=colormap, background_pixel=0, border_pixel=0, event_mask=mask,
            )  # fmt: skip
        else:  # the panel's own background, the icon cut out of it by its alpha
            self.depth = self.screen.root_depth
            window = self.root.create_window(
                0, 0, _SIDE, _SIDE, 0, X.CopyFromParent, X.InputOutput, X.CopyFromParent,
                background_pixmap=X.ParentRelative, event_mask=mask,
            )  # fmt: skip
        window.set_wm_class(self.icon.name, "Multishot")
        # Trays size their slot from these hints (without them trayer gives 1 px width).
        flags = self.Xutil.PSize | self.Xutil.PMinSize
        window.set_wm_normal_hints(flags=flags, min_width=_SIDE, min_height=_SIDE)
        self.size = (_SIDE, _SIDE)
        return window

    def tray_visual(self, manager: Any) -> int | None:
        """The tray's 32-bit visual, if it offers one (_NET_SYSTEM_TRAY_VISUAL)."""
        prop = manager.get_full_property(self.visual_atom, self.Xatom.VISUALID)
        if prop is None or not prop.value:
            return None
        visual = int(prop.value[0])
        for depth in self.screen.allowed_depths:
            if depth.depth == 32 and any(v.visual_id == visual for v in depth.visuals):
                return visual
        return None

    def draw(self) -> None:
        width, height = self.size
        side = max(1, min(width, height))
        image = self.image.convert("RGBA").resize((side, side), Image.Resampling.LANCZOS)
        left, top = (width - side) // 2, (height - side) // 2
        self.window.clear_area()
        gc = self.window.create_gc()
        if self.depth == 32:
            premultiplied = Image.new("RGBA", image.size)
            premultiplied.paste(image, mask=image)  # colour scaled by its alpha
            r, g, b, a = premultiplied.split()
            data = Image.merge("RGBA", (b, g, r, a)).tobytes()  # ARGB32, little-endian
            self.window.put_image(gc, left, top, side, side, self.X.ZPixmap, 32, 0, data)
        else:
            mask = self.window.create_pixmap(side, side, 1)
            mask_gc = mask.create_gc(foreground=1, background=0)
            opaque = image.getchannel("A").point(lambda alpha: 255 if alpha > 127 else 0)
            mask.put_pil_image(mask_gc, 0, 0, opaque.convert("1"))
            gc.change(clip_mask=mask, clip_x_origin=left, clip_y_origin=top)
            self.window.put_pil_image(gc, left, top, image.convert("RGB"))
            mask_gc.free()
            mask.free()
        gc.free()
        self.dirty = False
