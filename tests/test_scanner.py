from __future__ import annotations

import datetime as dt
import itertools
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import claude_logs as logs
from tray.failures import FailureKind, Remedy, policy_for
from tray.reset_time import parse_reset_time
from tray.scanner import LogScanner, ScanEvent

K = FailureKind
A = Remedy


def scan(*chunks: bytes | str, stream: str = "stdout") -> list[ScanEvent]:
    scanner = LogScanner()
    events = [e for chunk in chunks for e in scanner.feed(chunk, stream)]
    return events + scanner.close()


def kinds(events: list[ScanEvent]) -> list[FailureKind]:
    return [e.kind for e in events]


PLAIN_CASES = [
    ("Not logged in · Please run /login", K.NOT_LOGGED_IN, A.REOPEN_SETUP),
    ("Invalid API key · Fix external API key", K.INVALID, A.REOPEN_SETUP),
    ("Invalid API key · Please run /login", K.INVALID, A.REOPEN_SETUP),
    ("Failed to authenticate. API Error: 401 Invalid bearer token", K.INVALID, A.REOPEN_SETUP),
    (
        "Please run /login · API Error: 401 Invalid authentication credentials",
        K.INVALID,
        A.REOPEN_SETUP,
    ),
    ("Authentication failed", K.INVALID, A.REOPEN_SETUP),
    ("OAuth token has expired", K.EXPIRED, A.REQUEST_NEW_TOKEN),
    (
        'API Error: 401 {"type":"error","error":{"type":"authentication_error","message":'
        '"OAuth token has expired. Please obtain a new token or refresh your existing token."}}',
        K.EXPIRED,
        A.REQUEST_NEW_TOKEN,
    ),
    (
        "Failed to authenticate: OAuth session expired and could not be refreshed",
        K.EXPIRED,
        A.REQUEST_NEW_TOKEN,
    ),
    ("OAuth token revoked · Please run /login", K.REVOKED, A.REQUEST_NEW_TOKEN),
    (
        "API Error: 403 OAuth token has been revoked. Please obtain a new token.",
        K.REVOKED,
        A.REQUEST_NEW_TOKEN,
    ),
    ("API Error: Rate limit reached", K.RATE_LIMIT, A.BACK_OFF_AND_RETRY),
    ("Rate limit exceeded", K.RATE_LIMIT, A.BACK_OFF_AND_RETRY),
    ("API Error: Request rejected (429) · retry after 30s", K.RATE_LIMIT, A.BACK_OFF_AND_RETRY),
    (
        "Server is temporarily limiting requests (not your usage limit)",
        K.RATE_LIMIT,
        A.BACK_OFF_AND_RETRY,
    ),
    ("You've hit your session limit · resets 3:45pm", K.SESSION_LIMIT, A.WAIT_FOR_RESET),
    ("You've hit your weekly limit · resets Dec 2, 9am", K.SESSION_LIMIT, A.WAIT_FOR_RESET),
    ("You've hit your Opus limit · resets 11pm", K.SESSION_LIMIT, A.WAIT_FOR_RESET),
    (
        'API Error: 529 {"type":"error","error":{"type":"overloaded_error",'
        '"message":"Overloaded"}}',
        K.OVERLOADED,
        A.BACK_OFF_AND_RETRY,
    ),
    ("Repeated 529 Overloaded errors", K.OVERLOADED, A.BACK_OFF_AND_RETRY),
    ("Credit balance is too low", K.BILLING, A.ADD_CREDITS),
    (
        "API Error: 400 Your credit balance is too low to access the Anthropic API.",
        K.BILLING,
        A.ADD_CREDITS,
    ),
    (
        "Your organization has disabled Claude subscription access for Claude Code",
        K.ORG_DISABLED,
        A.USE_ANOTHER_METHOD,
    ),
    (
        "Auth conflict: Both a token (claude.ai) and an API key (ANTHROPIC_API_KEY) are set.",
        K.CONFLICT,
        A.CLEAR_ONE_METHOD,
    ),
]


@pytest.mark.parametrize(("line", "kind", "action"), PLAIN_CASES)
@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_plain_text_failures(line: str, kind: FailureKind, action: Remedy, stream: str) -> None:
    (found,) = scan(f"{line}\n", stream=stream)
    assert (found.kind, policy_for(found.kind).remedy, found.stream) == (kind, action, stream)
    assert found.excerpt == line


