"""Watches Claude Code's output for credential and quota failures, chunk by chunk.

Both output styles are understood. For ``--output-format stream-json`` the
structured fields are trusted (a ``result`` with ``is_error``, a synthetic
assistant message with ``is_api_error_message``, a ``system``/``api_retry``
event); any other JSON event is the agent's own work (its text, tool calls and
tool results) and never raises an alarm, whatever words it contains. Plain-text
lines are matched against known CLI error fragments; there the agent's output
cannot be told apart as well, so lines that look like code, quotes or diffs are
ignored (a phrase in quotes, or a line starting with ``+``, ``-``, ``>``, ``@@``
or ``#``).

A line that starts with ``{`` but does not end with ``}`` is malformed JSON and
is read as text. Speed comes from plain substring searches over whole chunks: a
block of well-formed events without an error marker is passed over at once, and
only marked events and text lines are looked at one by one. Memory is bounded: a
line longer than ``MAX_LINE_CHARS`` is scanned in overlapping windows and never
held whole (an oversized JSON line is the agent's content and is skipped).
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import re
from typing import Any

from tray.failures import FailureKind
from tray.redaction import redact

__all__ = [
    "EXCERPT_CHARS",
    "MAX_LINE_CHARS",
    "WINDOW_OVERLAP_CHARS",
    "LogScanner",
    "ScanEvent",
]

MAX_LINE_CHARS = 64 * 1024
WINDOW_OVERLAP_CHARS = 1024
EXCERPT_CHARS = 300


@dataclasses.dataclass(frozen=True)
class ScanEvent:
    kind: FailureKind
    stream: str
    excerpt: str
    retry_after: float | None = None
    resets_at: str | None = None


@dataclasses.dataclass(frozen=True)
class _Rule:
    kind: FailureKind
    pattern: re.Pattern[str]


def _rule(kind: FailureKind, pattern: str) -> _Rule:
    return _Rule(kind, re.compile(pattern, re.IGNORECASE))


# Most specific first: the first rule that matches a line decides its kind.
_RULES = (
    _rule(FailureKind.CONFLICT, r"Auth conflict"),
    _rule(FailureKind.ORG_DISABLED, r"organization has disabled|oauth_org_not_allowed"),
    _rule(FailureKind.BILLING, r"credit balance is too low|billing_error"),
    _rule(
        FailureKind.EXPIRED, r"OAuth token has expired|OAuth session expired|token (?:has )?expired"
    ),
    _rule(FailureKind.REVOKED, r"OAuth token (?:has been )?revoked"),
    _rule(
        FailureKind.SESSION_LIMIT,
        r"hit your (?:\w+ )?(?:session |weekly |usage |daily )?limit|usage limit reached",
    ),
    _rule(FailureKind.INVALID, r"Invalid API key"),
    _rule(
        FailureKind.INVALID,
        r"Invalid bearer token|Authentication failed|Failed to authenticate|"
        r"Invalid authentication credentials|authentication_error|API Error: 401",
    ),
    _rule(FailureKind.NOT_LOGGED_IN, r"Not logged in"),
    _rule(
        FailureKind.RATE_LIMIT,
        r"Rate limit (?:reached|exceeded)|Request rejected \(429\)|"
        r"temporarily limiting requests|rate_limit_error|API Error: 429",
    ),
    _rule(FailureKind.OVERLOADED, r"overloaded_error|Repeated 529|API Error: 529|\bOverloaded\b"),
)

# Cheap first passes, plain substring searches (C speed, unlike a big alternation):
# a well-formed JSON event is examined only if it carries one of these markers...
_STRUCTURAL_MARKERS = ('"is_error":true', '"is_error": true', "is_api_error_message", '"api_retry"')
# ...and a text line only if its lowercase form contains one of these, which between
# them occur in every rule's phrases.
_TEXT_ANCHORS = (
    "auth",
    "limit",
    "overload",
    "credit",
    "billing",
    "organization",
    "logged in",
    "api error",
    "invalid",
    "token",
    "429",
    "529",
)
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
_LINE_BREAK = re.compile(r"[\r\n]")
_RETRY_AFTER = re.compile(
    r"retry(?:ing)?[- ](?:after|in)[:= ]*(\d+(?:\.\d+)?)\s*(ms|milliseconds|s|sec|seconds)?",
    re.IGNORECASE,
)
_RESETS_AT = re.compile(r"resets?(?: at)?\s+([^·|\n]{1,60}?)\s*(?:$|[·|.]\s)", re.IGNORECASE)
_CODE_LIKE_PREFIXES = ("+", "-", ">", "@@", "#", "//")
# How Claude Code itself prints an API failure; such a line may quote the API's message.
_CLI_ERROR_LINE = re.compile(r"^(?:Error\b|API Error|Failed to authenticate)|API Error: \d{3}| · ")
_QUOTES = "\"'`"

_SYNTHETIC_ERRORS = {
    "oauth_org_not_allowed": FailureKind.ORG_DISABLED,
    "billing_error": FailureKind.BILLING,
    "rate_limit": FailureKind.RATE_LIMIT,
    "overloaded": FailureKind.OVERLOADED,
    "authentication_failed": FailureKind.INVALID,
}
_STATUS_KINDS = {
    401: FailureKind.INVALID,
    402: FailureKind.BILLING,
    403: FailureKind.INVALID,
    429: FailureKind.RATE_LIMIT,
    529: FailureKind.OVERLOADED,
}
# Refinements a structured error may get from its own text (never from the agent's).
_REFINES = {
    FailureKind.INVALID: {
        FailureKind.EXPIRED,
        FailureKind.REVOKED,
        FailureKind.NOT_LOGGED_IN,
        FailureKind.ORG_DISABLED,
        FailureKind.BILLING,
        FailureKind.CONFLICT,
    },
    FailureKind.RATE_LIMIT: {FailureKind.SESSION_LIMIT},
    FailureKind.BILLING: set(),
    FailureKind.OVERLOADED: set(),
    FailureKind.ORG_DISABLED: set(),
}


class _StreamState:
    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""
        self.long_line = False  # the pending line has already exceeded MAX_LINE_CHARS
        self.long_line_is_json = False


class LogScanner:
    """Feed it output as it arrives; it returns the new credential/quota events."""

    def __init__(
        self,
        *,
        max_line_chars: int = MAX_LINE_CHARS,
        window_overlap_chars: int = WINDOW_OVERLAP_CHARS,
    ) -> None:
        if not 0 < window_overlap_chars < max_line_chars:
            raise ValueError("the window overlap must be positive and shorter than a window")
        self._max_line = max_line_chars
        self._step = max_line_chars - window_overlap_chars
        self._streams: dict[str, _StreamState] = {}
        self._seen: set[FailureKind] = set()

    def reset(self) -> None:
        """Forget which kinds were reported, so each can be reported once more."""
        self._seen.clear()

    def feed(self, data: bytes | str, stream: str = "stdout") -> list[ScanEvent]:
        state = self._streams.setdefault(stream, _StreamState())
        text = state.decoder.decode(data) if isinstance(data, bytes) else data
        events: list[ScanEvent] = []
        buffer = state.pending + text
        last_break = max(buffer.rfind("\n"), buffer.rfind("\r"))
        if last_break < 0:
            state.pending = buffer
        else:
            state.pending = buffer[last_break + 1 :]
            complete = buffer[: last_break + 1]
            if state.long_line:
                first_break = _LINE_BREAK.search(complete)
                end_of_first = first_break.start() if first_break else len(complete)
                self._finish_long_line(state, complete[:end_of_first], stream, events)
                complete = complete[end_of_first:]
            self._scan_lines(complete, stream, events)
        self._drain_long_line(state, stream, events)
        return events

    def close(self) -> list[ScanEvent]:
        """Flush every stream's unfinished last line."""
        events: list[ScanEvent] = []
        for stream, state in self._streams.items():
            tail = state.pending + state.decoder.decode(b"", final=True)
            state.pending = ""
            if state.long_line:
                self._finish_long_line(state, tail, stream, events)
            elif tail:
                self._scan_lines(tail, stream, events)
        return events

    def _scan_lines(self, text: str, stream: str, events: list[ScanEvent]) -> None:
        if "\r" in text:
            text = text.replace("\r", "\n")
        if _only_plain_agent_events(text):
            return
        for line in text.split("\n"):
            if not line:
                continue
            if len(line) > self._max_line:
                # An oversized JSON line is the agent's content (a file, a tool result):
                # real error events are small. It is skipped, however it arrives.
                if not line.startswith("{"):
                    self._scan_windows(line, stream, events)
            elif not _is_plain_agent_event(line):
                self._examine(line, stream, events, allow_json=True)

    def _scan_windows(
        self, text: str, stream: str, events: list[ScanEvent], *, final: bool = True
    ) -> str:
        """Overlapping windows of a long line, at the same offsets however it was split.

        Returns the part not yet scanned as a full window; it is scanned too when
        ``final`` (the line has ended).
        """
        offset = 0
        while len(text) - offset > self._max_line:
            self._examine(text[offset : offset + self._max_line], stream, events, allow_json=False)
            offset += self._step
        rest = text[offset:]
        if final:
            self._examine(rest, stream, events, allow_json=False)
        return rest

    def _drain_long_line(self, state: _StreamState, stream: str, events: list[ScanEvent]) -> None:
        """Hold at most one window of an unfinished line; scan what is let go."""
        if len(state.pending) <= self._max_line:
            return
        if not state.long_line:
            state.long_line = True
            state.long_line_is_json = state.pending.startswith("{")
        if state.long_line_is_json:
            state.pending = ""  # nothing of an oversized JSON line is ever examined
        else:
            state.pending = self._scan_windows(state.pending, stream, events, final=False)

    def _finish_long_line(
        self, state: _StreamState, rest: str, stream: str, events: list[ScanEvent]
    ) -> None:
        if not state.long_line_is_json:
            self._scan_windows(rest, stream, events)
        state.long_line = False

    def _examine(
        self, line: str, stream: str, events: list[ScanEvent], *, allow_json: bool
    ) -> None:
        clean = (_ANSI.sub("", line) if "\x1b" in line else line).strip()
        if allow_json and clean.startswith("{") and clean.endswith("}"):
            try:
                event = json.loads(clean)
            except ValueError:
                event = None
            if isinstance(event, dict):
                self._report(_classify_json(event), stream, events)
                return
        lowered = clean.lower()
        if any(anchor in lowered for anchor in _TEXT_ANCHORS):
            self._report(_classify_text(clean), stream, events)

    def _report(self, event: _Found | None, stream: str, events: list[ScanEvent]) -> None:
        if event is None or event.kind in self._seen:
            return
        self._seen.add(event.kind)
        events.append(
            ScanEvent(
                kind=event.kind,
                stream=stream,
                excerpt=_excerpt(event.text),
                retry_after=event.retry_after,
                resets_at=event.resets_at,
            )
        )


