"""What can go wrong in a run, and what happens about it: one table for the whole app.

The scanner reports a :class:`FailureKind` when Claude Code's output shows one;
the sandbox layer reports ``DAYTONA_KEY_REJECTED``. What follows from each kind is
decided here and only here: whether every shot of the run stops, whether Claude
is re-run after a backoff, the status a shot ends with, which credential the user
must fix (the setup step to reopen), and the words a notification or the command
line shows. The engine, the command line and the tray all read :func:`policy_for`.
"""

from __future__ import annotations

import dataclasses
import enum

from tray.credentials.model import SetupStep
from tray.runs.status import ShotStatus

__all__ = ["FailureKind", "FailurePolicy", "Remedy", "policy_for"]

CONSOLE_KEYS = "console.anthropic.com → API Keys"
CONSOLE_BILLING = "console.anthropic.com → Billing"
DAYTONA_KEYS = "app.daytona.io → API Keys"


class FailureKind(str, enum.Enum):
    EXPIRED = "expired"
    REVOKED = "revoked"
    INVALID = "invalid"
    NOT_LOGGED_IN = "not_logged_in"
    CONFLICT = "conflict"
    RATE_LIMIT = "rate_limit"
    SESSION_LIMIT = "session_limit"
    OVERLOADED = "overloaded"
    BILLING = "billing"
    ORG_DISABLED = "org_disabled"
    DAYTONA_KEY_REJECTED = "daytona_key_rejected"


class Remedy(str, enum.Enum):
    """What the user (or the app on their behalf) does about a failure."""

    REOPEN_SETUP = "reopen_setup"  # fix a credential in the setup wizard / `multishot login`
    REQUEST_NEW_TOKEN = "request_new_token"  # an expired or revoked OAuth token
    BACK_OFF_AND_RETRY = "back_off_and_retry"  # the app waits and re-runs Claude itself
    WAIT_FOR_RESET = "wait_for_reset"  # a subscription's usage limit, until it resets
    CLEAR_ONE_METHOD = "clear_one_method"  # both an API key and a token reached Claude
    ADD_CREDITS = "add_credits"  # the Anthropic account has no credit
    USE_ANOTHER_METHOD = "use_another_method"  # the organisation disabled subscription use


@dataclasses.dataclass(frozen=True)
class FailurePolicy:
    kind: FailureKind
    remedy: Remedy
    stops_run: bool  # a shared credential failed: every shot of the run stops at once
    retries: bool  # Claude is re-run in the same sandbox after a backoff
    shot_status: ShotStatus  # how a shot that meets it ends (when it does not recover)
    fix_step: SetupStep | None  # the setup step that fixes it, if a credential is at fault
    title: str  # a notification's title
    body: str  # a notification's body: what happened and what to do
    advice: str  # the command line's next step


_LOGIN_AGAIN = "Fix the credentials with `multishot login`, then start the run again."
_NEW_TOKEN = "Paste a new token (from `claude setup-token`) with `multishot login`."


def _stopping(
    kind: FailureKind,
    remedy: Remedy,
    step: SetupStep | None,
    title: str,
    body: str,
    advice: str = _LOGIN_AGAIN,
) -> FailurePolicy:
    return FailurePolicy(
        kind, remedy, True, False, ShotStatus.AUTH_FAILED, step, title, body, advice
    )


def _retrying(kind: FailureKind, title: str, body: str) -> FailurePolicy:
    advice = "Multishot backed off and retried; start the run again later if shots still failed."
    return FailurePolicy(
        kind, Remedy.BACK_OFF_AND_RETRY, False, True, ShotStatus.FAILED, None, title, body, advice
    )


_TABLE = {
    policy.kind: policy
    for policy in (
        _stopping(
            FailureKind.EXPIRED,
            Remedy.REQUEST_NEW_TOKEN,
            SetupStep.CLAUDE,
            "Claude token expired",
            "The OAuth token has expired. Paste a new one (run `claude setup-token`).",
            _NEW_TOKEN,
        ),
        _stopping(
            FailureKind.REVOKED,
            Remedy.REQUEST_NEW_TOKEN,
            SetupStep.CLAUDE,
            "Claude token revoked",
            "The OAuth token was revoked. Paste a new one (run `claude setup-token`).",
            _NEW_TOKEN,
        ),
        _stopping(
            FailureKind.INVALID,
            Remedy.REOPEN_SETUP,
            SetupStep.CLAUDE,
            "Claude credential rejected",
            f"Anthropic rejected the key. Check it at {CONSOLE_KEYS}, then fix it in Multishot.",
        ),
        _stopping(
            FailureKind.NOT_LOGGED_IN,
            Remedy.REOPEN_SETUP,
            SetupStep.CLAUDE,
            "Claude is not logged in",
            "The sandbox had no usable Claude credential. Set one up in Multishot.",
        ),
        _stopping(
            FailureKind.ORG_DISABLED,
            Remedy.USE_ANOTHER_METHOD,
            SetupStep.METHOD,
            "Subscription use disabled",
            "Your organization disabled Claude subscriptions for Claude Code. Use an API key.",
            "Switch to an Anthropic API key with `multishot login`.",
        ),
        _stopping(
            FailureKind.BILLING,
            Remedy.ADD_CREDITS,
            None,
            "Out of API credits",
            f"The Anthropic account has no credit left. Add credits at {CONSOLE_BILLING}.",
            f"Add credits at {CONSOLE_BILLING}, then start the run again.",
        ),
        _stopping(
            FailureKind.DAYTONA_KEY_REJECTED,
            Remedy.REOPEN_SETUP,
            SetupStep.DAYTONA,
            "Daytona rejected the API key",
            f"Daytona did not accept the API key. Check it at {DAYTONA_KEYS}.",
            "Fix the Daytona API key with `multishot login`, then start the run again.",
        ),
        FailurePolicy(
            FailureKind.CONFLICT,
            Remedy.CLEAR_ONE_METHOD,
            False,
            False,
            ShotStatus.FAILED,
            None,
            "Two Claude credentials",
            "Both an API key and a token reached Claude. Keep one method and clear the other.",
            "Log in again with one method: `multishot login`.",
        ),
        FailurePolicy(
            FailureKind.SESSION_LIMIT,
            Remedy.WAIT_FOR_RESET,
            False,
            False,
            ShotStatus.QUOTA_EXHAUSTED,
            None,
            "Usage limit reached",
            "The subscription's usage limit is reached; the shot stopped.",
            "Start the run again after the usage limit resets, or use an API key.",
        ),
        _retrying(
            FailureKind.RATE_LIMIT,
            "Rate limited: backing off",
            "Anthropic is limiting requests. Multishot waits and retries the shot by itself.",
        ),
        _retrying(
            FailureKind.OVERLOADED,
            "Anthropic overloaded: backing off",
            "The API is overloaded. Multishot waits and retries the shot by itself.",
        ),
    )
}


def policy_for(kind: FailureKind) -> FailurePolicy:
    return _TABLE[kind]
