"""The command line, run as a real subprocess against the real keychain and loopback APIs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.conftest import run_cli, stored_entries
from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.standins import VALID_ANTHROPIC_KEY, AnthropicStandIn
from tests.test_local_login import write_login

WRONG_API_KEY = "sk-ant-api03-" + "w" * 40 + "zzzz"
TOKEN = "sk-ant-oat01-" + "o" * 40 + "tok9"
VALID_ENV = {"DAYTONA_API_KEY": VALID_DAYTONA_KEY, "ANTHROPIC_API_KEY": VALID_ANTHROPIC_KEY}
ALL_SECRETS = (VALID_DAYTONA_KEY, VALID_ANTHROPIC_KEY, WRONG_API_KEY, TOKEN)

pytestmark = pytest.mark.usefixtures("secret_service")


def assert_nothing_stored() -> None:
    assert "multishot" not in stored_entries()


def files_containing_secrets(*roots: Path) -> list[str]:
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                hits += [f"{path}: {s[:12]}…" for s in ALL_SECRETS if s.encode() in data]
    return hits


@pytest.mark.usefixtures("anthropic", "daytona")
def test_login_from_env_saves_valid_credentials_to_the_keychain() -> None:
    result = run_cli("login", "--from-env", env=VALID_ENV)
    assert result.returncode == 0, result.stderr
    assert "Saved to the keychain (Secret Service)" in result.stdout
    assert "[valid] The Daytona API key works." in result.stdout
    assert "[valid] The Anthropic API key works." in result.stdout
    entries = stored_entries()
    assert f"secret = {VALID_DAYTONA_KEY}" in entries
    assert f"secret = {VALID_ANTHROPIC_KEY}" in entries
    assert "secret = api_key" in entries
    for secret in ALL_SECRETS:
        assert secret not in result.stdout + result.stderr


@pytest.mark.usefixtures("daytona")
def test_login_from_env_with_an_invalid_key_saves_nothing(anthropic: AnthropicStandIn) -> None:
    result = run_cli("login", "--from-env", env={**VALID_ENV, "ANTHROPIC_API_KEY": WRONG_API_KEY})
    assert result.returncode == 3
    assert "[invalid] Anthropic rejected the API key: invalid x-api-key" in result.stdout
    assert "Nothing was saved." in result.stderr
    assert WRONG_API_KEY not in result.stdout + result.stderr
    assert_nothing_stored()


@pytest.mark.usefixtures("anthropic", "daytona")
def test_login_from_env_with_an_invalid_daytona_key_saves_nothing() -> None:
    result = run_cli("login", "--from-env", env={**VALID_ENV, "DAYTONA_API_KEY": "dtn_" + "n" * 30})
    assert result.returncode == 3
    assert "[invalid] Daytona did not accept the API key" in result.stdout
    assert_nothing_stored()


def test_login_from_env_with_both_claude_credentials_refuses() -> None:
    result = run_cli("login", "--from-env", env={**VALID_ENV, "CLAUDE_CODE_OAUTH_TOKEN": TOKEN})
    assert result.returncode == 2
    assert "Auth conflict" in result.stderr
    assert "Both ANTHROPIC_API_KEY and CLAUDE_CODE_OAUTH_TOKEN are set" in result.stderr
    assert_nothing_stored()


def test_login_when_the_network_is_down_saves_with_a_warning(daytona: DaytonaStandIn) -> None:
    result = run_cli(
        "login", "--from-env", env={**VALID_ENV, "ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}
    )
    assert result.returncode == 0, result.stderr
    assert "[unreachable] Could not connect to Anthropic" in result.stdout
    assert "Saving anyway" in result.stderr
    assert f"secret = {VALID_ANTHROPIC_KEY}" in stored_entries()


def test_login_no_validate_makes_no_network_call() -> None:
    env = {
        **VALID_ENV,
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
        "DAYTONA_API_URL": "http://127.0.0.1:9/api",
    }
    result = run_cli("login", "--from-env", "--no-validate", env=env)
    assert result.returncode == 0, result.stderr
    assert "Checking" not in result.stdout
    assert "secret = api_key" in stored_entries()


def test_a_secret_given_as_an_argument_is_refused_and_not_echoed() -> None:
    result = run_cli("login", VALID_ANTHROPIC_KEY)
    assert result.returncode == 2
    assert "unrecognized arguments: sk-ant-…" in result.stderr
    assert VALID_ANTHROPIC_KEY not in result.stderr
    assert_nothing_stored()


@pytest.mark.usefixtures("anthropic", "daytona")
def test_status_json_matches_the_schema() -> None:
    logged_out = json.loads(run_cli("status", "--json").stdout)
    assert logged_out == {
        "keychain": {"backend": "Secret Service", "secure": True},
        "daytona": {"present": False, "masked": None, "check": "skipped"},
        "claude": {"method": None, "present": False, "masked": None, "check": "skipped"},
    }
    assert run_cli("login", "--from-env", env=VALID_ENV).returncode == 0

    status = run_cli("status", "--json")
    assert status.returncode == 0
    assert json.loads(status.stdout) == {
        "keychain": {"backend": "Secret Service", "secure": True},
        "daytona": {"present": True, "masked": "dtn_…good", "check": "skipped"},
        "claude": {
            "method": "api_key",
            "present": True,
            "masked": "sk-ant-…d0AA",
            "check": "skipped",
        },
    }
    checked = json.loads(run_cli("status", "--check", "--json").stdout)
    assert checked["daytona"]["check"] == "valid"
    assert checked["claude"]["check"] == "valid"
    assert checked["claude"]["message"] == "The Anthropic API key works."


@pytest.mark.usefixtures("daytona")
def test_status_check_reports_a_key_revoked_since_login(anthropic: AnthropicStandIn) -> None:
    assert run_cli("login", "--from-env", env=VALID_ENV).returncode == 0
    anthropic.mode = "forbidden"
    status = run_cli("status", "--check")
    assert status.returncode == 3
    assert "[invalid] Anthropic refused the API key" in status.stdout
    assert "API key sk-ant-…" in status.stdout


def test_logout_removes_everything_and_succeeds_when_nothing_is_stored() -> None:
    assert run_cli("login", "--from-env", "--no-validate", env=VALID_ENV).returncode == 0
    assert "multishot" in stored_entries()
    result = run_cli("logout")
    assert result.returncode == 0
    assert "Logged out" in result.stdout
    assert_nothing_stored()
    assert run_cli("logout").returncode == 0
    assert run_cli("status").returncode == 1


@pytest.mark.parametrize("stdin", ["devnull", "closed"])
def test_login_without_a_terminal_says_to_use_from_env(stdin: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tray", "login"],
        stdin=subprocess.DEVNULL if stdin == "devnull" else None,
        preexec_fn=(lambda: os.close(0)) if stdin == "closed" else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "standard input is not one" in result.stderr
    assert "multishot login --from-env" in result.stderr
    assert "Warning" not in result.stderr
    assert_nothing_stored()


def test_logout_with_the_keychain_out_of_reach_says_nothing_was_removed() -> None:
    assert run_cli("login", "--from-env", "--no-validate", env=VALID_ENV).returncode == 0
    gone = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"}
    result = run_cli("logout", env=gone)
    assert result.returncode == 1
    assert "nothing was removed from it: credentials saved earlier are still there" in (
        result.stderr
    )
    assert "Logged out" not in result.stdout
    assert "daytona_api_key" in stored_entries()  # still there, as it says


@pytest.mark.parametrize("value", ["-1", "inf", "nan", "soon", "0"])
def test_a_bad_keychain_timeout_is_reported_and_the_default_used(value: str) -> None:
    result = run_cli("status", env={"MULTISHOT_KEYCHAIN_TIMEOUT": value})
    assert f"MULTISHOT_KEYCHAIN_TIMEOUT='{value}' is not a number of seconds" in result.stderr
    assert "using 10" in result.stderr
    assert "Keychain:" in result.stdout  # the command still did its work


@pytest.mark.usefixtures("anthropic", "daytona")
def test_no_file_the_app_writes_contains_a_secret(isolated_home: Path, tmp_path: Path) -> None:
    for args, env in [
        (("login", "--from-env"), VALID_ENV),
        (("login", "--from-env"), {**VALID_ENV, "ANTHROPIC_API_KEY": WRONG_API_KEY}),
        (("status", "--check", "--json"), {}),
        (("-v", "status", "--check"), {}),
        (("doctor", "--json"), {}),
        (("show", "no-such-run"), {}),  # an error: the log file is opened by its first record
        (("logout",), {}),
    ]:
        result = run_cli(*args, env=env)
        for secret in ALL_SECRETS:
            assert secret not in result.stdout + result.stderr, args
    log_file = isolated_home / "state" / "multishot" / "log" / "multishot.log"
    assert log_file.exists()
    assert files_containing_secrets(isolated_home, tmp_path) == []


def test_without_a_secure_keychain_login_explains_and_saves_nothing() -> None:
    env = {**VALID_ENV, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = run_cli("login", "--from-env", "--no-validate", env=env)
    assert result.returncode == 1
    assert "Cannot save credentials here" in result.stderr
    assert "Multishot never writes credentials to a file" in result.stderr
    assert "export DAYTONA_API_KEY='dtn_…'" in result.stderr  # the route that needs nothing
    assert "dbus-run-session -- bash" in result.stderr  # and the one that saves them
    status = json.loads(run_cli("status", "--json", env=env).stdout)
    assert status["keychain"]["secure"] is False
    assert status["keychain"]["backend"] == "keyring.backends.fail.Keyring"
    assert_nothing_stored()


Step = tuple[str, str | None]


def converse(steps: list[Step], *, eof: bool = False) -> tuple[int | None, str]:
    """Run `multishot login` on a pty: expect each pattern, then type its line (if any).

    Returns the exit status and everything the terminal showed.
    """
    transcript = io.StringIO()
    child = pexpect.spawn(sys.executable, ["-m", "tray", "login"], encoding="utf-8", timeout=90)
    child.logfile_read = transcript
    try:
        for pattern, line in steps:
            child.expect(pattern)
            if line is not None:
                child.sendline(line)
        if eof:
            child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    return child.exitstatus, transcript.getvalue()


@pytest.mark.usefixtures("anthropic", "daytona")
def test_interactive_login_recovers_from_bad_pastes() -> None:
    status, shown = converse(
        [
            ("Daytona API key", VALID_ANTHROPIC_KEY),  # the wrong key in the wrong field
            ("is an Anthropic key or token, not a Daytona key", None),
            ("Daytona API key", f"  export DAYTONA_API_KEY='{VALID_DAYTONA_KEY}'  "),
            (r"Choose 1 or 2 \[1\]: ", "3"),
            ("Please type 1 or 2", ""),
            ("Anthropic API key", TOKEN),
            ("is a Claude Code OAuth token", None),
            ("Anthropic API key", VALID_ANTHROPIC_KEY),
            ("Saved to the keychain", None),
        ]
    )
    assert status == 0
    for secret in ALL_SECRETS:
        assert secret not in shown  # hidden input: nothing echoed
    assert f"secret = {VALID_DAYTONA_KEY}" in stored_entries()


@pytest.mark.usefixtures("anthropic", "daytona")
def test_interactive_login_imports_the_local_claude_code_login(isolated_home: Path) -> None:
    write_login(isolated_home / ".claude" / ".credentials.json", None, token=TOKEN)
    status, shown = converse(
        [
            ("Daytona API key", VALID_DAYTONA_KEY),
            ("Choose 1 or 2", "2"),
            (r"Found this computer's Claude Code login in .*\.credentials\.json", None),
            (r"Use this token\? \[Y/n\]", ""),
            ("live check needs a run", None),
            ("Saved to the keychain", None),
        ]
    )
    assert status == 0
    assert TOKEN not in shown
    entries = stored_entries()
    assert f"secret = {TOKEN}" in entries
    assert "sk-ant-ort01" not in entries


@pytest.mark.usefixtures("anthropic", "daytona")
def test_interactive_login_offers_save_anyway_when_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAYTONA_API_URL", "http://127.0.0.1:9/api")
    status, _ = converse(
        [
            ("Daytona API key", VALID_DAYTONA_KEY),
            ("Choose 1 or 2", "1"),
            ("Anthropic API key", VALID_ANTHROPIC_KEY),
            (r"Save anyway\? \[y/N\]", ""),
            ("Nothing was saved", None),
        ]
    )
    assert status == 1
    assert_nothing_stored()


def test_interactive_login_cancelled_with_ctrl_d_saves_nothing() -> None:
    status, shown = converse([("Daytona API key", None)], eof=True)
    assert status == 130
    assert "Cancelled. Nothing was saved." in shown
    assert_nothing_stored()


def test_doctor_reports_the_desktop_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1234")
    monkeypatch.delenv("DISPLAY", raising=False)
    result = run_cli("doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["keychain"] == {
        "backend": "Secret Service",
        "secure": True,
    }
    assert report["endpoints"]["anthropic"] == "http://127.0.0.1:1234"
    assert report["endpoints"]["daytona"] == "https://app.daytona.io/api"
    assert report["tk"]["available"] is True
    assert "No display" in report["tk"]["problem"]
    assert report["tray"]["backend"] == "none"
    assert "neither a StatusNotifierWatcher nor an X11 display" in report["tray"]["why"]
    assert "without an icon" in report["tray"]["problem"]
    assert report["notifications"]["path"].startswith("plyer NotifySendNotification (")
    assert report["notifications"]["module"].endswith("plyer/platforms/linux/notification.py")
    assert report["folders"]["data"].endswith("data/multishot")
    text = run_cli("doctor")
    assert "keychain:" in text.stdout
    assert "secure: True" in text.stdout


def test_version_is_answered_before_the_cli_keyring_or_engine_load() -> None:
    code = (
        "import sys\n"
        "from tray.main import main\n"
        "main(['--version'])\n"
        "print(sorted(m for m in sys.modules if m.startswith(('tray.', 'keyring', 'daytona'))))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    version, loaded = shown.stdout.splitlines()
    assert version.startswith("multishot ")
    assert loaded == "['tray.main', 'tray.own_process']"  # own_process imports only sys
