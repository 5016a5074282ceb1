"""Landing a shot's changes with the user: on a new branch of their clone, in a new folder,
or in a patch file.

A branch is made without touching the user's checkout: the patches are applied
and committed in a temporary worktree detached at the run's starting commit, the
branch is pointed at the last commit, and the worktree is removed (in ``finally``,
also when something failed). Their checked-out branch, index and files are never
read or written. Several changes (the rounds of a chain) become one commit each,
in order.
"""

from __future__ import annotations

import dataclasses
import shlex
import shutil
import string
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tray.errors import (
    BaseCommitMissing,
    BranchExists,
    InvalidApplyTarget,
    InvalidPatch,
    PatchDoesNotApply,
)
from tray.redaction import redact
from tray.repo.git import Git, git_says
from tray.runs.diffstat import DiffStat, parse_patch

__all__ = [
    "Change",
    "Landing",
    "apply_to_branch",
    "apply_to_new_folder",
    "default_branch_name",
    "write_patch",
]

_SUBJECT_LENGTH = 72
# How `git apply` names a file it could not patch (its messages are in English: LC_ALL=C).
_CONFLICT_FORMS = ("error: {}: ", "error: patch failed: {}:", "error: {} has type ", "'{}'")


@dataclasses.dataclass(frozen=True)
class Change:
    """One shot's patch (``git diff --binary`` against the commit before it) and its origin."""

    run_id: str
    shot: int
    prompt: str
    patch: bytes

    @property
    def commit_message(self) -> str:
        """The prompt's first line as the subject, then which run and shot made the change."""
        first = next((line.strip() for line in self.prompt.splitlines() if line.strip()), "")
        if len(first) > _SUBJECT_LENGTH:
            first = first[: _SUBJECT_LENGTH - 1] + "…"
        origin = f"Multishot run {self.run_id}, shot {self.shot}."
        return redact(f"{first}\n\n{origin}" if first else origin)


@dataclasses.dataclass(frozen=True)
class Landing:
    """What was done: where, on which branch (None for a patch file), which commits, files."""

    target: Path
    branch: str | None
    commits: tuple[str, ...]  # one per change, in order
    files: tuple[str, ...]  # every path the changes touch

    @property
    def commit(self) -> str | None:
        return self.commits[-1] if self.commits else None


def default_branch_name(change: Change) -> str:
    return f"multishot/{change.run_id}-shot-{change.shot}"


def apply_to_branch(
    repo: Path,
    changes: Sequence[Change],
    *,
    base: str,
    branch: str | None = None,
    repository_url: str | None = None,
) -> Landing:
    """Commit ``changes`` on a new branch of the clone at ``repo``, starting at ``base``.

    ``branch`` defaults to :func:`default_branch_name` of the last change; an existing
    branch is never moved. ``repository_url`` (the run's) is named in the advice to
    fetch a missing base commit.
    """
    checked = _checked(changes)
    git = _work_tree(repo)
    start = _base_commit(git, base, repository_url)
    name = branch or default_branch_name(changes[-1])
    _check_new_branch(git, name)
    with _temporary_worktree(git, start) as worktree:
        commits = _commit_all(Git(worktree), checked)
        git.check("branch", name, commits[-1], doing=f"create the branch {name}")
    return Landing(repo, name, commits, _files(checked))


