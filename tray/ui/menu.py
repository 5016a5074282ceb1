"""The tray menu, built from a snapshot of the app's state.

pystray is imported here lazily: importing it opens the display.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

from tray.runs.display import plural

__all__ = [
    "MenuActions",
    "MenuState",
    "RunEntry",
    "build_menu",
]


@dataclasses.dataclass(frozen=True)
class RunEntry:
    run_id: str
    label: str
    active: bool


@dataclasses.dataclass(frozen=True)
class MenuState:
    has_credentials: bool
    account_lines: tuple[str, ...]
    auth_error_waiting: bool
    runs: tuple[RunEntry, ...] = ()
    start_at_login: bool = False
    sandboxes_left: int = 0


class MenuActions(Protocol):
    def new_run(self) -> None: ...
    def open_runs(self) -> None: ...
    def check_credentials(self) -> None: ...
    def setup_credentials(self) -> None: ...
    def fix_credentials(self) -> None: ...
    def log_out(self) -> None: ...
    def quit(self) -> None: ...
    def open_folder(self, run_id: str) -> None: ...
    def open_compare(self, run_id: str) -> None: ...
    def show_log(self, run_id: str) -> None: ...
    def cancel_run(self, run_id: str) -> None: ...
    def toggle_start_at_login(self) -> None: ...
    def delete_leftovers(self) -> None: ...


def build_menu(state: MenuState, actions: MenuActions) -> Any:
    from tray.ui.tray_icon import load_pystray

    pystray = load_pystray()
    Menu, MenuItem = pystray.Menu, pystray.MenuItem

    def item(text: str, action: Callable[[], None], **options: Any) -> Any:
        return MenuItem(text, lambda _icon, _item: action(), **options)

    def run_menu(entry: RunEntry) -> Any:
        return MenuItem(
            entry.label,
            Menu(
                item(
                    "Compare shots…",
                    lambda: actions.open_compare(entry.run_id),
                    enabled=not entry.active,
                ),
                item("Open results folder", lambda: actions.open_folder(entry.run_id)),
                item("Show log", lambda: actions.show_log(entry.run_id)),
                item("Cancel", lambda: actions.cancel_run(entry.run_id), enabled=entry.active),
            ),
        )

    runs = [item("Runs window…", actions.open_runs)]
    runs += [run_menu(entry) for entry in state.runs] or [
        MenuItem("No runs yet", None, enabled=False)
    ]
    return Menu(
        item("New run…", actions.new_run, default=True),
        MenuItem("Runs", Menu(*runs)),
        item(
            f"{plural(state.sandboxes_left, 'sandbox')} left running: delete now",
            actions.delete_leftovers,
            visible=state.sandboxes_left > 0,
        ),
        Menu.SEPARATOR,
        *(MenuItem(line, None, enabled=False) for line in state.account_lines),
        item("Check credentials", actions.check_credentials, enabled=state.has_credentials),
        item("Set up credentials…", actions.setup_credentials),
        item("Fix credentials…", actions.fix_credentials, visible=state.auth_error_waiting),
        item("Log out", actions.log_out, enabled=state.has_credentials),
        Menu.SEPARATOR,
        item(
            "Start at login",
            actions.toggle_start_at_login,
            checked=lambda _item: state.start_at_login,
        ),
        item("Quit", actions.quit),
    )
