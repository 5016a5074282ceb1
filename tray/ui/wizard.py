"""The setup wizard: the original design's four screens, in Tk.

1. Daytona API key.  2. Claude method.  3. The API key or OAuth token.
4. Validate & Save. Validation and saving run on worker threads through the host;
this window only shows progress and results.
"""

from __future__ import annotations

import datetime as dt
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
    check_credentials,
    describe_expiry,
)
from tray.errors import InvalidSecretInput, LocalLoginError
from tray.redaction import mask
from tray.ui.widgets import PAD, SecretEntry, close_window, link, message

__all__ = [
    "SetupWizard",
    "WizardHost",
]

T = TypeVar("T")


class WizardHost(Protocol):
    root: tk.Tk

    def in_worker(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
    ) -> None: ...

    def save_credentials(self, credentials: Credentials, done: Callable[[], None]) -> None: ...


class SetupWizard:
    """The four screens in one window (so it keeps its place and size between steps).

    Long because each screen's widgets, its checks and its keys live together; the
    checks themselves are the core's (secret input hygiene, validation).
    """

    def __init__(
        self,
        host: WizardHost,
        *,
        start_at: SetupStep = SetupStep.DAYTONA,
        current: Credentials | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.host = host
        self.on_close = on_close
        self.top = tk.Toplevel(host.root)
        self.top.title("Multishot setup")
        self.top.resizable(False, False)
        self.top.protocol("WM_DELETE_WINDOW", self.cancel)
        self.top.bind("<Escape>", lambda _event: self.cancel())
        self.top.bind("<Return>", lambda _event: self.next())
        self.method = tk.StringVar(
            self.top, value=(current.auth_method if current else AuthMethod.API_KEY).value
        )
        self.imported: LocalLogin | None = None
        self.credentials: Credentials | None = None
        self.check: CredentialsCheck | None = None
        body = ttk.Frame(self.top, padding=2 * PAD)
        body.pack(fill="both", expand=True)
        self.pages = {
            SetupStep.DAYTONA: self._daytona_page(body),
            SetupStep.METHOD: self._method_page(body),
            SetupStep.CLAUDE: self._claude_page(body),
            SetupStep.VALIDATE: self._validate_page(body),
        }
        buttons = ttk.Frame(self.top, padding=(2 * PAD, 0, 2 * PAD, 2 * PAD))
        buttons.pack(fill="x")
        self.cancel_button = ttk.Button(buttons, text="Cancel", command=self.cancel)
        self.cancel_button.pack(side="left")
        self.next_button = ttk.Button(buttons, text="Next", command=self.next)
        self.next_button.pack(side="right")
        self.back_button = ttk.Button(buttons, text="Back", command=self.back)
        self.back_button.pack(side="right", padx=PAD)
        if current is not None:  # fixing one credential keeps the other
            self.daytona_entry.set(current.daytona_api_key)
        self.step = start_at
        self.show(start_at)

    # -- pages -------------------------------------------------------------------------

    def _daytona_page(self, parent: ttk.Frame) -> ttk.Frame:
        page = ttk.Frame(parent)
        ttk.Label(page, text="Welcome to Multishot", font=("TkDefaultFont", 13, "bold")).pack(
            anchor="w"
        )
        message(page, "Enter your Daytona API key:").pack(anchor="w", pady=(PAD, 0))
        self.daytona_entry = SecretEntry(page)
        self.daytona_entry.pack(fill="x", pady=PAD)
        link(page, "Get key: app.daytona.io", "https://app.daytona.io/dashboard/keys").pack(
            anchor="w"
        )
        self.daytona_error = message(page, foreground="#c01c28")
        self.daytona_error.pack(anchor="w", pady=(PAD, 0))
        return page

    def _method_page(self, parent: ttk.Frame) -> ttk.Frame:
        page = ttk.Frame(parent)
        ttk.Label(page, text="Claude Authentication", font=("TkDefaultFont", 13, "bold")).pack(
            anchor="w"
        )
        self.api_key_radio = ttk.Radiobutton(
            page,
            text="API Key (recommended for sandboxes)",
            value=AuthMethod.API_KEY.value,
            variable=self.method,
        )
        self.api_key_radio.pack(anchor="w", pady=(PAD, 0))
        message(page, "   Pay-as-you-go pricing · most reliable").pack(anchor="w")
        self.token_radio = ttk.Radiobutton(
            page, text="OAuth Token", value=AuthMethod.OAUTH_TOKEN.value, variable=self.method
        )
        self.token_radio.pack(anchor="w", pady=(PAD, 0))
        message(page, "   Uses your subscription plan · may need refreshing").pack(anchor="w")
        message(
            page,
            "Note: an API key overrides a subscription and is billed at API rates.",
            foreground="#9a6700",
        ).pack(anchor="w", pady=(PAD, 0))
        return page

    def _claude_page(self, parent: ttk.Frame) -> ttk.Frame:
        page = ttk.Frame(parent)
        self.claude_title = ttk.Label(page, font=("TkDefaultFont", 13, "bold"))
        self.claude_title.pack(anchor="w")
        self.claude_help = message(page)
        self.claude_help.pack(anchor="w", pady=(PAD, 0))
        self.claude_entry = SecretEntry(page)
        self.claude_entry.pack(fill="x", pady=PAD)
        self.console_link = link(
            page, "Get key: console.anthropic.com", "https://console.anthropic.com/settings/keys"
        )
        self.import_button = ttk.Button(
            page,
            text="Import from this computer's Claude Code login",
            command=self.import_local_login,
        )
        self.import_note = message(page)
        self.claude_error = message(page, foreground="#c01c28")
        self.claude_error.pack(anchor="w", side="bottom", pady=(PAD, 0))
        return page

    def _validate_page(self, parent: ttk.Frame) -> ttk.Frame:
        page = ttk.Frame(parent)
        ttk.Label(page, text="Validate & Save", font=("TkDefaultFont", 13, "bold")).pack(anchor="w")
        self.progress = ttk.Progressbar(page, mode="indeterminate", length=360)
        self.progress.pack(anchor="w", pady=PAD)
        self.daytona_result = message(page)
        self.daytona_result.pack(anchor="w")
        self.claude_result = message(page)
        self.claude_result.pack(anchor="w", pady=(PAD, 0))
        return page

    # -- navigation --------------------------------------------------------------------

    def show(self, step: SetupStep) -> None:
        for page in self.pages.values():
            page.pack_forget()
        self.step = step
        self.pages[step].pack(fill="both", expand=True)
        self.back_button.configure(state="normal" if step > SetupStep.DAYTONA else "disabled")
        self.next_button.configure(state="normal", text="Next")
        if step is SetupStep.DAYTONA:
            self.daytona_entry.focus()
        elif step is SetupStep.CLAUDE:
            self._prepare_claude_page()
            self.next_button.configure(text="Validate & Save")
        elif step is SetupStep.VALIDATE:
            self.next_button.configure(text="Save anyway", state="disabled")

    def _prepare_claude_page(self) -> None:
        for widget in (self.console_link, self.import_button, self.import_note):
            widget.pack_forget()
        if self.method.get() == AuthMethod.API_KEY.value:
            self.claude_title.configure(text="Anthropic API Key")
            self.claude_help.configure(text="Paste your Anthropic API key (sk-ant-api03-…):")
            self.console_link.pack(anchor="w", before=self.claude_error)
        else:
            self.claude_title.configure(text="Claude Code OAuth Token")
            self.claude_help.configure(
                text="1. Run `claude setup-token` on a computer with a browser (recommended: "
                "the token lasts a year).\n2. Or use this computer's Claude Code login "
                "(~/.claude/.credentials.json).\n3. Paste the token (sk-ant-oat01-…) below:"
            )
            self.import_button.pack(anchor="w", before=self.claude_error)
            self.import_note.pack(anchor="w", before=self.claude_error)
        self.claude_entry.focus()

    def next(self) -> None:
        if self.step is SetupStep.DAYTONA:
            if self._field_ok(SecretKind.DAYTONA_API_KEY, self.daytona_entry, self.daytona_error):
                self.show(SetupStep.METHOD)
        elif self.step is SetupStep.METHOD:
            self.show(SetupStep.CLAUDE)
        elif self.step is SetupStep.CLAUDE:
            self.validate()
        elif self.step is SetupStep.VALIDATE and self.credentials is not None:
            self._save(self.credentials)

    def back(self) -> None:
        if self.step > SetupStep.DAYTONA:
            self.show(SetupStep(self.step - 1))

    def cancel(self) -> None:
        self.close()

    def close(self) -> None:
        close_window(self.top)
        if self.on_close:
            self.on_close()

    # -- work ----------------------------------------------------------------------------

    def _claude_kind(self) -> SecretKind:
        if self.method.get() == AuthMethod.API_KEY.value:
            return SecretKind.ANTHROPIC_API_KEY
        return SecretKind.CLAUDE_OAUTH_TOKEN

    def _field_ok(self, kind: SecretKind, entry: SecretEntry, error: ttk.Label) -> bool:
        try:
            read_secret(kind, entry.get())
        except InvalidSecretInput as exc:
            error.configure(text=exc.message)
            return False
        error.configure(text="")
        return True

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
        self.daytona_result.configure(text="Daytona API key: checking…")
        self.claude_result.configure(text="Claude credential: checking…")
        self.progress.start(12)
        credentials = self.credentials
        self.host.in_worker(
            lambda: check_credentials(credentials), self._checked, self._check_failed
        )

    def _checked(self, check: CredentialsCheck) -> None:
        if not self.top.winfo_exists():
            return
        self.progress.stop()
        self.check = check
        self.daytona_result.configure(text=_line("Daytona API key", check.daytona))
        self.claude_result.configure(text=_line("Claude credential", check.claude))
        if check.daytona.status is CheckStatus.INVALID:
            self.show(SetupStep.DAYTONA)
            self.daytona_error.configure(text=check.daytona.message)
        elif check.claude.status is CheckStatus.INVALID:
            self.show(SetupStep.CLAUDE)
            self.claude_error.configure(text=check.claude.message)
        elif check.all_confirmed and self.credentials is not None:
            self._save(self.credentials)
        else:
            self.next_button.configure(state="normal")  # "Save anyway"

    def _check_failed(self, error: Exception) -> None:
        self.progress.stop()
        self.claude_result.configure(text=f"The check failed: {error}")
        self.next_button.configure(state="normal")

    def _save(self, credentials: Credentials) -> None:
        self.next_button.configure(state="disabled")
        self.host.save_credentials(credentials, self.close)

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
            note += " It expires within a day: `claude setup-token` makes one that lasts a year."
        self.import_note.configure(text=note)

    def _import_failed(self, error: Exception) -> None:
        text = error.message if isinstance(error, LocalLoginError) else str(error)
        self.import_note.configure(text=text)


def _line(label: str, result: CheckResult) -> str:
    return f"{label}: {result.status.value} — {result.message}"
