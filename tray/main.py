"""The `multishot` entry point: the one place that chooses a shell.

No command on a desktop, or ``multishot tray``, starts the tray app; everything
else is the command line. The tray app's keychain reader and its run engine
(hidden commands the app starts as child processes) are answered here too,
before either shell loads.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from tray.own_process import ENGINE_COMMAND, KEYCHAIN_LOAD_COMMAND

__all__ = ["main"]

_GLOBAL_FLAGS = ("-v", "--verbose")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    words = [arg for arg in args if arg not in _GLOBAL_FLAGS]
    if words == ["--version"]:  # answered before anything else is imported
        from tray import __version__

        print(f"multishot {__version__}")
        return 0
    if len(args) == 2 and args[0] == KEYCHAIN_LOAD_COMMAND:  # the tray's own children
        return _keychain_reader(args[1])
    if args == [ENGINE_COMMAND]:
        from tray.runs.engine_process import serve

        return serve()
    if words == ["tray"] or (not words and _have_display()):
        from tray.app_logging import configure_logging
        from tray.ui.launch import run_tray_app

        configure_logging(verbose=len(words) != len(args))
        return run_tray_app()
    from tray.cli.app import main as cli_main

    return cli_main(args)


def _have_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _keychain_reader(service: str) -> int:
    """The tray app's keychain reader; its output holds secrets, so never on a terminal."""
    if sys.stdout.isatty():
        print("This command is for the tray app's own use.", file=sys.stderr)
        return 2
    from tray.credentials.keychain import dump_for_parent

    print(dump_for_parent(service), flush=True)
    return 0
