"""`multishot run | runs | show | logs | cancel | cleanup`: the run engine on the command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import queue
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tray.cli_console import EXIT_CANCELLED, EXIT_ERROR, EXIT_INVALID, EXIT_OK, EXIT_USAGE, Console
from tray.credentials import Credentials
from tray.engine import (
    AuthFailure,
    EngineEvent,
    RunFinished,
    RunManager,
    ScanNotice,
    ShotChanged,
    ShotSnapshot,
    count_working,
)
from tray.errors import MultishotError
from tray.history import History, RunRecord
from tray.keychain import CredentialStore
from tray.run_spec import DEFAULT_SHOTS, InvalidRunSpec, RunSpec
from tray.secret_input import DAYTONA_API_KEY_ENV, credentials_from_environment

Handler = Callable[[argparse.Namespace, CredentialStore, Console], int]
CANCEL_WAIT_SECONDS = 180


class NotLoggedIn(MultishotError):
    title = "Not logged in"


def add_run_commands(commands: Any) -> dict[str | None, Handler]:
    run = commands.add_parser("run", help="start a run: several shots at one prompt")
    run.add_argument("prompt", help="what Claude Code should do (quote it)")
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
    commands.add_parser("cleanup", help="delete sandboxes left behind by a crash")
    return {
        "run": _run,
        "runs": _runs,
        "show": _show,
        "logs": _logs,
        "cancel": _cancel,
        "cleanup": _cleanup,
    }


def credentials_for_run(store: CredentialStore) -> Credentials:
    """The environment's credentials when DAYTONA_API_KEY is set, else the keychain's."""
    if os.environ.get(DAYTONA_API_KEY_ENV):
        return credentials_from_environment(os.environ)
    credentials = store.load()
    if credentials is None:
        raise NotLoggedIn(
            "No credentials: run `multishot login`, or set DAYTONA_API_KEY and "
            "ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN."
        )
    return credentials


def _run(args: argparse.Namespace, store: CredentialStore, console: Console) -> int:
    try:
        spec = _spec(args)
    except InvalidRunSpec as exc:
        console.warn(f"{exc.title}: {exc.message}")
        return EXIT_USAGE
    manager = RunManager(credentials_for_run(store))
    return _run_with(manager, spec, args, console)


def _spec(args: argparse.Namespace) -> RunSpec:
    return RunSpec(
        prompt=args.prompt,
        shots=args.shots,
        repo_url=args.repo,
        branch=args.branch,
        model=args.model,
        max_turns=args.max_turns,
        max_budget_usd=args.max_budget_usd,
        hints=tuple(args.hint),
        time_limit_minutes=args.time_limit,
    )


def _run_with(
    manager: RunManager, spec: RunSpec, args: argparse.Namespace, console: Console
) -> int:
    events: queue.Queue[EngineEvent] = queue.Queue()
    manager.subscribe(events.put)
    run_id = manager.start(spec)
    progress = _Progress(console, spec.shots, live=console.out.isatty(), quiet=args.json)
    if not args.json:
        console.say(f"Run {run_id}: {spec.shots} shots. Ctrl-C cancels and deletes the sandboxes.")
    finished: RunFinished | None = None
    auth: AuthFailure | None = None
    try:
        while finished is None:
            event = events.get()
            if isinstance(event, ShotChanged):
                progress.update(event.shot)
            elif isinstance(event, AuthFailure):
                auth = event
            elif isinstance(event, ScanNotice):
                progress.note(f"shot {event.shot}: {event.event.kind.value}: {event.event.excerpt}")
            elif isinstance(event, RunFinished) and event.run_id == run_id:
                finished = event
    except KeyboardInterrupt:
        console.warn("\nCancelling: stopping the shots and deleting their sandboxes…")
        manager.cancel(run_id)
        manager.wait(run_id, CANCEL_WAIT_SECONDS)
        return EXIT_CANCELLED
    finally:
        manager.shutdown(timeout=CANCEL_WAIT_SECONDS)
    summary = _run_summary(manager.history, run_id)
    if args.json:
        console.say(json.dumps(summary, indent=2))
    else:
        progress.finish()
        _print_run(console, summary)
        if auth is not None:
            console.warn(_auth_advice(auth))
    if auth is not None:
        return EXIT_INVALID
    return EXIT_OK if finished.succeeded == finished.total else EXIT_ERROR


def _auth_advice(event: AuthFailure) -> str:
    return (
        f"Authentication failed ({event.kind.value}): {event.event.excerpt}\n"
        "Fix the credentials with `multishot login`, then start the run again."
    )


class _Progress:
    """One line per shot: redrawn in place on a terminal, appended otherwise."""

    def __init__(self, console: Console, shots: int, *, live: bool, quiet: bool) -> None:
        self.console = console
        self.live = live
        self.quiet = quiet
        self.lines = [f"shot {n}: queued" for n in range(1, shots + 1)]
        self.drawn = False

    def update(self, shot: ShotSnapshot) -> None:
        line = f"shot {shot.number}: {shot.status.value}"
        if shot.detail:
            line += f" — {shot.detail}"
        if self.lines[shot.number - 1] == line:
            return
        self.lines[shot.number - 1] = line
        if self.quiet:
            return
        if self.live:
            self._redraw()
        else:
            self.console.say(line)

    def note(self, text: str) -> None:
        if not self.live and not self.quiet:
            self.console.say(text)

    def _redraw(self) -> None:
        out = self.console.out
        if self.drawn:
            out.write(f"\x1b[{len(self.lines)}F")
        width = max(20, _terminal_width() - 1)
        for line in self.lines:
            out.write("\x1b[2K" + line[:width] + "\n")
        out.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.live:
            self.console.say()


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


def _run_summary(history: History, run_id: str) -> dict[str, Any]:
    record = history.run(run_id)
    if record is None:
        raise MultishotError(f"No run {run_id} in the history.")
    shots = history.shots(run_id)
    return {
        "run_id": record.id,
        "status": record.status,
        "detail": record.detail,
        "prompt": record.prompt,
        "created_at": _time(record.created_at),
        "finished_at": _time(record.finished_at),
        "folder": record.folder,
        "succeeded": sum(1 for s in shots if s["status"] == "succeeded"),
        "shots": [
            {
                key: shot[key]
                for key in (
                    "number",
                    "status",
                    "detail",
                    "exit_code",
                    "cost_usd",
                    "turns",
                    "duration_ms",
                    "error_kind",
                    "patch_path",
                    "log_path",
                    "changed_files",
                )
            }
            for shot in shots
        ],
    }


def _time(stamp: float | None) -> str | None:
    return dt.datetime.fromtimestamp(stamp).isoformat(timespec="seconds") if stamp else None


def _print_run(console: Console, summary: dict[str, Any]) -> None:
    console.say(f"Run {summary['run_id']}: {summary['status']}. {summary['detail']}")
    for shot in summary["shots"]:
        cost = f"${shot['cost_usd']:.4f}" if shot["cost_usd"] is not None else "-"
        seconds = f"{shot['duration_ms'] / 1000:.1f} s" if shot["duration_ms"] else "-"
        status = f"{shot['status']:<15}"
        console.say(f"  shot {shot['number']}: {status} {cost:>9} {seconds:>8}  {shot['detail']}")
        if shot["patch_path"]:
            console.say(f"      patch: {shot['patch_path']}")
    console.say(f"Results: {summary['folder']}")


def _runs(args: argparse.Namespace, store: CredentialStore, console: Console) -> int:
    history = History()
    history.mark_abandoned()
    records = history.runs(limit=50)
    if args.json:
        console.say(json.dumps([_run_summary(history, r.id) for r in records], indent=2))
        return EXIT_OK
    if not records:
        console.say('No runs yet. Start one with `multishot run "PROMPT"`.')
    for record in records:
        shots = history.shots(record.id)
        succeeded = sum(1 for s in shots if s["status"] == "succeeded")
        status = _live_status(record, shots)
        prompt = " ".join(record.prompt.split())[:50]
        console.say(f"{record.id}  {status:<14} {succeeded}/{len(shots)}  {prompt}")
    return EXIT_OK


def _live_status(record: RunRecord, shots: list[dict[str, Any]]) -> str:
    if record.finished_at is None:
        running = count_working(shot["status"] for shot in shots)
        return f"running {running}/{len(shots)}"
    return record.status


def _find(history: History, run_id: str) -> RunRecord:
    record = history.find_run(run_id)
    if record is None:
        raise MultishotError(f"No run matches '{run_id}'. `multishot runs` lists them.")
    return record


def _show(args: argparse.Namespace, store: CredentialStore, console: Console) -> int:
    history = History()
    summary = _run_summary(history, _find(history, args.run_id).id)
    if args.json:
        console.say(json.dumps(summary, indent=2))
    else:
        console.say(f"Prompt: {summary['prompt']}")
        _print_run(console, summary)
    return EXIT_OK


def _logs(args: argparse.Namespace, store: CredentialStore, console: Console) -> int:
    history = History()
    record = _find(history, args.run_id)
    path = (
        Path(record.folder) / f"shot-{args.shot}" / ("stderr.log" if args.stderr else "stdout.log")
    )
    if not path.exists():
        console.warn(f"Run {record.id} has no log for shot {args.shot}.")
        return EXIT_USAGE
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 16):
            sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    return EXIT_OK


def _cancel(args: argparse.Namespace, store: CredentialStore, console: Console) -> int:
    history = History()
    record = _find(history, args.run_id)
    if record.finished_at is not None:
        console.warn(f"Run {record.id} already ended ({record.status}).")
        return EXIT_ERROR
    if not history.request_cancel(record.id):
        console.warn(f"Run {record.id} could not be cancelled.")
        return EXIT_ERROR
    console.say(f"Cancel requested: the process running {record.id} stops it within seconds.")
    return EXIT_OK


def _cleanup(args: argparse.Namespace, store: CredentialStore, console: Console) -> int:
    manager = RunManager(credentials_for_run(store))
    try:
        deleted = manager.cleanup_orphans()
    finally:
        manager.shutdown(timeout=5)
    if deleted:
        console.say(f"Deleted {len(deleted)} leftover sandbox(es): {', '.join(deleted)}")
    else:
        console.say("No leftover sandboxes.")
    return EXIT_OK