@dataclasses.dataclass(frozen=True)
class _Found:
    kind: FailureKind
    text: str
    retry_after: float | None = None
    resets_at: str | None = None


def _is_plain_agent_event(line: str) -> bool:
    """A well-formed stream-json event without an error marker: the agent's own work."""
    return (
        line.startswith("{")
        and (line.endswith("}") or line.rstrip().endswith("}"))
        and not any(marker in line for marker in _STRUCTURAL_MARKERS)
    )


def _only_plain_agent_events(lines: str) -> bool:
    """The common case, decided for a whole block at once: every line is such an event.

    JSON strings escape their line breaks, so a block of n events is exactly n lines
    joined by "}\n{" and ending in "}\n".
    """
    return (
        lines.startswith("{")
        and lines.endswith("}\n")
        and lines.count("\n") == lines.count("}\n{") + 1
        and not any(marker in lines for marker in _STRUCTURAL_MARKERS)
    )


def _match_rules(text: str) -> _Rule | None:
    return next((rule for rule in _RULES if rule.pattern.search(text)), None)


def _classify_text(line: str) -> _Found | None:
    if line.startswith(_CODE_LIKE_PREFIXES):
        return None
    for rule in _RULES:
        match = rule.pattern.search(line)
        if match is None:
            continue
        if _quoted(line, match) and not _CLI_ERROR_LINE.search(line):
            return None  # a phrase in quotes: source code, or a message being written
        return _found(rule.kind, line)
    return None


