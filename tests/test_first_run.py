"""The first five minutes on a machine with no desktop and no keychain, as a new user
lives them: run `multishot`, then type exactly what it prints."""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.standins import VALID_ANTHROPIC_KEY, AnthropicStandIn

BIN = Path(sys.executable).parent  # where `multishot` is installed
KEYRING_PASSWORD = "first-run"


def headless_env(tmp_path: Path) -> dict[str, str]:
    """This test's environment with no display, no D-Bus session, no keychain."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")
        and not k.startswith("GNOME_KEYRING")
    }
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    return {
        **env,
        "PATH": f"{BIN}:{env['PATH']}",
        "XDG_RUNTIME_DIR": str(runtime),
        "PS1": "READY$ ",
        "TERM": "dumb",
    }


def printed_by_multishot(env: dict[str, str]) -> str:
    transcript = io.StringIO()
    child = pexpect.spawn("multishot", env=env, encoding="utf-8", timeout=60)
    child.logfile_read = transcript
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    return transcript.getvalue().replace("\r\n", "\n")


def test_the_environment_route_leads_to_a_working_run(
    tmp_path: Path, daytona: DaytonaStandIn
) -> None:
    env = headless_env(tmp_path)
    shown = printed_by_multishot(env)
    assert "Cannot save credentials here" in shown
    exports = re.findall(r"export (\w+)='[^']*'", shown)
    assert exports == ["DAYTONA_API_KEY", "ANTHROPIC_API_KEY"]
    (run_line,) = [line.strip() for line in shown.splitlines() if ' run "' in line]
    assert run_line == 'multishot run "what Claude should do"'

    pasted = {"DAYTONA_API_KEY": VALID_DAYTONA_KEY, "ANTHROPIC_API_KEY": VALID_ANTHROPIC_KEY}
    child = pexpect.spawn(
        "bash",
        ["--norc", "--noprofile", "-c", f"{run_line} --shots 1"],
        env={**env, **pasted},
        encoding="utf-8",
        timeout=90,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "1/1 shots succeeded" in str(child.before)


@pytest.mark.usefixtures("anthropic")
def test_the_secret_service_route_saves_the_keys_and_runs(
    tmp_path: Path, daytona: DaytonaStandIn, anthropic: AnthropicStandIn
) -> None:
    env = headless_env(tmp_path)
    shown = printed_by_multishot(env)
    start = shown.index("2. Save them in a Secret Service")
    commands = [line.strip() for line in shown[start:].splitlines()[1:] if line.startswith("     ")]
    assert commands[0] == "dbus-run-session -- bash"
    assert commands[-1] == "multishot login"

    transcript = io.StringIO()
    shell = pexpect.spawn("bash", ["--norc", "--noprofile"], env=env, encoding="utf-8", timeout=90)
    shell.logfile_read = transcript
    try:
        shell.expect_exact("READY$ ")
        shell.sendline(commands[0] + " --norc --noprofile")
        shell.expect_exact("READY$ ")
        shell.sendline(commands[1])
        shell.expect_exact("Keyring password: ")
        shell.sendline(KEYRING_PASSWORD)
        shell.expect_exact("READY$ ")
        shell.sendline(commands[2])
        for prompt, answer in [
            ("Daytona API key", VALID_DAYTONA_KEY),
            (r"Choose 1 or 2 \[1\]: ", "1"),
            ("Anthropic API key", VALID_ANTHROPIC_KEY),
        ]:
            shell.expect(prompt)
            shell.sendline(answer)
        shell.expect("Saved to the keychain")
        shell.expect_exact("READY$ ")
        shell.sendline("multishot run 'task' --shots 1; echo exit=$?")
        shell.expect(r"exit=(\d+)")
        assert shell.after == "exit=0", transcript.getvalue()
        shell.sendline("exit")  # leaves the D-Bus session; its keyring daemon ends with it
        shell.expect_exact("READY$ ")
        shell.sendline("exit")
        shell.expect(pexpect.EOF)
    finally:
        shell.close(force=True)
    shown = transcript.getvalue()
    assert "1/1 shots succeeded" in shown
    assert KEYRING_PASSWORD not in shown  # read without echo
    for secret in (VALID_DAYTONA_KEY, VALID_ANTHROPIC_KEY):
        assert secret not in shown
    assert list((Path(env["XDG_DATA_HOME"]) / "keyrings").glob("*.keyring"))
