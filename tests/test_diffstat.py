"""The diffstat of patches made by real `git diff --cached --binary`, checked against git's own."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.git_repos import GitRepo
from tray.errors import InvalidPatch
from tray.runs.diffstat import DiffStat, FileStat, parse_patch


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo.init(tmp_path / "repo")


def numstat(repo: GitRepo, base: str) -> dict[str, tuple[int, int] | None]:
    """git's own count per path (None for a binary file), -z so that names come unquoted."""
    out = repo.git("diff", "--cached", "--numstat", "-z", "--no-renames", base).split(b"\0")
    counts: dict[str, tuple[int, int] | None] = {}
    for record in filter(None, out):
        added, removed, name = record.split(b"\t", 2)
        binary = added == b"-"
        counts[name.decode()] = None if binary else (int(added), int(removed))
    return counts


def by_path(stat: DiffStat) -> dict[str, FileStat]:
    return {f.path: f for f in stat.files}


def test_an_empty_patch_has_no_files() -> None:
    stat = parse_patch(b"")
    assert stat == DiffStat(())
    assert (stat.files_changed, stat.added, stat.removed, stat.binary_files) == (0, 0, 0, 0)


def test_a_shot_that_changed_nothing_gives_an_empty_patch(repo: GitRepo) -> None:
    repo.write("a.txt", "a\n")
    base = repo.commit()
    patch = repo.shot_patch(base)
    assert patch == b""
    assert parse_patch(patch).files == ()


def test_text_that_is_not_a_patch_is_refused() -> None:
    with pytest.raises(InvalidPatch, match="no 'diff --git' line"):
        parse_patch(b"hello\nworld\n")


def test_edits_count_like_git_numstat_including_content_that_looks_like_headers(
    repo: GitRepo,
) -> None:
    tricky = "-- not a header\n++ nor this\ndiff --git a/x b/x\n@@ -1 +1 @@\n\\ backslash\n"
    repo.write("tricky.txt", "start\n")
    repo.write("plain.txt", "".join(f"line {n}\n" for n in range(50)))
    base = repo.commit()
    repo.write("tricky.txt", "start\n" + tricky)
    repo.write("plain.txt", "".join(f"line {n}\n" for n in range(0, 50, 2)) + "tail")
    stat = parse_patch(repo.shot_patch(base))
    assert {f.path: (f.added, f.removed) for f in stat.files} == numstat(repo, base)
    assert by_path(stat)["tricky.txt"] == FileStat("tricky.txt", None, 5, 0, binary=False)
    assert (stat.files_changed, stat.added, stat.removed) == (2, 6, 25)


def test_new_deleted_renamed_and_mode_changed_files(repo: GitRepo) -> None:
    repo.write("old name.txt", "".join(f"kept {n}\n" for n in range(20)))
    repo.write("gone.txt", "one\ntwo\n")
    repo.write("script.sh", "echo hi\n")
    repo.write("same.txt", "unchanged\n")
    base = repo.commit()
    (repo.path / "gone.txt").unlink()
    (repo.path / "old name.txt").rename(repo.path / "new name.txt")
    with (repo.path / "new name.txt").open("a") as f:
        f.write("added at the end\n")
    (repo.path / "script.sh").chmod(0o755)
    repo.write("dir/fresh.txt", "a\nb\nc\n")
    repo.write("empty", "")

    stat = parse_patch(repo.shot_patch(base))

    assert by_path(stat) == {
        "gone.txt": FileStat("gone.txt", None, 0, 2, binary=False),
        "new name.txt": FileStat("new name.txt", "old name.txt", 1, 0, binary=False),
        "script.sh": FileStat("script.sh", None, 0, 0, binary=False),
        "dir/fresh.txt": FileStat("dir/fresh.txt", None, 3, 0, binary=False),
        "empty": FileStat("empty", None, 0, 0, binary=False),
    }
    assert stat.paths == (
        "dir/fresh.txt",
        "empty",
        "gone.txt",
        "old name.txt",
        "new name.txt",
        "script.sh",
    )


