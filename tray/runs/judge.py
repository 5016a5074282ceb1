"""The judge (``RunSpec.judge``): once a run's shots have ended, one more Claude Code
session ranks those that produced changes.

It runs as a shot does (:class:`JudgeSession` is a :class:`~tray.runs.shot.Shot`: its
own sandbox, labelled with the run and shot 0 so cancel and cleanup find it, the run's
credential, Claude's re-runs, the shot's log in ``judge/``), but in an empty repository,
without setup or check, and outside the history's shots. Its prompt holds the task, each
shot's status, check result and diff (each cut to a fair share of the prompt limit, and
said so), and asks for nothing but ``{"ranking": [{"shot", "rank", "reason"}]}``. The
answer is validated strictly: one that cannot be used becomes a verdict with a
``problem`` and no ranking, reported and never trusted; the shots are never touched.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tray.redaction import redact
from tray.runs.events import JudgeFinished, JudgeStarted
from tray.runs.layout import ShotFolder
from tray.runs.phases import Outcome, Workspace
from tray.runs.shot import Shot, ShotEngine
from tray.runs.spec import MAX_PROMPT_BYTES
from tray.runs.state import RunState
from tray.runs.status import ShotStatus
from tray.runs.verdict import JudgeRanking, JudgeVerdict, write_verdict
from tray.sandbox.daytona import SandboxHandle
from tray.scanner import ScanEvent

__all__ = [
    "JUDGE_SHOT",
    "MAX_REASON_CHARS",
    "Entrant",
    "JudgeSession",
    "entrant",
    "judge_prompt",
    "judge_shots",
    "parse_answer",
    "run_judge",
]

log = logging.getLogger(__name__)

JUDGE_SHOT = 0  # the judge's sandbox label and leftover record: no shot has this number
MAX_REASON_CHARS = 2_000
CHECK_LINES = 20  # of each check's output shown to the judge
# Room left in the prompt for its frame (instructions, headings, notes).
_FRAME_BYTES = 20_000
_BINARY = re.compile(r"^GIT binary patch\n(?:.+\n)*", re.MULTILINE)
_FENCE = re.compile(r"```(?:json)?\s*\n(.*?)\n\s*```", re.DOTALL)

_INSTRUCTIONS = """\
You are judging attempts at one coding task. Several independent attempts were made,
each in its own copy of the repository. Below are the task, then each attempt's status,
the result of the project's check command (if the run has one) and its diff.

Rank the attempts from best (rank 1) to worst by how well they do the task: correctness
first, then completeness, then the quality and size of the change. Do not run tools or
change files: everything you need is below.

