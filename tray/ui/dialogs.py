"""The New-run dialog and the no-menu fallback window."""

from __future__ import annotations

import functools
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from tray.errors import InvalidRunSpec
from tray.runs.display import plural
from tray.runs.spec import DEFAULT_SHOTS, MAX_SHOTS, RunSpec, shots_from_text
from tray.ui import style
from tray.ui.menu import MenuActions, MenuState
from tray.ui.widgets import close_window, labelled_entry, message

__all__ = ["ActionsWindow", "NewRunDialog"]


class NewRunDialog:
    """Collects a RunSpec; ``on_start`` receives it and the dialog closes at once.

    Keys: Ctrl+Enter starts the run from anywhere, Return on a one-line field too;
    Tab leaves the prompt and the hints (Ctrl+Tab types a tab); Escape cancels.
    """

    def __init__(self, root: tk.Misc, on_start: Callable[[RunSpec], object]) -> None:
        self.on_start = on_start
        style.ensure_theme(root)
        self.top = tk.Toplevel(root)
        self.top.title("New run")
        gap = style.pad(root)
        frame = ttk.Frame(self.top, padding=style.pad(root, 2))
        frame.pack(fill="both", expand=True)
        frame.grid_columnconfigure(1, weight=1)
        frame.grid_rowconfigure(0, weight=1)
        ttk.Label(frame, text="Prompt").grid(row=0, column=0, sticky="nw", padx=(0, 2 * gap))
        self.prompt = style.text_box(frame, width=60, height=8)
        self.prompt.grid(row=0, column=1, sticky="nsew", pady=(0, gap))
        self.repo = labelled_entry(frame, 1, "Repository URL (optional)")
        self.branch = labelled_entry(frame, 2, "Branch (optional)")
        ttk.Label(frame, text="Shots").grid(row=3, column=0, sticky="w")
        self.shots = tk.StringVar(self.top, value=str(DEFAULT_SHOTS))
        self.shots_box = ttk.Spinbox(frame, from_=1, to=MAX_SHOTS, textvariable=self.shots, width=5)
        self.shots_box.grid(row=3, column=1, sticky="w", pady=(0, gap))
        self.model = labelled_entry(frame, 4, "Model (optional)")
        ttk.Label(frame, text="Approach hints\n(one per line, optional)").grid(
            row=5, column=0, sticky="nw"
        )
        self.hints = style.text_box(frame, width=60, height=4)
        self.hints.grid(row=5, column=1, sticky="nsew", pady=(0, gap))
        self.setup = labelled_entry(frame, 6, "Setup command (optional)")
        self.check = labelled_entry(frame, 7, "Check command (optional)")
        self.judge = tk.BooleanVar(self.top, value=False)
        ttk.Checkbutton(
            frame,
            text="Rank the attempts with one more Claude session (costs like a shot)",
            variable=self.judge,
        ).grid(row=8, column=1, sticky="w")
        self.error = message(frame, style="Error.TLabel", width=style.wrap(root, 560))
        self.error.grid(row=9, column=0, columnspan=2, sticky="w", pady=(gap, 0))
        ttk.Label(frame, text="Ctrl+Enter starts the run", style="Muted.TLabel").grid(
            row=10, column=0, columnspan=2, sticky="w", pady=(2 * gap, 0)
        )
        buttons, (self.start_button, self.cancel_button) = style.button_row(
            frame,
            [
                ("Start", self.start, style.ButtonRole.ACCEPT),
                ("Cancel", self.cancel, style.ButtonRole.CANCEL),
            ],
        )
        buttons.grid(row=10, column=1, sticky="e", pady=(2 * gap, 0))
        style.dialog_keys(
            self.top, default=self.start, cancel=self.cancel, multiline=(self.prompt, self.hints)
        )
        for key in ("<Control-Return>", "<Control-KP_Enter>"):
            for widget in (self.top, self.prompt, self.hints):
                widget.bind(key, self._start_from_key)
        style.place_centred(self.top)
        self.prompt.focus_set()

    def _start_from_key(self, _event: object) -> str:
        self.start()
        return "break"  # no new line in the prompt

    def spec(self) -> RunSpec:
        shots = shots_from_text(self.shots.get())
        hints = tuple(line for line in self.hints.get("1.0", "end").splitlines() if line.strip())
        return RunSpec(
            prompt=self.prompt.get("1.0", "end-1c"),
            shots=shots,
            repo_url=self.repo.get() or None,
            branch=self.branch.get() or None,
            model=self.model.get() or None,
            hints=hints,
            setup=self.setup.get() or None,
            check=self.check.get() or None,
            judge=self.judge.get(),
        )

    def start(self) -> None:
        try:
            spec = self.spec()
        except InvalidRunSpec as exc:
            self.error.configure(text=exc.message)
            return
        close_window(self.top)
        self.on_start(spec)

    def cancel(self) -> None:
        close_window(self.top)