STRUCTURED_CASES = [
    (
        logs.result(is_error=True, status=401, text="Invalid API key · Fix external API key"),
        K.INVALID,
    ),
    (logs.result(is_error=True, status=401, text="OAuth token has expired"), K.EXPIRED),
    (logs.result(is_error=True, status=401, text="API Error: 401"), K.INVALID),
    (logs.result(is_error=True, status=403, text="OAuth token has been revoked."), K.REVOKED),
    (logs.result(is_error=True, status=429, text="API Error: Rate limit reached"), K.RATE_LIMIT),
    (
        logs.result(is_error=True, status=429, text="You've hit your session limit · resets 5pm"),
        K.SESSION_LIMIT,
    ),
    (logs.result(is_error=True, status=529, text="Repeated 529 Overloaded errors"), K.OVERLOADED),
    (
        logs.result(is_error=True, status=None, text="Not logged in · Please run /login"),
        K.NOT_LOGGED_IN,
    ),
    (logs.result(is_error=True, status=402, text="billing"), K.BILLING),
    (
        logs.synthetic_error("authentication_failed", "Invalid API key · Fix external API key"),
        K.INVALID,
    ),
    (
        logs.synthetic_error("authentication_failed", "OAuth token revoked · Please run /login"),
        K.REVOKED,
    ),
    (
        logs.synthetic_error("authentication_failed", "Not logged in · Please run /login"),
        K.NOT_LOGGED_IN,
    ),
    (logs.synthetic_error("rate_limit", "API Error: Rate limit reached"), K.RATE_LIMIT),
    (logs.synthetic_error("billing_error", "Credit balance is too low"), K.BILLING),
    (logs.synthetic_error("overloaded", "API Error: 529 overloaded_error"), K.OVERLOADED),
    (
        logs.synthetic_error(
            "oauth_org_not_allowed",
            "Your organization has disabled Claude subscription access for Claude Code",
        ),
        K.ORG_DISABLED,
    ),
    (logs.api_retry(429, 2500, "rate_limit"), K.RATE_LIMIT),
    (logs.api_retry(529, 1000, "overloaded"), K.OVERLOADED),
]


@pytest.mark.parametrize(("line", "kind"), STRUCTURED_CASES)
def test_stream_json_failures(line: str, kind: FailureKind) -> None:
    (found,) = scan(logs.init() + "\n" + line + "\n")
    assert found.kind is kind


def test_success_subtype_with_is_error_is_a_failure_and_a_clean_result_is_not() -> None:
    failing = logs.result(is_error=True, status=401, text="Invalid API key · Fix external API key")
    assert '"subtype":"success"' in failing
    assert kinds(scan(failing + "\n")) == [K.INVALID]
    assert scan(logs.result(is_error=False, text="Invalid API key fixed in auth.py") + "\n") == []


def test_retry_after_and_reset_time_are_reported() -> None:
    (retry,) = scan(logs.api_retry(429, 2500, "rate_limit") + "\n")
    assert retry.retry_after == 2.5
    (plain,) = scan("API Error: Request rejected (429) · retry after 30s\n")
    assert plain.retry_after == 30
    (limit,) = scan("You've hit your session limit · resets 3:45pm\n")
    assert limit.resets_at is not None
    local = limit.resets_at.astimezone()
    assert (local.hour, local.minute) == (15, 45)
    assert (
        dt.timedelta(0) < limit.resets_at - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(days=1)
    )
    (weekly,) = scan("You've hit your weekly limit · resets Dec 2, 9am (Europe/Paris)\n")
    assert weekly.resets_at is not None
    assert (weekly.resets_at.month, weekly.resets_at.day, weekly.resets_at.hour) == (12, 2, 9)
    assert weekly.resets_at.utcoffset() == dt.timedelta(hours=1)


NOW = dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7:32pm (UTC)", dt.datetime(2026, 11, 30, 19, 32, tzinfo=dt.timezone.utc)),
        ("5pm (UTC)", dt.datetime(2026, 12, 1, 17, 0, tzinfo=dt.timezone.utc)),  # tomorrow
        ("12am (UTC)", dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.timezone.utc)),
        ("Jan 3, 9am (UTC)", dt.datetime(2027, 1, 3, 9, 0, tzinfo=dt.timezone.utc)),
        ("Nov 30, 9am (UTC)", dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.timezone.utc)),
        ("3:45pm (Europe/Zürich)", None),  # no such zone: the words are kept, no time
        ("soon", None),
        ("13:70pm", None),
        ("Feb 30, 9am (UTC)", None),
    ],
)
def test_reset_times_are_read_into_aware_datetimes(text: str, expected: dt.datetime | None) -> None:
    assert parse_reset_time(text, NOW) == expected