Answer with ONLY this JSON object, nothing before or after it:
{"ranking": [{"shot": <attempt number>, "rank": <1 for the best>, "reason": "<one paragraph>"}]}
Rank every attempt listed below exactly once; ranks are 1, 2, 3, ... without ties.
"""


@dataclasses.dataclass(frozen=True)
class Entrant:
    """One shot, as the judge sees it."""

    number: int
    status: ShotStatus
    detail: str
    patch: bytes
    check_exit_code: int | None  # None: no check ran
    check_output: str  # its last lines, redacted


def judge_prompt(task: str, entrants: Sequence[Entrant]) -> str:
    """The judge's prompt, within the prompt limit however large the diffs are."""
    budget = MAX_PROMPT_BYTES - _FRAME_BYTES
    task = _cut(task, budget // 2, "task")
    share = (budget - len(task.encode("utf-8"))) // max(1, len(entrants))
    parts = [_INSTRUCTIONS, "## The task\n", task, ""]
    for entrant in entrants:
        parts += [
            f"## Attempt {entrant.number}",
            f"Status: {entrant.status.label}. {redact(entrant.detail)}".strip(),
            _check_line(entrant),
            "Diff:",
            _cut(_without_binary(entrant.patch), share, "diff"),
            "",
        ]
    parts.append("Answer with the JSON object only.")
    return "\n".join(parts)


def _check_line(entrant: Entrant) -> str:
    if entrant.check_exit_code is None:
        return "Check: none ran."
    verdict = "passed" if entrant.check_exit_code == 0 else "failed"
    tail = "\n".join(entrant.check_output.rstrip().splitlines()[-CHECK_LINES:])
    return f"Check: {verdict} (exit code {entrant.check_exit_code}). Its last lines:\n{tail}"


def _without_binary(patch: bytes) -> str:
    text = patch.decode("utf-8", "replace")
    return _BINARY.sub("(a binary file's contents, not shown)\n", text)


def _cut(text: str, limit: int, what: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    kept = data[: max(0, limit - 200)].decode("utf-8", "ignore")
    kept = kept[: kept.rfind("\n") + 1] or kept
    return (
        f"{kept}[… the rest of this {what} is cut: {len(kept.encode('utf-8')):,} of "
        f"{len(data):,} bytes shown]\n"
    )


def parse_answer(text: str, entrants: Sequence[int], cost_usd: float | None) -> JudgeVerdict:
    """The verdict in the judge's final answer, or one saying why it cannot be used."""
    try:
        ranking = _ranking(_json_object(text), set(entrants))
    except ValueError as exc:
        return JudgeVerdict((), cost_usd, problem=f"The judge's answer could not be used: {exc}")
    return JudgeVerdict(ranking, cost_usd)


def _json_object(text: str) -> Any:
    fenced = _FENCE.search(text)
    candidate = (fenced.group(1) if fenced else text).strip()
    if not candidate:
        raise ValueError("it was empty.")
    try:
        return json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise ValueError(f"it is not a JSON object ({exc.msg} at character {exc.pos}).") from None


def _ranking(answer: Any, entrants: set[int]) -> tuple[JudgeRanking, ...]:
    if not isinstance(answer, dict) or not isinstance(answer.get("ranking"), list):
        raise ValueError('it has no "ranking" list.')
    rankings = []
    for item in answer["ranking"]:
        if not isinstance(item, dict):
            raise ValueError("an entry of its ranking is not an object.")
        shot, rank, reason = item.get("shot"), item.get("rank"), item.get("reason")
        if isinstance(shot, bool) or not isinstance(shot, int) or shot not in entrants:
            raise ValueError(f"it ranks {shot!r}, which is not one of the attempts it was shown.")
        if isinstance(rank, bool) or not isinstance(rank, int):
            raise ValueError(f"the rank of attempt {shot} is {rank!r}, not a whole number.")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"it gives no reason for attempt {shot}.")
        if len(reason) > MAX_REASON_CHARS:
            raise ValueError(
                f"its reason for attempt {shot} is over {MAX_REASON_CHARS:,} characters."
            )
        rankings.append(JudgeRanking(shot, rank, redact(reason.strip())))
    shots = sorted(r.shot for r in rankings)
    if shots != sorted(entrants):
        raise ValueError(
            f"it ranks attempts {shots}, but was shown {sorted(entrants)} (each exactly once)."
        )
    if sorted(r.rank for r in rankings) != list(range(1, len(rankings) + 1)):
        raise ValueError(f"its ranks are not 1 to {len(rankings)}, each once.")
    return tuple(sorted(rankings, key=lambda r: r.rank))


class JudgeSession(Shot):
    """The judge's Claude session: a shot's sandbox and Claude runs, nothing else.

    Not one of the run's shots: nothing of it goes to the history's shots or to the
    shots' events, its starting commit is not the run's, and a credential failure in its
    output ends only the judge (the run's outcome is already decided).
    """

    def __init__(self, engine: ShotEngine, run: RunState, prompt: str) -> None:
        spec = dataclasses.replace(
            run.spec,
            prompt=prompt,
            shots=1,
            hints=(),
            repo_url=None,
            branch=None,
            setup=None,
            check=None,
            judge=False,
            parent_run_id=None,
            parent_shot=None,
        )
        own = RunState(run.id, spec, run.folder, stop=run.stop, done=run.done)
        super().__init__(engine, own, JUDGE_SHOT, ShotFolder(run.folder.path / "judge"))

    def _use(self, sandbox: SandboxHandle, workspace: Workspace) -> Outcome:
        self._run_claude(sandbox, workspace)
        if self._succeeded():
            return Outcome(ShotStatus.SUCCEEDED, "The judge answered.")
        return self._claude_outcome()

    def answer(self) -> str:
        return str(self._output.result.get("result") or "")

    def cost_usd(self) -> float | None:
        return self.snapshot().cost_usd

    def _record(self, **fields: Any) -> None:
        pass

    def _announce(self) -> None:
        pass

    def _note_base(self, commit: str) -> None:
        pass

    def _on_failure(self, event: ScanEvent) -> None:
        pass


def entrant(shot: Shot) -> Entrant | None:
    """The shot as the judge sees it; None when it left no changes to judge."""
    snapshot = shot.snapshot()
    try:
        patch = Path(snapshot.patch_path).read_bytes() if snapshot.patch_path else b""
    except OSError:
        return None
    if not patch.strip():
        return None
    try:
        check_output = shot.folder.check_log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        check_output = ""
    return Entrant(
        snapshot.number,
        snapshot.status,
        snapshot.detail,
        patch,
        snapshot.check_exit_code,
        check_output,
    )


def run_judge(engine: ShotEngine, run: RunState, entrants: Sequence[Entrant]) -> JudgeVerdict:
    """Run the judge on these shots (blocking, on the run's thread) and validate its answer."""
    session = JudgeSession(engine, run, judge_prompt(run.spec.prompt, entrants))
    session.run()
    cost = session.cost_usd()
    if session.status is not ShotStatus.SUCCEEDED:
        detail = session.snapshot().detail
        return JudgeVerdict((), cost, problem=f"The judge did not finish: {detail}")
    return parse_answer(session.answer(), [e.number for e in entrants], cost)


def judge_shots(engine: ShotEngine, run: RunState, shots: Sequence[Shot]) -> JudgeVerdict | None:
    """With --judge, rank the shots that changed something (two at least) before the
    run is reported finished; the verdict goes to judge.json, whatever it says."""
    if not run.spec.judge or run.stop.is_set():
        return None
    entrants = [e for e in (entrant(shot) for shot in shots) if e is not None]
    if len(entrants) < 2:
        return None
    engine.emit(JudgeStarted(run.id, tuple(e.number for e in entrants)))
    try:
        verdict = run_judge(engine, run, entrants)
    except Exception as exc:
        log.exception("run %s: the judge failed", run.id)
        problem = redact(str(exc)) or type(exc).__name__
        verdict = JudgeVerdict((), problem=f"The judge failed unexpectedly: {problem}")
    try:
        write_verdict(run.folder.judge_verdict, verdict)
    except OSError as exc:
        log.warning("run %s: the judge's verdict could not be written: %s", run.id, exc)
        verdict = dataclasses.replace(
            verdict, problem=f"The judge's verdict could not be saved ({exc})."
        )
    engine.emit(JudgeFinished(run.id, verdict))
    return verdict
