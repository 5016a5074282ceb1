"""`multishot compare | pick | apply`: choose a run's best shot and land it, from the terminal.

Local only: the history, the run's folder and git. No credentials, no network, no SDK.
"""

from __future__ import annotations

import argparse
import json
import shutil
import textwrap
from collections.abc import Iterable
from pathlib import Path

from tray.cli.console import EXIT_OK, Console, Handler
from tray.errors import InvalidApplyTarget
from tray.runs.compare import RunComparison, ShotComparison
from tray.runs.display import format_cost, format_duration
from tray.runs.landing import Applied
from tray.service import Service

__all__ = ["COMPARE_HANDLERS", "comparison_table"]

_HEADINGS = ("shot", "status", "check", "files", "+/−", "cost", "time", "turns", "rank")
_MIN_WIDTH = 60


def _compare(args: argparse.Namespace, service: Service, console: Console) -> int:
    comparison = service.compare(args.run_id)
    if args.json:
        console.say(json.dumps(comparison.to_json(), indent=2))
    else:
        console.say(comparison_table(comparison, _terminal_width()))
    return EXIT_OK


def comparison_table(comparison: RunComparison, width: int) -> str:
    """The run's shots as a table, then the ranking's and the judge's reasons, wrapped."""
    run = comparison.run
    prompt = " ".join(run.prompt.split())
    lines = [
        f"Run {run.id} (round {run.round}): {run.status.label}",
        textwrap.shorten(f"Prompt: {prompt}", width=max(_MIN_WIDTH, width), placeholder="…"),
    ]
    if run.parent_run_id:
        lines.append(f"Continues shot {run.parent_shot} of run {run.parent_run_id}.")
    check = run.spec.get("check")
    lines.append(f"Check: {check}" if check else "Check: none")
    lines.append("")
    rows = [_HEADINGS] + [_row(shot) for shot in comparison.shots]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADINGS))]
    for index, row in enumerate(rows):
        cells = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        mark = None if index == 0 else comparison.mark(comparison.shots[index - 1].number)
        marker = f"← {mark}" if mark else ""
        lines.append(f"  {cells}  {marker}".rstrip())
    lines += ["", "Ranking (a change, then its check, Claude's success, smaller diff, cost):"]
    by_rank = sorted(comparison.shots, key=lambda s: s.rank)
    lines += _reasons(((s.rank, s.number, s.rank_reason) for s in by_rank), width)
    verdict = comparison.verdict
    if verdict is not None:
        lines += ["", "Judge:"]
        if verdict.problem:
            lines += _wrapped(f"Its answer is not used: {verdict.problem}", width, "  ")
        lines += _reasons(((r.rank, r.shot, r.reason) for r in verdict.ranking), width)
    lines += ["", _next_step(comparison)]
    return "\n".join(lines)


def _row(shot: ShotComparison) -> tuple[str, ...]:
    return (
        str(shot.number),
        shot.status.label,
        shot.check_label,
        str(shot.diff.files_changed),
        shot.change_label,
        format_cost(shot.cost_usd),
        format_duration(shot.duration_ms),
        "—" if shot.turns is None else str(shot.turns),
        str(shot.rank),
    )


def _reasons(ranked: Iterable[tuple[int, int, str]], width: int) -> list[str]:
    """``(rank, shot, reason)`` best first, one wrapped paragraph each."""
    lines: list[str] = []
    for rank, number, reason in ranked:
        lines += _wrapped(f"{rank}. shot {number}: {reason}", width, "  ", "     ")
    return lines


def _wrapped(text: str, width: int, first: str, rest: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        width=max(_MIN_WIDTH, width),
        initial_indent=first,
        subsequent_indent=first if rest is None else rest,
        break_on_hyphens=False,
    )


def _next_step(comparison: RunComparison) -> str:
    run_id = comparison.run.id
    winner = comparison.winner
    if winner is None:
        return "No shot changed anything: there is nothing to apply."
    chosen = comparison.shot(winner)
    if chosen is None or chosen.patch_path is None:
        return f"Shot {winner} changed nothing. Pick another: multishot pick {run_id} SHOT"
    how = "picked" if comparison.run.picked_shot == winner else "recommended"
    return (
        f"Shot {winner} is {how}. Land it on a new branch of your clone:\n"
        f"  multishot apply {run_id} --to PATH\n"
        f"or pick another: multishot pick {run_id} SHOT"
    )


def _pick(args: argparse.Namespace, service: Service, console: Console) -> int:
    record = service.pick(args.run_id, args.shot)
    console.say(
        f"Picked shot {args.shot} of run {record.id}. "
        f"`multishot apply {record.id} --to PATH` lands it."
    )
    return EXIT_OK


def _apply(args: argparse.Namespace, service: Service, console: Console) -> int:
    if args.patch is not None:
        if args.branch is not None:
            raise InvalidApplyTarget("--branch goes with --to: a patch file has no branch.")
        console.say(_said(service.save_patch(args.run_id, args.shot, Path(args.patch))))
    else:
        console.say(_said(service.apply(args.run_id, args.shot, Path(args.to), args.branch)))
    return EXIT_OK


def _said(applied: Applied) -> str:
    """What was done, then each new commit (a patch file has none)."""
    commits = [
        f"  {commit[:12]}  {change.commit_message.splitlines()[0]}"
        for commit, change in zip(applied.landing.commits, applied.chain.changes, strict=False)
    ]
    return "\n".join([applied.in_words(), *commits])


def _terminal_width() -> int:
    return shutil.get_terminal_size((100, 24)).columns


COMPARE_HANDLERS: dict[str, Handler] = {
    "compare": _compare,
    "pick": _pick,
    "apply": _apply,
}
