"""The real Claude Code CLI, pinned, as ./scripts/test installs it from npm."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSION = (ROOT / "tests" / "claude-code.version").read_text().strip()
INSTALL_PREFIX = ROOT / ".cache" / "claude-code"
EXECUTABLE = INSTALL_PREFIX / "node_modules" / ".bin" / "claude"
# Nothing but the Messages API stand-in: no telemetry, error reports or updates.
QUIET_ENV = {
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}


def real_claude() -> Path:
    """The pinned executable; a test is skipped only where npm does not exist at all."""
    if not EXECUTABLE.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so the real Claude Code CLI is not either")
        pytest.fail(f"Claude Code {VERSION} is not installed: run ./scripts/test")
    shown = subprocess.run(
        [str(EXECUTABLE), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    if not shown.stdout.startswith(VERSION):
        pytest.fail(f"{EXECUTABLE} is {shown.stdout.strip()!r}, not {VERSION}: run ./scripts/test")
    return EXECUTABLE.resolve()
