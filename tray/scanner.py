"""Watches Claude Code's output for credential and quota failures, chunk by chunk.

Both output styles are understood. For ``--output-format stream-json`` the
structured fields are trusted, as the real CLI prints them: a ``result`` with
``is_error``, a synthetic assistant message (model ``<synthetic>``, with a
top-level ``error`` code), a ``system``/``api_retry`` event per retry, and a
``rate_limit_event`` whose ``rate_limit_info`` says when a subscription's limit
resets; any other JSON event is the agent's own work (its text, tool calls and
tool results) and never raises an alarm, whatever words it contains.

An API key the API refuses (401/403) is reported at the first retry event: the CLI
would retry it for minutes. An OAuth token's refusal is reported from the CLI's
own message, which comes after two requests and tells expired from revoked. Plain-text
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

Long because the chunk path, the text rules and the stream-json events share one
table of phrases and kinds; they are read, and changed, together.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import json
import re
from typing import Any

from tray.credentials.model import AuthMethod
from tray.failures import FailureKind
from tray.redaction import redact
from tray.reset_time import parse_reset_time

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
    resets_at: dt.datetime | None = None  # when a usage limit resets (timezone-aware)
    attempt: int | None = None  # the CLI's own retry: "retry 3 of 6"
    max_retries: int | None = None


@dataclasses.dataclass(frozen=True)
class _Rule:
    kind: FailureKind
    pattern: re.Pattern[str]


def _rule(kind: FailureKind, pattern: str) -> _Rule:
    return _Rule(kind, re.compile(pattern, re.IGNORECASE))


# Most specific first: the first rule that matches a line decides its kind.
_RULES = (
    _rule(FailureKind.CONFLICT, r"Auth conflict"),
    _rule(
        FailureKind.ORG_DISABLED,
        r"organization has disabled|oauth_org_not_allowed|not allowed for this organization",
    ),
    _rule(FailureKind.BILLING, r"credit balance is too low|billing_error"),
    _rule(
        FailureKind.EXPIRED, r"OAuth token has expired|OAuth session expired|token (?:has )?expired"
    ),
    _rule(FailureKind.REVOKED, r"OAuth token (?:has been )?revoked|does not have access to Claude"),
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
# a well-formed JSON event is examined only if it carries one of these markers (the
# real CLI writes "type" first; a quote inside a JSON string is escaped, so the
# agent's own text never holds them)...
_STRUCTURAL_MARKERS = ('"type":"result"', '"<synthetic>"', '"api_retry"', '"rate_limit_event"')
# A line break that does not sit between two JSON events ("}" before, "{" after).
# JSON strings escape their line breaks, so a block of events has none; the search
# runs at the speed of a scan for "\n".
_BREAK_OUTSIDE_EVENTS = re.compile(r"\n(?:(?!\{)|(?<!\}\n))")
# ...and text only if its lowercase form contains one of these: every phrase of every
# rule contains one, and ordinary output ("token", "limit", "invalid", "429") does not.
_ANCHORS = (
    "auth conflict",
    "organization",
    "oauth_org",
    "credit balance",
    "billing_error",
    "token has expired",
    "token expired",
    "session expired",
    "revoked",
    "access to claude",
    "hit your",
    "usage limit reached",
    "invalid api key",
    "invalid bearer",
    "authenticat",
    "api error",
    "not logged in",
    "rate limit",
    "rejected (429)",
    "limiting requests",
    "rate_limit_error",
    "overloaded",
    "repeated 529",
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
    "server_error": FailureKind.OVERLOADED,
    "authentication_failed": FailureKind.INVALID,
}
# A refused credential, by HTTP status, when a retry event is all there is to go on.
_REFUSED_KEY = {401: FailureKind.INVALID, 403: FailureKind.REVOKED}
_REFUSED_TOKEN = {401: FailureKind.EXPIRED, 403: FailureKind.REVOKED}
# The CLI gives up on a refused OAuth token after two requests and says why; a third
# retry would mean it no longer does, and the refusal is reported from the status.
_TOKEN_RETRIES_BEFORE_REPORT = 3
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
        self.in_fence = False  # inside a ``` block: the agent quoting code, never the CLI


class LogScanner:
    """Feed it output as it arrives; it returns the new credential/quota events."""

    def __init__(
        self,
        *,
        credential: AuthMethod | None = None,
        max_line_chars: int = MAX_LINE_CHARS,
        window_overlap_chars: int = WINDOW_OVERLAP_CHARS,
    ) -> None:
        """``credential``: the kind the CLI was given, which decides what a refusal means."""
        if not 0 < window_overlap_chars < max_line_chars:
            raise ValueError("the window overlap must be positive and shorter than a window")
        self._credential = credential
        self._max_line = max_line_chars
        self._step = max_line_chars - window_overlap_chars
        self._streams: dict[str, _StreamState] = {}
        self._seen: set[tuple[FailureKind, int | None]] = set()

    def reset(self) -> None:
        """Forget which kinds were reported, so each can be reported once more."""
        self._seen.clear()

    def feed(self, data: bytes | str, stream: str = "stdout") -> list[ScanEvent]:
        state = self._streams.setdefault(stream, _StreamState())
        text = state.decoder.decode(data) if isinstance(data, bytes) else data
        events: list[ScanEvent] = []
        buffer = state.pending + text
        redraws = "\r" in buffer
        last_break = max(buffer.rfind("\n"), buffer.rfind("\r") if redraws else -1)
        if last_break < 0:
            state.pending = buffer
        else:
            state.pending = buffer[last_break + 1 :]
            if state.long_line:
                first_break = _LINE_BREAK.search(buffer, 0, last_break + 1)
                end_of_first = first_break.start() if first_break else last_break + 1
                self._finish_long_line(state, buffer[:end_of_first], stream, events)
                buffer = buffer[end_of_first:]
                last_break -= end_of_first
            # Most chunks of stream-json end at this test, without a copy or a split.
            if redraws or not _only_plain_events(buffer, last_break + 1):
                self._scan_lines(buffer[: last_break + 1], stream, state, events)
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
                self._scan_lines(tail, stream, state, events)
        return events

    def _scan_lines(
        self, text: str, stream: str, state: _StreamState, events: list[ScanEvent]
    ) -> None:
        if "\r" in text:
            text = text.replace("\r", "\n")
        marked = any(marker in text for marker in _STRUCTURAL_MARKERS)
        if not marked and (_only_json_events(text, len(text)) or not _worth_a_look(text)):
            return
        for line in text.split("\n"):
            if not line:
                continue
            if line.lstrip().startswith("```"):
                state.in_fence = not state.in_fence
                continue
            if state.in_fence:
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
                self._report(_classify_json(event, self._credential), stream, events)
                return
        if _anchored(clean):
            self._report(_classify_text(clean), stream, events)

    def _report(self, event: _Found | None, stream: str, events: list[ScanEvent]) -> None:
        """Each kind once, and each of the CLI's own retries of it once."""
        if event is None or (event.kind, event.attempt) in self._seen:
            return
        self._seen.add((event.kind, event.attempt))
        events.append(
            ScanEvent(
                kind=event.kind,
                stream=stream,
                excerpt=_excerpt(event.text),
                retry_after=event.retry_after,
                resets_at=event.resets_at,
                attempt=event.attempt,
                max_retries=event.max_retries,
            )
        )


