"""`multishot run | continue | runs | show | logs | cancel | cleanup`: the run engine on the
command line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import queue
import sys
import time
from pathlib import Path
from typing import Any

from tray.cli.console import (
    EXIT_CANCELLED,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    Console,
    Handler,
    exit_code_of,
    signals_interrupt,
)
from tray.credentials.model import Credentials
from tray.errors import InvalidRunSpec
from tray.failures import policy_for
from tray.runs.display import RunOverview, format_cost, format_duration, plural
from tray.runs.events import (
    AuthFailure,
    EngineEvent,
    JudgeFinished,
    JudgeStarted,
    RunFinished,
    ScanNotice,
    ShotChanged,
    ShotSnapshot,
)
from tray.runs.layout import RunFolder
from tray.runs.spec import MAX_PROMPT_BYTES, RunSpec
from tray.runs.status import RunStatus, ShotStatus
from tray.runs.verdict import JudgeVerdict
from tray.service import CancelOutcome, Service

__all__ = ["RUN_HANDLERS"]

CANCEL_WAIT_SECONDS = 180
# A Ctrl-C this long after the "still deleting" warning means "leave them"; quicker
# ones are the same impatient press repeated.
DELIBERATE_SECONDS = 1.5
# How long `run` waits for any engine event before checking that the run is still going.
EVENT_WAIT_SECONDS = 5.0


def _run(args: argparse.Namespace, service: Service, console: Console) -> int:
    spec = _spec(args, console)  # bad input: InvalidRunSpec, exit 2, like every command
    return _start(service, spec, args, console)


def _continue(args: argparse.Namespace, service: Service, console: Console) -> int:
    from tray.runs.compare import compare_run
    from tray.runs.rounds import continue_spec

    record = service.find_run(args.run_id)
    shot, args.prompt = _shot_and_prompt(args.shot_and_prompt, args.prompt_file)
    prompt = _prompt(args, console)
    if shot is None:
        shot = compare_run(service.history, record.id).winner
        if shot is None:
            raise InvalidRunSpec(f"Run {record.id} has no shot to continue from.")
    spec = continue_spec(
        service.history,
        record.id,
        shot,
        prompt,
        shots=args.shots,
        setup=args.setup,
        check=args.check,
        model=args.model,
    )
    if not args.json:
        console.say(f"Round {record.round + 1}: continuing from shot {shot} of run {record.id}.")
    return _start(service, spec, args, console)


def _shot_and_prompt(words: list[str], prompt_file: str | None) -> tuple[int | None, str | None]:
    """`continue RUN [SHOT] PROMPT`: the shot is a number before the prompt, or alone
    with --prompt-file."""
    if len(words) > 2:
        raise InvalidRunSpec(
            f"continue takes a run, an optional shot and one prompt, but got {len(words) + 1} "
            "arguments: put the prompt in quotes."
        )
    if len(words) == 2 or (len(words) == 1 and prompt_file is not None):
        if not words[0].isdigit():
            raise InvalidRunSpec(f"'{words[0][:40]}' is not a shot number (1, 2, …).")
        return int(words[0]), words[1] if len(words) == 2 else None
    return None, words[0] if words else None


def _start(service: Service, spec: RunSpec, args: argparse.Namespace, console: Console) -> int:
    credentials = service.credentials_for_run()
    recovered = service.recover_after_crash(credentials)
    if recovered.deleted and not args.json:
        console.say(f"Deleted {plural(len(recovered.deleted), 'sandbox')} left behind earlier.")
    return _run_with(service, credentials, spec, args, console)


def _spec(args: argparse.Namespace, console: Console) -> RunSpec:
    return RunSpec(
        prompt=_prompt(args, console),
        shots=args.shots,
        repo_url=args.repo,
        branch=args.branch,
        model=args.model,
        max_turns=args.max_turns,
        max_budget_usd=args.max_budget_usd,
        hints=tuple(args.hint),
        time_limit_minutes=args.time_limit,
        setup=args.setup,
        check=args.check,
        check_time_limit_minutes=args.check_timeout,
        judge=args.judge,
    )


def _prompt(args: argparse.Namespace, console: Console) -> str:
    if args.prompt_file is not None and args.prompt is not None:
        raise InvalidRunSpec("Give the prompt as an argument or with --prompt-file, not both.")
    if args.prompt_file not in (None, "-"):
        try:
            with open(args.prompt_file, "rb") as handle:
                return _prompt_text(handle.read(MAX_PROMPT_BYTES + 1), args.prompt_file)
        except OSError as exc:
            raise InvalidRunSpec(
                f"Could not read the prompt file {args.prompt_file}: {exc.strerror or exc}."
            ) from None
    if args.prompt_file == "-" or args.prompt == "-":
        if sys.stdin is None or sys.stdin.closed:
            raise InvalidRunSpec("The prompt should come from standard input, which is closed.")
        if sys.stdin.isatty():
            console.warn("Type the prompt, then press Ctrl-D on a line of its own:")
        return _prompt_text(sys.stdin.buffer.read(MAX_PROMPT_BYTES + 1), "standard input")
    if args.prompt is None:
        raise InvalidRunSpec(
            "No prompt: give it as an argument, with --prompt-file PATH, or as - to read "
            "it from standard input."
        )
    return str(args.prompt)


def _prompt_text(data: bytes, source: str) -> str:
    if len(data) > MAX_PROMPT_BYTES:
        raise InvalidRunSpec(
            f"The prompt in {source} is over {MAX_PROMPT_BYTES / 1e6:g} MB. Put long "
            "material in the repository and refer to it."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRunSpec(
            f"The prompt in {source} is not UTF-8 text (byte {exc.start + 1} cannot be read)."
        ) from None


def _run_with(
    service: Service,
    credentials: Credentials,
    spec: RunSpec,
    args: argparse.Namespace,
    console: Console,
) -> int:
    events: queue.Queue[EngineEvent] = queue.Queue()
    service.subscribe(events.put)
    progress = _Progress(console, spec.shots, live=console.out.isatty(), quiet=args.json)
    run_id: str | None = None
    with signals_interrupt():
        try:
            run_id = service.start_run(credentials, spec)
            if not args.json:
                console.say(
                    f"Run {run_id}: {plural(spec.shots, 'shot')}. Ctrl-C cancels and deletes "
                    "the sandboxes."
                )
            finished, auth = _follow(service, run_id, events, progress)
        except KeyboardInterrupt as interruption:
            if run_id is None:  # stopped while starting: stop whatever has started
                service.shutdown(timeout=CANCEL_WAIT_SECONDS)
                return exit_code_of(interruption)
            return _cancel_on_interrupt(service, run_id, console, interruption)
        except BaseException:
            service.shutdown(timeout=CANCEL_WAIT_SECONDS)
            raise
        service.shutdown(timeout=CANCEL_WAIT_SECONDS)
    overview = service.overview(run_id)
    if args.json:
        console.say(json.dumps(_run_summary(overview), indent=2))
    else:
        progress.finish()
        _print_run(console, overview, finished.detail if finished else None)
        if auth is not None:
            policy = policy_for(auth.kind)
            console.warn(f"{policy.title}: {auth.excerpt}\n{policy.advice}")
    if finished is not None and finished.sandboxes_left:
        console.warn(_left_running(finished.sandboxes_left, "could not be deleted"))
    if auth is not None:
        return EXIT_INVALID if policy_for(auth.kind).stops_run else EXIT_ERROR
    if finished is None:
        return EXIT_ERROR
    if finished.status is RunStatus.CANCELLED:
        return EXIT_CANCELLED
    return EXIT_OK if finished.succeeded == finished.total else EXIT_ERROR


def _cancel_on_interrupt(
    service: Service, run_id: str, console: Console, interruption: KeyboardInterrupt
) -> int:
    """Cancel the run and wait for its sandboxes to be deleted. More Ctrl-Cs in a hurry
    do not abandon the deletes; only one pressed after the warning has been read does."""
    console.warn("\nCancelling: stopping the shots and deleting their sandboxes…")
    service.cancel_run(run_id)
    warned_at: float | None = None
    while True:
        try:
            if service.wait(run_id, CANCEL_WAIT_SECONDS):
                break
            console.warn(_left_running(_sandboxes_alive(service, run_id), "are still running"))
            return exit_code_of(interruption)
        except KeyboardInterrupt:
            alive = _sandboxes_alive(service, run_id)
            if warned_at is None:
                warned_at = time.monotonic()
                console.warn(
                    f"Still deleting {plural(alive, 'sandbox')}; press Ctrl-C again to leave "
                    "them for `multishot cleanup`."
                )
            elif time.monotonic() - warned_at >= DELIBERATE_SECONDS:
                console.warn(_left_running(alive, "are left running"))
                return exit_code_of(interruption)
    service.shutdown(timeout=CANCEL_WAIT_SECONDS)
    left = len(service.sandboxes_left(run_id))
    if left:
        console.warn(_left_running(left, "could not be deleted"))
    else:
        console.warn("Cancelled; every sandbox of the run is deleted.")
    return exit_code_of(interruption)


def _sandboxes_alive(service: Service, run_id: str) -> int:
    return sum(1 for shot in service.overview(run_id).shots if not shot.status.is_final)


def _left_running(count: int, what: str) -> str:
    sandboxes = plural(count, "sandbox")
    return f"{sandboxes} of this run {what}: `multishot cleanup` deletes them."


def _follow(
    service: Service, run_id: str, events: queue.Queue[EngineEvent], progress: _Progress
) -> tuple[RunFinished | None, AuthFailure | None]:
    """Show the run's events until it finishes; never wait for ever on a silent run."""
    auth: AuthFailure | None = None
    while True:
        try:
            event = events.get(timeout=EVENT_WAIT_SECONDS)
        except queue.Empty:
            if service.wait(run_id, 0) and events.empty():
                return None, auth  # the run ended without a word
            continue
        if isinstance(event, ShotChanged):
            progress.update(event.shot)
        elif isinstance(event, AuthFailure):
            auth = event
        elif isinstance(event, ScanNotice):
            progress.note(f"shot {event.shot}: {event.event.kind.value}: {event.event.excerpt}")
        elif isinstance(event, JudgeStarted) and event.run_id == run_id:
            shots = ", ".join(str(n) for n in event.shots)
            progress.say(f"Judging {plural(len(event.shots), 'shot')} ({shots})…")
        elif isinstance(event, JudgeFinished) and event.run_id == run_id:
            for line in _verdict_lines(event.verdict):
                progress.say(line)
        elif isinstance(event, RunFinished) and event.run_id == run_id:
            return event, auth


