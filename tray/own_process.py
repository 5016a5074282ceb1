"""How the app starts itself as a child process, from source or from a bundle."""

from __future__ import annotations

import sys

__all__ = ["ENGINE_COMMAND", "KEYCHAIN_LOAD_COMMAND", "own_command"]

# Hidden commands: the tray app's keychain reader and its run engine.
KEYCHAIN_LOAD_COMMAND = "_keychain-load"
ENGINE_COMMAND = "_engine"


def own_command(*arguments: str) -> list[str]:
    """The command line that runs `multishot ARGUMENTS...` with this interpreter or bundle."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *arguments]
    return [sys.executable, "-m", "tray", *arguments]
