"""`multishot run --setup/--check/--judge` and `multishot continue` as real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.daytona_standin import DaytonaStandIn
from tests.test_checks import CHECK, HINTS
from tests.test_cli_runs import API_KEY, ENV

JUDGE_ANSWER = {
    "ranking": [
        {"shot": 1, "rank": 1, "reason": "Its check passes."},
        {"shot": 2, "rank": 2, "reason": "Its check fails."},
    ]
}


def test_run_with_a_check_and_a_judge_then_continue_from_the_winner(
    daytona: DaytonaStandIn, tmp_path: Path
) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "edits"
    (daytona.shared / "judge-answer").write_text(json.dumps(JUDGE_ANSWER))
    hints = [arg for hint in HINTS for arg in ("--hint", hint)]
    first = run_cli(
        "run", "Make the check pass", "--shots", "3", *hints,
        "--setup", "echo ready", "--check", CHECK, "--check-timeout", "2", "--judge",
        env=ENV,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "shot 1: checking" in out
    assert "check passed in" in out
    assert "check failed (exit 1)" in out
    assert "Judging 2 shots (1, 2)…" in out
    assert "1. shot 1: Its check passes." in out
    assert out.index("Judging") < out.index(" done. 3/3 shots succeeded.")
    run_id = out.split()[1].rstrip(":")
    shown = json.loads(run_cli("show", run_id, "--json").stdout)
    assert shown["base_commit"]
    assert [s["check_exit_code"] for s in shown["shots"]] == [0, 1, None]
    assert [s["setup_exit_code"] for s in shown["shots"]] == [0, 0, 0]

    # No shot given: the judge's first choice, shot 1.
    second = run_cli(
        "continue", run_id, "WRITE round2.txt more", "--shots", "1",
        "--check", "grep -q pass result.txt",
        env=ENV,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert f"Round 2: continuing from shot 1 of run {run_id}." in second.stdout
    assert "check passed in" in second.stdout  # its sandbox had shot 1's result.txt
    assert "Judging" not in second.stdout  # one shot: nothing to judge
    second_id = second.stdout.splitlines()[1].split()[1].rstrip(":")
    listing = run_cli("runs").stdout
    assert f"round 2 ← {run_id}#1" in listing
    summary = json.loads(run_cli("show", second_id, "--json").stdout)
    assert (summary["round"], summary["parent_run_id"], summary["parent_shot"]) == (
        2,
        run_id,
        1,
    )
    assert summary["base_commit"] == shown["base_commit"]
    assert summary["shots"][0]["changed_files"] == ["round2.txt"]

    # An explicit shot, the prompt from a file: shot 2's change is there instead.
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("WRITE other.txt x\n")
    third = run_cli(
        "continue", run_id, "2", "--prompt-file", str(prompt), "--shots", "1",
        "--check", "grep -q fail result.txt", "--json",
        env=ENV,
    )  # fmt: skip
    assert third.returncode == 0, third.stderr
    summary = json.loads(third.stdout)
    assert (summary["round"], summary["parent_shot"]) == (2, 2)
    assert summary["shots"][0]["check_exit_code"] == 0
    for text in (first.stdout, first.stderr, second.stdout, listing):
        assert API_KEY not in text


def test_continue_refuses_bad_input_with_exit_2(daytona: DaytonaStandIn) -> None:
    daytona.extra_env["FAKE_CLAUDE_SCENARIO"] = "edits"
    first = run_cli(
        "run", "task", "--shots", "2", "--hint", "WRITE a.txt x", "--hint", "no change", env=ENV
    )
    assert first.returncode == 0, first.stderr
    run_id = first.stdout.split()[1].rstrip(":")
    cases = {
        ("continue", run_id, "2", "more"): "changed nothing: there is nothing to continue from",
        ("continue", run_id, "two", "more"): "'two' is not a shot number",
        ("continue", run_id, "1", "more", "extra"): "put the prompt in quotes",
        ("continue", run_id): "No prompt",
        ("continue", "no-such-run", "more"): "No run matches 'no-such-run'",
        ("continue", run_id, "more", "--shots", "17"): "number of shots must be a whole number",
        (
            "continue",
            run_id,
            "more",
            "--check",
            f"curl -H 'x-api-key: {API_KEY}' x",
        ): "key or token",
        ("run", "task", "--check-timeout", "0"): "check time limit",
    }
    for args, message in cases.items():
        result = run_cli(*args, env=ENV)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert API_KEY not in result.stderr
    assert len(daytona.created) == 2  # none of these started a sandbox