@pytest.mark.parametrize("phrase", [case[0] for case in PLAIN_CASES])
def test_the_agents_own_work_is_not_an_alarm(phrase: str) -> None:
    agent_lines = [
        logs.assistant_text(f"The CLI prints '{phrase}' when the key is wrong."),
        logs.assistant_text(phrase),
        logs.tool_use("Edit", {"file_path": "a.py", "new_string": phrase}),
        logs.tool_use("Bash", {"command": f"echo '{phrase}'"}),
        logs.tool_result(f"Error: {phrase}\n  at main.py:3", is_error=True),
        logs.tool_result(phrase),
        logs.result(is_error=False, text=f"I changed the message '{phrase}'."),
        logs.api_retry(500, 1000, phrase),
    ]
    assert scan("\n".join(agent_lines) + "\n") == []


@pytest.mark.parametrize("line", logs.AGENT_LOOKALIKES)
def test_code_and_quoted_phrases_in_plain_text_are_not_alarms(line: str) -> None:
    assert scan(line + "\n") == []


def test_ansi_colours_and_progress_redraws() -> None:
    coloured = "\x1b[1;31mError:\x1b[0m \x1b[31mInvalid API key · Fix external API key\x1b[0m\r\n"
    (found,) = scan(coloured)
    assert found.excerpt == "Error: Invalid API key · Fix external API key"
    redraw = "Working... 10%\rWorking... 60%\rAPI Error: Rate limit reached\r"
    assert kinds(scan(redraw)) == [K.RATE_LIMIT]


def test_stdout_and_stderr_have_separate_buffers() -> None:
    scanner = LogScanner()
    assert scanner.feed("Invalid API ", "stdout") == []
    assert scanner.feed("key · Fix external API key\n", "stderr") == []  # not joined
    (found,) = scanner.feed("key · Fix external API key\n", "stdout")
    assert (found.kind, found.stream) == (K.INVALID, "stdout")


def test_one_event_per_kind_until_reset() -> None:
    scanner = LogScanner()
    retry = (logs.api_retry(429, 1000, "rate_limit") + "\n") * 50
    assert kinds(scanner.feed(retry)) == [K.RATE_LIMIT]
    assert scanner.feed(retry) == []
    assert kinds(scanner.feed("OAuth token has expired\n" * 3)) == [K.EXPIRED]
    scanner.reset()
    assert kinds(scanner.feed(retry)) == [K.RATE_LIMIT]


def test_excerpts_are_redacted_and_short() -> None:
    key = "sk-ant-api03-" + "Q" * 60 + "zz99"
    (found,) = scan(f"Invalid API key · Fix external API key ({key}) " + "x" * 1000 + "\n")
    assert key not in found.excerpt
    assert "sk-ant-…zz99" in found.excerpt
    assert len(found.excerpt) <= 300


@pytest.mark.parametrize(
    "junk",
    [
        b'{"type":"result","is_error":true,"api_error_status":',
        b'{"type": "result", "is_error": true, "api_error_status": "four-oh-one"}',
        b'{"type":"assistant","message":"x","is_api_error_message":true,"error":null}',
        b'{"type":"system","subtype":"api_retry","error_status":true}',
        b"[1, 2, 3]",
        b"\xff\xfe\x00garbage\x80 Rate limit",
        b"null",
    ],
)
def test_malformed_input_never_raises(junk: bytes) -> None:
    scan(junk + b"\n", junk)


def test_malformed_json_is_read_as_text() -> None:
    broken = '{"type":"result","is_error":true, Invalid API key · Fix external API key'
    assert kinds(scan(broken + "\n")) == [K.INVALID]


def sample_log() -> bytes:
    lines = list(logs.stream_json_log(60_000, seed=3, with_errors=False))
    lines[40:40] = [
        "\x1b[33mwarning\x1b[0m: naïve café ✓ — progress 10%\r progress 90%",
        logs.api_retry(429, 1500, "rate_limit"),
        "x" * 700 + " You've hit your session limit · resets 3:45pm " + "y" * 700,
        logs.tool_result("é" * 600 + " Invalid API key"),
    ]
    lines[90:90] = [
        logs.synthetic_error("authentication_failed", "OAuth token has expired"),
        "Credit balance is too low",
    ]
    return ("\r\n".join(lines[:60]) + "\n" + "\n".join(lines[60:])).encode()