def test_a_pure_rename_has_no_lines(repo: GitRepo) -> None:
    repo.write("a b/from here.txt", "content\n")
    base = repo.commit()
    (repo.path / "a b" / "from here.txt").rename(repo.path / "to there.txt")
    stat = parse_patch(repo.shot_patch(base))
    assert stat.files == (FileStat("to there.txt", "a b/from here.txt", 0, 0, binary=False),)


def test_binary_files_new_changed_and_deleted(repo: GitRepo) -> None:
    blob = bytes(range(256)) * 40
    repo.write("image.png", blob)
    repo.write("old.bin", b"\0\1\2")
    base = repo.commit()
    repo.write("image.png", blob[:5000] + b"\xff" * 30 + blob[5000:])  # a delta
    repo.write("new.bin", os.urandom(3000))  # a literal
    (repo.path / "old.bin").unlink()
    patch = repo.shot_patch(base)
    assert b"GIT binary patch" in patch
    assert b"delta " in patch

    stat = parse_patch(patch)

    assert (
        {f.path for f in stat.files}
        == set(numstat(repo, base))
        == {
            "image.png",
            "new.bin",
            "old.bin",
        }
    )
    assert all(f.binary and f.lines_changed == 0 for f in stat.files)
    assert (stat.binary_files, stat.added, stat.removed) == (3, 0, 0)


def test_unicode_quoted_and_spaced_names_are_unquoted(repo: GitRepo) -> None:
    names = ["tést ü.txt", 'say "hi".txt', "tab\there.txt", "back\\slash.txt", "日本 語/ファ.md"]
    for name in names:
        repo.write(name, "before\n")
    base = repo.commit()
    for name in names:
        repo.write(name, "after\nmore\n")
    repo.write("binary ü.bin", b"\0" * 100)  # no ---/+++ lines: the name comes from diff --git
    patch = repo.shot_patch(base)
    assert b'"a/t\\303\\251st \\303\\274.txt"' in patch  # git quoted it

    stat = parse_patch(patch)

    assert {f.path: (f.added, f.removed) for f in stat.files} == {
        **{name: (2, 1) for name in names},
        "binary ü.bin": (0, 0),
    }
    assert by_path(stat)["binary ü.bin"].binary


def test_binary_files_without_binary_flag_and_leading_text_are_understood(repo: GitRepo) -> None:
    repo.write("keep.txt", "x\n")
    base = repo.commit()
    repo.write("with space.bin", b"\0\1")
    repo.write("keep.txt", "y\n")
    repo.git("add", "-A")
    patch = b"From: someone\nSubject: a mail\n\n" + repo.git("diff", "--cached", base)
    assert b"Binary files /dev/null and b/with space.bin differ" in patch

    stat = parse_patch(patch)

    assert by_path(stat) == {
        "keep.txt": FileStat("keep.txt", None, 1, 1, binary=False),
        "with space.bin": FileStat("with space.bin", None, 0, 0, binary=True),
    }


def test_a_mode_change_of_a_spaced_name_splits_the_diff_git_line(repo: GitRepo) -> None:
    repo.write("a b/c d.sh", "x\n")
    base = repo.commit()
    (repo.path / "a b" / "c d.sh").chmod(0o755)
    patch = repo.shot_patch(base)
    assert patch.startswith(b"diff --git a/a b/c d.sh b/a b/c d.sh\nold mode")
    assert parse_patch(patch).files == (FileStat("a b/c d.sh", None, 0, 0, binary=False),)


def test_an_unterminated_quoted_name_is_a_bad_patch() -> None:
    with pytest.raises(InvalidPatch, match="no closing quote"):
        parse_patch(b'diff --git "a/x b/x\nnew file mode 100644\n')