class _Progress:
    """One line per shot: redrawn in place on a terminal, appended otherwise."""

    def __init__(self, console: Console, shots: int, *, live: bool, quiet: bool) -> None:
        self.console = console
        self.live = live
        self.quiet = quiet
        self.lines = [f"shot {n}: {ShotStatus.QUEUED.label}" for n in range(1, shots + 1)]
        self.drawn = False

    def update(self, shot: ShotSnapshot) -> None:
        line = f"shot {shot.number}: {shot.status.label}"
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

    def say(self, text: str) -> None:
        """A line under the shots' lines, once they have all ended (none is redrawn after)."""
        if not self.quiet:
            self.console.say(text)

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


def _verdict_lines(verdict: JudgeVerdict) -> list[str]:
    if verdict.problem is not None:
        return [verdict.problem]
    cost = f" ({format_cost(verdict.cost_usd)})" if verdict.cost_usd is not None else ""
    lines = [f"The judge's ranking{cost}:"]
    for ranking in verdict.ranking:
        reason = " ".join(ranking.reason.split())
        lines.append(f"  {ranking.rank}. shot {ranking.shot}: {reason[:300]}")
    return lines


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


def _run_summary(overview: RunOverview) -> dict[str, Any]:
    record = overview.record
    return {
        "run_id": record.id,
        "status": overview.status.value,
        "detail": record.detail,
        "prompt": record.prompt,
        "created_at": _time(record.created_at),
        "finished_at": _time(record.finished_at),
        "folder": record.folder,
        "base_commit": record.base_commit,
        "round": record.round,
        "parent_run_id": record.parent_run_id,
        "parent_shot": record.parent_shot,
        "picked_shot": record.picked_shot,
        "succeeded": overview.succeeded,
        "shots": [
            {
                "number": shot.number,
                "status": shot.status.value,
                "detail": shot.detail,
                "exit_code": shot.exit_code,
                "cost_usd": shot.cost_usd,
                "turns": shot.turns,
                "duration_ms": shot.duration_ms,
                "error_kind": shot.failure.value if shot.failure else None,
                "patch_path": shot.patch_path,
                "log_path": shot.log_path,
                "changed_files": shot.changed_files,
                "setup_exit_code": shot.setup_exit_code,
                "check_exit_code": shot.check_exit_code,
                "check_duration_ms": shot.check_duration_ms,
            }
            for shot in overview.shots
        ],
    }


