"""Rounds: a run that continues from one shot of an earlier run.

A later round starts where the first round started (its repository, branch and base
commit) with the chosen shot of every earlier round applied and committed on top, one
commit per round, in order: round k's chosen shot is round k+1's ``parent_shot``, and
the last is the new run's own ``parent_shot``. Its shots' patches are diffs from that new
starting point, so applying the chain of patches in order on the base commit
(:func:`tray.repo.apply.apply_to_branch`) reproduces every round.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

from tray.errors import InvalidRunSpec, RunNotFound
from tray.repo.apply import Change
from tray.runs.history import History, RunRecord
from tray.runs.spec import (
    DEFAULT_CHECK_TIME_LIMIT_MINUTES,
    DEFAULT_SHOTS,
    DEFAULT_TIME_LIMIT_MINUTES,
    RunSpec,
)

__all__ = ["FIRST_ROUND", "RoundStart", "chain_changes", "continue_spec", "round_start"]


@dataclasses.dataclass(frozen=True)
class RoundStart:
    """Where a run's shots start: the base commit and the earlier rounds' changes on it."""

    number: int  # this run's round, 1 for a first run
    base_commit: str | None  # None for a first round: each shot reads it from its clone
    changes: tuple[Change, ...]  # to commit on base_commit, in order, before Claude starts


FIRST_ROUND = RoundStart(1, None, ())


def round_start(history: History, spec: RunSpec) -> RoundStart:
    """The start of a run of ``spec``; InvalidRunSpec when the chain cannot be rebuilt."""
    if spec.parent_run_id is None or spec.parent_shot is None:
        return FIRST_ROUND
    chain = history.rounds(spec.parent_run_id)
    if not chain or chain[-1].id != spec.parent_run_id:
        raise RunNotFound(f"No run has the id '{spec.parent_run_id}' to continue from.")
    base = chain[0].base_commit
    if base is None:
        raise InvalidRunSpec(
            f"Run {chain[0].id} never recorded the commit it started from (none of its "
            "shots got that far), so no later round can start from it."
        )
    return RoundStart(chain[-1].round + 1, base, chain_changes(history, chain, spec.parent_shot))


def chain_changes(history: History, chain: list[RunRecord], last_shot: int) -> tuple[Change, ...]:
    """The chosen shot of each run of ``chain`` (first round first) as changes to commit:
    each run's successor names its chosen shot; ``last_shot`` is the last run's."""
    picks = [(run, successor.parent_shot) for run, successor in itertools.pairwise(chain)]
    picks.append((chain[-1], last_shot))
    return tuple(_change(history, run, shot) for run, shot in picks)


def _change(history: History, run: RunRecord, shot: int | None) -> Change:
    record = next((s for s in history.shots(run.id) if s.number == shot), None)
    if shot is None or record is None:
        raise InvalidRunSpec(f"Run {run.id} has no shot {shot}.")
    if not record.patch_path or not record.changed_files:
        raise InvalidRunSpec(
            f"Shot {shot} of run {run.id} changed nothing: there is nothing to continue "
            "from. Pick a shot that made changes."
        )
    try:
        patch = Path(record.patch_path).read_bytes()
    except OSError as exc:
        raise InvalidRunSpec(
            f"The changes of shot {shot} of run {run.id} are gone ({record.patch_path}: "
            f"{exc.strerror or exc}); a round cannot start without them."
        ) from None
    return Change(run.id, shot, run.prompt, patch)


def continue_spec(
    history: History,
    run_id: str,
    shot: int,
    prompt: str,
    *,
    shots: int | None = None,
    setup: str | None = None,
    check: str | None = None,
    model: str | None = None,
    judge: bool | None = None,
) -> RunSpec:
    """The spec of a new round continuing from shot ``shot`` of run ``run_id``.

    It inherits the parent run's repository, branch, number of shots, model, setup,
    check, time limits, turns, budget and judge; an argument given replaces what it
    inherits (an empty setup or check command: none). Refuses, with a message for the
    user, a run that is still going, a shot without changes and changes that are gone.
    """
    parent = history.run(run_id)
    if parent is None:
        raise RunNotFound(f"No run has the id '{run_id}'. `multishot runs` lists them.")
    if parent.finished_at is None and parent.is_alive():
        raise InvalidRunSpec(
            f"Run {run_id} is still going: continue from it once its shots have ended."
        )
    inherited: dict[str, Any] = parent.spec
    spec = RunSpec(
        prompt=prompt,
        shots=inherited.get("shots", DEFAULT_SHOTS) if shots is None else shots,
        repo_url=inherited.get("repo_url"),
        branch=inherited.get("branch"),
        model=inherited.get("model") if model is None else model,
        max_turns=inherited.get("max_turns"),
        max_budget_usd=inherited.get("max_budget_usd"),
        time_limit_minutes=inherited.get("time_limit_minutes", DEFAULT_TIME_LIMIT_MINUTES),
        setup=inherited.get("setup") if setup is None else setup,
        check=inherited.get("check") if check is None else check,
        check_time_limit_minutes=inherited.get(
            "check_time_limit_minutes", DEFAULT_CHECK_TIME_LIMIT_MINUTES
        ),
        judge=bool(inherited.get("judge")) if judge is None else judge,
        parent_run_id=parent.id,
        parent_shot=shot,
    )
    round_start(history, spec)  # the chain can be rebuilt now, not only when the run starts
    return spec
