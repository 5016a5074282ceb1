"""Validation against loopback servers playing the Anthropic and Daytona APIs."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.standins import VALID_ANTHROPIC_KEY, AnthropicStandIn, closed_port_url
from tray.credentials.model import AuthMethod, Credentials
from tray.credentials.validation import (
    CheckStatus,
    check_anthropic_api_key,
    check_credentials,
    check_daytona_api_key,
    check_oauth_token,
)

WRONG_KEY = "sk-ant-api03-" + "w" * 40 + "zzzz"
TOKEN = "sk-ant-oat01-" + "o" * 40 + "tttt"


def test_valid_key_is_valid_and_sent_the_right_way(anthropic: AnthropicStandIn) -> None:
    result = check_anthropic_api_key(VALID_ANTHROPIC_KEY)
    assert result.status is CheckStatus.VALID
    (request,) = anthropic.requests
    assert request.method == "GET"
    assert request.path == "/v1/models"
    assert request.headers["x-api-key"] == VALID_ANTHROPIC_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert VALID_ANTHROPIC_KEY not in str(request.query)


def test_wrong_key_is_invalid_with_the_apis_message(anthropic: AnthropicStandIn) -> None:
    result = check_anthropic_api_key(WRONG_KEY)
    assert result.status is CheckStatus.INVALID
    assert "invalid x-api-key" in result.message
    assert "console.anthropic.com" in result.message
    assert WRONG_KEY not in result.message


@pytest.mark.parametrize(
    ("mode", "status", "fragment"),
    [
        ("forbidden", CheckStatus.INVALID, "revoked or disabled"),
        ("rate_limited", CheckStatus.VALID, "rate limited"),
        ("billing", CheckStatus.VALID, "credit balance is too low"),
        ("server_error", CheckStatus.UNREACHABLE, "HTTP 500"),
        ("overloaded", CheckStatus.UNREACHABLE, "HTTP 529"),
        ("html", CheckStatus.UNREACHABLE, "HTTP 502"),
    ],
)
def test_api_answers_map_to_the_right_status(
    anthropic: AnthropicStandIn, mode: str, status: CheckStatus, fragment: str
) -> None:
    anthropic.mode = mode
    result = check_anthropic_api_key(WRONG_KEY)
    assert result.status is status
    assert fragment in result.message


def test_a_server_that_never_answers_is_could_not_check(anthropic: AnthropicStandIn) -> None:
    anthropic.mode = "hang"
    started = time.monotonic()
    result = check_anthropic_api_key(VALID_ANTHROPIC_KEY, total_timeout=1.5)
    assert time.monotonic() - started < 10  # it gave up by itself
    assert result.status is CheckStatus.UNREACHABLE
    assert "did not answer within 1.5 seconds" in result.message


def test_a_closed_port_is_could_not_check_never_invalid() -> None:
    result = check_anthropic_api_key(WRONG_KEY, base_url=closed_port_url())
    assert result.status is CheckStatus.UNREACHABLE
    # In words a person reads: no error number, no address.
    assert "Could not connect to Anthropic's API (the connection was refused)" in result.message
    assert "Errno" not in result.message
    assert "127.0.0.1" not in result.message


def test_an_unresolvable_host_is_could_not_check() -> None:
    result = check_anthropic_api_key(WRONG_KEY, base_url="http://no-such-host.invalid")
    assert result.status is CheckStatus.UNREACHABLE
    assert "the server's name could not be found" in result.message


def test_a_malformed_base_url_is_reported() -> None:
    result = check_anthropic_api_key(WRONG_KEY, base_url="api.anthropic.com")
    assert result.status is CheckStatus.UNREACHABLE
    assert "not a valid http(s) URL" in result.message


def test_daytona_key_checked_with_the_real_sdk(daytona: DaytonaStandIn) -> None:
    assert check_daytona_api_key(VALID_DAYTONA_KEY).status is CheckStatus.VALID
    listed = [r for r in daytona.requests if r.path == "/api/sandbox"]
    assert listed[0].headers["Authorization"] == f"Bearer {VALID_DAYTONA_KEY}"
    assert listed[0].query.get("limit") == "1"


def test_wrong_daytona_key_is_invalid(daytona: DaytonaStandIn) -> None:
    wrong = "dtn_" + "x" * 32
    result = check_daytona_api_key(wrong)
    assert result.status is CheckStatus.INVALID
    assert "app.daytona.io" in result.message
    assert wrong not in result.message


@pytest.mark.parametrize(
    ("mode", "status"),
    [("server_error", CheckStatus.UNREACHABLE), ("rate_limited", CheckStatus.VALID)],
)
def test_daytona_failures_are_not_invalid(
    daytona: DaytonaStandIn, mode: str, status: CheckStatus
) -> None:
    daytona.mode = mode
    assert check_daytona_api_key(VALID_DAYTONA_KEY).status is status


def test_daytona_unreachable_and_silent() -> None:
    result = check_daytona_api_key(VALID_DAYTONA_KEY, api_url=closed_port_url() + "/api")
    assert result.status is CheckStatus.UNREACHABLE
    assert "Could not connect to Daytona (the connection was refused)" in result.message
    assert "127.0.0.1" not in result.message


def test_daytona_server_that_never_answers(daytona: DaytonaStandIn) -> None:
    daytona.mode = "hang"
    result = check_daytona_api_key(VALID_DAYTONA_KEY, timeout=2)
    assert result.status is CheckStatus.UNREACHABLE
    assert "did not answer within 2 seconds" in result.message


def test_oauth_token_checks_shape_and_known_expiry() -> None:
    now = dt.datetime(2026, 11, 28, 12, tzinfo=dt.timezone.utc)
    unknown = check_oauth_token(TOKEN, None, now=now)
    assert unknown.status is CheckStatus.SKIPPED
    assert "live check needs a run" in unknown.message
    later = check_oauth_token(TOKEN, now + dt.timedelta(hours=5), now=now)
    assert later.status is CheckStatus.SKIPPED
    assert "in 5 hours" in later.message
    expired = check_oauth_token(TOKEN, now - dt.timedelta(days=3), now=now)
    assert expired.status is CheckStatus.INVALID
    assert "3 days ago" in expired.message
    assert "claude setup-token" in expired.message
    assert check_oauth_token("not-a-token-at-all-xx", None).status is CheckStatus.INVALID


def test_check_credentials_checks_both_halves(
    anthropic: AnthropicStandIn, daytona: DaytonaStandIn
) -> None:
    good = Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=VALID_ANTHROPIC_KEY)
    check = check_credentials(good)
    assert check.all_confirmed
    assert not check.any_invalid
    bad = Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=WRONG_KEY)
    assert check_credentials(bad).any_invalid
    token = Credentials(VALID_DAYTONA_KEY, AuthMethod.OAUTH_TOKEN, claude_oauth_token=TOKEN)
    token_check = check_credentials(token)
    assert token_check.claude.status is CheckStatus.SKIPPED
    assert token_check.all_confirmed
    assert not [r for r in anthropic.requests if "oat01" in str(r.headers)]
