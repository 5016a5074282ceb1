"""Every command's arguments: parsing a command line loads nothing a command doesn't use."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from tray import __version__
from tray.cli.console import EXIT_USAGE
from tray.redaction import redact
from tray.runs.spec import DEFAULT_CHECK_TIME_LIMIT_MINUTES, DEFAULT_SHOTS

__all__ = ["RUN_COMMANDS", "build_parser"]

RUN_COMMANDS = ("run", "runs", "show", "logs", "cancel", "cleanup", "continue")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose error messages never echo a secret pasted as an argument."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {redact(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="multishot",
        description="Run several Claude Code attempts at one task in Daytona sandboxes.",
        epilog="With no command on a desktop (or with `multishot tray`), the tray app starts.",
    )
    parser.add_argument("--version", action="version", version=f"multishot {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="also log to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    login = commands.add_parser("login", help="store credentials in the OS keychain")
    login.add_argument(
        "--from-env",
        action="store_true",
        help="take DAYTONA_API_KEY and ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN "
        "from the environment",
    )
    login.add_argument(
        "--no-validate", action="store_true", help="save without checking the credentials"
    )
    commands.add_parser("logout", help="remove the stored credentials from the keychain")

    status = commands.add_parser("status", help="show the stored credentials, masked")
    status.add_argument("--check", action="store_true", help="also check them online")
    status.add_argument("--json", action="store_true", help="print JSON")

    doctor = commands.add_parser("doctor", help="check the desktop services Multishot uses")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    _add_run_commands(commands)
    _add_round_commands(commands)
    return parser


def _add_run_commands(commands: Any) -> None:
    run = commands.add_parser("run", help="start a run: several shots at one prompt")
    run.add_argument(
        "prompt",
        nargs="?",
        help="what Claude Code should do (quote it); - reads it from standard input",
    )
    run.add_argument(
        "--prompt-file", metavar="PATH", help="read the prompt from a UTF-8 text file (up to 1 MB)"
    )
    run.add_argument("--repo", help="git repository URL to clone into each sandbox")
    run.add_argument("--branch", help="branch of the repository")
    run.add_argument("--shots", type=int, default=DEFAULT_SHOTS, help="1 to 16 (default 4)")
    run.add_argument("--model", help="Claude model for every shot")
    run.add_argument("--max-turns", type=int, help="turn limit per shot")
    run.add_argument("--max-budget-usd", type=float, help="spending limit per shot")
    run.add_argument(
        "--hint", action="append", default=[], help="an approach for one shot (repeatable)"
    )
    run.add_argument("--time-limit", type=int, default=60, help="minutes per shot (default 60)")
    _add_command_options(run)
    run.add_argument(
        "--check-timeout",
        type=int,
        default=DEFAULT_CHECK_TIME_LIMIT_MINUTES,
        metavar="MINUTES",
        help=f"time limit of the check (default {DEFAULT_CHECK_TIME_LIMIT_MINUTES})",
    )
    run.add_argument(
        "--judge",
        action="store_true",
        help="after the shots, one more Claude session ranks those that changed something",
    )
    run.add_argument("--json", action="store_true", help="print the final summary as JSON")

    runs = commands.add_parser("runs", help="list recent runs")
    runs.add_argument("--json", action="store_true", help="print JSON")
    show = commands.add_parser("show", help="one run's shots, costs and patches")
    show.add_argument("run_id", metavar="RUN")
    show.add_argument("--json", action="store_true", help="print JSON")
    logs = commands.add_parser("logs", help="print a shot's saved log")
    logs.add_argument("run_id", metavar="RUN")
    logs.add_argument("shot", type=int, metavar="SHOT")
    logs.add_argument("--stderr", action="store_true", help="the shot's stderr instead")
    cancel = commands.add_parser("cancel", help="cancel a running run")
    cancel.add_argument("run_id", metavar="RUN")
    commands.add_parser(
        "cleanup",
        help="delete sandboxes left behind by a crash",
        description="Delete every Multishot sandbox in the Daytona account that no running "
        "run owns, for example after the computer or Multishot was killed.",
    )


def _add_command_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--setup",
        metavar="CMD",
        help="shell command run in the repository before Claude (e.g. installing dependencies)",
    )
    parser.add_argument(
        "--check",
        metavar="CMD",
        help="shell command run in the repository after Claude, e.g. 'pytest -q'; its exit "
        "code, time and last 200 lines are kept",
    )


def _add_round_commands(commands: Any) -> None:
    follow = commands.add_parser(
        "continue",
        help="a new round that starts from a shot's changes",
        usage='multishot continue RUN [SHOT] "PROMPT" [options]',
        description="Start a new run whose sandboxes start from the run's starting commit "
        "with the shot's changes (and those of every earlier round) committed. It inherits "
        "the repository, model, setup, check, limits and judge unless given here (an empty "
        "--setup '' or --check '' removes one). SHOT "
        "defaults to the picked shot, else the recommended one (see `multishot compare`).",
    )
    follow.add_argument("run_id", metavar="RUN")
    follow.add_argument(
        "shot_and_prompt",
        nargs="*",
        metavar="[SHOT] PROMPT",
        help="the shot to continue from (optional) and the follow-up prompt; - reads the "
        "prompt from standard input",
    )
    follow.add_argument(
        "--prompt-file", metavar="PATH", help="read the prompt from a UTF-8 text file (up to 1 MB)"
    )
    follow.add_argument("--shots", type=int, help="1 to 16 (default: as in RUN)")
    follow.add_argument("--model", help="Claude model (default: as in RUN)")
    _add_command_options(follow)
    follow.add_argument("--json", action="store_true", help="print the final summary as JSON")
