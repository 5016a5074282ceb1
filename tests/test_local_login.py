from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tray.credentials.local_login import find_local_login
from tray.errors import LocalLoginError

TOKEN = "sk-ant-oat01-" + "L" * 40 + "ll11"
REFRESH = "sk-ant-ort01-" + "R" * 40 + "rr22"


def write_login(path: Path, expires_at: dt.datetime | None, token: str = TOKEN) -> None:
    oauth: dict[str, object] = {
        "accessToken": token,
        "refreshToken": REFRESH,
        "scopes": ["user:inference", "user:profile"],
        "subscriptionType": "max",
    }
    if expires_at is not None:
        oauth["expiresAt"] = int(expires_at.timestamp() * 1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"claudeAiOauth": oauth}))
    path.chmod(0o600)


def test_reads_the_current_credentials_file(isolated_home: Path) -> None:
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=6)
    write_login(isolated_home / ".claude" / ".credentials.json", expires)
    login = find_local_login()
    assert login.access_token == TOKEN
    assert login.source.endswith(".claude/.credentials.json")
    assert login.expires_at is not None
    assert abs((login.expires_at - expires).total_seconds()) < 1
    assert login.subscription_type == "max"
    assert login.expires_soon()
    assert REFRESH not in repr(login)
    assert TOKEN not in repr(login)
    assert not any(REFRESH in str(value) for value in vars(login).values())


def test_claude_config_dir_moves_the_file(
    isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "claude-config"
    write_login(elsewhere / ".credentials.json", None)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(elsewhere))
    login = find_local_login()
    assert login.source == str(elsewhere / ".credentials.json")
    assert login.expires_at is None
    assert not login.expires_soon()


def test_legacy_auth_json_is_found(isolated_home: Path) -> None:
    far = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=300)
    write_login(isolated_home / ".config" / "claude-code" / "auth.json", far)
    login = find_local_login()
    assert login.source.endswith("claude-code/auth.json")
    assert not login.expires_soon()


def test_no_login_says_where_it_looked(isolated_home: Path) -> None:
    with pytest.raises(LocalLoginError) as caught:
        find_local_login()
    assert "No Claude Code login was found" in caught.value.message
    assert ".credentials.json" in caught.value.message
    assert "claude setup-token" in caught.value.message


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("not json at all", "is not valid JSON"),
        ('{"someOtherTool": {"token": "x"}}', "no Claude Code OAuth token"),
        ('{"claudeAiOauth": {"accessToken": 42}}', "no Claude Code OAuth token"),
        ("[]", "no Claude Code OAuth token"),
    ],
)
def test_unknown_content_is_a_message(isolated_home: Path, content: str, fragment: str) -> None:
    path = isolated_home / ".claude" / ".credentials.json"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(LocalLoginError, match=fragment):
        find_local_login()


def test_a_folder_in_place_of_the_file_is_a_message(isolated_home: Path) -> None:
    (isolated_home / ".claude" / ".credentials.json").mkdir(parents=True)
    with pytest.raises(LocalLoginError, match="cannot be read"):
        find_local_login()


def test_a_broken_current_file_falls_back_to_the_legacy_one(isolated_home: Path) -> None:
    broken = isolated_home / ".claude" / ".credentials.json"
    broken.parent.mkdir()
    broken.write_text("{")
    write_login(isolated_home / ".config" / "claude-code" / "auth.json", None)
    assert find_local_login().access_token == TOKEN
