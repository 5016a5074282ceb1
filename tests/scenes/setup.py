"""Scenes: the setup wizard's steps, its errors and its end, and the credentials report."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from typing import TypeVar

from tests.scenes import scene
from tray.credentials.model import AuthMethod, Credentials, SetupStep
from tray.credentials.validation import CheckResult, CheckStatus, CredentialsCheck
from tray.failures import FailureKind
from tray.runs.events import AuthFailure
from tray.ui import messages
from tray.ui.alerts import AlertWindow, Level
from tray.ui.wizard import SetupWizard

T = TypeVar("T")
DAYTONA_KEY = "dtn_" + "7" * 36 + "9f3e"
API_KEY = "sk-ant-api03-" + "k" * 80 + "Ab12"
TOKEN = "sk-ant-oat01-" + "t" * 80 + "Cd34"
WORKS = CheckResult(CheckStatus.VALID, "The Daytona API key works.")
NO_ANSWER = CheckResult(
    CheckStatus.UNREACHABLE,
    "Anthropic's API did not answer within 15 seconds, so the key could not be checked. "
    "Check the internet connection and try again.",
)


class SceneHost:
    """The wizard's host with no workers: a scene sets the state a worker would bring."""

    def __init__(self, root: tk.Tk) -> None:
        self.root = root

    def in_worker(
        self, work: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
    ) -> None:
        pass

    def save_credentials(self, credentials: Credentials, done: Callable[[], None]) -> None:
        pass

    def new_run(self) -> None:
        pass


def wizard_at(root: tk.Tk, step: SetupStep, method: AuthMethod = AuthMethod.API_KEY) -> SetupWizard:
    wizard = SetupWizard(SceneHost(root))
    wizard.daytona_entry.set(DAYTONA_KEY)
    wizard.method.set(method.value)
    while wizard.step < step:
        wizard.next()
    return wizard


@scene("wizard-1-daytona")
def daytona_step(root: tk.Tk) -> tk.Misc:
    return SetupWizard(SceneHost(root)).top


@scene("wizard-1-daytona-error")
def daytona_error(root: tk.Tk) -> tk.Misc:
    wizard = SetupWizard(SceneHost(root))
    wizard.daytona_entry.set(API_KEY)  # an Anthropic key where the Daytona key goes
    wizard.next()
    return wizard.top


@scene("wizard-2-method")
def method_step(root: tk.Tk) -> tk.Misc:
    return wizard_at(root, SetupStep.METHOD).top


@scene("wizard-3-api-key")
def api_key_step(root: tk.Tk) -> tk.Misc:
    wizard = wizard_at(root, SetupStep.CLAUDE)
    wizard.claude_entry.set(API_KEY)
    return wizard.top


@scene("wizard-3-oauth-token")
def token_step(root: tk.Tk) -> tk.Misc:
    return wizard_at(root, SetupStep.CLAUDE, AuthMethod.OAUTH_TOKEN).top


@scene("wizard-3-api-key-rejected")
def api_key_rejected(root: tk.Tk) -> tk.Misc:
    wizard = checking(root)
    rejected = CheckResult(
        CheckStatus.INVALID,
        "Anthropic rejected the API key: invalid x-api-key. Check it at console.anthropic.com "
        "→ API Keys, or create a new one.",
    )
    wizard._checked(CredentialsCheck(WORKS, rejected))
    return wizard.top


def checking(root: tk.Tk) -> SetupWizard:
    wizard = wizard_at(root, SetupStep.CLAUDE)
    wizard.claude_entry.set(API_KEY)
    wizard.next()
    return wizard


@scene("wizard-4-checking")
def checking_step(root: tk.Tk) -> tk.Misc:
    return checking(root).top


@scene("wizard-4-could-not-check")
def could_not_check(root: tk.Tk) -> tk.Misc:
    wizard = checking(root)
    wizard._checked(CredentialsCheck(WORKS, NO_ANSWER))
    return wizard.top


@scene("wizard-5-done")
def done(root: tk.Tk) -> tk.Misc:
    wizard = checking(root)
    wizard._checked(
        CredentialsCheck(WORKS, CheckResult(CheckStatus.VALID, "The Anthropic API key works."))
    )
    wizard._saved()
    return wizard.top


@scene("wizard-reopened-token-expired")
def reopened(root: tk.Tk) -> tk.Misc:
    failure = AuthFailure("20261130-2231-3f2a9c", FailureKind.EXPIRED, "OAuth token has expired")
    current = Credentials(DAYTONA_KEY, AuthMethod.OAUTH_TOKEN, claude_oauth_token=TOKEN)
    wizard = SetupWizard(
        SceneHost(root),
        start_at=SetupStep.CLAUDE,
        current=current,
        reason=messages.fix_reason(failure),
    )
    return wizard.top


@scene("credentials-report")
def report(root: tk.Tk) -> tk.Misc:
    text = messages.check_report(CredentialsCheck(WORKS, NO_ANSWER), AuthMethod.API_KEY)
    return AlertWindow(root, "Your credentials", text, Level.INFO, "OK", None).top