def _time(stamp: float | None) -> str | None:
    return dt.datetime.fromtimestamp(stamp).isoformat(timespec="seconds") if stamp else None


def _print_run(console: Console, overview: RunOverview, detail: str | None = None) -> None:
    record = overview.record
    console.say(f"Run {record.id}: {overview.status.label}. {detail or record.detail}")
    for shot in overview.shots:
        cost = format_cost(shot.cost_usd)
        seconds = format_duration(shot.duration_ms)
        console.say(
            f"  shot {shot.number}: {shot.status.label:<22} {cost:>9} {seconds:>11}  {shot.detail}"
        )
        if shot.patch_path:
            console.say(f"      patch: {shot.patch_path}")
    console.say(f"Results: {record.folder}")


def _runs(args: argparse.Namespace, service: Service, console: Console) -> int:
    overviews = service.recent_runs(limit=50)
    if args.json:
        console.say(json.dumps([_run_summary(o) for o in overviews], indent=2))
        return EXIT_OK
    if not overviews:
        console.say('No runs yet. Start one with `multishot run "PROMPT"`.')
    for overview in overviews:
        record = overview.record
        prompt = " ".join(record.prompt.split())[:50]
        chain = (
            f"round {record.round} ← {record.parent_run_id}#{record.parent_shot}  "
            if record.parent_run_id
            else ""
        )
        console.say(
            f"{record.id}  {overview.progress:<22} "
            f"{overview.succeeded}/{len(overview.shots)}  {chain}{prompt}"
        )
    return EXIT_OK


