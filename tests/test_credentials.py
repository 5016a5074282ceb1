from __future__ import annotations

from typing import TypedDict

import pytest

from tray.credentials.model import AuthMethod, Credentials
from tray.errors import IncompleteCredentials

DAYTONA = "dtn_" + "a" * 28 + "d4e5"
API_KEY = "sk-ant-api03-" + "b" * 40 + "a1b2"
TOKEN = "sk-ant-oat01-" + "c" * 40 + "f6g7"


class ClaudeSecrets(TypedDict, total=False):
    anthropic_api_key: str
    claude_oauth_token: str


def test_sandbox_env_has_exactly_the_api_key_for_the_api_key_method() -> None:
    creds = Credentials(
        DAYTONA, AuthMethod.API_KEY, anthropic_api_key=API_KEY, claude_oauth_token=TOKEN
    )
    assert creds.sandbox_env() == {"ANTHROPIC_API_KEY": API_KEY}


def test_sandbox_env_has_exactly_the_token_for_the_token_method() -> None:
    creds = Credentials(
        DAYTONA, AuthMethod.OAUTH_TOKEN, anthropic_api_key=API_KEY, claude_oauth_token=TOKEN
    )
    assert creds.sandbox_env() == {"CLAUDE_CODE_OAUTH_TOKEN": TOKEN}


def test_method_given_as_text_is_accepted() -> None:
    # The method deliberately given as a str, which the AuthMethod annotation refuses.
    creds = Credentials(DAYTONA, "oauth_token", claude_oauth_token=TOKEN)  # type: ignore[arg-type]
    assert creds.auth_method is AuthMethod.OAUTH_TOKEN


@pytest.mark.parametrize(
    ("method", "kwargs", "missing"),
    [
        (AuthMethod.API_KEY, {"claude_oauth_token": TOKEN}, "API key"),
        (AuthMethod.OAUTH_TOKEN, {"anthropic_api_key": API_KEY}, "OAuth token"),
    ],
)
def test_the_chosen_methods_secret_is_required(
    method: AuthMethod, kwargs: ClaudeSecrets, missing: str
) -> None:
    with pytest.raises(IncompleteCredentials, match=missing):
        Credentials(DAYTONA, method, **kwargs)
    with pytest.raises(IncompleteCredentials, match="Daytona"):
        Credentials("", AuthMethod.API_KEY, anthropic_api_key=API_KEY)


def test_repr_and_str_never_show_a_secret() -> None:
    creds = Credentials(
        DAYTONA, AuthMethod.API_KEY, anthropic_api_key=API_KEY, claude_oauth_token=TOKEN
    )
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        for secret in (DAYTONA, API_KEY, TOKEN):
            assert secret not in text
        assert "sk-ant-…a1b2" in text
        assert "dtn_…d4e5" in text
    assert creds.describe() == {
        "daytona": "dtn_…d4e5",
        "method": "api_key",
        "claude": "sk-ant-…a1b2",
    }
