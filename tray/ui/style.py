"""One look for every window: theme, colours, fonts, spacing and keys, scaled to the display.

Every window calls :func:`ensure_theme` before it builds anything, and sizes its
padding and wrap widths with :func:`pad` and :func:`wrap`, never with raw pixels, so
that a 2x display gets 2x spacing. The theme is loaded by the first window, not at
start-up: the tray icon must be up, and the idle app small, before any of it is needed.

Themes: the native ones on Windows (``vista``) and macOS (``aqua``); on Linux Sun
Valley (the ``sv-ttk`` package, light or dark following the desktop), its images and
spacing zoomed on a HiDPI display. ``MULTISHOT_THEME=light|dark`` overrides the
desktop's preference (screenshots use it).

Keys (:func:`dialog_keys`, :func:`radio_group`, :func:`make_focusable`): Return acts on
the focused button, or else on the window's default button; Space on the focused
button; Escape cancels; arrow keys move within a radio group.

Styles every theme gets: ``Heading.TLabel`` (:data:`HEADING_FONT`), ``Muted.TLabel``,
``Error.TLabel``, ``Warning.TLabel``, ``Link.TLabel``; :func:`mark_default` gives a
button ``Accent.TButton``. Code is shown in ``TkFixedFont``; :func:`text_box` makes a
multi-line field that matches the theme.

Long because every window's look and keys are decided here, in one place, and the
theme needs its HiDPI and dark-mode detection next to it.
"""

from __future__ import annotations

import configparser
import dataclasses
import enum
import functools
import logging
import os
import re
import sys
import tkinter as tk
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from tkinter import font as tkfont
from tkinter import ttk
from typing import Any

__all__ = [
    "BASE_PAD",
    "BASE_WRAP",
    "HEADING_FONT",
    "THEME_ENV",
    "ButtonRole",
    "Palette",
    "button_row",
    "desktop_prefers_dark",
    "dialog_keys",
    "ensure_theme",
    "make_dpi_aware",
    "make_focusable",
    "mark_default",
    "pad",
    "palette",
    "place_centred",
    "radio_group",
    "scale",
    "text_box",
    "wrap",
]

log = logging.getLogger(__name__)
BASE_PAD = 8  # pixels at 96 dpi
BASE_WRAP = 420  # pixels at 96 dpi
THEME_ENV = "MULTISHOT_THEME"
HEADING_FONT = "MultishotHeadingFont"  # a named font (the style "Heading.TLabel" uses it)
_APPLIED = "::multishot_theme"  # a Tcl variable: which theme this interpreter uses
_PORTAL_TIMEOUT_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Palette:
    """Colours for what ttk styles don't reach (Text tags, Canvas), matching the theme."""

    dark: bool
    background: str
    text: str
    muted: str
    error: str
    added: str
    removed: str
    hunk: str
    highlight: str  # background of a find match
    warning: str
    link: str


_LIGHT = Palette(
    dark=False,
    background="#ffffff",
    text="#1f2328",
    muted="#59636e",
    error="#cf222e",
    added="#1a7f37",
    removed="#cf222e",
    hunk="#8250df",
    highlight="#fff8c5",
    warning="#9a6700",
    link="#0969da",
)
_DARK = Palette(
    dark=True,
    background="#1c1c1c",
    text="#f0f0f0",
    muted="#a8a8a8",
    error="#ff7b72",
    added="#56d364",
    removed="#ff7b72",
    hunk="#d2a8ff",
    highlight="#6e5b00",
    warning="#d29922",
    link="#58a6ff",
)


def scale(widget: tk.Misc) -> float:
    """How many pixels the display has for one pixel at 96 dpi (1.0, 2.0 on HiDPI)."""
    # To a twentieth: Tk's scaling makes 2x come out as 2.004.
    return max(1.0, round(widget.winfo_fpixels("1i") / 96.0 * 20) / 20)


def pad(widget: tk.Misc, times: float = 1) -> int:
    return round(BASE_PAD * times * scale(widget))


def wrap(widget: tk.Misc, base: int = BASE_WRAP) -> int:
    return round(base * scale(widget))


# -- theme ------------------------------------------------------------------------------


