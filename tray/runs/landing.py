"""Which changes landing a shot means: its patch, after the chosen patch of every earlier round.

A later round's sandboxes started from the first round's commit with each earlier
round's chosen shot committed on top, so its patch only applies after theirs. This
module walks the chain of rounds (``History.rounds``) back to the first and collects
those patches in order, each as a :class:`~tray.repo.apply.Change` that becomes one
commit; :mod:`tray.repo.apply` lands them. Local files only: no network, no keychain.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

from tray.errors import ApplyFailed, BaseCommitUnknown, ShotUnusable
from tray.repo.apply import Change, Landing
from tray.runs.history import History, RunRecord, ShotRecord

__all__ = ["Applied", "ShotChain", "chain_for", "ended_shot"]


@dataclasses.dataclass(frozen=True)
class ShotChain:
    """A shot's changes with every earlier round's, first round first."""

    run: RunRecord  # the run the shot belongs to (the last round)
    shot: int
    changes: tuple[Change, ...]  # one per round that changed something
    base_commit: str | None  # what the first round started from; None: not recorded
    repository_url: str | None  # None: the first round started from an empty repository

    @property
    def rounds(self) -> int:
        return self.run.round

    def require_base_commit(self) -> str:
        if self.base_commit is None:
            raise BaseCommitUnknown(
                f"Run {self.run.id} did not record the commit it started from (it was made "
                "by an older Multishot), so its changes cannot be put on a branch. Save "
                "them as a patch instead and apply that with `git apply`."
            )
        return self.base_commit


@dataclasses.dataclass(frozen=True)
class Applied:
    """What landing a chain did, for the shells to tell."""

    chain: ShotChain
    landing: Landing


def ended_shot(history: History, run: RunRecord, number: int) -> ShotRecord:
    """Shot ``number`` of ``run`` once it has ended; ShotUnusable saying why otherwise."""
    shots = history.shots(run.id)
    found = next((shot for shot in shots if shot.number == number), None)
    if found is None:
        raise ShotUnusable(
            f"Run {run.id} has no shot {number}: its shots are numbered 1 to {len(shots)}."
        )
    if not found.status.is_final:
        raise ShotUnusable(
            f"Shot {number} of run {run.id} is still going ({found.status.label}): "
            "wait for it to end, then try again."
        )
    return found


def chain_for(history: History, run: RunRecord, number: int) -> ShotChain:
    """The changes that landing shot ``number`` of ``run`` makes, every round's in order.

    ShotUnusable when that shot has not ended or changed nothing; ApplyFailed when an
    earlier round is gone from the history or its patch file is missing.
    """
    shot = ended_shot(history, run, number)
    rounds = history.rounds(run.id)
    first = rounds[0]
    if first.parent_run_id is not None:
        raise ApplyFailed(
            f"Run {run.id} continues run {first.parent_run_id}, which is no longer in the "
            "history: the changes of its earlier rounds cannot be found."
        )
    changes: list[Change] = []
    for earlier, later in itertools.pairwise(rounds):
        chosen = later.parent_shot
        if chosen is None:
            continue
        patch = _patch_of(ended_shot(history, earlier, chosen), earlier)
        if patch.strip():
            changes.append(Change(earlier.id, chosen, earlier.prompt, patch))
    patch = _patch_of(shot, run)
    if not patch.strip():
        raise ShotUnusable(
            f"Shot {number} of run {run.id} changed nothing: there is nothing to apply."
        )
    changes.append(Change(run.id, number, run.prompt, patch))
    repository = first.spec.get("repo_url")
    return ShotChain(
        run,
        number,
        tuple(changes),
        first.base_commit or run.base_commit,
        repository if isinstance(repository, str) else None,
    )


def _patch_of(shot: ShotRecord, run: RunRecord) -> bytes:
    if not shot.patch_path:
        return b""
    try:
        return Path(shot.patch_path).read_bytes()
    except FileNotFoundError:
        raise ApplyFailed(
            f"The patch of shot {shot.number} of run {run.id} is gone ({shot.patch_path}): "
            "its results folder was moved or deleted."
        ) from None
    except OSError as exc:
        raise ApplyFailed(
            f"Cannot read the patch of shot {shot.number} of run {run.id} "
            f"({shot.patch_path}): {exc.strerror}."
        ) from None
