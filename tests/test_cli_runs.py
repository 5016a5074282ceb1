"""`multishot run | runs | show | logs | cancel | cleanup` as real subprocesses."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest
from aiohttp import WSCloseCode

from tests.conftest import run_cli
from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn

API_KEY = "sk-ant-api03-" + "C" * 40 + "cl1r"
GITHUB_TOKEN = "ghp_" + "G" * 36
ENV = {"DAYTONA_API_KEY": VALID_DAYTONA_KEY, "ANTHROPIC_API_KEY": API_KEY}


def start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tray", *args],
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def wait_for_running(daytona: DaytonaStandIn, sandboxes: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(daytona.live) >= sandboxes and all(
            any("claude -p" in c.command for c in s.commands.values()) for s in daytona.live
        ):
            return
        time.sleep(0.05)
    raise AssertionError("the shots did not start")


def test_run_then_runs_show_and_logs(daytona: DaytonaStandIn, isolated_home: Path) -> None:
    result = run_cli("run", "Write the solution", "--shots", "2", env=ENV)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "shot 1: running" in out
    assert "shot 2: succeeded" in out
    assert " done. 2/2 shots succeeded." in out
    assert "patch: " in out
    run_id = out.split()[1].rstrip(":")
    assert daytona.live == []

    listing = run_cli("runs")
    assert run_id in listing.stdout
    assert "done" in listing.stdout
    assert "2/2" in listing.stdout

    shown = json.loads(run_cli("show", run_id[:12], "--json").stdout)
    assert shown["status"] == "done"
    assert [s["status"] for s in shown["shots"]] == ["succeeded", "succeeded"]
    assert shown["shots"][0]["changed_files"]

    log = run_cli("logs", run_id, "1")
    assert log.returncode == 0
    assert '"type":"result"' in log.stdout
    stderr_log = run_cli("logs", run_id, "1", "--stderr").stdout
    assert "debug: using credential sk-ant-…cl1r" in stderr_log
    for text in (out, result.stderr, listing.stdout, log.stdout, stderr_log):
        assert API_KEY not in text
    for path in isolated_home.rglob("*"):
        if path.is_file():
            assert API_KEY.encode() not in path.read_bytes(), path


def test_run_json_and_an_auth_failure_exit_3(daytona: DaytonaStandIn) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "invalid_key"
    result = run_cli("run", "task", "--shots", "3", "--json", env=ENV)
    assert result.returncode == 3
    summary = json.loads(result.stdout)
    assert summary["status"] == "auth_failed"
    assert {s["error_kind"] for s in summary["shots"]} == {"invalid"}
    said = "Claude credential rejected: Invalid API key · Fix external API key"  # words
    assert summary["detail"] == said  # not an internal name such as "invalid"
    assert [shot["detail"] for shot in summary["shots"]] == [said] * 3
    assert daytona.live == []


def test_an_expired_token_after_a_normal_stream_close_exits_3(daytona: DaytonaStandIn) -> None:
    daytona.drop_stream_after_bytes = 1
    daytona.drop_close_code = WSCloseCode.OK
    daytona.extra_env.update(
        FAKE_CLAUDE_SCENARIO="expire_mid_run", FAKE_CLAUDE_LINES="10", FAKE_CLAUDE_SLOW_SECONDS="60"
    )
    result = run_cli("run", "task", "--shots", "2", env=ENV)
    assert result.returncode == 3, result.stderr
    assert "Claude token expired" in result.stderr
    assert daytona.live == []


def test_some_shots_failing_exit_1(daytona: DaytonaStandIn) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "session_limit"
    result = run_cli("run", "task", "--shots", "1", env=ENV)
    assert result.returncode == 1
    assert "usage limit reached" in result.stdout
    # "23:10", or "Tue 1 Dec 00:10" when the reset is not today
    assert re.search(r"it resets at (\w{3} \d{1,2} \w{3} )?\d\d:\d\d", result.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "The prompt is empty"),
        (["task", "--shots", "17"], "from 1 to 16"),
        (["task", "--shots", "0"], "from 1 to 16"),
        (["task", "--repo", "not a url"], "spaces or control characters"),
        (["task", "--repo", "ftp://host/repo"], "not a repository URL"),
        (["task", "--repo", "https://user:hunter2@github.com/o/r"], "user name or token"),
        (["task", "--repo", f"https://{GITHUB_TOKEN}@github.com/o/r.git"], "user name or token"),
        (["task", "--repo=-uhttps://github.com/o/r"], "starts with '-'"),
        (["task", "--model=--help"], "not a valid model name"),
        (["task", "--model", VALID_DAYTONA_KEY], "looks like an API key"),
        ([], "No prompt: give it as an argument, with --prompt-file PATH"),
        (["-"], "The prompt is empty"),  # standard input is /dev/null here
        (["task", "--prompt-file", "p.txt"], "not both"),
        (["--prompt-file", "missing.txt"], "Could not read the prompt file missing.txt"),
        (["--prompt-file", "latin1.txt"], "is not UTF-8 text (byte 4 cannot be read)"),
        (["--prompt-file", "huge.txt"], "The prompt in huge.txt is over 1 MB"),
        (["task", "--branch", "main"], "needs a repository URL"),
        (["task", "--max-budget-usd", "-1"], "budget"),
        (["task", "--shots", "1", "--hint", "a", "--hint", "b"], "2 approach hints for 1 shots"),
    ],
)
def test_bad_run_input_is_refused_before_anything_starts(
    daytona: DaytonaStandIn, isolated_home: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "huge.txt").write_text("é" * 600_000, encoding="utf-8")  # 1.2 MB
    result = run_cli("run", *args, env=ENV)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert daytona.created == []
    written = [p for p in isolated_home.rglob("*") if p.is_file()]
    assert [p.name for p in written] == ["multishot.log"]  # no history, no results
    for secret in (GITHUB_TOKEN, VALID_DAYTONA_KEY):
        assert secret not in result.stdout + result.stderr + written[0].read_text()


def test_a_long_prompt_comes_from_a_file_or_standard_input(
    daytona: DaytonaStandIn, tmp_path: Path
) -> None:
    prompt = "Résumé ✓ " * 60_000 + "$(id) `x`"  # about 700 kB, past any argument limit
    (tmp_path / "prompt.txt").write_text(prompt, encoding="utf-8")
    from_file = run_cli("run", "--prompt-file", "prompt.txt", "--shots", "1", env=ENV)
    assert from_file.returncode == 0, from_file.stderr
    piped = subprocess.run(
        [sys.executable, "-m", "tray", "run", "-", "--shots", "1"],
        input="from standard input\n",
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    received = [(s.home / ".fake_claude" / "prompt-1").read_text("utf-8") for s in daytona.created]
    assert received == [prompt, "from standard input\n"]


def test_run_without_credentials_says_how_to_log_in() -> None:
    result = run_cli("run", "task", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert result.returncode == 1
    assert "multishot login" in result.stderr


def test_ctrl_c_cancels_and_deletes_every_sandbox(daytona: DaytonaStandIn) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    process = start_cli("run", "task", "--shots", "2")
    try:
        wait_for_running(daytona, 2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "deleting their sandboxes" in err
    assert daytona.live == []
    assert len(daytona.deleted) == 2


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_cancel_and_delete_every_sandbox(
    daytona: DaytonaStandIn, signum: int, code: int
) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    process = start_cli("run", "task", "--shots", "3")
    try:
        wait_for_running(daytona, 3)
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, err
    assert "deleting their sandboxes" in err
    assert daytona.live == []
    assert len(daytona.deleted) == 3


def test_ctrl_c_pressed_three_times_still_deletes_every_sandbox(daytona: DaytonaStandIn) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    daytona.delete_delay = 2.0
    process = start_cli("run", "task", "--shots", "3")
    try:
        wait_for_running(daytona, 3)
        for _ in range(3):
            process.send_signal(signal.SIGINT)
            time.sleep(0.25)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Still deleting 3 sandboxes; press Ctrl-C again to leave them" in err
    assert "every sandbox of the run is deleted" in err
    assert daytona.live == []


def test_a_deliberate_last_ctrl_c_leaves_the_sandboxes_for_cleanup(
    daytona: DaytonaStandIn,
) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    daytona.delete_delay = 30.0
    process = start_cli("run", "task", "--shots", "2")
    try:
        wait_for_running(daytona, 2)
        process.send_signal(signal.SIGINT)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        time.sleep(2.0)  # read the warning, then mean it
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "2 sandboxes of this run are left running: `multishot cleanup` deletes them." in err
    assert len(daytona.live) == 2
    daytona.delete_delay = 0
    cleaned = run_cli("cleanup", env=ENV)
    assert cleaned.returncode == 0, cleaned.stderr
    assert daytona.live == []


def test_a_sandbox_that_cannot_be_deleted_is_named_with_the_fix(daytona: DaytonaStandIn) -> None:
    daytona.delete_faults = [500] * 50
    result = run_cli("run", "task", "--shots", "1", env=ENV, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1 sandbox of this run could not be deleted: `multishot cleanup` deletes them." in (
        result.stderr
    )
    daytona.delete_faults = []
    cleaned = run_cli("cleanup", env=ENV)
    assert "Deleted 1 leftover sandbox" in cleaned.stdout
    assert daytona.live == []


def test_cancel_from_another_terminal(daytona: DaytonaStandIn) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    process = start_cli("run", "task", "--shots", "1")
    try:
        wait_for_running(daytona, 1)
        run_id = daytona.live[0].labels["multishot-run"]
        assert "running 1/1" in run_cli("runs").stdout
        cancelled = run_cli("cancel", run_id)
        assert cancelled.returncode == 0, cancelled.stderr
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130  # cancelled, as with Ctrl-C
    assert "cancelled" in out
    assert daytona.live == []
    assert run_cli("cancel", run_id).returncode == 1  # already ended


def test_cleanup_deletes_what_a_killed_run_left_behind(daytona: DaytonaStandIn) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "hang"
    process = start_cli("run", "task", "--shots", "2")
    try:
        wait_for_running(daytona, 2)
    finally:
        process.kill()  # kill -9: no chance to clean up
        process.wait(timeout=30)
    assert len(daytona.live) == 2
    result = run_cli("cleanup", env=ENV)
    assert result.returncode == 0, result.stderr
    assert "Deleted 2 leftover sandboxes" in result.stdout
    assert daytona.live == []
    assert "interrupted" in run_cli("runs").stdout
    assert "No leftover sandboxes." in run_cli("cleanup", env=ENV).stdout


def test_progress_is_redrawn_in_place_on_a_terminal(daytona: DaytonaStandIn) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tray", "run", "task", "--shots", "2"],
        env={**os.environ, **ENV},
        encoding="utf-8",
        timeout=90,
        dimensions=(40, 120),
    )
    child.expect(pexpect.EOF)
    child.close()
    shown = child.before or ""
    assert child.exitstatus == 0
    assert "\x1b[2F" in shown  # cursor back up over the two shot lines
    assert "shot 2: succeeded" in shown
    assert "done. 2/2 shots succeeded." in shown


@pytest.mark.parametrize("broken", ["folder", "garbage"])
def test_a_broken_history_is_named_with_how_to_move_it_aside(
    daytona: DaytonaStandIn, isolated_home: Path, broken: str
) -> None:
    history = isolated_home / "data" / "multishot" / "history.sqlite3"
    history.parent.mkdir(parents=True)
    if broken == "folder":
        history.mkdir()
    else:
        history.write_bytes(b"this is not a database" * 100)
    for args in (["runs"], ["run", "task", "--shots", "1"]):
        result = run_cli(*args, env=ENV)
        assert result.returncode == 1, result.stderr
        assert f"The run history {history} cannot be read" in result.stderr
        assert f"mv '{history}' '{history}.broken'" in result.stderr
        assert "Traceback" not in result.stderr
    assert daytona.created == []
    history.rename(history.with_name("history.sqlite3.broken"))
    assert run_cli("runs").returncode == 0


@pytest.mark.parametrize("args", [["show", "nope"], ["logs", "nope", "1"], ["cancel", "nope"]])
def test_an_unknown_run_is_bad_input(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert "No run matches 'nope'" in result.stderr
