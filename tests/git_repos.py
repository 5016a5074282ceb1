"""Real git repositories for tests: make commits, and patches the way a shot makes them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# The test's own commits name an author on the command line: the repositories keep no
# identity in their config, so the code under test meets a user with none configured.
_IDENTITY = ("-c", "user.name=Test Author", "-c", "user.email=test@example.com")


class GitRepo:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def init(cls, path: Path) -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q", "-b", "main")
        return repo

    def git(self, *args: str, input_bytes: bytes | None = None) -> bytes:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        done = subprocess.run(
            ["git", *_IDENTITY, *args],
            cwd=self.path,
            input=input_bytes,
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"git {args}: {done.stderr.decode(errors='replace')}"
        return done.stdout

    def text(self, *args: str) -> str:
        return self.git(*args).decode().strip()

    def write(self, name: str, content: bytes | str) -> Path:
        path = self.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    def commit(self, message: str = "commit") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.text("rev-parse", "HEAD")

    def busy_clone(self, path: Path) -> GitRepo:
        """A user's clone of this repository, busy: a branch of their own checked out with a
        commit on it, a staged change and an untracked file."""
        clone = GitRepo(path)
        self.git("clone", "-q", str(self.path), str(clone.path))
        clone.git("checkout", "-q", "-b", "mine")
        clone.write("my-notes.txt", "work in progress\n")
        clone.commit("my own work")
        clone.write("my-notes.txt", "more work, staged\n")
        clone.git("add", "my-notes.txt")
        clone.write("scratch.txt", "not staged\n")
        return clone

    def shot_patch(self, base: str) -> bytes:
        """What a shot's sandbox records: everything since ``base``, staged, as a binary diff."""
        self.git("add", "-A")
        return self.git("diff", "--cached", "--binary", base)
