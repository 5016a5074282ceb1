"""Which changes landing a shot means: its patch, after the chosen patch of every earlier round.

A later round's sandboxes started from the first round's commit with each earlier
round's chosen shot committed on top, so its patch only applies after theirs. This
module walks the chain of rounds back to the first and collects those patches in order
(:func:`tray.runs.rounds.chain_changes`, the same chain a later round starts from),
each a :class:`~tray.repo.apply.Change` that becomes one commit; :mod:`tray.repo.apply`
lands them. Local files only: no network, no keychain.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tray.errors import ApplyFailed, BaseCommitUnknown, InvalidApplyTarget, ShotUnusable
from tray.repo.apply import Change, Landing, apply_to_branch, apply_to_new_folder
from tray.runs.display import plural
from tray.runs.history import History, RunRecord, ShotRecord
from tray.runs.rounds import chain_changes

__all__ = ["Applied", "ShotChain", "chain_for", "ended_shot", "land"]


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

    def in_words(self) -> str:
        """What was done, in a sentence or two."""
        chain, landing = self.chain, self.landing
        what = f"shot {chain.shot} of run {chain.run.id}"
        if chain.rounds > 1:
            what += f" with the chosen shots of its {chain.rounds - 1} earlier rounds"
        files = plural(len(landing.files), "file")
        if landing.branch is None:
            return (
                f"Wrote the changes of {what} to {landing.target} ({files}). Apply them "
                f"in a clone at the run's starting commit with: git apply {landing.target}"
            )
        commits = plural(len(landing.commits), "commit")
        if chain.repository_url is None:
            return (
                f"Applied {what} in the new repository {landing.target}, branch "
                f"{landing.branch} ({commits}, {files})."
            )
        return (
            f"Applied {what} on the new branch {landing.branch} of {landing.target} "
            f"({commits}, {files}). Your checked-out branch, index and files were not touched."
        )


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

    ShotUnusable when that shot has not ended or changed nothing; InvalidRunSpec when an
    earlier round's changes are gone; ApplyFailed when an earlier round left the history.
    """
    shot = ended_shot(history, run, number)
    if not shot.patch_path or not shot.changed_files:
        raise ShotUnusable(
            f"Shot {number} of run {run.id} changed nothing: there is nothing to apply."
        )
    rounds = history.rounds(run.id)
    first = rounds[0]
    if first.parent_run_id is not None:
        raise ApplyFailed(
            f"Run {run.id} continues run {first.parent_run_id}, which is no longer in the "
            "history: the changes of its earlier rounds cannot be found."
        )
    repository = first.spec.get("repo_url")
    return ShotChain(
        run,
        number,
        chain_changes(history, rounds, number),
        first.base_commit or run.base_commit,
        repository if isinstance(repository, str) else None,
    )


def land(chain: ShotChain, to: Path, branch: str | None) -> Applied:
    """Commit the chain on a new branch of the clone at ``to`` (at the first round's starting
    commit), or, for a run that started from an empty repository, in the new folder ``to``."""
    if chain.repository_url is None:
        if branch is not None:
            raise InvalidApplyTarget(
                f"Run {chain.run.id} started from an empty repository: its changes go "
                "into a new folder, where a branch name has no use. Leave it out."
            )
        return Applied(chain, apply_to_new_folder(to, chain.changes))
    landing = apply_to_branch(
        to,
        chain.changes,
        base=chain.require_base_commit(),
        branch=branch,
        repository_url=chain.repository_url,
    )
    return Applied(chain, landing)