def _show(args: argparse.Namespace, service: Service, console: Console) -> int:
    overview = service.overview(args.run_id)
    if args.json:
        console.say(json.dumps(_run_summary(overview), indent=2))
    else:
        console.say(f"Prompt: {overview.record.prompt}")
        _print_run(console, overview)
    return EXIT_OK


def _logs(args: argparse.Namespace, service: Service, console: Console) -> int:
    record = service.find_run(args.run_id)
    shot = RunFolder(Path(record.folder)).shot(args.shot)
    path = shot.stderr_log if args.stderr else shot.stdout_log
    if not path.exists():
        console.warn(f"Run {record.id} has no log for shot {args.shot}.")
        return EXIT_USAGE
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 16):
            sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    return EXIT_OK


def _cancel(args: argparse.Namespace, service: Service, console: Console) -> int:
    record = service.find_run(args.run_id)
    outcome = service.cancel_run(record.id)
    if outcome is CancelOutcome.ALREADY_ENDED:
        console.warn(f"Run {record.id} already ended ({record.status.label}).")
        return EXIT_ERROR
    if outcome is CancelOutcome.NOT_RUNNING:
        console.warn(
            f"Run {record.id} is not running: the process that ran it is gone. "
            "`multishot cleanup` deletes the sandboxes it left behind."
        )
        return EXIT_ERROR
    console.say(f"Cancel requested: the process running {record.id} stops it within seconds.")
    return EXIT_OK


def _cleanup(args: argparse.Namespace, service: Service, console: Console) -> int:
    try:
        sweep = service.sweep(service.credentials_for_run())
    finally:
        service.shutdown(timeout=5)
    if sweep.deleted:
        listed = ", ".join(sweep.deleted)
        console.say(f"Deleted {plural(len(sweep.deleted), 'leftover sandbox')}: {listed}")
    elif not sweep.failed:
        console.say("No leftover sandboxes.")
    if sweep.failed:
        console.warn(
            f"Could not delete {plural(len(sweep.failed), 'sandbox')} ({', '.join(sweep.failed)}): "
            f"{sweep.problem} Try `multishot cleanup` again later."
        )
        return EXIT_ERROR
    return EXIT_OK


RUN_HANDLERS: dict[str, Handler] = {
    "run": _run,
    "runs": _runs,
    "show": _show,
    "logs": _logs,
    "cancel": _cancel,
    "cleanup": _cleanup,
    "continue": _continue,
}