def apply_to_new_folder(folder: Path, changes: Sequence[Change]) -> Landing:
    """Start a repository in an empty or new ``folder`` and commit ``changes`` there.

    For runs made without a repository: their patches create every file from
    nothing. On failure, what was made in the folder is removed again.
    """
    checked = _checked(changes)
    existed = folder.exists()
    if existed and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidApplyTarget(
            f"{folder} is not an empty folder. Give an empty or new folder, or, for a clone "
            "of the run's repository, apply the changes on a branch of it."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidApplyTarget(f"Cannot make the folder {folder}: {exc.strerror}.") from exc
    try:
        git = Git(folder)
        git.check("init", "--quiet", doing=f"start a repository in {folder}")
        commits = _commit_all(git, checked)
        branch = git.check("symbolic-ref", "--short", "HEAD", doing="read the branch name")
    except BaseException:
        _empty(folder, remove=not existed)
        raise
    return Landing(folder, branch, commits, _files(checked))


def write_patch(destination: Path, changes: Sequence[Change]) -> Landing:
    """Write ``changes`` into one new patch file, in order (``git apply`` takes it whole).

    An existing file is never overwritten.
    """
    checked = _checked(changes)
    try:
        with destination.open("xb") as out:
            for change in changes:
                out.write(change.patch)
    except FileExistsError as exc:
        raise InvalidApplyTarget(f"{destination} already exists: give a new file name.") from exc
    except OSError as exc:
        raise InvalidApplyTarget(f"Cannot write {destination}: {exc.strerror}.") from exc
    return Landing(destination, None, (), _files(checked))


def _checked(changes: Sequence[Change]) -> list[tuple[Change, DiffStat]]:
    """Each change with its diffstat; InvalidPatch if there is none, or one changes nothing."""
    if not changes:
        raise InvalidPatch("There are no changes to apply.")
    checked = [(change, parse_patch(change.patch)) for change in changes]
    for change, stat in checked:
        if not stat.files:
            raise InvalidPatch(
                f"Shot {change.shot} of run {change.run_id} changed nothing: "
                "there is nothing to apply."
            )
    return checked


def _files(checked: Sequence[tuple[Change, DiffStat]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(path for _, stat in checked for path in stat.paths))


def _work_tree(repo: Path) -> Git:
    git = Git(repo)
    inside = git.run("rev-parse", "--is-inside-work-tree") if repo.is_dir() else None
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != b"true":
        raise InvalidApplyTarget(
            f"{repo} is not a git work tree. Give the folder of your clone of the run's repository."
        )
    return git


def _base_commit(git: Git, base: str, repository_url: str | None) -> str:
    if not base or any(c not in string.hexdigits for c in base):
        raise InvalidApplyTarget(f"'{base[:80]}' is not a commit id.")
    found = git.run("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if found.returncode == 0:
        return found.stdout.decode().strip()
    source = repository_url or _first_remote(git)
    where = shlex.quote(source) if source else "<the repository's URL>"
    folder = shlex.quote(str(git.folder))
    raise BaseCommitMissing(
        f"The run started from commit {base}, which {git.folder} does not have. "
        f"Fetch it, then try again:\n  git -C {folder} fetch {where} {base}"
    )


def _first_remote(git: Git) -> str | None:
    remotes = git.run("remote").stdout.decode("utf-8", "replace").split()
    return "origin" if "origin" in remotes else next(iter(remotes), None)


def _check_new_branch(git: Git, name: str) -> None:
    valid = git.run("check-ref-format", f"refs/heads/{name}").returncode == 0
    if not valid or name.startswith("-"):
        raise InvalidApplyTarget(f"'{name[:100]}' is not a valid branch name.")
    if git.run("rev-parse", "--verify", "--quiet", f"refs/heads/{name}").returncode == 0:
        raise BranchExists(
            f"The branch {name} already exists in {git.folder}. Multishot does not move "
            "existing branches: give another name, or delete that branch first."
        )


@contextmanager
def _temporary_worktree(git: Git, commit: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="multishot-apply-"))
    worktree = folder / "worktree"
    added = False
    try:
        git.check(
            "worktree",
            "add",
            "--detach",
            "--quiet",
            str(worktree),
            commit,
            doing="check out the run's starting commit in a temporary worktree",
        )
        added = True
        yield worktree
    finally:
        removed = added and git.run("worktree", "remove", "--force", str(worktree)).returncode == 0
        shutil.rmtree(folder, ignore_errors=True)
        if added and not removed:
            git.run("worktree", "prune")  # forgets the worktree whose folder is now gone


def _commit_all(git: Git, checked: Sequence[tuple[Change, DiffStat]]) -> tuple[str, ...]:
    """Apply and commit each change in ``git``'s work tree, in order; the new commits."""
    committer = git.with_identity()
    return tuple(_commit(committer, change, stat) for change, stat in checked)


def _commit(git: Git, change: Change, stat: DiffStat) -> str:
    applied = git.run(
        "apply", "--index", "--binary", "--whitespace=nowarn", "-", input_bytes=change.patch
    )
    if applied.returncode != 0:
        raise _does_not_apply(change, stat, git_says(applied.stderr))
    git.check(
        "commit",
        "--quiet",
        "--no-verify",
        "--cleanup=whitespace",
        "--message",
        change.commit_message,
        doing=f"commit shot {change.shot} of run {change.run_id}",
    )
    return git.check("rev-parse", "HEAD", doing="read the new commit")


def _does_not_apply(change: Change, stat: DiffStat, said: str) -> PatchDoesNotApply:
    files = tuple(
        path for path in stat.paths if any(form.format(path) in said for form in _CONFLICT_FORMS)
    )
    where = f" in {', '.join(files)}" if files else ""
    return PatchDoesNotApply(
        f"Shot {change.shot} of run {change.run_id} does not apply: it conflicts{where}.\n"
        f"git said: {said}",
        files=files,
    )


def _empty(folder: Path, *, remove: bool) -> None:
    """Undo a failed start in ``folder``: remove it if it was new, else empty it again."""
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for child in folder.iterdir() if folder.is_dir() else ():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
