"""The app's own small message windows: a question answered with verbs ("Log out" /
"Keep running", never Yes/No) and a notice with one button, in the app's theme.

Both are modal (they run their own Tk wait loop until answered), so the app calls them
through injectable callables that tests replace (``TrayApp.confirm``/``inform``).
"""

from __future__ import annotations

import enum
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from tray.ui import style
from tray.ui.messages import Question
from tray.ui.widgets import close_window, message

__all__ = ["Level", "Question", "ask", "tell"]


class Level(enum.Enum):
    INFO = "information"
    WARNING = "warning"
    ERROR = "error"


class AlertWindow:
    """One message with its buttons; ``answer`` is what the user chose (False on Escape)."""

    def __init__(
        self,
        root: tk.Misc,
        title: str,
        text: str,
        level: Level,
        accept: str,
        reject: str | None,
        *,
        focus_reject: bool = False,  # and make it the default: going ahead loses something
    ) -> None:
        style.ensure_theme(root)
        self.answer = False
        self.top = tk.Toplevel(root)
        self.top.title(title)
        self.top.resizable(False, False)
        body = ttk.Frame(self.top, padding=style.pad(root, 2))
        body.pack(fill="both", expand=True)
        ttk.Label(body, image=f"::tk::icons::{level.value}").grid(
            row=0, column=0, rowspan=2, sticky="n", padx=(0, style.pad(root, 1.5))
        )
        ttk.Label(body, text=title, style="Heading.TLabel").grid(row=0, column=1, sticky="w")
        self.text = message(body, text, width=style.wrap(root, 360))
        self.text.grid(row=1, column=1, sticky="w", pady=(style.pad(root, 0.5), 0))
        choices: list[tuple[str, Callable[[], object], style.ButtonRole]] = [
            (accept, self._accept, style.ButtonRole.ACCEPT)
        ]
        if reject is not None:
            choices.append((reject, self.close, style.ButtonRole.CANCEL))
        row, buttons = style.button_row(body, choices)
        row.grid(row=2, column=0, columnspan=2, sticky="e", pady=(style.pad(root, 2), 0))
        self.accept_button = buttons[0]
        self.reject_button = buttons[1] if reject is not None else None
        safe_default = focus_reject and self.reject_button is not None
        if safe_default and self.reject_button is not None:  # Return must not lose anything
            style.mark_default(self.accept_button, False)
            style.mark_default(self.reject_button)
            self.reject_button.focus_set()
        else:
            self.accept_button.focus_set()
        style.dialog_keys(
            self.top, default=self.close if safe_default else self._accept, cancel=self.close
        )
        style.place_centred(self.top)

    @classmethod
    def asking(cls, root: tk.Misc, question: Question) -> AlertWindow:
        return cls(
            root,
            question.title,
            question.text,
            Level.WARNING,
            question.accept,
            question.reject,
            focus_reject=question.destructive,
        )

    def _accept(self) -> None:
        self.answer = True
        self.close()

    def close(self) -> None:
        if self.top.winfo_exists():
            close_window(self.top)

    def wait(self) -> bool:
        self.top.grab_set()
        self.top.wait_window()
        return self.answer


def ask(root: tk.Misc, question: Question) -> bool:
    """Ask and wait (modal); True when the user chose ``question.accept``."""
    return AlertWindow.asking(root, question).wait()


def tell(root: tk.Misc, title: str, text: str, level: Level = Level.INFO) -> None:
    """Show a message and wait (modal) until it is closed."""
    AlertWindow(root, title, text, level, "OK", None).wait()
