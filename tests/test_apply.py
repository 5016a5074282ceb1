"""Landing shots' patches in real repositories: a branch of the user's clone, a new folder, a file.

The "sandbox" is a clone where a shot's changes are made and recorded the way the
engine records them (`git add -A && git diff --cached --binary BASE`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.git_repos import GitRepo
from tray.errors import (
    BaseCommitMissing,
    BranchExists,
    InvalidApplyTarget,
    InvalidPatch,
    PatchDoesNotApply,
)
from tray.repo.apply import (
    Change,
    apply_to_branch,
    apply_to_new_folder,
    write_patch,
)

BLOB = bytes(range(256)) * 16


@pytest.fixture
def user(tmp_path: Path) -> GitRepo:
    """The user's clone, with a base commit on main."""
    repo = GitRepo.init(tmp_path / "user clone")
    repo.write("a.txt", "".join(f"a{n}\n" for n in range(10)))
    repo.write("b.txt", "b\n")
    repo.write("old name.txt", "moving\n" * 5)
    repo.write("logo.bin", BLOB)
    repo.commit("base")
    return repo


@pytest.fixture
def sandbox(tmp_path: Path, user: GitRepo) -> GitRepo:
    repo = GitRepo(tmp_path / "sandbox")
    user.git("clone", "-q", str(user.path), str(repo.path))
    return repo


def shot_work(sandbox: GitRepo) -> None:
    """A change of every kind: edit, delete, rename, binary, new file with a spaced name."""
    sandbox.write("a.txt", "".join(f"a{n}\n" for n in range(10)).replace("a3", "A3"))
    (sandbox.path / "b.txt").unlink()
    (sandbox.path / "old name.txt").rename(sandbox.path / "new näme.txt")
    sandbox.write("logo.bin", BLOB[:100] + b"\xff" + BLOB[100:])
    sandbox.write("docs/read me.md", "# Hello\n")


def make_change(sandbox: GitRepo, base: str, *, run: str = "RUN1", shot: int = 2) -> Change:
    patch = sandbox.shot_patch(base)
    sandbox.commit(f"{run} shot {shot}")  # the sandbox moves on, as a chain's next round would
    return Change(run, shot, f"Fix the parser\n\nIt fails on {run}.", patch)


def tree(repo: GitRepo, rev: str) -> str:
    return repo.text("rev-parse", f"{rev}^{{tree}}")


def checkout_state(repo: GitRepo) -> dict[str, bytes]:
    """HEAD, the index and every file of the work tree, byte for byte (read without git)."""
    git_dir = repo.path / ".git"
    state = {
        ".git/HEAD": (git_dir / "HEAD").read_bytes(),
        ".git/index": (git_dir / "index").read_bytes(),
    }
    for path in sorted(repo.path.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(repo.path).parts:
            state[str(path.relative_to(repo.path))] = path.read_bytes()
    return state


def leftover_temp_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("multishot-apply-*"))


def worktrees(repo: GitRepo) -> list[str]:
    listing = repo.text("worktree", "list", "--porcelain")
    return [line for line in listing.splitlines() if line.startswith("worktree ")]


def test_a_branch_is_made_without_touching_a_dirty_checkout_on_another_branch(
    user: GitRepo, sandbox: GitRepo
) -> None:
    base = user.text("rev-parse", "HEAD")
    shot_work(sandbox)
    change = make_change(sandbox, base)
    user.git("checkout", "-q", "-b", "feature")
    user.write("feature.txt", "feature work\n")
    user_head = user.commit("feature work")
    user.write("a.txt", "edited, not staged\n")
    user.write("b.txt", "edited and staged\n")
    user.git("add", "b.txt")
    user.write("untracked.txt", "untracked\n")
    before = checkout_state(user)
    temp_before = leftover_temp_folders()

    landing = apply_to_branch(user.path, [change], base=base)

    assert checkout_state(user) == before
    assert user.text("rev-parse", "HEAD") == user_head
    assert user.text("symbolic-ref", "HEAD") == "refs/heads/feature"
    assert worktrees(user) == [f"worktree {user.path}"]
    assert leftover_temp_folders() == temp_before
    assert landing.branch == "multishot/RUN1-shot-2"
    assert landing.target == user.path
    assert landing.commits == (user.text("rev-parse", "multishot/RUN1-shot-2"),)
    assert landing.commit == landing.commits[0]
    assert set(landing.files) == {
        "a.txt",
        "b.txt",
        "old name.txt",
        "new näme.txt",
        "logo.bin",
        "docs/read me.md",
    }
    assert tree(user, landing.branch) == tree(sandbox, "HEAD")  # the same files, bytes and modes
    assert user.text("rev-parse", f"{landing.branch}^") == base
    assert user.text("log", "-1", "--format=%an <%ae>%n%B", landing.branch) == (
        "Multishot <multishot@localhost>\nFix the parser\n\nMultishot run RUN1, shot 2."
    )