SAMPLE = sample_log()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=len(SAMPLE)), max_size=40),
    window=st.sampled_from([(1 << 16, 1024), (1500, 200), (600, 100)]),
)
def test_any_split_gives_the_same_events_as_the_whole(
    cuts: list[int], window: tuple[int, int]
) -> None:
    max_line, overlap = window
    whole = LogScanner(max_line_chars=max_line, window_overlap_chars=overlap)
    expected = whole.feed(SAMPLE) + whole.close()
    assert {e.kind for e in expected} >= {K.RATE_LIMIT, K.SESSION_LIMIT, K.EXPIRED, K.BILLING}

    split = LogScanner(max_line_chars=max_line, window_overlap_chars=overlap)
    bounds = [0, *sorted(cuts), len(SAMPLE)]
    got = [
        e for a, b in itertools.pairwise(bounds) for e in split.feed(SAMPLE[a:b])
    ] + split.close()
    assert got == expected


def test_a_100_mb_line_is_never_held_whole_and_a_pattern_across_the_cut_is_found() -> None:
    scanner = LogScanner()
    chunk = b"x" * (1 << 20)
    tracemalloc.start()
    try:
        for _ in range(99):
            assert scanner.feed(chunk) == []
        assert scanner.feed(b"x" * 1000 + b" OAuth token has ex") == []
        found = scanner.feed(b"pired for good " + chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kinds(found) == [K.EXPIRED]
    assert peak < 8 * (1 << 20)  # a few chunks' worth, nowhere near 100 MB


def test_a_huge_json_line_is_agent_content() -> None:
    huge = logs.tool_result("Invalid API key " * 20_000)
    assert len(huge) > 64 * 1024
    assert scan(huge + "\n") == []
    scanner = LogScanner()
    events = [e for i in range(0, len(huge), 777) for e in scanner.feed(huge[i : i + 777])]
    assert events + scanner.feed("\n") + scanner.close() == []


def test_realistic_log_reports_each_planted_failure_once() -> None:
    scanner = LogScanner()
    events: list[ScanEvent] = []
    for line in logs.stream_json_log(3_000_000, seed=11):
        events += scanner.feed(line + "\n")
    events += scanner.close()
    assert len(events) == len({e.kind for e in events})
    assert set(kinds(events)) <= {K.RATE_LIMIT, K.EXPIRED}


COMPACT = (
    "\x1b[2mstarting…\x1b[0m\r\n"
    + logs.assistant_text("Je vais corriger « Invalid API key » — d’accord ✓")
    + "\nNot logged in · Please run /login\r\n"
    + logs.synthetic_error("rate_limit", "API Error: Rate limit reached · réessayer")
    + "\nYou've hit your session limit · resets 3:45pm (Europe/Zürich)\n"
    + "Credit balance is too low — ajoutez des crédits ✓"
).encode()


def test_every_single_cut_gives_the_same_events_even_mid_character() -> None:
    whole = LogScanner()
    expected = whole.feed(COMPACT) + whole.close()
    assert kinds(expected) == [K.NOT_LOGGED_IN, K.RATE_LIMIT, K.SESSION_LIMIT, K.BILLING]
    assert expected[2].excerpt.endswith("resets 3:45pm (Europe/Zürich)")
    for cut in range(1, len(COMPACT)):
        split = LogScanner()
        got = split.feed(COMPACT[:cut]) + split.feed(COMPACT[cut:]) + split.close()
        assert got == expected, cut


@pytest.mark.parametrize("chunk_size", [None, 1000, 4093])
def test_a_phrase_across_a_window_boundary_is_found(chunk_size: int | None) -> None:
    max_line, overlap = 4096, 256
    phrase = "OAuth token has expired"
    line = ("x" * (max_line - 10) + " " + phrase + " " + "y" * (3 * max_line) + "\n").encode()
    scanner = LogScanner(max_line_chars=max_line, window_overlap_chars=overlap)
    size = chunk_size or len(line)
    events = [e for i in range(0, len(line), size) for e in scanner.feed(line[i : i + size])]
    assert kinds(events + scanner.close()) == [K.EXPIRED]