class ActionsWindow:
    """For trays that show no menus (XEmbed): the menu's items in a small window, built
    from the same state and calling the same actions as the menu."""

    def __init__(self, root: tk.Misc, state: MenuState, actions: MenuActions) -> None:
        style.ensure_theme(root)
        self.top = tk.Toplevel(root)
        self.top.title("Multishot")
        self.top.resizable(False, False)
        gap = style.pad(root, 0.5)
        self._gap = gap
        self._frame = ttk.Frame(self.top, padding=style.pad(root, 2))
        self._frame.pack(fill="both", expand=True)
        ttk.Label(self._frame, text="Multishot", style="Heading.TLabel").pack(
            anchor="w", pady=(0, style.pad(root))
        )
        new_run = self._button("New run…", actions.new_run)
        self._button("Runs…", actions.open_runs)
        for entry in state.runs:
            row = ttk.Frame(self._frame)
            row.pack(fill="x", pady=gap)
            ttk.Label(row, text=entry.label).pack(side="left")
            run_id = entry.run_id
            for text, action, enabled in (
                ("Cancel", functools.partial(actions.cancel_run, run_id), entry.active),
                ("Compare", functools.partial(actions.open_compare, run_id), not entry.active),
                ("Log", functools.partial(actions.show_log, run_id), True),
                ("Results", functools.partial(actions.open_folder, run_id), True),
            ):
                self._button(text, action, enabled, parent=row, side="right")
        if state.sandboxes_left:
            left = f"{plural(state.sandboxes_left, 'sandbox')} left running: delete now"
            self._button(left, actions.delete_leftovers)
        ttk.Separator(self._frame).pack(fill="x", pady=style.pad(root))
        for line in state.account_lines:
            ttk.Label(self._frame, text=line, style="Muted.TLabel").pack(anchor="w")
        self._button("Check credentials", actions.check_credentials, state.has_credentials)
        set_up = self._button("Set up credentials…", actions.setup_credentials)
        fix = (
            self._button("Fix credentials…", actions.fix_credentials)
            if state.auth_error_waiting
            else None
        )
        self._button("Log out", actions.log_out, state.has_credentials)
        ttk.Separator(self._frame).pack(fill="x", pady=style.pad(root))
        self.start_at_login = tk.BooleanVar(self.top, value=state.start_at_login)
        ttk.Checkbutton(
            self._frame,
            text="Start at login",
            variable=self.start_at_login,
            command=self._then_close(actions.toggle_start_at_login),
        ).pack(anchor="w", pady=gap)
        self._button("Quit", actions.quit)
        # What the user most likely came for: the fix while a credential waits for one,
        # the setup before there are credentials.
        self.default_button = fix or (new_run if state.has_credentials else set_up)
        style.mark_default(self.default_button)
        style.dialog_keys(
            self.top, default=self.default_button.invoke, cancel=lambda: close_window(self.top)
        )
        style.place_centred(self.top)
        self.default_button.focus_set()

    def _button(
        self,
        text: str,
        action: Callable[[], None],
        enabled: bool = True,
        *,
        parent: tk.Misc | None = None,
        side: str = "top",
    ) -> ttk.Button:
        button = ttk.Button(parent or self._frame, text=text, command=self._then_close(action))
        if side == "top":
            button.pack(fill="x", pady=self._gap)
        else:
            button.pack(side="right", padx=(self._gap, 0))
        if not enabled:
            button.state(["disabled"])
        return button

    def _then_close(self, action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            close_window(self.top)
            action()

        return run