def test_the_users_identity_is_kept_and_their_hooks_do_not_run(
    user: GitRepo, sandbox: GitRepo
) -> None:
    base = user.text("rev-parse", "HEAD")
    shot_work(sandbox)
    change = make_change(sandbox, base)
    user.git("config", "user.name", "Jane Doe")
    user.git("config", "user.email", "jane@example.com")
    hooks = user.path / ".git" / "hooks"
    marker = user.path.parent / "a hook ran"
    for hook in ("post-checkout", "pre-commit", "commit-msg", "post-commit"):
        (hooks / hook).write_text(f"#!/bin/sh\necho {hook} >> '{marker}'\nexit 1\n")
        (hooks / hook).chmod(0o755)

    landing = apply_to_branch(user.path, [change], base=base, branch="mine")

    assert not marker.exists()
    assert user.text("log", "-1", "--format=%an <%ae>|%cn <%ce>", "mine") == (
        "Jane Doe <jane@example.com>|Jane Doe <jane@example.com>"
    )
    assert landing.commits == (user.text("rev-parse", "mine"),)


def test_a_missing_base_commit_says_how_to_fetch_it(user: GitRepo, sandbox: GitRepo) -> None:
    sandbox.write("elsewhere.txt", "a commit the user never fetched\n")
    unknown_base = sandbox.commit("not in the user's clone")
    sandbox.write("c.txt", "c\n")
    change = make_change(sandbox, unknown_base)
    with pytest.raises(BaseCommitMissing) as no_remote:
        apply_to_branch(user.path, [change], base=unknown_base)
    user.git("remote", "add", "upstream", "https://example.com/upstream.git")

    with pytest.raises(BaseCommitMissing) as named_url:
        apply_to_branch(
            user.path, [change], base=unknown_base, repository_url="https://example.com/r.git"
        )
    with pytest.raises(BaseCommitMissing) as named_remote:
        apply_to_branch(user.path, [change], base=unknown_base)

    assert f"fetch https://example.com/r.git {unknown_base}" in named_url.value.message
    assert f"fetch upstream {unknown_base}" in named_remote.value.message
    assert f"fetch <the repository's URL> {unknown_base}" in no_remote.value.message
    assert user.text("branch", "--list", "multishot/*") == ""


def test_a_conflicting_patch_names_the_conflicting_files_and_leaves_nothing_behind(
    user: GitRepo, sandbox: GitRepo
) -> None:
    base = user.text("rev-parse", "HEAD")
    shot_work(sandbox)
    change = make_change(sandbox, base)
    user.write("a.txt", "rewritten by the user\n")  # the patch edits a3
    user.write("docs/read me.md", "the user made this file too\n")  # the patch creates it
    (user.path / "old name.txt").unlink()  # the patch renames it
    user.write("logo.bin", b"the user's own logo")  # the patch is a binary delta of it
    later = user.commit("the user moved on")
    temp_before = leftover_temp_folders()

    with pytest.raises(PatchDoesNotApply) as caught:
        apply_to_branch(user.path, [change], base=later, branch="try-it")

    assert caught.value.files == ("a.txt", "docs/read me.md", "logo.bin", "old name.txt")
    assert (
        "Shot 2 of run RUN1 does not apply: it conflicts in "
        "a.txt, docs/read me.md, logo.bin, old name.txt." in (caught.value.message)
    )
    assert "b.txt" not in caught.value.files
    assert user.text("branch", "--list", "try-it") == ""
    assert worktrees(user) == [f"worktree {user.path}"]
    assert leftover_temp_folders() == temp_before


def test_an_existing_branch_is_never_moved(user: GitRepo, sandbox: GitRepo) -> None:
    base = user.text("rev-parse", "HEAD")
    shot_work(sandbox)
    change = make_change(sandbox, base)
    user.git("branch", "multishot/RUN1-shot-2")

    with pytest.raises(BranchExists, match="already exists"):
        apply_to_branch(user.path, [change], base=base)
    with pytest.raises(InvalidApplyTarget, match="not a valid branch name"):
        apply_to_branch(user.path, [change], base=base, branch="two..dots")

    assert user.text("rev-parse", "multishot/RUN1-shot-2") == base
    assert user.text("branch", "--format=%(refname:short)").splitlines() == [
        "main",
        "multishot/RUN1-shot-2",
    ]


@pytest.mark.parametrize("make", ["plain folder", "missing folder"])
def test_a_folder_that_is_not_a_work_tree_is_refused(tmp_path: Path, make: str) -> None:
    folder = tmp_path / "not a clone"
    if make == "plain folder":
        folder.mkdir()
        (folder / "file.txt").write_text("x")
    change = Change("R", 1, "p", b"diff --git a/x b/x\nnew file mode 100644\n")
    with pytest.raises(InvalidApplyTarget, match="is not a git work tree"):
        apply_to_branch(folder, [change], base="0" * 40)


def test_a_base_that_is_not_a_commit_id_is_refused(user: GitRepo, sandbox: GitRepo) -> None:
    shot_work(sandbox)
    change = make_change(sandbox, user.text("rev-parse", "HEAD"))
    with pytest.raises(InvalidApplyTarget, match="is not a commit id"):
        apply_to_branch(user.path, [change], base="HEAD~1")


