"""Continue from a shot: the follow-up prompt of a new round, with the run's settings prefilled.

The new run starts from the chosen shot's changes; it inherits the repository, branch
and limits of the run it continues (``tray.runs.rounds.continue_spec``), and this
dialog lets the user change the number of shots, the model, and the setup and check
commands. It stays open until the run has started, so a refusal shows in it.
"""

from __future__ import annotations

import dataclasses
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk

from tray.errors import InvalidRunSpec
from tray.runs.history import RunRecord
from tray.runs.spec import DEFAULT_SHOTS, MAX_SHOTS, shots_from_text
from tray.ui import style
from tray.ui.widgets import close_window, labelled_entry

__all__ = ["ContinueAnswers", "ContinueDialog"]


@dataclasses.dataclass(frozen=True)
class ContinueAnswers:
    prompt: str
    shots: int
    model: str | None  # None: the run's own
    setup: str  # empty: none
    check: str  # empty: none


class ContinueDialog:
    """``on_start(answers, started, refused)``: the app starts the round in a worker and calls
    ``started()`` (the dialog closes) or ``refused(message)`` (shown in the dialog)."""

    def __init__(
        self,
        root: tk.Misc,
        run: RunRecord,
        shot: int,
        on_start: Callable[[ContinueAnswers, Callable[[], None], Callable[[str], None]], None],
    ) -> None:
        style.ensure_theme(root)
        self.on_start = on_start
        self.top = tk.Toplevel(root)
        self.top.title(f"Continue from shot {shot}")
        frame = ttk.Frame(self.top, padding=style.pad(self.top, 2))
        frame.pack(fill="both", expand=True)
        spacing = style.pad(self.top)
        earlier = " ".join(run.prompt.split())
        if len(earlier) > 300:
            earlier = earlier[:299] + "…"
        ttk.Label(
            frame,
            text=f"Round {run.round + 1} starts from the changes of shot {shot} "
            f"(round {run.round}: “{earlier}”).",
            wraplength=style.wrap(self.top, 560),
            justify="left",
        ).grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, spacing))
        ttk.Label(frame, text="What next?").grid(row=1, column=0, sticky="nw", padx=(0, spacing))
        self.prompt = style.text_box(frame, width=60, height=6)
        self.prompt.grid(row=1, column=1, sticky="ew", pady=(0, spacing))
        spec = run.spec
        ttk.Label(frame, text="Shots").grid(row=2, column=0, sticky="w")
        self.shots = tk.StringVar(self.top, value=str(spec.get("shots") or DEFAULT_SHOTS))
        ttk.Spinbox(frame, from_=1, to=MAX_SHOTS, textvariable=self.shots, width=5).grid(
            row=2, column=1, sticky="w", pady=(0, spacing)
        )
        self.model = labelled_entry(frame, 3, "Model", _text(spec.get("model")))
        self.setup = labelled_entry(frame, 4, "Setup command", _text(spec.get("setup")))
        self.check = labelled_entry(frame, 5, "Check command", _text(spec.get("check")))
        self.error = ttk.Label(
            frame, style="Error.TLabel", wraplength=style.wrap(self.top), justify="left"
        )
        self.error.grid(row=6, column=0, columnspan=2, sticky="w", pady=spacing)
        row, (self.start_button, _) = style.button_row(
            frame,
            [
                ("Start round", self.start, style.ButtonRole.ACCEPT),
                ("Cancel", self.close, style.ButtonRole.CANCEL),
            ],
        )
        row.grid(row=7, column=0, columnspan=2, sticky="e")
        frame.columnconfigure(1, weight=1)
        style.dialog_keys(self.top, default=self.start, cancel=self.close, multiline=[self.prompt])
        style.place_centred(self.top)
        self.prompt.focus_set()

    def answers(self) -> ContinueAnswers:
        shots = shots_from_text(self.shots.get())
        prompt = self.prompt.get("1.0", "end-1c")
        if not prompt.strip():
            raise InvalidRunSpec("Say what the next round should do.")
        return ContinueAnswers(
            prompt=prompt,
            shots=shots,
            model=self.model.get().strip() or None,
            setup=self.setup.get().strip(),
            check=self.check.get().strip(),
        )

    def start(self) -> None:
        try:
            answers = self.answers()
        except InvalidRunSpec as exc:
            self.refused(exc.message)
            return
        self.error.configure(text="")
        self.start_button.state(["disabled"])
        self.on_start(answers, self.close, self.refused)

    def refused(self, text: str) -> None:
        if self.top.winfo_exists():
            self.start_button.state(["!disabled"])
            self.error.configure(text=text)

    def close(self) -> None:
        if self.top.winfo_exists():
            close_window(self.top)


def _text(value: object) -> str:
    """A run's stored setting as the text of an entry (None and non-strings: empty)."""
    return value if isinstance(value, str) else ""