@dataclasses.dataclass(frozen=True)
class _Found:
    kind: FailureKind
    text: str
    retry_after: float | None = None
    resets_at: dt.datetime | None = None
    attempt: int | None = None
    max_retries: int | None = None


def _is_plain_agent_event(line: str) -> bool:
    """A well-formed stream-json event without an error marker: the agent's own work."""
    return (
        line.startswith("{")
        and (line.endswith("}") or line.rstrip().endswith("}"))
        and not any(marker in line for marker in _STRUCTURAL_MARKERS)
    )


def _only_plain_events(text: str, end: int) -> bool:
    """``text[:end]`` holds nothing but JSON events without a marker: the agent's work."""
    return all(text.find(marker, 0, end) < 0 for marker in _STRUCTURAL_MARKERS) and (
        _only_json_events(text, end)
    )


def _only_json_events(text: str, end: int) -> bool:
    """Whether every line of ``text[:end]`` is a JSON event (one decision for the block)."""
    return (
        text.startswith("{")
        and text.endswith("}\n", 0, end)
        and _BREAK_OUTSIDE_EVENTS.search(text, 0, end - 1) is None
    )


def _anchored(text: str) -> bool:
    lowered = text.lower()
    return any(anchor in lowered for anchor in _ANCHORS)


def _worth_a_look(text: str) -> bool:
    """Text with a phrase some rule could match, or a code fence whose state matters."""
    return "```" in text or _anchored(text)


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
        resets_at = parse_reset_time(reset.group(1)) if reset else None
    if retry_after is None:
        retry = _RETRY_AFTER.search(text)
        if retry:
            value = float(retry.group(1))
            retry_after = value / 1000 if (retry.group(2) or "").startswith("m") else value
    return _Found(kind, text, retry_after, resets_at)


