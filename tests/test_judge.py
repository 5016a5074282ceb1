"""The judge: its prompt, the strict reading of its answer, and a judged run in the stand-in
(the scripted fake CLI, and the real CLI against the Messages API stand-in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.claude_cli import QUIET_ENV, real_claude
from tests.claude_logs import JUDGE_MARK
from tests.conftest import until
from tests.daytona_standin import DaytonaStandIn
from tests.standins import AnthropicStandIn
from tests.test_checks import CHECK, HINTS
from tests.test_engine import Recorder, make_manager
from tray.runs.compare import compare_run
from tray.runs.events import JudgeFinished, JudgeStarted, RunFinished, ShotChanged
from tray.runs.judge import MAX_REASON_CHARS, Entrant, judge_prompt, parse_answer
from tray.runs.manager import RunManager
from tray.runs.spec import MAX_PROMPT_BYTES, RunSpec
from tray.runs.status import ShotStatus
from tray.runs.verdict import read_verdict

SECRET = "sk-ant-api03-" + "J" * 40 + "udg3"
VALID = {
    "ranking": [
        {"shot": 2, "rank": 1, "reason": "It passes the check."},
        {"shot": 1, "rank": 2, "reason": "It fails the check."},
    ]
}


def entrant(number: int, patch: bytes, check: int | None = None) -> Entrant:
    return Entrant(number, ShotStatus.SUCCEEDED, "1 file changed", patch, check, "ok\n")


# -- the answer --------------------------------------------------------------------------


def test_a_valid_answer_becomes_a_ranking_best_first() -> None:
    verdict = parse_answer(json.dumps(VALID), [1, 2], 0.5)
    assert verdict.problem is None
    assert [(r.shot, r.rank) for r in verdict.ranking] == [(2, 1), (1, 2)]
    assert verdict.cost_usd == 0.5
    fenced = parse_answer(f"Here it is:\n```json\n{json.dumps(VALID)}\n```\nDone.", [1, 2], None)
    assert fenced.ranking == verdict.ranking


def test_a_reason_is_redacted() -> None:
    answer = {
        "ranking": [
            {"shot": 1, "rank": 1, "reason": f"It prints {SECRET} in a log."},
            {"shot": 2, "rank": 2, "reason": "Fine."},
        ]
    }
    verdict = parse_answer(json.dumps(answer), [1, 2], None)
    assert SECRET not in verdict.ranking[0].reason
    assert "It prints" in verdict.ranking[0].reason


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("I think shot 2 is best.", "not a JSON object"),
        ("", "it was empty"),
        ('{"ranks": []}', 'no "ranking" list'),
        ('{"ranking": [1, 2]}', "not an object"),
        ('{"ranking": [{"shot": 3, "rank": 1, "reason": "x"}]}', "ranks 3, which is not"),
        ('{"ranking": [{"shot": true, "rank": 1, "reason": "x"}]}', "ranks True"),
        ('{"ranking": [{"shot": 1, "rank": "1", "reason": "x"}]}', "not a whole number"),
        ('{"ranking": [{"shot": 1, "rank": 1, "reason": " "}]}', "no reason for attempt 1"),
        (
            '{"ranking": [{"shot": 1, "rank": 1, "reason": "x"}]}',
            "ranks attempts [1], but was shown [1, 2]",
        ),
        (
            '{"ranking": [{"shot": 1, "rank": 1, "reason": "x"},'
            ' {"shot": 1, "rank": 2, "reason": "y"}]}',
            "ranks attempts [1, 1]",
        ),
        (
            '{"ranking": [{"shot": 1, "rank": 1, "reason": "x"},'
            ' {"shot": 2, "rank": 1, "reason": "y"}]}',
            "not 1 to 2, each once",
        ),
        (
            json.dumps(
                {"ranking": [{"shot": 1, "rank": 1, "reason": "x" * (MAX_REASON_CHARS + 1)}]}
            ),
            "over 2,000 characters",
        ),
    ],
)
def test_a_malformed_answer_is_reported_and_never_trusted(answer: str, problem: str) -> None:
    verdict = parse_answer(answer, [1, 2], 0.1)
    assert verdict.ranking == ()
    assert verdict.problem is not None
    assert verdict.problem.startswith("The judge's answer could not be used: ")
    assert problem in verdict.problem
    assert verdict.cost_usd == 0.1


# -- the prompt --------------------------------------------------------------------------


def test_the_prompt_shows_each_attempt_and_stays_within_the_limit() -> None:
    small = judge_prompt("Fix the bug", [entrant(1, b"+fixed\n", 0), entrant(3, b"+other\n", 1)])
    assert small.startswith(JUDGE_MARK)
    assert "## Attempt 1" in small
    assert "## Attempt 3" in small
    assert "Check: passed (exit code 0)" in small
    assert "Check: failed (exit code 1)" in small
    assert "cut" not in small

    line = b"+" + b"x" * 99 + b"\n"
    binary = b"GIT binary patch\nliteral 4\nLcmZ?l\n\n"
    huge = [entrant(n, binary + line * 20_000, None) for n in range(1, 17)]  # 2 MB each
    prompt = judge_prompt("T" * 2_000_000, huge)
    assert len(prompt.encode("utf-8")) <= MAX_PROMPT_BYTES
    assert prompt.count("[… the rest of this diff is cut:") == 16
    assert "[… the rest of this task is cut:" in prompt
    assert "LcmZ?l" not in prompt
    assert "(a binary file's contents, not shown)" in prompt
    assert "## Attempt 16" in prompt
    assert "Check: none ran." in prompt
    RunSpec(prompt)  # a prompt the engine accepts


# -- a judged run ------------------------------------------------------------------------


def judged_run(manager: RunManager, standin: DaytonaStandIn, answer: str) -> tuple[str, Recorder]:
    (standin.shared / "judge-answer").write_text(answer)
    recorder = Recorder()
    manager.subscribe(recorder)
    run_id = manager.start(
        RunSpec("Make the check pass", shots=3, hints=HINTS, check=CHECK, judge=True)
    )
    assert manager.wait(run_id, 90), "the run did not finish"
    return run_id, recorder


def test_the_judge_ranks_the_shots_with_changes_before_the_run_finishes(
    manager: RunManager, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    run_id, recorder = judged_run(manager, standin, f"```json\n{json.dumps(VALID)}\n```")

    (started,) = recorder.of(JudgeStarted)
    assert started.shots == (1, 2)  # shot 3 changed nothing
    (finished,) = recorder.of(JudgeFinished)
    assert finished.verdict.problem is None
    assert [r.shot for r in finished.verdict.ranking] == [2, 1]
    assert finished.verdict.cost_usd == pytest.approx(0.0421)
    kinds = [type(e) for e in recorder.events]
    assert kinds.index(JudgeFinished) < kinds.index(RunFinished)
    assert all(e.shot.number != 0 for e in recorder.of(ShotChanged))

    assert read_verdict(tmp_path / "runs" / run_id / "judge.json") == finished.verdict
    judge = next(s for s in standin.created if s.labels["multishot-shot"] == "0")
    assert judge.labels["multishot-run"] == run_id
    prompt = (judge.home / ".fake_claude" / "prompt-1").read_text()
    assert prompt.startswith(JUDGE_MARK)
    assert "+pass" in prompt
    assert "+fail" in prompt
    assert "## Attempt 3" not in prompt
    assert (tmp_path / "runs" / run_id / "judge" / "stdout.log").exists()
    assert standin.live == []  # the judge's sandbox is deleted like the shots'

    comparison = compare_run(manager.history, run_id)
    assert comparison.recommended == 2  # the judge's first choice
    shot_1 = comparison.shot(1)
    assert shot_1 is not None
    assert shot_1.judge_reason == "It fails the check."
    assert len(manager.history.shots(run_id)) == 3  # the judge is not a shot
    summary = json.loads((tmp_path / "runs" / run_id / "summary.json").read_text())
    assert summary["judge"]["cost_usd"] == pytest.approx(0.0421)


def test_a_malformed_verdict_leaves_the_default_ranking(
    manager: RunManager, standin: DaytonaStandIn, tmp_path: Path
) -> None:
    run_id, recorder = judged_run(manager, standin, '{"ranking": [{"shot": 2, "rank": 1}]}')
    (finished,) = recorder.of(JudgeFinished)
    assert finished.verdict.ranking == ()
    assert finished.verdict.problem is not None
    assert "no reason for attempt 2" in finished.verdict.problem
    comparison = compare_run(manager.history, run_id)
    assert comparison.verdict == finished.verdict
    assert comparison.recommended == 1  # the default ranking: shot 1 passed its check
    assert [s.status for s in manager.history.shots(run_id)] == ["succeeded"] * 3
    assert recorder.of(RunFinished)[0].succeeded == 3


def test_a_cancel_stops_the_judge_and_deletes_its_sandbox(
    manager: RunManager, standin: DaytonaStandIn
) -> None:
    (standin.shared / "judge-answer").write_text("hang")
    recorder = Recorder()
    manager.subscribe(recorder)
    spec = RunSpec("task", shots=2, hints=("WRITE a.txt a", "WRITE b.txt b"), judge=True)
    run_id = manager.start(spec)
    until(lambda: len(standin.created) == 3 and standin.live != [], "the judge's sandbox")
    assert manager.cancel(run_id)
    assert manager.wait(run_id, 60)
    (finished,) = recorder.of(JudgeFinished)
    assert finished.verdict.ranking == ()
    assert finished.verdict.problem == "The judge did not finish: Cancelled."
    assert recorder.of(RunFinished)[0].succeeded == 2  # the shots' results stand
    assert standin.live == []


def test_no_judge_for_fewer_than_two_changes(manager: RunManager, standin: DaytonaStandIn) -> None:
    recorder = Recorder()
    manager.subscribe(recorder)
    run_id = manager.start(RunSpec("WRITE a.txt x", shots=1, judge=True))
    assert manager.wait(run_id, 60)
    assert recorder.of(JudgeStarted) == []
    assert len(standin.created) == 1


def test_the_real_cli_as_judge(tmp_path: Path) -> None:
    executable = real_claude()
    with AnthropicStandIn() as api, DaytonaStandIn(tmp_path / "daytona") as standin:
        standin.real_claude = executable
        standin.extra_env.update(ANTHROPIC_BASE_URL=api.url, **QUIET_ENV)
        api.messages = "tool_write"
        api.writes_by_hint = {
            "approach A": ("a.txt", "alpha\n"),
            "approach B": ("b.txt", "beta\n"),
        }
        api.judge_answer = json.dumps(
            {
                "ranking": [
                    {"shot": 1, "rank": 2, "reason": "Alpha is fine."},
                    {"shot": 2, "rank": 1, "reason": "Beta is better."},
                ]
            }
        )
        manager = make_manager(standin, tmp_path)
        recorder = Recorder()
        manager.subscribe(recorder)
        try:
            spec = RunSpec("Write a file", shots=2, hints=("approach A", "approach B"), judge=True)
            run_id = manager.start(spec)
            assert manager.wait(run_id, 120)
        finally:
            manager.shutdown(timeout=60)
    shots = manager.history.shots(run_id)
    assert [s.changed_files for s in shots] == [["a.txt"], ["b.txt"]]
    (finished,) = recorder.of(JudgeFinished)
    assert finished.verdict.problem is None
    assert [(r.shot, r.reason) for r in finished.verdict.ranking] == [
        (2, "Beta is better."),
        (1, "Alpha is fine."),
    ]
    assert (finished.verdict.cost_usd or 0) > 0
    assert api.judge_requests >= 1
