"""What the app tells the user: notification titles and bodies, and where to go next.

The titles and bodies of failures come from the policy table in ``tray.failures``.
Every text is redacted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tray.credentials.keychain import StorageOutcome
from tray.credentials.model import AuthMethod
from tray.failures import FailureKind, policy_for
from tray.redaction import redact
from tray.runs.display import format_reset, plural
from tray.runs.status import RunStatus

if TYPE_CHECKING:
    from tray.credentials.validation import CheckResult, CredentialsCheck
    from tray.runs.events import AuthFailure

__all__ = [
    "CONFLICT_QUESTION",
    "Notice",
    "NoticeAction",
    "Question",
    "check_report",
    "credentials_saved_notice",
    "describe_check",
    "failure_notice",
    "fix_reason",
    "log_out_question",
    "logged_out_notice",
    "quit_question",
    "readable",
    "run_finished_notice",
    "sandboxes_left_notice",
]


@dataclasses.dataclass(frozen=True)
class NoticeAction:
    """A notification's button; ``run`` is called on a notifier thread."""

    label: str
    run: Callable[[], None]


@dataclasses.dataclass(frozen=True)
class Notice:
    title: str
    body: str
    actions: tuple[NoticeAction, ...] = ()  # buttons, where the system shows them
    urgent: bool = False  # critical, and stays until dismissed

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", redact(self.title))
        object.__setattr__(self, "body", readable(redact(self.body)))


def failure_notice(kind: FailureKind, resets_at: dt.datetime | None = None) -> Notice:
    policy = policy_for(kind)
    if kind is FailureKind.SESSION_LIMIT and resets_at:
        return Notice(
            policy.title,
            f"The subscription's usage limit is reached; it resets at {format_reset(resets_at)}.",
        )
    return Notice(policy.title, policy.body)


def run_finished_notice(status: RunStatus, succeeded: int, total: int) -> Notice:
    if status is RunStatus.CANCELLED:
        return Notice("Run cancelled", f"{succeeded} of {total} shots had finished.")
    return Notice("Run finished", f"{succeeded} of {total} shots succeeded.")


def sandboxes_left_notice(count: int) -> Notice:
    return Notice(
        "Sandboxes left running",
        f"{plural(count, 'sandbox')} could not be deleted. Multishot keeps trying; the menu "
        "shows how many are left.",
    )


@dataclasses.dataclass(frozen=True)
class Question:
    title: str
    text: str
    accept: str  # the verb that goes ahead: "Log out"
    reject: str  # the verb that doesn't: "Keep running"
    # Going ahead loses something: the safe answer has the focus (Return keeps it safe).
    destructive: bool = True


CONFLICT_QUESTION = Question(
    "Two Claude credentials",
    "Both an API key and an OAuth token reached Claude, and only one should. Which one "
    "should Multishot keep? The other one is cleared.",
    accept="Keep the API key",
    reject="Keep the OAuth token",
    destructive=False,
)


def log_out_question(active: int) -> Question:
    it, its = ("it", "its") if active == 1 else ("them", "their")
    return Question(
        "Log out of Multishot?",
        f"{_runs_going(active)} Logging out cancels {it}, deletes {its} sandboxes and "
        "removes your keys from this computer.",
        accept="Log out",
        reject="Keep running",
    )


def quit_question(active: int) -> Question:
    it, its = ("it", "its") if active == 1 else ("them", "their")
    return Question(
        "Quit Multishot?",
        f"{_runs_going(active)} Quitting cancels {it} and deletes {its} sandboxes.",
        accept="Quit",
        reject="Keep running",
    )


def _runs_going(active: int) -> str:
    return f"{plural(active, 'run')} {'is' if active == 1 else 'are'} still going."


def credentials_saved_notice(outcome: StorageOutcome) -> Notice:
    if outcome is StorageOutcome.SESSION_ONLY:
        return Notice(
            "Credentials kept for this session",
            "No secure keychain is available, so they are not saved to disk.",
        )
    return Notice("Credentials saved", "Your keys are in the system keychain.")


def logged_out_notice(outcome: StorageOutcome) -> Notice:
    if outcome is StorageOutcome.SESSION_ONLY:
        return Notice(
            "Logged out of this session",
            "No keychain could be reached, so credentials saved earlier may still be in it.",
        )
    return Notice("Logged out", "Multishot's credentials were removed from the keychain.")


_WHY_THE_WIZARD_OPENED = {
    FailureKind.EXPIRED: "Your OAuth token expired during run {run}; paste a new one.",
    FailureKind.REVOKED: "Your OAuth token was revoked during run {run}; paste a new one.",
    FailureKind.INVALID: "Anthropic rejected your Claude credential during run {run}; "
    "paste one that works.",
    FailureKind.NOT_LOGGED_IN: "Run {run} found no usable Claude credential; set one up.",
    FailureKind.ORG_DISABLED: "Your organization does not allow subscriptions in Claude Code "
    "(run {run}); choose an API key.",
    FailureKind.DAYTONA_KEY_REJECTED: "Daytona rejected your API key during run {run}; "
    "paste one that works.",
}


def fix_reason(failure: AuthFailure) -> str:
    """Why the setup wizard opened by itself, said on top of it."""
    template = _WHY_THE_WIZARD_OPENED.get(failure.kind)
    if template is None:
        return policy_for(failure.kind).body
    return redact(template.format(run=failure.run_id[-6:]))


def describe_check(label: str, result: CheckResult) -> str:
    """One check's result in a line: a mark, what was checked, what it means."""
    from tray.credentials.validation import CheckStatus

    mark = {CheckStatus.INVALID: "✗", CheckStatus.UNREACHABLE: "⚠"}.get(result.status, "✓")
    said = readable(result.message)
    if result.status is CheckStatus.UNREACHABLE:
        return f"{mark} {label}: not checked. {said}"
    return f"{mark} {label}: {said}"


def check_report(check: CredentialsCheck, method: AuthMethod) -> str:
    """Both checks' results (Check credentials in the menu)."""
    claude_label = (
        "Anthropic API key" if method is AuthMethod.API_KEY else "Claude Code OAuth token"
    )
    return (
        f"{describe_check('Daytona API key', check.daytona)}\n\n"
        f"{describe_check(claude_label, check.claude)}"
    )


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def readable(text: str) -> str:
    """Messages written for a terminal (`claude setup-token`) as a window shows them:
    quoted, without Markdown's backticks."""
    return _CODE_SPAN.sub(lambda span: f"“{span.group(1)}”", text)