def _classify_json(event: dict[str, Any], credential: AuthMethod | None) -> _Found | None:
    kind = event.get("type")
    if kind == "result" and event.get("is_error") is True:
        text = _text_of(event.get("result")) or _text_of(event.get("errors"))
        return _structured(_status_kind(event.get("api_error_status")), text)
    if kind == "assistant":
        message = event.get("message")
        message = message if isinstance(message, dict) else {}
        code = event.get("error") or message.get("error")
        synthetic = message.get("model") == "<synthetic>" or event.get("is_api_error_message")
        if not (synthetic and code):
            return None
        return _structured(_SYNTHETIC_ERRORS.get(str(code)), _text_of(message.get("content")))
    if kind == "system" and event.get("subtype") == "api_retry":
        return _api_retry(event, credential)
    if kind == "rate_limit_event":
        return _rate_limit(event.get("rate_limit_info"))
    return None


def _api_retry(event: dict[str, Any], credential: AuthMethod | None) -> _Found | None:
    """One of the CLI's own retries: a refused credential, a rate limit or an overload."""
    status = event.get("error_status") or event.get("status")
    attempt = _integer(event.get("attempt"))
    limit = _integer(event.get("max_retries"))
    if status in _REFUSED_KEY:
        if credential is AuthMethod.OAUTH_TOKEN:
            if (attempt or 0) < _TOKEN_RETRIES_BEFORE_REPORT:
                return None  # the CLI's own message follows, and tells expired from revoked
            return _found(_REFUSED_TOKEN[status], f"The API refused the token (HTTP {status})")
        return _found(_REFUSED_KEY[status], f"The API refused the API key (HTTP {status})")
    base = _status_kind(status)
    if base not in (FailureKind.RATE_LIMIT, FailureKind.OVERLOADED):
        return None
    delay = event.get("retry_delay_ms")
    retry_after = delay / 1000 if isinstance(delay, (int, float)) else None
    text = _text_of(event.get("error")) or f"API retry after HTTP {status}"
    found = _found(base, text, retry_after)
    return dataclasses.replace(found, attempt=attempt, max_retries=limit)


def _rate_limit(info: object) -> _Found | None:
    """A subscription's usage limit: rejected until ``resetsAt`` (epoch seconds)."""
    if not isinstance(info, dict) or info.get("status") != "rejected":
        return None
    window = str(info.get("rateLimitType") or "usage").replace("_", " ")
    resets = info.get("resetsAt")
    resets_at = (
        dt.datetime.fromtimestamp(resets, dt.timezone.utc)
        if isinstance(resets, (int, float)) and not isinstance(resets, bool)
        else None
    )
    text = f"The {window} usage limit is reached"
    return _Found(FailureKind.SESSION_LIMIT, text, None, resets_at)


def _integer(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