def _quoted(line: str, match: re.Match[str]) -> bool:
    before = line[match.start() - 1 : match.start()]
    after = line[match.end() : match.end() + 1]
    return bool((before and before in _QUOTES) or (after and after in _QUOTES))


def _found(kind: FailureKind, text: str, retry_after: float | None = None) -> _Found:
    resets_at = None
    if kind is FailureKind.SESSION_LIMIT:
        reset = _RESETS_AT.search(text + " ")
        resets_at = reset.group(1).strip() if reset else None
    if retry_after is None:
        retry = _RETRY_AFTER.search(text)
        if retry:
            value = float(retry.group(1))
            retry_after = value / 1000 if (retry.group(2) or "").startswith("m") else value
    return _Found(kind, text, retry_after, resets_at)


def _classify_json(event: dict[str, Any]) -> _Found | None:
    kind = event.get("type")
    if kind == "result" and event.get("is_error") is True:
        text = _text_of(event.get("result")) or _text_of(event.get("errors"))
        return _structured(_status_kind(event.get("api_error_status")), text)
    if kind == "assistant":
        message = event.get("message")
        message = message if isinstance(message, dict) else {}
        is_api_error = event.get("is_api_error_message") or message.get("is_api_error_message")
        if not is_api_error:
            return None
        code = event.get("error") or message.get("error")
        return _structured(_SYNTHETIC_ERRORS.get(str(code)), _text_of(message.get("content")))
    if kind == "system" and event.get("subtype") == "api_retry":
        status = event.get("error_status") or event.get("status")
        base = _status_kind(status)
        if base not in (FailureKind.RATE_LIMIT, FailureKind.OVERLOADED):
            return None
        delay = event.get("retry_delay_ms")
        retry_after = delay / 1000 if isinstance(delay, (int, float)) else None
        text = _text_of(event.get("error")) or f"API retry after HTTP {status}"
        return _found(base, text, retry_after)
    return None


def _structured(base: FailureKind | None, text: str) -> _Found | None:
    """A structured failure: its kind, refined by its own message where that says more."""
    rule = _match_rules(text) if text else None
    if base is None:
        return _found(rule.kind, text) if rule else None
    if rule is not None and (rule.kind is base or rule.kind in _REFINES.get(base, set())):
        return _found(rule.kind, text)
    return _found(base, text or base.value)


def _text_of(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text_of(item) for item in value)
    if isinstance(value, dict):
        return _text_of(value.get("text") or value.get("message") or "")
    return ""


def _status_kind(value: object) -> FailureKind | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return _STATUS_KINDS.get(value)


def _excerpt(text: str) -> str:
    clean = redact(_ANSI.sub("", text).strip())
    if len(clean) <= EXCERPT_CHARS:
        return clean
    return clean[: EXCERPT_CHARS - 1] + "…"
