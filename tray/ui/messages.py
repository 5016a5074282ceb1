"""What the app tells the user: notification titles and bodies, and where to go next.

The titles and bodies of failures come from the policy table in ``tray.failures``.
Every text is redacted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from tray.credentials.keychain import StorageOutcome
from tray.failures import FailureKind, policy_for
from tray.redaction import redact
from tray.runs.display import format_reset, plural
from tray.runs.status import RunStatus

__all__ = [
    "Notice",
    "NoticeAction",
    "credentials_saved_notice",
    "failure_notice",
    "logged_out_notice",
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
        object.__setattr__(self, "body", redact(self.body))


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
