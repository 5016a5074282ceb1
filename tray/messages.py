"""What the app tells the user: notification titles and bodies, and where to go next.

No UI imports: both shells (and tests) use these texts. Every text is redacted.
"""

from __future__ import annotations

import dataclasses

from tray.keychain import StorageOutcome
from tray.redaction import redact
from tray.scanner import ScanEvent, ScanKind

CONSOLE_KEYS = "console.anthropic.com → API Keys"
CONSOLE_BILLING = "console.anthropic.com → Billing"


@dataclasses.dataclass(frozen=True)
class Notice:
    title: str
    body: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", redact(self.title))
        object.__setattr__(self, "body", redact(self.body))


_AUTH_TEXTS = {
    ScanKind.EXPIRED: (
        "Claude token expired",
        "The OAuth token has expired. Paste a new one (run `claude setup-token`).",
    ),
    ScanKind.REVOKED: (
        "Claude token revoked",
        "The OAuth token was revoked. Paste a new one (run `claude setup-token`).",
    ),
    ScanKind.INVALID: (
        "Claude credential rejected",
        f"Anthropic rejected the key. Check it at {CONSOLE_KEYS}, then fix it in Multishot.",
    ),
    ScanKind.NOT_LOGGED_IN: (
        "Claude is not logged in",
        "The sandbox had no usable Claude credential. Set one up in Multishot.",
    ),
    ScanKind.CONFLICT: (
        "Two Claude credentials",
        "Both an API key and a token reached Claude. Keep one method and clear the other.",
    ),
    ScanKind.RATE_LIMIT: (
        "Rate limited: backing off",
        "Anthropic is limiting requests. Multishot waits and retries the shot by itself.",
    ),
    ScanKind.OVERLOADED: (
        "Anthropic overloaded: backing off",
        "The API is overloaded. Multishot waits and retries the shot by itself.",
    ),
    ScanKind.SESSION_LIMIT: (
        "Usage limit reached",
        "The subscription's usage limit is reached; the shot stopped.",
    ),
    ScanKind.BILLING: (
        "Out of API credits",
        f"The Anthropic account has no credit left. Add credits at {CONSOLE_BILLING}.",
    ),
    ScanKind.ORG_DISABLED: (
        "Subscription use disabled",
        "Your organization disabled Claude subscriptions for Claude Code. Use an API key.",
    ),
}


def scan_notice(event: ScanEvent) -> Notice:
    title, body = _AUTH_TEXTS[event.kind]
    if event.kind is ScanKind.SESSION_LIMIT and event.resets_at:
        body = f"The subscription's usage limit is reached; it resets {event.resets_at}."
    return Notice(title, body)


def run_finished_notice(status: str, succeeded: int, total: int) -> Notice:
    if status == "cancelled":
        return Notice("Run cancelled", f"{succeeded} of {total} shots had finished.")
    if status == "auth_failed":
        return Notice("Run stopped", "An authentication error stopped every shot.")
    return Notice("Run finished", f"{succeeded} of {total} shots succeeded.")


def credentials_saved_notice(outcome: StorageOutcome) -> Notice:
    if outcome is StorageOutcome.SESSION_ONLY:
        return Notice(
            "Credentials kept for this session",
            "No secure keychain is available, so they are not saved to disk.",
        )
    return Notice("Credentials saved", "Your keys are in the system keychain.")


LOGGED_OUT = Notice("Logged out", "Multishot's credentials were removed from the keychain.")
