"""A shot's Claude Code log (``--output-format stream-json``) as a conversation to read.

Each line of the log is one JSON event; :class:`ConversationReader` turns them into
:class:`Item` s (what the assistant said, the tools it called and what they answered,
retries, errors, the final result) as the log grows, chunk by chunk. A line that is
not an event (a stray message from the CLI, half a line cut by a tail) is kept as
it is, raw: nothing in the log goes missing from the view.

The shapes are the real CLI's (see tests/data/claude-code/ and
shared/reference/claude-code-auth.md); anything it adds later shows as a system line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from typing import Any

from tray.runs.display import format_cost, format_duration, format_reset, plural

__all__ = ["ConversationReader", "Item", "ItemKind", "read_conversation", "summarise_input"]

SUMMARY_CHARS = 100
# What best says what a tool call does, by the name its input gives it.
_SUMMARY_KEYS = (
    "command",
    "file_path",
    "notebook_path",
    "pattern",
    "path",
    "url",
    "query",
    "description",
    "prompt",
)


class ItemKind(enum.Enum):
    SYSTEM = "system"  # the session started, the model and folder
    ASSISTANT = "assistant"  # what Claude said
    USER = "user"  # a prompt or message given to Claude
    TOOL_CALL = "tool call"  # a tool Claude called, with a short input
    TOOL_RESULT = "tool result"  # what the tool answered (shown folded)
    RETRY = "retry"  # the CLI retries an API call
    ERROR = "error"  # an API error, a rejected usage limit
    RESULT = "result"  # the end: turns, cost, time
    RAW = "raw"  # a line that is not a stream-json event


@dataclasses.dataclass(frozen=True)
class Item:
    kind: ItemKind
    title: str  # one line
    body: str = ""  # more text, maybe many lines (a message, a tool's answer)
    is_error: bool = False


def summarise_input(tool_input: object) -> str:
    """A tool call's input in one short line: the command, the file, the pattern..."""
    if isinstance(tool_input, dict):
        for key in _SUMMARY_KEYS:
            value = tool_input.get(key)
            if isinstance(value, str) and value.strip():
                return _shorten(value)
    if not tool_input:
        return ""
    return _shorten(json.dumps(tool_input, ensure_ascii=False, separators=(", ", ": ")))


def _shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class ConversationReader:
    """Feed it the log as it grows; it hands back the items of each complete line."""

    def __init__(self, *, mid_line: bool = False) -> None:
        """``mid_line``: the first chunk starts inside a line (a tail of a long log):
        everything up to its first newline is dropped, not shown as a broken line."""
        self._partial = ""
        self._skip_to_newline = mid_line

    def feed(self, text: str) -> list[Item]:
        data = self._partial + text
        if self._skip_to_newline:
            newline = data.find("\n")
            if newline < 0:
                self._partial = ""
                return []
            data, self._skip_to_newline = data[newline + 1 :], False
        lines = data.split("\n")
        self._partial = lines.pop()
        return [item for line in lines for item in items_of_line(line)]

    def flush(self) -> list[Item]:
        """The last line, when the log ends without a newline."""
        line, self._partial = self._partial, ""
        return items_of_line(line)


def read_conversation(text: str) -> list[Item]:
    reader = ConversationReader()
    return reader.feed(text) + reader.flush()


def items_of_line(line: str) -> list[Item]:
    stripped = line.strip()
    if not stripped:
        return []
    try:
        event = json.loads(stripped)
    except ValueError:
        return [Item(ItemKind.RAW, stripped)]
    if not isinstance(event, dict):
        return [Item(ItemKind.RAW, stripped)]
    return _items_of_event(event)


def _items_of_event(event: dict[str, Any]) -> list[Item]:
    kind = event.get("type")
    if kind == "system":
        return _system(event)
    if kind == "assistant":
        return _assistant(event)
    if kind == "user":
        return _user(event)
    if kind == "result":
        return [_result(event)]
    if kind == "rate_limit_event":
        return _rate_limit(event)
    if kind == "stream_event":  # partial deltas: the whole message follows as "assistant"
        return []
    return [Item(ItemKind.SYSTEM, f"{kind or 'event'} {event.get('subtype') or ''}".strip())]


