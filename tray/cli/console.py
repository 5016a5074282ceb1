"""Terminal input and output shared by the command-line commands."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tray.service import Service

__all__ = [
    "EXIT_CANCELLED",
    "EXIT_ERROR",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "Cancelled",
    "Console",
    "Handler",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_CANCELLED = 130

# A command: its parsed arguments, the core's facade, the terminal; returns the exit code.
Handler = Callable[[argparse.Namespace, "Service", "Console"], int]


class Cancelled(Exception):
    """The user ended an interactive prompt (Ctrl-D / Ctrl-C)."""


class Console:
    """Prompts and output for the interactive flows; secrets are read without echo."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.out = out
        self.err = err

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def warn(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def ask(self, prompt: str) -> str:
        try:
            return input(prompt)
        except EOFError:
            raise Cancelled from None

    def ask_secret(self, prompt: str) -> str:
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise Cancelled from None

    def confirm(self, prompt: str, *, default: bool) -> bool:
        hint = "[Y/n]" if default else "[y/N]"
        while True:
            answer = self.ask(f"{prompt} {hint} ").strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes", "n", "no"):
                return answer.startswith("y")
            self.say("Please answer y or n.")
