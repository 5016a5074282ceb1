"""Terminal input and output shared by the command-line commands."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import signal
import sys
from collections.abc import Callable, Iterator
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
    "Signalled",
    "exit_code_of",
    "signals_interrupt",
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


class Signalled(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so that every command handles it the same way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum  # what a shell reports for a process the signal ended


def exit_code_of(interruption: KeyboardInterrupt) -> int:
    return interruption.exit_code if isinstance(interruption, Signalled) else EXIT_CANCELLED


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within this block SIGTERM and SIGHUP (a closed terminal) raise :class:`Signalled`."""

    def interrupt(signum: int, _frame: object) -> None:
        raise Signalled(signum)

    wanted = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {signum: signal.signal(signum, interrupt) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _write(stream: TextIO, text: str) -> None:
    # A closed terminal (SIGHUP) or a closed pipe must not stop what the command is
    # finishing, such as deleting sandboxes.
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream, flush=True)


class Console:
    """Prompts and output for the interactive flows; secrets are read without echo."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.out = out
        self.err = err

    @property
    def interactive(self) -> bool:
        """Whether someone can answer prompts: standard input is an open terminal."""
        stdin = sys.stdin
        return stdin is not None and not stdin.closed and stdin.isatty()

    def say(self, text: str = "") -> None:
        _write(self.out, text)

    def warn(self, text: str) -> None:
        _write(self.err, text)

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