def ensure_theme(root: tk.Misc) -> None:
    """Load and apply the app's theme once per Tk interpreter; cheap after the first call."""
    if root.tk.call("info", "exists", _APPLIED):
        return
    system = root.tk.call("tk", "windowingsystem")
    if system == "x11":
        _scale_to_x11_dpi(root)
    style = ttk.Style(root)
    if system == "win32":
        style.theme_use("vista")
        theme = "vista"
    elif system == "aqua":
        theme = "aqua-dark" if _aqua_is_dark(root) else "aqua"
    else:
        theme = "sun-valley-dark" if desktop_prefers_dark() else "sun-valley-light"
        try:
            _load_sun_valley(root, theme)
        except (ImportError, tk.TclError) as exc:  # a broken install: plain, but working
            log.warning("the Sun Valley theme could not be loaded (%s); using clam", exc)
            theme = "clam"
            style.theme_use(theme)
    _set_fonts(root)
    root.tk.call("set", _APPLIED, theme)


def palette(root: tk.Misc) -> Palette:
    """The colours of the applied theme."""
    ensure_theme(root)
    applied = str(root.tk.call("set", _APPLIED))
    return _DARK if applied.endswith("dark") else _LIGHT


def desktop_prefers_dark() -> bool:
    """Whether a Linux desktop asks for dark windows: ``MULTISHOT_THEME``, then the
    settings portal's ``org.freedesktop.appearance color-scheme``, then GTK's settings."""
    chosen = os.environ.get(THEME_ENV, "").strip().lower()
    if chosen in ("light", "dark"):
        return chosen == "dark"
    portal = _portal_color_scheme()
    if portal is not None:
        return portal
    gtk_theme = os.environ.get("GTK_THEME", "")
    if gtk_theme:
        return gtk_theme.lower().endswith(":dark") or "dark" in gtk_theme.lower()
    return _gtk_settings_prefer_dark()


