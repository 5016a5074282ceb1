"""The scanner against what the real Claude Code CLI printed, recorded by
scripts/record_claude_corpus.py (re-run it when tests/claude-code.version moves)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from tests.claude_cli import VERSION
from tray.credentials.model import AuthMethod
from tray.failures import FailureKind
from tray.scanner import LogScanner, ScanEvent

CORPUS = Path(__file__).parent / "data" / "claude-code"
INDEX = json.loads((CORPUS / "corpus.json").read_text())
CREDENTIALS = {"api_key": AuthMethod.API_KEY, "oauth": AuthMethod.OAUTH_TOKEN, "none": None}


def scan_recording(case: dict[str, Any], chunk: int = 4096) -> list[ScanEvent]:
    scanner = LogScanner(credential=CREDENTIALS[case["credential"]])
    events: list[ScanEvent] = []
    for stream in ("stdout", "stderr"):
        suffix = "log" if stream == "stdout" else "stderr"
        path = CORPUS / f"{case['name']}.{case['mode']}.{suffix}"
        data = path.read_bytes() if path.exists() else b""
        for start in range(0, len(data), chunk):
            events += scanner.feed(data[start : start + chunk], stream)
    return events + scanner.close()


def test_the_corpus_is_of_the_pinned_version() -> None:
    assert INDEX["claude_code_version"] == VERSION


@pytest.mark.parametrize("case", INDEX["cases"], ids=lambda c: f"{c['name']}-{c['mode']}")
def test_each_recorded_output_gives_exactly_its_failure(case: dict[str, Any]) -> None:
    events = scan_recording(case)
    expected = case["expected"]
    assert {e.kind.value for e in events} == ({expected} if expected else set())
    assert (case["exit_code"] == 0) == (expected is None and case["name"] != "root_refusal")


@pytest.mark.parametrize("mode", ["stream-json", "text"])
def test_a_session_limit_carries_its_reset_time(mode: str) -> None:
    (case,) = [c for c in INDEX["cases"] if c["name"] == "session_limit" and c["mode"] == mode]
    (event,) = scan_recording(case)
    assert event.kind is FailureKind.SESSION_LIMIT
    assert event.resets_at is not None
    # The stand-in announced one reset instant; stream-json carries it exactly, text
    # mode only as a wall-clock time, which means its next occurrence from now.
    announced = dt.datetime.fromtimestamp(_announced_reset(), dt.timezone.utc)
    if mode == "stream-json":
        assert event.resets_at == announced
    else:
        assert event.resets_at.utcoffset() == dt.timedelta(0)
        assert (event.resets_at.hour, event.resets_at.minute) == (announced.hour, announced.minute)
        now = dt.datetime.now(dt.timezone.utc)
        assert dt.timedelta(0) < event.resets_at - now <= dt.timedelta(days=1)


def _announced_reset() -> int:
    log = (CORPUS / "session_limit.stream-json.log").read_text()
    (info,) = {
        json.dumps(event["rate_limit_info"])
        for event in map(json.loads, log.splitlines())
        if event.get("type") == "rate_limit_event"
    }
    resets_at = json.loads(info)["resetsAt"]
    assert isinstance(resets_at, int)
    return resets_at


def test_an_api_keys_first_refusal_is_reported_at_once() -> None:
    (case,) = [
        c for c in INDEX["cases"] if c["name"] == "invalid_key" and c["mode"] == "stream-json"
    ]
    first_retry = (CORPUS / "invalid_key.stream-json.log").read_text().split("\n")
    lines = [line for line in first_retry if '"api_retry"' in line][:1]
    scanner = LogScanner(credential=AuthMethod.API_KEY)
    (event,) = scanner.feed("\n".join(lines) + "\n")
    assert event.kind is FailureKind.INVALID
    assert case["expected"] == "invalid"


def test_overload_retries_are_each_reported_with_their_count() -> None:
    (case,) = [
        c for c in INDEX["cases"] if c["name"] == "overloaded" and c["mode"] == "stream-json"
    ]
    retries = [e for e in scan_recording(case) if e.attempt is not None]
    assert [(e.attempt, e.max_retries) for e in retries] == [(1, 2), (2, 2)]
