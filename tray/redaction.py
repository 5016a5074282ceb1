"""The one place where secrets are masked: logs, run output, notifications, errors.

Two layers: every secret the process has handled is remembered (exact match,
whatever its shape), and anything shaped like an Anthropic (``sk-ant-…``) or
Daytona (``dtn_…``) credential is masked even if this process never saw it.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = [
    "RedactingFilter",
    "StreamRedactor",
    "install_redaction",
    "looks_like_secret",
    "mask",
    "redact",
    "remember",
]

_SHAPED_SECRET = re.compile(r"sk-ant-[A-Za-z0-9_\-]{20,}|dtn_[A-Za-z0-9_\-]{20,}")
_KNOWN_PREFIXES = ("sk-ant-", "dtn_")
_MIN_REMEMBERED_LENGTH = 8
_VISIBLE_TAIL = 4
_MIN_LENGTH_TO_SHOW_TAIL = 16

_lock = threading.Lock()
_remembered: frozenset[str] = frozenset()


def mask(secret: str) -> str:
    """A recognisable but useless form of a secret: ``sk-ant-…a1b2``, ``dtn_…9f3c``."""
    prefix = next((p for p in _KNOWN_PREFIXES if secret.startswith(p)), "")
    if len(secret) < _MIN_LENGTH_TO_SHOW_TAIL:
        return f"{prefix}…"
    return f"{prefix}…{secret[-_VISIBLE_TAIL:]}"


def remember(*secrets: str | None) -> None:
    """Register secrets so that every later :func:`redact` call masks them."""
    global _remembered
    fresh = {s for s in secrets if s and len(s) >= _MIN_REMEMBERED_LENGTH}
    if not fresh - _remembered:
        return
    with _lock:
        _remembered = _remembered | fresh


def redact(text: str) -> str:
    """Return ``text`` with every remembered or secret-shaped value masked."""
    for secret in _remembered:
        if secret in text:
            text = text.replace(secret, mask(secret))
    # Nearly all text holds no key-shaped value: two substring searches decide that
    # several times faster than the regular expression would.
    if not any(prefix in text for prefix in _KNOWN_PREFIXES):
        return text
    return _SHAPED_SECRET.sub(lambda m: mask(m.group(0)), text)


def looks_like_secret(text: str) -> bool:
    """A remembered secret, or anything shaped or prefixed like an Anthropic or Daytona one."""
    return text.startswith(_KNOWN_PREFIXES) or redact(text) != text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's final message and traceback before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction(handler: logging.Handler) -> logging.Handler:
    """Attach the redacting filter to ``handler`` (idempotent) and return it."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())
    return handler


class StreamRedactor:
    """Redacts a text stream that arrives in pieces, without cutting a secret in two.

    Complete lines are redacted and released; an unfinished line is held back, but
    never more than ``max_held`` characters of it (the rest is released redacted,
    keeping a tail long enough to hold any secret that straddles the cut).
    """

    def __init__(self, max_held: int = 64 * 1024, tail: int = 2048) -> None:
        self._held = ""
        self._max_held = max_held
        self._tail = tail

    def feed(self, text: str) -> str:
        held = self._held + text
        cut = max(held.rfind("\n"), held.rfind("\r")) + 1
        if cut == 0 and len(held) > self._max_held:
            cut = len(held) - self._tail
        self._held = held[cut:]
        return redact(held[:cut]) if cut else ""

    def flush(self) -> str:
        rest, self._held = self._held, ""
        return redact(rest)