def test_two_patches_become_two_commits_in_order(user: GitRepo, sandbox: GitRepo) -> None:
    base = user.text("rev-parse", "HEAD")
    shot_work(sandbox)
    first = make_change(sandbox, base, run="R1", shot=3)
    round_one = sandbox.text("rev-parse", "HEAD")
    sandbox.write("a.txt", "round two rewrote a\n")
    sandbox.write("docs/read me.md", "# Hello again\n")
    second = make_change(sandbox, round_one, run="R2", shot=1)

    landing = apply_to_branch(user.path, [first, second], base=base, branch="chain")

    one, two = landing.commits
    assert landing.branch == "chain"
    assert user.text("rev-list", "--reverse", f"{base}..chain").splitlines() == [one, two]
    assert tree(user, one) == tree(sandbox, round_one)
    assert tree(user, two) == tree(sandbox, "HEAD")
    assert [user.text("log", "-1", "--format=%B", c) for c in (one, two)] == [
        "Fix the parser\n\nMultishot run R1, shot 3.",
        "Fix the parser\n\nMultishot run R2, shot 1.",
    ]


def test_a_change_with_nothing_in_it_is_refused(user: GitRepo) -> None:
    with pytest.raises(InvalidPatch, match="Shot 4 of run R changed nothing"):
        apply_to_branch(user.path, [Change("R", 4, "p", b"")], base="0" * 40)
    with pytest.raises(InvalidPatch, match="no changes to apply"):
        apply_to_branch(user.path, [], base="0" * 40)


def empty_start(tmp_path: Path) -> tuple[GitRepo, str]:
    """A sandbox of a run without a repository: an empty starting commit."""
    repo = GitRepo.init(tmp_path / "empty sandbox")
    return repo, repo.commit("Multishot: starting point")


@pytest.mark.parametrize("kind", ["empty folder", "new folder"])
def test_a_run_without_a_repository_lands_in_an_empty_or_new_folder(
    tmp_path: Path, kind: str
) -> None:
    sandbox, base = empty_start(tmp_path)
    sandbox.write("hello.py", "print('hello')\n")
    sandbox.write("data/blob.bin", BLOB)
    first = make_change(sandbox, base, run="R1", shot=1)
    round_one = sandbox.text("rev-parse", "HEAD")
    sandbox.write("hello.py", "print('hello, world')\n")
    second = make_change(sandbox, round_one, run="R2", shot=2)
    folder = tmp_path / "out" / "project"
    if kind == "empty folder":
        folder.mkdir(parents=True)

    landing = apply_to_new_folder(folder, [first, second])

    result = GitRepo(folder)
    assert (folder / "hello.py").read_text() == "print('hello, world')\n"
    assert (folder / "data" / "blob.bin").read_bytes() == BLOB
    assert landing.commits == tuple(result.text("rev-list", "--reverse", "HEAD").splitlines())
    assert tree(result, "HEAD") == tree(sandbox, "HEAD")
    assert landing.branch == result.text("symbolic-ref", "--short", "HEAD")
    assert landing.files == ("data/blob.bin", "hello.py")
    assert result.text("status", "--porcelain") == ""


def test_a_folder_with_files_in_it_is_refused_and_left_alone(tmp_path: Path) -> None:
    sandbox, base = empty_start(tmp_path)
    sandbox.write("hello.py", "print('hello')\n")
    change = make_change(sandbox, base)
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "mine.txt").write_text("my own file")

    with pytest.raises(InvalidApplyTarget, match="is not an empty folder"):
        apply_to_new_folder(folder, [change])

    assert [p.name for p in folder.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize("kind", ["empty folder", "new folder"])
def test_a_patch_that_needs_a_repository_leaves_the_folder_as_it_was(
    user: GitRepo, sandbox: GitRepo, tmp_path: Path, kind: str
) -> None:
    shot_work(sandbox)
    change = make_change(sandbox, user.text("rev-parse", "HEAD"))
    folder = tmp_path / "target"
    if kind == "empty folder":
        folder.mkdir()

    with pytest.raises(PatchDoesNotApply) as caught:
        apply_to_new_folder(folder, [change])

    assert "a.txt" in caught.value.files
    assert folder.exists() == (kind == "empty folder")
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_patch_file_holds_every_round_and_git_applies_it_whole(
    user: GitRepo, sandbox: GitRepo, tmp_path: Path
) -> None:
    base = user.text("rev-parse", "HEAD")
    shot_work(sandbox)
    first = make_change(sandbox, base)
    sandbox.write("a.txt", "round two\n")
    second = make_change(sandbox, sandbox.text("rev-parse", "HEAD"), shot=5)
    destination = tmp_path / "changes.patch"

    landing = write_patch(destination, [first, second])

    assert destination.read_bytes() == first.patch + second.patch
    assert (landing.target, landing.branch, landing.commits) == (destination, None, ())
    assert "a.txt" in landing.files
    user.git("apply", "--index", str(destination))
    assert user.git("write-tree").decode().strip() == tree(sandbox, "HEAD")
    with pytest.raises(InvalidApplyTarget, match="already exists"):
        write_patch(destination, [first])
    assert destination.read_bytes() == first.patch + second.patch
