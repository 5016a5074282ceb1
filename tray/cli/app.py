"""`multishot COMMAND`: the command line, a thin shell over the core's service facade.

Secrets are never accepted as arguments: they come from a hidden prompt or,
with ``--from-env``, from the environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tray.app_logging import configure_logging
from tray.cli.console import (
    EXIT_CANCELLED,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    Cancelled,
    Console,
    Handler,
    exit_code_of,
)
from tray.cli.parser import COMPARE_COMMANDS, RUN_COMMANDS, build_parser
from tray.credentials.keychain import StorageOutcome, fix_for_platform, timeout_setting
from tray.credentials.model import AuthMethod, Credentials
from tray.credentials.secret_input import (
    SecretKind,
    credentials_from_environment,
    credentials_from_input,
    read_secret,
)
from tray.credentials.validation import (
    CheckResult,
    CheckStatus,
    CredentialsCheck,
    describe_expiry,
)
from tray.errors import InvalidInput, InvalidSecretInput, LocalLoginError, MultishotError
from tray.redaction import mask
from tray.service import Service

if TYPE_CHECKING:
    from tray.credentials.local_login import LocalLogin

__all__ = [
    "main",
    "status_report",
]

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(verbose=args.verbose)
    console = Console()
    _, timeout_problem = timeout_setting()
    if timeout_problem:
        console.warn(timeout_problem)
    service = Service()
    handlers: dict[str | None, Handler] = {
        None: _default,
        "login": _login,
        "logout": _logout,
        "status": _status,
        "doctor": _doctor,
    }
    try:
        if args.command in RUN_COMMANDS:  # the run engine's side loads only for these
            from tray.cli.runs import RUN_HANDLERS

            return RUN_HANDLERS[args.command](args, service, console)
        if args.command in COMPARE_COMMANDS:  # local files and git only
            from tray.cli.compare import COMPARE_HANDLERS

            return COMPARE_HANDLERS[args.command](args, service, console)
        return handlers[args.command](args, service, console)
    except Cancelled:
        console.warn("\nCancelled. Nothing was saved.")
        return EXIT_CANCELLED
    except KeyboardInterrupt as interruption:
        console.warn("\nInterrupted. Nothing was saved.")
        return exit_code_of(interruption)
    except MultishotError as exc:
        log.warning("%s: %s", exc.title, exc.message)
        console.warn(f"{exc.title}: {exc.message}")
        return EXIT_USAGE if isinstance(exc, InvalidInput) else EXIT_ERROR


def _default(args: argparse.Namespace, service: Service, console: Console) -> int:
    """No command in a plain terminal: set up when nothing is stored, else show the status."""
    if service.store.load() is None and console.interactive:
        return _login(argparse.Namespace(from_env=False, no_validate=False), service, console)
    return _status(argparse.Namespace(check=False, json=False), service, console)


def _login(args: argparse.Namespace, service: Service, console: Console) -> int:
    if not args.from_env and not console.interactive:
        console.warn(
            "`multishot login` asks for the keys on a terminal, and standard input is not "
            "one. In a script, set DAYTONA_API_KEY and ANTHROPIC_API_KEY (or "
            "CLAUDE_CODE_OAUTH_TOKEN) and run `multishot login --from-env`."
        )
        return EXIT_USAGE
    store = service.store
    assessment = store.assessment()
    if not assessment.secure:
        console.warn(_without_a_keychain(assessment.problem or "no keychain is available."))
        return EXIT_ERROR
    try:
        credentials = (
            credentials_from_environment(os.environ) if args.from_env else _ask_credentials(console)
        )
    except InvalidSecretInput as exc:
        console.warn(f"{exc.title}: {exc.message}\nNothing was saved.")
        return EXIT_USAGE
    if not args.no_validate:
        console.say("Checking the credentials…")
        check = service.check_credentials(credentials)
        _print_check(console, credentials, check)
        if check.any_invalid:
            console.warn("Nothing was saved.")
            return EXIT_INVALID
        if not check.all_confirmed and not _save_unconfirmed(args, console):
            console.warn("Nothing was saved.")
            return EXIT_ERROR
    if service.log_in(credentials) is StorageOutcome.SESSION_ONLY:  # the keychain changed under us
        console.warn(f"Not saved: {store.assessment().advice}")
        return EXIT_ERROR
    console.say(f"Saved to the keychain ({store.assessment().name}).")
    return EXIT_OK


def _without_a_keychain(problem: str) -> str:
    """The two routes that work on a machine with no usable keychain (a server, a
    container, an SSH session), ending with the commands to type."""
    me = command_name()
    routes = (
        f"Cannot save credentials here. {problem}\n"
        "Multishot never writes credentials to a file. Two ways to go on:\n\n"
        "1. Keep them in the environment (nothing is saved):\n"
        "     export DAYTONA_API_KEY='dtn_…'       # app.daytona.io → API Keys\n"
        "     export ANTHROPIC_API_KEY='sk-ant-…'  # or CLAUDE_CODE_OAUTH_TOKEN, from "
        "`claude setup-token`\n"
        f'     {me} run "what Claude should do"\n\n'
    )
    if sys.platform != "linux":
        return routes + f"2. Or save them: {fix_for_platform()}, then run `{me} login`."
    install = (
        ""
        if shutil.which("gnome-keyring-daemon") and shutil.which("dbus-run-session")
        else "     sudo apt install gnome-keyring dbus-daemon\n"
    )
    return routes + (
        "2. Save them in a Secret Service. Without a desktop, start one for this terminal\n"
        "   (its password encrypts the saved keys; give the same one next time):\n"
        f"{install}"
        "     dbus-run-session -- bash\n"
        "     read -rsp 'Keyring password: ' pw; echo; printf %s \"$pw\" | "
        "gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null; unset pw\n"
        f"     {me} login"
    )


def command_name() -> str:
    """How to type this program again: `multishot` when that is what PATH finds, else the
    path it was started by (for example .venv/bin/multishot after ./scripts/start)."""
    started_as = sys.argv[0]
    if os.path.basename(started_as) != "multishot":
        return "multishot"
    on_path = shutil.which("multishot")
    if on_path and os.path.realpath(on_path) == os.path.realpath(started_as):
        return "multishot"
    relative = os.path.relpath(started_as)
    return started_as if relative.startswith("..") else relative


def _save_unconfirmed(args: argparse.Namespace, console: Console) -> bool:
    if args.from_env:
        console.warn("Saving anyway: a credential could not be checked right now.")
        return True
    return console.confirm(
        "A credential could not be checked right now. Save anyway?", default=False
    )


def _ask_credentials(console: Console) -> Credentials:
    console.say("Multishot needs a Daytona API key and one Claude credential.")
    console.say("Input is hidden; paste and press Enter.\n")
    daytona = _ask_until_valid(
        console, SecretKind.DAYTONA_API_KEY, "Daytona API key (get one at app.daytona.io): "
    )
    method = _ask_method(console)
    if method is AuthMethod.API_KEY:
        secret = _ask_until_valid(
            console,
            SecretKind.ANTHROPIC_API_KEY,
            "Anthropic API key (get one at console.anthropic.com): ",
        )
        return credentials_from_input(
            daytona_api_key=daytona, auth_method=method, claude_secret=secret
        )
    local = _offer_local_login(console)
    if local is not None:
        return credentials_from_input(
            daytona_api_key=daytona,
            auth_method=method,
            claude_secret=local.access_token,
            oauth_token_expires_at=local.expires_at,
        )
    console.say(
        "To get a token that lasts a year, run `claude setup-token` on a computer with a "
        "browser and copy the token it prints (sk-ant-oat01-…)."
    )
    token = _ask_until_valid(console, SecretKind.CLAUDE_OAUTH_TOKEN, "Claude Code OAuth token: ")
    return credentials_from_input(daytona_api_key=daytona, auth_method=method, claude_secret=token)


def _ask_until_valid(console: Console, kind: SecretKind, prompt: str) -> str:
    while True:
        try:
            return read_secret(kind, console.ask_secret(prompt))
        except InvalidSecretInput as exc:
            console.warn(f"{exc.message}\n")


def _ask_method(console: Console) -> AuthMethod:
    console.say(
        "\nClaude authentication:\n"
        "  1) API key (recommended for sandboxes): pay-as-you-go, most reliable\n"
        "  2) OAuth token: uses your Claude subscription, may need refreshing\n"
        "Note: an API key overrides a subscription and is billed at API rates."
    )
    while True:
        answer = console.ask("Choose 1 or 2 [1]: ").strip()
        if answer in ("", "1"):
            return AuthMethod.API_KEY
        if answer == "2":
            return AuthMethod.OAUTH_TOKEN
        console.say("Please type 1 or 2.")


def _offer_local_login(console: Console) -> LocalLogin | None:
    from tray.credentials.local_login import find_local_login

    try:
        local = find_local_login()
    except LocalLoginError as exc:
        console.say(exc.message)
        return None
    expiry = ""
    if local.expires_at is not None:
        expiry = f", expires {describe_expiry(local.expires_at, dt.datetime.now(dt.timezone.utc))}"
    console.say(
        f"\nFound this computer's Claude Code login in {local.source} "
        f"(token {mask(local.access_token)}{expiry})."
    )
    if local.expires_soon():
        console.say(
            "It expires within a day. `claude setup-token` makes a token that lasts a year; "
            "prefer it for sandboxes."
        )
    return local if console.confirm("Use this token?", default=not local.expires_soon()) else None


def _logout(args: argparse.Namespace, service: Service, console: Console) -> int:
    if service.log_out() is StorageOutcome.SESSION_ONLY:
        backend = service.store.assessment().name
        console.warn(
            f"No keychain could be reached (keyring backend: {backend}), so nothing was "
            "removed from it: credentials saved earlier are still there. Start or unlock "
            "the keychain (see `multishot doctor`) and run `multishot logout` again."
        )
        return EXIT_ERROR
    console.say("Logged out: Multishot's credentials were removed from the keychain.")
    return EXIT_OK


def _status(args: argparse.Namespace, service: Service, console: Console) -> int:
    report = status_report(service, check=args.check)
    if args.json:
        console.say(json.dumps(report, indent=2))
    else:
        _print_status(console, report)
    if not report["daytona"]["present"]:
        return EXIT_ERROR
    if CheckStatus.INVALID.value in (report["daytona"]["check"], report["claude"]["check"]):
        return EXIT_INVALID
    return EXIT_OK


def status_report(service: Service, *, check: bool) -> dict[str, Any]:
    """The ``status --json`` document: masked secrets, keychain, optional checks."""
    assessment = service.store.assessment()
    credentials = service.store.load()
    keychain: dict[str, Any] = {"backend": assessment.name, "secure": assessment.secure}
    if not assessment.secure:
        keychain["problem"] = assessment.advice
    skipped = {"check": CheckStatus.SKIPPED.value}
    daytona: dict[str, Any] = {"present": False, "masked": None, **skipped}
    claude: dict[str, Any] = {"method": None, "present": False, "masked": None, **skipped}
    if credentials is not None:
        daytona.update(present=True, masked=mask(credentials.daytona_api_key))
        claude.update(
            method=credentials.auth_method.value,
            present=True,
            masked=mask(credentials.claude_secret),
        )
        if check:
            result = service.check_credentials(credentials)
            daytona.update(_check_fields(result.daytona))
            claude.update(_check_fields(result.claude))
    return {"keychain": keychain, "daytona": daytona, "claude": claude}


def _check_fields(result: CheckResult) -> dict[str, str]:
    return {"check": result.status.value, "message": result.message}


def _print_status(console: Console, report: dict[str, Any]) -> None:
    keychain = report["keychain"]
    secure = "secure" if keychain["secure"] else "NOT secure: session only"
    console.say(f"Keychain: {keychain['backend']} ({secure})")
    if "problem" in keychain:
        console.say(f"  {keychain['problem']}")
    daytona, claude = report["daytona"], report["claude"]
    if not daytona["present"]:
        console.say("Not logged in. Run `multishot login`.")
        return
    method = AuthMethod(claude["method"]).label
    console.say(f"Daytona:  {daytona['masked']}{_check_suffix(daytona)}")
    console.say(f"Claude:   {method} {claude['masked']}{_check_suffix(claude)}")


def _check_suffix(section: dict[str, Any]) -> str:
    if "message" not in section:
        return ""
    return f"\n  [{section['check']}] {section['message']}"


def _print_check(console: Console, credentials: Credentials, check: CredentialsCheck) -> None:
    method = credentials.auth_method.label
    console.say(f"  Daytona API key: [{check.daytona.status.value}] {check.daytona.message}")
    console.say(f"  Claude {method}: [{check.claude.status.value}] {check.claude.message}")


def _doctor(args: argparse.Namespace, service: Service, console: Console) -> int:
    from tray import diagnostics  # platform probes: loaded for `doctor` only

    report = diagnostics.collect(service.store)
    if args.json:
        console.say(json.dumps(report, indent=2))
    else:
        _print_tree(console, report)
    return EXIT_OK


def _print_tree(console: Console, report: dict[str, Any], indent: str = "") -> None:
    for key, value in report.items():
        if isinstance(value, dict):
            console.say(f"{indent}{key}:")
            _print_tree(console, value, indent + "  ")
        else:
            console.say(f"{indent}{key}: {value}")