def _portal_color_scheme() -> bool | None:
    """The settings portal's answer (1: prefer dark, 2: prefer light; 0, no portal, no
    bus: None). ``ReadOne`` since 2023; older portals only have ``Read``."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return None
    try:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection
    except ImportError:
        return None
    portal = DBusAddress(
        "/org/freedesktop/portal/desktop",
        bus_name="org.freedesktop.portal.Desktop",
        interface="org.freedesktop.portal.Settings",
    )
    setting = ("org.freedesktop.appearance", "color-scheme")
    try:
        connection = open_dbus_connection(bus="SESSION")
    except (OSError, ValueError):
        return None
    with connection:
        for method in ("ReadOne", "Read"):
            call = new_method_call(portal, method, "ss", setting)
            try:
                reply = connection.send_and_get_reply(call, timeout=_PORTAL_TIMEOUT_SECONDS)
            except (OSError, TimeoutError):
                return None
            if reply.header.message_type.name == "error":
                continue  # no such method (an old portal), or no portal at all
            value = reply.body[0] if reply.body else None
            while isinstance(value, tuple):  # a variant (signature, value); Read nests two
                value = value[-1]
            return {1: True, 2: False}.get(value) if isinstance(value, int) else None
    return None


def _gtk_settings_prefer_dark() -> bool:
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(config / "gtk-3.0" / "settings.ini", encoding="utf-8")
    except (OSError, configparser.Error):
        return False
    settings = parser["Settings"] if parser.has_section("Settings") else {}
    prefer = str(settings.get("gtk-application-prefer-dark-theme", "")).strip().lower()
    return prefer in ("1", "true", "yes") or "dark" in str(settings.get("gtk-theme-name", ""))


def _aqua_is_dark(root: tk.Misc) -> bool:
    try:
        return bool(root.tk.call("::tk::unsupported::MacWindowStyle", "isdark", "."))
    except tk.TclError:
        return False


def _scale_to_x11_dpi(root: tk.Misc) -> None:
    """Tk takes its scaling from the screen's physical size, which X servers often get
    wrong; desktops put the real one in the ``Xft.dpi`` resource (Tk reads the resource
    database at start-up; GDK_SCALE is GNOME's integer override)."""
    dpi = _xft_dpi(root)
    gdk_scale = os.environ.get("GDK_SCALE", "")
    if dpi is None and gdk_scale.isdigit() and int(gdk_scale) > 1:
        dpi = 96.0 * int(gdk_scale)
    if dpi is not None and 48 <= dpi <= 480:
        root.tk.call("tk", "scaling", dpi / 72.0)


def _xft_dpi(root: tk.Misc) -> float | None:
    try:
        from Xlib import Xatom
        from Xlib.display import Display
    except ImportError:
        return None
    try:
        display = Display(root.winfo_screen())
    except Exception:  # Xlib raises its own hierarchy (and OSError) for a display it can't use
        return None
    try:
        atom = display.intern_atom("RESOURCE_MANAGER")
        prop = display.screen().root.get_full_property(atom, Xatom.STRING)
    finally:
        display.close()
    raw = prop.value if prop is not None else b""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else ""
    found = re.search(r"^Xft\.dpi:\s*([0-9.]+)\s*$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def _load_sun_valley(root: tk.Misc, theme: str) -> None:
    """Source sv-ttk's Tcl; on a HiDPI display zoom its images and the spacing around
    them by a whole factor (its pictures are drawn for 96 dpi)."""
    import sv_ttk

    zoom = max(1, round(scale(root)))
    if zoom > 1:
        root.tk.eval(_ZOOMED_STYLE.replace("ZOOM", str(zoom)))
    try:
        root.tk.call("source", str(sv_ttk.TCL_THEME_FILE_PATH))
    finally:
        if zoom > 1:
            root.tk.eval("rename ::ttk::style {}; rename ::ttk::_style_96dpi ::ttk::style")
    if zoom > 1:
        for namespace in ("sv_light", "sv_dark"):
            for image in root.tk.splitlist(
                root.tk.eval(f"array names ::ttk::theme::{namespace}::I")
            ):
                _zoom_image(root, root.tk.eval(f"set ::ttk::theme::{namespace}::I({image})"), zoom)
    ttk.Style(root).theme_use(theme)
    root.tk.call("configure_colors")  # sv-ttk runs it on <<ThemeChanged>>, which comes later


# While sv-ttk's files are sourced, `ttk::style` multiplies the pixel sizes it is given.
_ZOOMED_STYLE = """
rename ::ttk::style ::ttk::_style_96dpi
proc ::ttk::style {args} {
    set out {}
    set zoom_next 0
    foreach word $args {
        if {$zoom_next} {
            set zoomed {}
            foreach number $word {
                if {[string is integer -strict $number]} {
                    lappend zoomed [expr {$number * ZOOM}]
                } else {
                    lappend zoomed $number
                }
            }
            set word $zoomed
            set zoom_next 0
        } elseif {$word in {-border -padding -width -height -rowheight -arrowsize}} {
            set zoom_next 1
        }
        lappend out $word
    }
    uplevel 1 [list ::ttk::_style_96dpi {*}$out]
}
"""


def _zoom_image(root: tk.Misc, image: str, zoom: int) -> None:
    copy = root.tk.call("image", "create", "photo")
    try:
        root.tk.call(copy, "copy", image, "-zoom", zoom)
        root.tk.call(image, "configure", "-width", 0, "-height", 0)
        root.tk.call(image, "blank")
        root.tk.call(image, "copy", copy)
    finally:
        root.tk.call("image", "delete", copy)


def _set_fonts(root: tk.Misc) -> None:
    """One scheme: the desktop's TkDefaultFont everywhere (sv-ttk's own fonts are given
    its family and point size, so they scale with the display), a heading font one step
    up and bold, TkFixedFont for code."""
    default = tkfont.nametofont("TkDefaultFont", root=root)
    family, size = default.actual("family"), abs(int(default.actual("size"))) or 10
    for name in tkfont.names(root):
        if name.startswith("SunValley"):
            tkfont.nametofont(name, root=root).configure(family=family, size=size)
    # Made in Tcl: a tkinter Font object deletes the font it made when it is collected.
    verb = "configure" if HEADING_FONT in tkfont.names(root) else "create"
    root.tk.call(
        "font", verb, HEADING_FONT, "-family", family, "-size", round(size * 1.3), "-weight", "bold"
    )
    style = ttk.Style(root)
    style.configure("Heading.TLabel", font=HEADING_FONT)
    colours = _palette_of_theme(root)
    style.configure("Error.TLabel", foreground=colours.error)
    style.configure("Warning.TLabel", foreground=colours.warning)
    style.configure("Muted.TLabel", foreground=colours.muted)
    style.configure("Link.TLabel", foreground=colours.link)


def _palette_of_theme(root: tk.Misc) -> Palette:
    """The palette of the ttk theme in use (while :func:`ensure_theme` applies it)."""
    theme = str(root.tk.eval("set ::ttk::currentTheme"))
    return _DARK if theme.endswith("dark") else _LIGHT


def make_dpi_aware() -> None:
    """Windows: draw at the monitor's real DPI (per monitor) rather than be bitmap-
    stretched; must run before Tk starts. Elsewhere nothing to do (macOS Retina is
    handled by Tk, X11 by :func:`ensure_theme`)."""
    if sys.platform != "win32":
        return
    import ctypes

    windll = getattr(ctypes, "windll")  # noqa: B009  (Windows only: not in other stubs)
    try:
        windll.shcore.SetProcessDpiAwareness(2)
    except (AttributeError, OSError):  # before Windows 8.1
        windll.user32.SetProcessDPIAware()


# -- buttons and keys -------------------------------------------------------------------


class ButtonRole(enum.Enum):
    ACCEPT = "accept"  # the window's default action (Return)
    CANCEL = "cancel"  # what Escape does too (bound by dialog_keys)
    OTHER = "other"


def affirmative_first(root: tk.Misc) -> bool:
    """Windows puts OK before Cancel; macOS and GNOME put it last."""
    return bool(root.tk.call("tk", "windowingsystem") == "win32")


def button_row(
    parent: tk.Misc, buttons: Sequence[tuple[str, Callable[[], object], ButtonRole]]
) -> tuple[ttk.Frame, list[ttk.Button]]:
    """A right-aligned row of buttons in the platform's order; the buttons are returned
    in the order given. The ACCEPT button is drawn as the default."""
    row = ttk.Frame(parent)
    made = [ttk.Button(row, text=text, command=command) for text, command, _role in buttons]
    roles = [role for _text, _command, role in buttons]
    for button, role in zip(made, roles, strict=True):
        mark_default(button, role is ButtonRole.ACCEPT)

    def rank(index: int) -> int:
        role = roles[index]
        if role is ButtonRole.OTHER:
            return 0
        accept_last = not affirmative_first(parent)
        return 1 + int((role is ButtonRole.ACCEPT) == accept_last)

    for index in sorted(range(len(made)), key=rank, reverse=True):
        made[index].pack(side="right", padx=(pad(parent, 0.75), 0))
    return row, made


def mark_default(button: ttk.Button, default: bool = True) -> None:
    """Draw ``button`` as its window's default (Return): the native ring on Windows and
    macOS, Sun Valley's accent colour on Linux."""
    button.configure(default="active" if default else "normal")
    button.configure(style="Accent.TButton" if default else "TButton")


# Return presses these when they have the focus; on a check box or radio button it is
# the window's default, as on every desktop (Space toggles them).
_PRESSED_BY_RETURN = frozenset({"TButton", "Button"})


def dialog_keys(
    top: tk.Toplevel,
    *,
    default: Callable[[], object] | None,
    cancel: Callable[[], object],
    multiline: Iterable[tk.Text] = (),
) -> None:
    """Return: the focused button, else ``default``; Space: the focused button (ttk's
    own binding); Escape: ``cancel``, also on the window manager's close button.
    In the ``multiline`` text boxes Return is a new line and Tab moves on (Ctrl+Tab
    types a tab)."""

    def on_return(event: tk.Event[tk.Misc]) -> str | None:
        widget = event.widget
        if isinstance(widget, tk.Text):
            return None
        if widget.winfo_class() in _PRESSED_BY_RETURN:
            widget.invoke()  # type: ignore[attr-defined]
        elif default is not None:
            default()
        return "break"

    top.bind("<Return>", on_return)
    top.bind("<KP_Enter>", on_return)
    top.bind("<Escape>", lambda _event: cancel())
    top.protocol("WM_DELETE_WINDOW", cancel)
    for text in multiline:
        text.bind("<Tab>", _focus_next)
        text.bind("<Shift-Tab>", _focus_previous)
        text.bind("<ISO_Left_Tab>", _focus_previous)
        text.bind("<Control-Tab>", _insert_tab)


def _focus_next(event: tk.Event[tk.Misc]) -> str:
    target = event.widget.tk_focusNext()
    if target is not None:
        target.focus_set()
    return "break"


def _focus_previous(event: tk.Event[tk.Misc]) -> str:
    target = event.widget.tk_focusPrev()
    if target is not None:
        target.focus_set()
    return "break"


def _insert_tab(event: tk.Event[tk.Text]) -> str:
    event.widget.insert("insert", "\t")
    return "break"


def radio_group(radios: Sequence[ttk.Radiobutton]) -> None:
    """Arrow keys move between the radio buttons and select; Tab enters the group at the
    selected one and leaves it (as on every desktop)."""

    for index, radio in enumerate(radios):
        for key, step in (("<Up>", -1), ("<Left>", -1), ("<Down>", 1), ("<Right>", 1)):
            radio.bind(key, functools.partial(_move_in_group, radios, index, step))
        radio.configure(takefocus=functools.partial(_radio_takes_focus, radio, radios))


def _move_in_group(radios: Sequence[ttk.Radiobutton], index: int, step: int, _event: object) -> str:
    target = radios[(index + step) % len(radios)]
    target.focus_set()
    target.invoke()
    return "break"


def _radio_takes_focus(
    radio: ttk.Radiobutton, radios: Sequence[ttk.Radiobutton], _path: str
) -> bool:
    selected = [r for r in radios if r.instate(["selected"])]
    return radio is (selected[0] if selected else radios[0])


def make_focusable(label: ttk.Label, activate: Callable[[], object]) -> None:
    """A clickable label (a link) that Tab reaches, shows its focus, and that Return or
    Space activates."""
    underline = tkfont.Font(root=label, font=label.cget("font") or "TkDefaultFont")
    underline.configure(underline=True)
    plain = label.cget("font") or "TkDefaultFont"
    label.configure(takefocus=True)
    label.bind("<FocusIn>", lambda _event: label.configure(font=underline))
    label.bind("<FocusOut>", lambda _event: label.configure(font=plain))

    def on_key(_event: tk.Event[tk.Misc]) -> str:
        activate()
        return "break"  # not the window's default button as well

    for key in ("<Return>", "<KP_Enter>", "<space>"):
        label.bind(key, on_key)
    label.bind("<Button-1>", lambda _event: activate())


def place_centred(top: tk.Toplevel) -> None:
    """Put a new window in the middle of the screen (before it is first drawn)."""
    top.update_idletasks()
    width, height = top.winfo_reqwidth(), top.winfo_reqheight()
    x = max(0, (top.winfo_screenwidth() - width) // 2)
    y = max(0, (top.winfo_screenheight() - height) // 3)
    top.geometry(f"+{x}+{y}")


def text_box(parent: tk.Misc, **options: Any) -> tk.Text:
    """A multi-line text field that looks like the theme's entries (a flat field with a
    thin border that takes the accent colour while focused), in the body font."""
    colours = palette(parent)
    border = "#5a5a5a" if colours.dark else "#c4c4c4"
    accent = colours.link
    defaults: dict[str, Any] = {
        "wrap": "word",
        "font": "TkDefaultFont",
        "relief": "flat",
        "borderwidth": 0,
        "highlightthickness": max(1, round(scale(parent))),
        "highlightbackground": border,
        "highlightcolor": accent,
        "background": colours.background if not colours.dark else "#2b2b2b",
        "foreground": colours.text,
        "insertbackground": colours.text,
        "padx": pad(parent, 0.75),
        "pady": pad(parent, 0.5),
        "undo": True,
    }
    return tk.Text(parent, **{**defaults, **options})