def _system(event: dict[str, Any]) -> list[Item]:
    subtype = event.get("subtype")
    if subtype == "init":
        facts = [event.get("model"), event.get("cwd")]
        version = event.get("claude_code_version")
        if version:
            facts.append(f"Claude Code {version}")
        return [Item(ItemKind.SYSTEM, " · ".join(["Session started", *filter(None, facts)]))]
    if subtype == "api_retry":
        status = event.get("error_status")
        error = str(event.get("error") or "error").replace("_", " ")
        delay = event.get("retry_delay_ms")
        when = f" in {format_duration(delay)}" if isinstance(delay, (int, float)) else ""
        attempt, most = event.get("attempt"), event.get("max_retries")
        which = f"retry {attempt} of {most}" if attempt and most else "retrying"
        prefix = f"API error {status} ({error})" if status else f"API error ({error})"
        return [Item(ItemKind.RETRY, f"{prefix}: {which}{when}", is_error=True)]
    return [Item(ItemKind.SYSTEM, f"System: {subtype or 'event'}")]


def _blocks(event: dict[str, Any]) -> list[dict[str, Any]]:
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [block for block in content if isinstance(block, dict)]
    return []


def _assistant(event: dict[str, Any]) -> list[Item]:
    message = event.get("message")
    synthetic = isinstance(message, dict) and message.get("model") == "<synthetic>"
    failed = bool(event.get("error")) or synthetic
    items: list[Item] = []
    for block in _blocks(event):
        if block.get("type") == "text" and str(block.get("text", "")).strip():
            text = str(block["text"]).strip()
            if failed:
                first, _, rest = text.partition("\n")
                items.append(Item(ItemKind.ERROR, first, rest.strip(), is_error=True))
            else:
                items.append(Item(ItemKind.ASSISTANT, "Claude", text))
        elif block.get("type") == "tool_use":
            name = str(block.get("name") or "tool")
            items.append(Item(ItemKind.TOOL_CALL, name, summarise_input(block.get("input"))))
        elif block.get("type") == "thinking" and str(block.get("thinking", "")).strip():
            items.append(Item(ItemKind.ASSISTANT, "Claude (thinking)", str(block["thinking"])))
    return items


def _user(event: dict[str, Any]) -> list[Item]:
    items: list[Item] = []
    for block in _blocks(event):
        if block.get("type") == "tool_result":
            text = _result_text(block.get("content"))
            failed = bool(block.get("is_error"))
            lines = text.count("\n") + 1 if text else 0
            title = f"{'Error' if failed else 'Result'}: {plural(lines, 'line')}"
            items.append(Item(ItemKind.TOOL_RESULT, title, text, is_error=failed))
        elif block.get("type") == "text" and str(block.get("text", "")).strip():
            items.append(Item(ItemKind.USER, "Prompt", str(block["text"]).strip()))
    return items


def _result_text(content: object) -> str:
    if isinstance(content, str):
        return content.rstrip()
    if isinstance(content, list):
        parts = [
            str(part.get("text", "")) if part.get("type") == "text" else f"[{part.get('type')}]"
            for part in content
            if isinstance(part, dict)
        ]
        return "\n".join(parts).rstrip()
    return ""


def _result(event: dict[str, Any]) -> Item:
    facts: list[str] = []
    turns = event.get("num_turns")
    if isinstance(turns, int):
        facts.append(plural(turns, "turn"))
    cost = event.get("total_cost_usd")
    if isinstance(cost, (int, float)):
        facts.append(format_cost(cost))
    duration = event.get("duration_ms")
    if isinstance(duration, (int, float)):
        facts.append(format_duration(duration))
    subtype = str(event.get("subtype") or "")
    failed = bool(event.get("is_error")) or subtype.startswith("error")
    status = event.get("api_error_status")
    if subtype.startswith("error_"):  # error_max_turns, error_during_execution...
        head = f"Ended ({subtype.removeprefix('error_').replace('_', ' ')})"
    elif failed:
        head = f"Ended with an error{f' (API {status})' if status else ''}"
    else:
        head = "Finished"
    title = f"{head}: {', '.join(facts)}" if facts else head
    # The error's own words came as a message already; only the CLI's list is new here.
    errors = event.get("errors")
    body = "\n".join(map(str, errors)) if isinstance(errors, list) else ""
    return Item(ItemKind.RESULT, title, body, is_error=failed)


def _rate_limit(event: dict[str, Any]) -> list[Item]:
    info = event.get("rate_limit_info")
    if not isinstance(info, dict) or info.get("status") != "rejected":
        return []  # an allowed request says nothing worth reading
    title = "Usage limit reached"
    resets = info.get("resetsAt")
    if isinstance(resets, (int, float)):
        when = dt.datetime.fromtimestamp(resets, dt.timezone.utc)
        title += f"; it resets at {format_reset(when)}"
    return [Item(ItemKind.ERROR, title, is_error=True)]
