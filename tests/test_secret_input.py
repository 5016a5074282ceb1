from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tray.credentials.model import AuthMethod
from tray.credentials.secret_input import (
    SecretKind,
    credentials_from_environment,
    normalise_secret,
    read_secret,
)
from tray.errors import InvalidSecretInput

API_KEY = "sk-ant-api03-" + "K" * 40 + "a1b2"
TOKEN = "sk-ant-oat01-" + "T" * 40 + "c3d4"
REFRESH = "sk-ant-ort01-" + "R" * 40 + "e5f6"
DAYTONA = "dtn_" + "9" * 28 + "g7h8"

key_characters = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=127)
    | st.sampled_from("-_"),
    min_size=20,
    max_size=120,
)


@pytest.mark.parametrize(
    "pasted",
    [
        API_KEY,
        f"  {API_KEY}\n",
        f"\r\n{API_KEY}\r\n",
        f'"{API_KEY}"',
        f"'{API_KEY}'",
        f"“{API_KEY}”",
        f"export ANTHROPIC_API_KEY={API_KEY}",
        f"export ANTHROPIC_API_KEY='{API_KEY}'\n",
        f'ANTHROPIC_API_KEY="{API_KEY}";',
        f"ANTHROPIC_API_KEY = {API_KEY}",
        f"ANTHROPIC_API_KEY: {API_KEY}",
    ],
)
def test_pasted_api_key_is_reduced_to_the_key(pasted: str) -> None:
    assert read_secret(SecretKind.ANTHROPIC_API_KEY, pasted) == API_KEY


@given(key=key_characters, before=st.sampled_from(["", " ", "\n", "\t ", '"', "'"]))
def test_normalisation_recovers_any_key_from_whitespace_and_quotes(key: str, before: str) -> None:
    closing = {"": "", " ": "\n", "\n": " ", "\t ": "\r\n", '"': '"', "'": "'"}[before]
    assert normalise_secret(f"{before}{key}{closing}") == key


def test_credentials_json_is_reduced_to_the_access_token_only() -> None:
    document = {
        "claudeAiOauth": {
            "accessToken": TOKEN,
            "refreshToken": REFRESH,
            "expiresAt": 1767225600000,
            "scopes": ["user:inference"],
        }
    }
    pasted = json.dumps(document, indent=2)
    assert read_secret(SecretKind.CLAUDE_OAUTH_TOKEN, pasted) == TOKEN


@pytest.mark.parametrize(
    ("pasted", "fragment"),
    [
        ('{"claudeAiOauth": {"refreshToken": "x"}}', "no claudeAiOauth.accessToken"),
        ('{"claudeAiOauth": ', "not valid JSON"),
        ('{"token": "x"}', "no claudeAiOauth.accessToken"),
    ],
)
def test_unusable_json_gets_a_message(pasted: str, fragment: str) -> None:
    with pytest.raises(InvalidSecretInput, match=fragment):
        read_secret(SecretKind.CLAUDE_OAUTH_TOKEN, pasted)


