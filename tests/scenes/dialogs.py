"""Scenes: New run, the actions window, the app's questions and errors."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable

from tests.scenes import scene
from tray.errors import KeychainLocked
from tray.ui import messages
from tray.ui.alerts import AlertWindow, Level
from tray.ui.dialogs import ActionsWindow, NewRunDialog
from tray.ui.menu import MenuState, RunEntry


@scene("new-run")
def new_run(root: tk.Tk) -> tk.Misc:
    dialog = NewRunDialog(root, lambda _spec: None)
    dialog.prompt.insert("1.0", "Make the flaky test in tests/test_sync.py deterministic.")
    dialog.repo.set("https://github.com/octo/widgets.git")
    return dialog.top


@scene("new-run-error")
def new_run_error(root: tk.Tk) -> tk.Misc:
    dialog = NewRunDialog(root, lambda _spec: None)
    dialog.prompt.insert("1.0", "Make the flaky test in tests/test_sync.py deterministic.")
    dialog.repo.set("github.com/octo/widgets")
    dialog.start_button.invoke()
    return dialog.top


class _NoActions:
    """The actions window's buttons, doing nothing (a picture is taken, nothing clicked)."""

    def __getattr__(self, _name: str) -> Callable[..., None]:
        return lambda *_args: None


ACCOUNT = ("Claude: API key sk-ant-…Ab12", "Daytona: dtn_…9f3e")


@scene("actions")
def actions(root: tk.Tk) -> tk.Misc:
    state = MenuState(
        has_credentials=True,
        account_lines=ACCOUNT,
        auth_error_waiting=False,
        runs=(RunEntry("3f2a9c1e", "3f2a9c — running 2/4", True),),
    )
    return ActionsWindow(root, state, _NoActions()).top


@scene("actions-credential-to-fix")
def actions_with_trouble(root: tk.Tk) -> tk.Misc:
    """A credential failed a run, and two of its sandboxes could not be deleted."""
    state = MenuState(
        has_credentials=True,
        account_lines=ACCOUNT,
        auth_error_waiting=True,
        runs=(RunEntry("3f2a9c1e", "3f2a9c — auth failed", False),),
        sandboxes_left=2,
    )
    return ActionsWindow(root, state, _NoActions()).top


@scene("log-out-confirm")
def log_out(root: tk.Tk) -> tk.Misc:
    return AlertWindow.asking(root, messages.log_out_question(2)).top


@scene("two-credentials-question")
def two_credentials(root: tk.Tk) -> tk.Misc:
    return AlertWindow.asking(root, messages.CONFLICT_QUESTION).top


@scene("error-keychain-locked")
def keychain_locked(root: tk.Tk) -> tk.Misc:
    error = KeychainLocked.locked()
    return AlertWindow(root, error.title, error.message, Level.ERROR, "OK", None).top
