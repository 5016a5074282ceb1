"""The setup wizard: the original design's four screens, in Tk, and a last "You're set".

1. Daytona API key.  2. Claude method.  3. The API key or OAuth token.
4. Validate & Save. Validation and saving run on worker threads through the host;
this window only shows progress and results, in words a person reads.

The window keeps one size for every step (that of its largest step, with room for an
error), so nothing jumps when the user moves on.

Long because each screen's widgets, its checks, its states and its keys live together
(see ``SetupWizard``).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Protocol, TypeVar

from tray.credentials.local_login import LocalLogin, find_local_login
from tray.credentials.model import AuthMethod, Credentials, SetupStep
from tray.credentials.secret_input import SecretKind, read_secret
from tray.credentials.validation import (
    CheckResult,
    CheckStatus,
    CredentialsCheck,
    credential_checks,
    describe_expiry,
)
from tray.errors import InvalidSecretInput, MultishotError
from tray.redaction import mask
from tray.ui import style
from tray.ui.messages import describe_check, readable
from tray.ui.widgets import SecretEntry, close_window, link, message

__all__ = [
    "CheckState",
    "SetupWizard",
    "WizardHost",
]

T = TypeVar("T")
STEPS = len(SetupStep)
# Room kept under each step for an error message, in lines of text.
ERROR_LINES = 4


class WizardHost(Protocol):
    root: tk.Tk

    def in_worker(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
    ) -> None: ...

    def save_credentials(self, credentials: Credentials, done: Callable[[], None]) -> None: ...

    def new_run(self) -> None: ...


class CheckState(enum.Enum):
    """Where step 4 is."""

    CHECKING = "checking"
    COULD_NOT_CHECK = "could_not_check"  # Retry, or save anyway
    SAVING = "saving"
    DONE = "done"  # the last screen: "You're set"


class SetupWizard:
    """The steps in one window (so it keeps its place and size between steps).

    Long because each screen's widgets, its checks and its keys live together; the
    checks themselves are the core's (secret input hygiene, validation).
    """

    def __init__(
        self,
        host: WizardHost,
        *,
        start_at: SetupStep = SetupStep.DAYTONA,
        current: Credentials | None = None,
        reason: str | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        """``reason``: why the wizard opened on its own (an auth failure), said on top."""
        self.host = host
        self.on_close = on_close
        root = host.root
        style.ensure_theme(root)
        self.top = tk.Toplevel(root)
        self.top.title("Multishot setup")
        self.top.resizable(False, False)
        self.method = tk.StringVar(
            self.top, value=(current.auth_method if current else AuthMethod.API_KEY).value
        )
        self.imported: LocalLogin | None = None
        self.credentials: Credentials | None = None
        self.check: CredentialsCheck | None = None
        self.check_state: CheckState | None = None
        self._check_number = 0  # a stopped check's late answer is ignored
        self.step = start_at
        outer = ttk.Frame(self.top, padding=style.pad(root, 2.5))
        outer.pack(fill="both", expand=True)
        self.step_label = ttk.Label(outer, style="Muted.TLabel")
        self.step_label.pack(anchor="w")
        self.heading = ttk.Label(outer, style="Heading.TLabel")
        self.heading.pack(anchor="w", pady=(style.pad(root, 0.25), 0))
        self.reason = message(outer, reason or "", style="Warning.TLabel")
        if reason:
            self.reason.pack(anchor="w", pady=(style.pad(root), 0))
        self.body = ttk.Frame(outer)
        self.body.pack(fill="both", expand=True, pady=(style.pad(root, 1.5), 0))
        self.body.grid_columnconfigure(0, weight=1)
        self.body.grid_rowconfigure(0, weight=1)
        self.pages = {
            SetupStep.DAYTONA: self._daytona_page(),
            SetupStep.METHOD: self._method_page(),
            SetupStep.CLAUDE: self._claude_page(),
            SetupStep.VALIDATE: self._validate_page(),
        }
        self.done_page = self._done_page()
        self._build_buttons(outer)
        self.welcome = (
            "Welcome to Multishot" if current is None else "Update your Multishot credentials"
        )
        if current is not None:  # fixing one credential keeps the other
            self.daytona_entry.set(current.daytona_api_key)
        self.daytona_entry.variable.trace_add("write", self._daytona_typed)
        self.claude_entry.variable.trace_add("write", self._claude_typed)
        self._fix_size()
        style.dialog_keys(self.top, default=self._default_action, cancel=self.cancel)
        style.place_centred(self.top)
        self.show(start_at)

    # -- pages -------------------------------------------------------------------------

    def _page(self) -> ttk.Frame:
        page = ttk.Frame(self.body)
        page.grid(row=0, column=0, sticky="nsew")
        return page

    def _error_label(self, page: ttk.Frame) -> ttk.Label:
        error = message(page, style="Error.TLabel")
        error.pack(anchor="w", pady=(style.pad(page), 0))
        return error

    def _daytona_page(self) -> ttk.Frame:
        page = self._page()
        message(
            page, "Multishot runs Claude Code in Daytona sandboxes. Paste your Daytona API key:"
        ).pack(anchor="w")
        self.daytona_entry = SecretEntry(page)
        self.daytona_entry.pack(fill="x", pady=style.pad(page))
        self.daytona_link = link(
            page, "Get a key at app.daytona.io", "https://app.daytona.io/dashboard/keys"
        )
        self.daytona_link.pack(anchor="w")
        self.daytona_error = self._error_label(page)
        return page

    def _method_page(self) -> ttk.Frame:
        page = self._page()
        message(page, "How should Claude Code sign in inside the sandboxes?").pack(anchor="w")
        self.api_key_radio = ttk.Radiobutton(
            page,
            text="Anthropic API key (recommended for sandboxes)",
            value=AuthMethod.API_KEY.value,
            variable=self.method,
        )
        self.api_key_radio.pack(anchor="w", pady=(style.pad(page), 0))
        indent = (style.pad(page, 3.5), 0)
        message(page, "Pay-as-you-go pricing · the most reliable", style="Muted.TLabel").pack(
            anchor="w", padx=indent
        )
        self.token_radio = ttk.Radiobutton(
            page,
            text="Claude Code OAuth token",
            value=AuthMethod.OAUTH_TOKEN.value,
            variable=self.method,
        )
        self.token_radio.pack(anchor="w", pady=(style.pad(page), 0))
        message(
            page, "Uses your subscription plan · may need refreshing", style="Muted.TLabel"
        ).pack(anchor="w", padx=indent)
        style.radio_group([self.api_key_radio, self.token_radio])
        message(
            page,
            "An API key overrides a subscription and is billed at API rates.",
            style="Muted.TLabel",
        ).pack(anchor="w", pady=(style.pad(page, 1.5), 0))
        return page

    def _claude_page(self) -> ttk.Frame:
        page = self._page()
        self.claude_help = message(page)
        self.claude_help.pack(anchor="w")
        self.claude_entry = SecretEntry(page)
        self.claude_entry.pack(fill="x", pady=style.pad(page))
        self.console_link = link(
            page,
            "Get a key at console.anthropic.com",
            "https://console.anthropic.com/settings/keys",
        )
        self.import_button = ttk.Button(
            page,
            text="Use this computer's Claude Code login",
            command=self.import_local_login,
        )
        self.import_note = message(page, style="Muted.TLabel")
        self.claude_error = self._error_label(page)
        return page

    def _validate_page(self) -> ttk.Frame:
        page = self._page()
        self.progress = ttk.Progressbar(page, mode="indeterminate")
        self.daytona_result = message(page)
        self.daytona_result.pack(anchor="w", fill="x")
        self.claude_result = message(page)
        self.claude_result.pack(anchor="w", fill="x", pady=(style.pad(page), 0))
        self.progress_slot = ttk.Frame(page)  # keeps the bar's place while it is hidden
        self.progress_slot.pack(fill="x", pady=(style.pad(page, 2), 0))
        return page

    def _done_page(self) -> ttk.Frame:
        page = self._page()
        self.done_text = message(page)
        self.done_text.pack(anchor="w")
        return page

    def _build_buttons(self, parent: ttk.Frame) -> None:
        row = ttk.Frame(parent)
        row.pack(fill="x", side="bottom", pady=(style.pad(parent, 2), 0))
        self.button_row = row
        self.back_button = ttk.Button(row, text="Back", command=self.back)
        self.back_button.pack(side="left")
        self.cancel_button = ttk.Button(row, text="Cancel", command=self.cancel)
        self.next_button = ttk.Button(row, text="Next", command=self.next)
        self.save_anyway_button = ttk.Button(row, text="Save anyway", command=self.save_anyway)
        self.start_run_button = ttk.Button(row, text="Start a run…", command=self.start_a_run)
        self.default_button: ttk.Button | None = self.next_button

    def _default_action(self) -> None:
        if self.default_button is not None:
            self.default_button.invoke()

    def _fix_size(self) -> None:
        """Size the steps' area for the largest step, each error with room for a few
        lines; then keep it."""
        self._prepare_claude_page(AuthMethod.OAUTH_TOKEN)  # the taller variant
        self.import_button.pack(anchor="w", before=self.claude_error)
        self.import_note.pack(anchor="w", before=self.claude_error)
        self.console_link.pack(anchor="w", before=self.claude_error)
        room = "\n".join(" " * ERROR_LINES)
        for error in (self.daytona_error, self.claude_error, self.daytona_result):
            error.configure(text=room)
        self.progress.pack(in_=self.progress_slot, fill="x")
        self.top.update_idletasks()
        width, height = self.body.winfo_reqwidth(), self.body.winfo_reqheight()
        for error in (self.daytona_error, self.claude_error, self.daytona_result):
            error.configure(text="")
        self.progress.pack_forget()
        self.body.configure(width=width, height=height)
        self.body.grid_propagate(False)
        self.body.pack_propagate(False)

    # -- navigation --------------------------------------------------------------------

    def show(self, step: SetupStep) -> None:
        self.step = step
        self.check_state = None
        self._raise(self.pages[step])
        self.step_label.configure(text=f"Step {int(step)} of {STEPS}")
        heading = {
            SetupStep.DAYTONA: self.welcome,
            SetupStep.METHOD: "Claude authentication",
            SetupStep.CLAUDE: "",
            SetupStep.VALIDATE: "Checking your keys",
        }[step]
        self.heading.configure(text=heading)
        self.back_button.configure(text="Back")
        self.back_button.state(["!disabled"] if step > SetupStep.DAYTONA else ["disabled"])
        self.next_button.configure(text="Next")
        self._show_buttons(self.cancel_button, self.next_button, default=self.next_button)
        if step is SetupStep.DAYTONA:
            self.daytona_entry.focus()
        elif step is SetupStep.METHOD:
            selected = (
                self.api_key_radio
                if self.method.get() == AuthMethod.API_KEY.value
                else self.token_radio
            )
            selected.focus_set()
        elif step is SetupStep.CLAUDE:
            self._prepare_claude_page(AuthMethod(self.method.get()))
            self.next_button.configure(text="Validate & Save")
            self.claude_entry.focus()

    def _raise(self, page: ttk.Frame) -> None:
        """Only the current page is on screen (Tab must not reach the others)."""
        for other in (*self.pages.values(), self.done_page):
            if other is not page:
                other.grid_remove()
        page.grid()

    def _show_buttons(self, *buttons: ttk.Button, default: ttk.Button | None) -> None:
        """Show these buttons (besides Back) in the platform's order (given here as
        GNOME and macOS have it); ``default`` is what Return does elsewhere (None:
        nothing)."""
        for button in (
            self.cancel_button,
            self.next_button,
            self.save_anyway_button,
            self.start_run_button,
        ):
            button.pack_forget()
            style.mark_default(button, button is default)
        self.default_button = default
        if not self.back_button.winfo_manager():
            self.back_button.pack(side="left")
        ordered = buttons if style.affirmative_first(self.top) else buttons[::-1]
        for button in ordered:
            button.pack(side="right", padx=(style.pad(self.top, 0.75), 0))

    def _prepare_claude_page(self, method: AuthMethod) -> None:
        for widget in (self.console_link, self.import_button, self.import_note):
            widget.pack_forget()
        if method is AuthMethod.API_KEY:
            self.heading.configure(text="Anthropic API key")
            self.claude_help.configure(text="Paste your Anthropic API key (sk-ant-api03-…):")
            self.console_link.pack(anchor="w", before=self.claude_error)
        else:
            self.heading.configure(text="Claude Code OAuth token")
            self.claude_help.configure(
                text="1. On a computer with a browser, run “claude setup-token” (the token "
                "it prints lasts a year).\n2. Or use this computer's Claude Code login "
                "(~/.claude/.credentials.json).\n3. Paste the token (sk-ant-oat01-…) below:"
            )
            self.import_button.pack(anchor="w", before=self.claude_error)
            self.import_note.pack(anchor="w", before=self.claude_error)

    def next(self) -> None:
        if self.step is SetupStep.DAYTONA:
            if self._field_ok(SecretKind.DAYTONA_API_KEY, self.daytona_entry, self.daytona_error):
                self.show(SetupStep.METHOD)
        elif self.step is SetupStep.METHOD:
            self.show(SetupStep.CLAUDE)
        elif self.step is SetupStep.CLAUDE:
            self.validate()
        elif self.check_state is CheckState.COULD_NOT_CHECK:
            self.validate()  # Retry
        elif self.check_state is CheckState.DONE:
            self.close()

    def set_reason(self, reason: str) -> None:
        """Say on top why the wizard is open (it was open already when a run failed)."""
        self.reason.configure(text=reason)
        if not self.reason.winfo_manager():
            self.reason.pack(anchor="w", pady=(style.pad(self.top), 0), before=self.body)

    def back(self) -> None:
        if self.step > SetupStep.DAYTONA:
            self._stop_checking()
            self.show(SetupStep(self.step - 1))

    def cancel(self) -> None:
        self.close()

    def close(self) -> None:
        if not self.top.winfo_exists():
            return
        self._stop_checking()
        close_window(self.top)
        if self.on_close:
            self.on_close()

    def start_a_run(self) -> None:
        self.close()
        self.host.new_run()

    # -- work ----------------------------------------------------------------------------

    def _claude_kind(self) -> SecretKind:
        if self.method.get() == AuthMethod.API_KEY.value:
            return SecretKind.ANTHROPIC_API_KEY
        return SecretKind.CLAUDE_OAUTH_TOKEN

    def _field_ok(self, kind: SecretKind, entry: SecretEntry, error: ttk.Label) -> bool:
        try:
            read_secret(kind, entry.get())
        except InvalidSecretInput as exc:
            error.configure(text=readable(exc.message))
            return False
        error.configure(text="")
        return True

    def _daytona_typed(self, *_trace: object) -> None:
        self._clear_if_valid(self.daytona_entry, self.daytona_error, SecretKind.DAYTONA_API_KEY)

    def _claude_typed(self, *_trace: object) -> None:
        self._clear_if_valid(self.claude_entry, self.claude_error, self._claude_kind())

    def _clear_if_valid(self, entry: SecretEntry, error: ttk.Label, kind: SecretKind) -> None:
        """An error goes as soon as what is typed is right (a new one waits for Next)."""
        if str(error.cget("text")):
            try:
                read_secret(kind, entry.get())
            except InvalidSecretInput:
                return
            error.configure(text="")

    def validate(self) -> None:
        if not self._field_ok(SecretKind.DAYTONA_API_KEY, self.daytona_entry, self.daytona_error):
            self.show(SetupStep.DAYTONA)
            return
        kind = self._claude_kind()
        if not self._field_ok(kind, self.claude_entry, self.claude_error):
            return
        method = AuthMethod(self.method.get())
        secret = read_secret(kind, self.claude_entry.get())
        expiry = (
            self.imported.expires_at
            if self.imported and self.imported.access_token == secret
            else None
        )
        self.credentials = Credentials(
            daytona_api_key=read_secret(SecretKind.DAYTONA_API_KEY, self.daytona_entry.get()),
            auth_method=method,
            anthropic_api_key=secret if method is AuthMethod.API_KEY else None,
            claude_oauth_token=secret if method is AuthMethod.OAUTH_TOKEN else None,
            oauth_token_expires_at=expiry,
        )
        self.show(SetupStep.VALIDATE)
        self._set_check_state(CheckState.CHECKING)
        self.daytona_result.configure(text="Checking the Daytona API key…")
        self.claude_result.configure(text=f"Checking the {kind.value}…")
        self._check_number += 1
        number = self._check_number
        results: dict[str, CheckResult] = {}

        def arrived(which: str, result: CheckResult) -> None:
            if number != self._check_number or not self.top.winfo_exists():
                return  # a stopped check's late answer
            results[which] = result
            label = self.daytona_result if which == "daytona" else self.claude_result
            name = "Daytona API key" if which == "daytona" else kind.value
            label.configure(text=describe_check(name, result))
            if len(results) == 2:
                self._checked(CredentialsCheck(results["daytona"], results["claude"]))

        def failed(error: Exception) -> None:
            if number == self._check_number:
                self._check_failed(error)

        daytona_check, claude_check = credential_checks(self.credentials)
        self.host.in_worker(daytona_check, functools.partial(arrived, "daytona"), failed)
        self.host.in_worker(claude_check, functools.partial(arrived, "claude"), failed)

    def _set_check_state(self, state: CheckState) -> None:
        """Step 4's buttons and progress bar for ``state``; the bar moves only while
        something is going on."""
        self.check_state = state
        busy = state in (CheckState.CHECKING, CheckState.SAVING)
        if busy:
            self.progress.pack(in_=self.progress_slot, fill="x")
            self.progress.start(15)
        else:
            self.progress.stop()
            self.progress.pack_forget()
        self.back_button.configure(text="Back")
        self.back_button.state(["disabled"] if state is CheckState.SAVING else ["!disabled"])
        self.cancel_button.state(["disabled"] if state is CheckState.SAVING else ["!disabled"])
        if state is CheckState.CHECKING:  # Back stops the check, Cancel closes the window
            self._show_buttons(self.cancel_button, default=None)
        elif state is CheckState.COULD_NOT_CHECK:
            self.next_button.configure(text="Retry")
            self._show_buttons(
                self.cancel_button,
                self.save_anyway_button,
                self.next_button,
                default=self.next_button,
            )
        elif state is CheckState.SAVING:
            self.heading.configure(text="Saving your keys")
            self._show_buttons(self.cancel_button, default=None)
        else:
            self.heading.configure(text="You're set")
            self.step_label.configure(text="Done")
            self.reason.pack_forget()
            self.next_button.configure(text="Close")
            self._show_buttons(
                self.next_button, self.start_run_button, default=self.start_run_button
            )
            self.back_button.pack_forget()
            self._raise(self.done_page)
            self.start_run_button.focus_set()

    def _stop_checking(self) -> None:
        self._check_number += 1
        if self.check_state is CheckState.CHECKING:
            self.progress.stop()

    def _checked(self, check: CredentialsCheck) -> None:
        if not self.top.winfo_exists():
            return
        self.check = check
        self.daytona_result.configure(text=describe_check("Daytona API key", check.daytona))
        self.claude_result.configure(text=describe_check(self._claude_kind().value, check.claude))
        if check.daytona.status is CheckStatus.INVALID:
            self.show(SetupStep.DAYTONA)
            self.daytona_error.configure(text=readable(check.daytona.message))
        elif check.claude.status is CheckStatus.INVALID:
            self.show(SetupStep.CLAUDE)
            self.claude_error.configure(text=readable(check.claude.message))
        elif check.all_confirmed and self.credentials is not None:
            self._save(self.credentials)
        else:
            self.heading.configure(text="Could not check your keys")
            self._set_check_state(CheckState.COULD_NOT_CHECK)
            self.next_button.focus_set()

    def _check_failed(self, error: Exception) -> None:
        if not self.top.winfo_exists():
            return
        said = error.message if isinstance(error, MultishotError) else type(error).__name__
        self.daytona_result.configure(text="")
        self.claude_result.configure(
            text=f"⚠ Something went wrong while checking the keys ({readable(said)})."
        )
        self.heading.configure(text="Could not check your keys")
        self._set_check_state(CheckState.COULD_NOT_CHECK)

    def save_anyway(self) -> None:
        if self.credentials is not None:
            self._save(self.credentials)

    def _save(self, credentials: Credentials) -> None:
        self._set_check_state(CheckState.SAVING)
        self.host.save_credentials(credentials, self._saved)

    def _saved(self) -> None:
        if not self.top.winfo_exists():
            return
        confirmed = self.check is not None and self.check.all_confirmed
        self.done_text.configure(
            text=("Your keys work and are saved. " if confirmed else "Your keys are saved. ")
            + "Start a run from here or from the Multishot icon in the system tray; "
            "its menu also lets you check, change or remove the keys."
        )
        self._set_check_state(CheckState.DONE)

    def import_local_login(self) -> None:
        self.import_note.configure(text="Looking for a Claude Code login…")
        self.host.in_worker(find_local_login, self._imported, self._import_failed)

    def _imported(self, login: LocalLogin) -> None:
        self.imported = login
        self.claude_entry.set(login.access_token)
        expiry = ""
        if login.expires_at is not None:
            expiry = (
                f", expires {describe_expiry(login.expires_at, dt.datetime.now(dt.timezone.utc))}"
            )
        note = f"Imported {mask(login.access_token)} from {login.source}{expiry}."
        if login.expires_soon():
            note += " It expires within a day: “claude setup-token” makes one that lasts a year."
        self.import_note.configure(text=note)

    def _import_failed(self, error: Exception) -> None:
        text = error.message if isinstance(error, MultishotError) else str(error)
        self.import_note.configure(text=readable(text))