@pytest.mark.parametrize(
    ("kind", "pasted", "fragments"),
    [
        (SecretKind.ANTHROPIC_API_KEY, "", ["Nothing was pasted", "console.anthropic.com"]),
        (SecretKind.ANTHROPIC_API_KEY, "   \n ", ["Nothing was pasted"]),
        (SecretKind.ANTHROPIC_API_KEY, API_KEY[:30] + "\x1b[0m" + API_KEY[30:], ["control"]),
        (SecretKind.ANTHROPIC_API_KEY, API_KEY[:30] + "\n" + API_KEY[30:], ["line breaks"]),
        (SecretKind.ANTHROPIC_API_KEY, API_KEY + "é", ["curly quotes or accented"]),
        (SecretKind.ANTHROPIC_API_KEY, "sk-ant-api03-" + "x" * 5000, ["5,013 characters"]),
        (SecretKind.ANTHROPIC_API_KEY, "sk-ant-api03-ab", ["too short", "cut off"]),
        (SecretKind.DAYTONA_API_KEY, "not-a-key", ["What was pasted is only 9 characters"]),
        (SecretKind.ANTHROPIC_API_KEY, TOKEN, ["OAuth token", "not an API key", "…c3d4"]),
        (SecretKind.ANTHROPIC_API_KEY, REFRESH, ["refresh token", "claude setup-token"]),
        (SecretKind.ANTHROPIC_API_KEY, DAYTONA, ["Daytona API key", "first step"]),
        (SecretKind.CLAUDE_OAUTH_TOKEN, API_KEY, ["API key", "not an OAuth token"]),
        (SecretKind.CLAUDE_OAUTH_TOKEN, REFRESH, ["refresh token", "sk-ant-oat01-"]),
        (SecretKind.CLAUDE_OAUTH_TOKEN, DAYTONA, ["Daytona API key"]),
        (SecretKind.DAYTONA_API_KEY, API_KEY, ["Anthropic key or token", "app.daytona.io"]),
        (SecretKind.DAYTONA_API_KEY, TOKEN, ["not a Daytona key"]),
    ],
)
def test_bad_input_gets_a_specific_message_without_the_secret(
    kind: SecretKind, pasted: str, fragments: list[str]
) -> None:
    with pytest.raises(InvalidSecretInput) as caught:
        read_secret(kind, pasted)
    message = caught.value.message
    for fragment in fragments:
        assert fragment in message
    for secret in (API_KEY, TOKEN, REFRESH, DAYTONA):
        assert secret not in message
        assert secret not in str(caught.value)


def test_a_long_paste_is_counted_whole_even_with_a_colon_in_it() -> None:
    """Issue 13: 4,985 pasted characters were reported as 4,013 (the text before a ':'
    far into the paste was taken for a variable's name and dropped)."""
    pasted = "A" * 971 + ":" + "B" * 4013
    with pytest.raises(InvalidSecretInput) as raised:
        read_secret(SecretKind.DAYTONA_API_KEY, pasted)
    assert "What was pasted is 4,985 characters long" in raised.value.message
    assert normalise_secret(pasted) == pasted


def test_right_kinds_are_accepted() -> None:
    assert read_secret(SecretKind.CLAUDE_OAUTH_TOKEN, TOKEN) == TOKEN
    assert read_secret(SecretKind.DAYTONA_API_KEY, f"DAYTONA_API_KEY={DAYTONA}") == DAYTONA


def test_environment_with_an_api_key_chooses_the_api_key_method() -> None:
    creds = credentials_from_environment({"DAYTONA_API_KEY": DAYTONA, "ANTHROPIC_API_KEY": API_KEY})
    assert creds.auth_method is AuthMethod.API_KEY
    assert creds.sandbox_env() == {"ANTHROPIC_API_KEY": API_KEY}


def test_environment_with_a_token_chooses_the_token_method() -> None:
    creds = credentials_from_environment(
        {"DAYTONA_API_KEY": f" {DAYTONA}\n", "CLAUDE_CODE_OAUTH_TOKEN": TOKEN}
    )
    assert creds.auth_method is AuthMethod.OAUTH_TOKEN
    assert creds.daytona_api_key == DAYTONA


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        (
            {
                "DAYTONA_API_KEY": DAYTONA,
                "ANTHROPIC_API_KEY": API_KEY,
                "CLAUDE_CODE_OAUTH_TOKEN": TOKEN,
            },
            "Both",
        ),
        ({"DAYTONA_API_KEY": DAYTONA}, "Set ANTHROPIC_API_KEY"),
        ({"ANTHROPIC_API_KEY": API_KEY}, "DAYTONA_API_KEY is not set"),
        ({"DAYTONA_API_KEY": DAYTONA, "CLAUDE_CODE_OAUTH_TOKEN": API_KEY}, "not an OAuth token"),
    ],
)
def test_environment_problems_are_refused(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(InvalidSecretInput, match=fragment):
        credentials_from_environment(environ)
