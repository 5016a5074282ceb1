"""Running git in the user's repositories: no shell, a timeout, no prompts, no hooks.

Hooks are off (``core.hooksPath`` points at nothing) because Multishot's commits
are made in a temporary worktree of someone else's repository: their pre-commit or
post-checkout hooks were not written for that. Messages are in English
(``LC_ALL=C``) so that errors can be read; what git says reaches an error message
only through :func:`~tray.redaction.redact`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tray.errors import GitFailed
from tray.redaction import redact

__all__ = ["GIT_TIMEOUT_SECONDS", "Git", "git_says"]

GIT_TIMEOUT_SECONDS = 300.0
_FALLBACK_IDENTITY = (("user.name", "Multishot"), ("user.email", "multishot@localhost"))
# Variables that would point git at another repository than the folder it runs in.
_LOCATING_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")
_MAX_SAID = 2000


class Git:
    """git run in one folder, with extra ``-c`` settings on every command."""

    def __init__(self, folder: Path, settings: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self._settings = settings

    def run(
        self, *args: str, input_bytes: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """The finished command, whatever its exit code; GitFailed if it could not run."""
        command = ["git", "-c", f"core.hooksPath={os.devnull}", *self._settings, *args]
        try:
            return subprocess.run(
                command,
                cwd=self.folder,
                input=input_bytes,
                capture_output=True,
                env=_environment(),
                timeout=GIT_TIMEOUT_SECONDS,
                check=False,
            )
        except FileNotFoundError as exc:
            raise GitFailed("git is not installed, or not on the PATH.") from exc
        except subprocess.TimeoutExpired as exc:
            raise GitFailed(
                f"git {args[0]} did not finish within {GIT_TIMEOUT_SECONDS:.0f} seconds."
            ) from exc

    def check(self, *args: str, doing: str, input_bytes: bytes | None = None) -> str:
        """The command's output, stripped; GitFailed saying what could not be done otherwise."""
        done = self.run(*args, input_bytes=input_bytes)
        if done.returncode != 0:
            raise GitFailed(f"Could not {doing}: {git_says(done.stderr)}")
        return done.stdout.decode("utf-8", "replace").strip()

    def with_identity(self) -> Git:
        """This git, with Multishot as the committer where the user has configured no name or
        email (the environment's GIT_AUTHOR_* and GIT_COMMITTER_* still win)."""
        missing = [
            f"{key}={value}"
            for key, value in _FALLBACK_IDENTITY
            if not self.run("config", "--get", key).stdout.strip()
        ]
        settings = [part for setting in missing for part in ("-c", setting)]
        return Git(self.folder, (*self._settings, *settings))


def git_says(stderr: bytes) -> str:
    """What git printed, fit for an error message: decoded, shortened, redacted."""
    text = stderr.decode("utf-8", "replace").strip()
    if len(text) > _MAX_SAID:
        text = "…" + text[-_MAX_SAID:]
    return redact(text) or "git gave no reason."


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LOCATING_VARIABLES}
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env
