"""The tray app: a thin shell over the credential core, the scanner and the run engine.

Threads: Tk owns the main thread (a hidden root); the tray icon's backend makes its
calls on a thread of its own (``tray.ui.tray_icon``); keychain, network and engine
work runs on worker threads. Every result crosses back through ``in_tk``: a queue
that wakes Tk only when it holds something (``tray.ui.inbox``).

Long because ``TrayApp`` is the shell's one controller (see its docstring).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import logging
import threading
import time
import tkinter as tk
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tray.credentials.keychain import BackendAssessment, StorageOutcome, load_isolated
from tray.credentials.model import AuthMethod, Credentials, SetupStep
from tray.desktop import choose_backend
from tray.errors import CannotOpen, MultishotError
from tray.failures import FailureKind, Remedy, policy_for
from tray.redaction import mask
from tray.runs.events import AuthFailure, EngineEvent, RunFinished, ScanNotice, ShotChanged
from tray.runs.layout import RunFolder
from tray.runs.status import RunStatus, ShotStatus, count_working
from tray.service import Service, Sweep
from tray.ui import messages
from tray.ui.autostart import Autostart, for_this_system
from tray.ui.icons import NOTIFICATION_ICON, IconState, asset, draw_icon
from tray.ui.inbox import TkInbox
from tray.ui.leftovers import LeftoverSweeper
from tray.ui.menu import MenuState, RunEntry, build_menu
from tray.ui.messages import NoticeAction
from tray.ui.notifications import Notifier
from tray.ui.tray_icon import TrayIcon, create_icon, start_icon

if TYPE_CHECKING:  # windows, and what only they use, load when one first opens
    from tray.credentials.validation import CredentialsCheck
    from tray.runs.compare import RunComparison
    from tray.runs.display import RunOverview
    from tray.runs.history import RunRecord
    from tray.runs.spec import RunSpec
    from tray.ui.alerts import Level
    from tray.ui.compare_window import CompareWindow
    from tray.ui.continue_dialog import ContinueAnswers, ContinueDialog
    from tray.ui.messages import Question
    from tray.ui.runs_window import RunsWindow
    from tray.ui.wizard import SetupWizard

__all__ = [
    "RECENT_RUNS",
    "TrayApp",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
RECENT_RUNS = 8
ICON_UPDATE_SECONDS = 0.25


class TrayApp:
    """The tray shell's controller: state shown in the icon and menu, every menu action,
    the recovery flows and the hand-offs between Tk, the icon and worker threads.

    Long because it is the one place the shell's actions meet; windows, the menu,
    icons and notifications are modules of their own, and every decision is the
    core's (``Service``, the failure policy).
    """

    def __init__(
        self,
        root: tk.Tk,
        *,
        service: Service | None = None,
        notifier: Notifier | None = None,
        autostart: Autostart | None = None,
        with_icon: bool = True,
        icon: TrayIcon | None = None,
    ) -> None:
        """``icon``: one the launcher already showed; otherwise, with ``with_icon``,
        the app shows its own."""
        self.root = root
        self.service = service or Service(engine_process=True)
        self._inbox = TkInbox(root)
        self.notifier = notifier or Notifier(
            icon_path=asset(NOTIFICATION_ICON), fallback=self._notify_with_icon
        )
        self.credentials: Credentials | None = None
        self.assessment: BackendAssessment | None = None
        self.auth_error: AuthFailure | None = None
        self.notified: set[tuple[str, FailureKind]] = set()
        self.run_status: dict[str, RunStatus] = {}
        self.shot_status: dict[str, dict[int, ShotStatus]] = {}
        self.wizard: SetupWizard | None = None
        self.runs_window: RunsWindow | None = None
        self._runs_read_pending = False
        self.loaded = threading.Event()
        self.icon: TrayIcon | None = None
        self._shown: tuple[tuple[IconState, int, str], MenuState] | None = None
        self._icon_update_due = False
        self._icon_updated_at = 0.0
        self.quitting = False
        # Modal dialogs (Tk thread) that ask or tell the user; tests answer for the user.
        self.confirm: Callable[[Question], bool] = self._ask
        self.inform: Callable[[str, str, Level], object] = self._tell
        # File choosers (Tk thread, modal): where to apply a shot, where to save its patch.
        self.choose_folder: Callable[[str, Path | None], Path | None] = _ask_folder
        self.choose_patch_file: Callable[[str, str], Path | None] = _ask_patch_file
        self.compare_windows: dict[str, CompareWindow] = {}
        self.continue_dialog: ContinueDialog | None = None
        self.autostart = autostart or for_this_system()
        self.start_at_login = self.autostart.is_enabled()
        self.leftovers = LeftoverSweeper(
            root, self.service, lambda: self.credentials, self.in_worker, self.refresh
        )
        self.service.subscribe(self._engine_listener())
        if icon is not None or with_icon:
            self._show_icon(icon)

    # -- threads ---------------------------------------------------------------------------

    def _engine_listener(self) -> Callable[[EngineEvent], None]:
        """Hands engine events to the Tk thread without keeping the app alive: the
        engine's threads outlive a run, and a Tk root finalized on one of them makes
        Tcl abort."""
        handler = weakref.WeakMethod(self._on_engine_event)
        post = self._inbox.poster()

        def deliver(event: EngineEvent) -> None:
            method = handler()
            if method is not None:
                method(event)

        return lambda event: post(functools.partial(deliver, event))

    def in_tk(self, action: Callable[[], None]) -> None:
        """Run ``action`` on the Tk thread (callable from any thread)."""
        self._inbox.post(action)

    @property
    def wakeup_fd(self) -> int | None:
        return self._inbox.wakeup_fd

    def close(self) -> None:
        """Release what the app holds in the Tk event loop (its wake-up pipe)."""
        self._inbox.close()

    def in_worker(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        def run() -> None:
            try:
                result = work()
            except Exception as exc:
                log.info("background work failed: %s", exc)
                self.in_tk(functools.partial(failed or self._show_error, exc))
                return
            self.in_tk(functools.partial(done, result))

        threading.Thread(target=run, name="tray-worker", daemon=True).start()

    # -- start -------------------------------------------------------------------------------

    def start(self) -> None:
        """Read the keychain in a worker; the icon is already up."""

        service = self.service.store.service
        self.in_worker(lambda: load_isolated(service), self._loaded, self._load_failed)

    def _loaded(self, result: tuple[BackendAssessment, Credentials | None]) -> None:
        assessment, credentials = result
        self.assessment = assessment
        self.loaded.set()
        if not assessment.secure:
            from tray.ui.alerts import Level

            warning = functools.partial(
                self.inform, "No secure keychain", assessment.advice, Level.WARNING
            )
            self.root.after(0, warning)
        self._set_credentials(credentials)
        if credentials is None:
            self.open_wizard()

    def _load_failed(self, error: Exception) -> None:
        self.loaded.set()
        self._show_error(error)
        self.refresh()

    def _set_credentials(self, credentials: Credentials | None) -> None:
        first = self.credentials is None
        self.credentials = credentials
        if credentials is not None and first:
            self.in_worker(
                lambda: self.service.recover_after_crash(credentials),
                self._cleaned,
                lambda exc: log.info("cleanup: %s", exc),
            )
        self.refresh()

    def _cleaned(self, sweep: Sweep) -> None:
        if sweep.deleted:
            log.info("deleted %d leftover sandboxes", len(sweep.deleted))
        self.leftovers.found(len(sweep.failed))

    # -- state shown in the icon and menu --------------------------------------------------

    def icon_state(self) -> tuple[IconState, int, str]:
        active = self.active_shots()
        if self.credentials is None:
            return IconState.SETUP_NEEDED, 0, "Multishot: set up credentials"
        if self.auth_error is not None:
            return IconState.ATTENTION, active, "Multishot: a credential needs fixing"
        if active:
            return IconState.RUNNING, active, f"Multishot: {active} shots running"
        return IconState.IDLE, 0, "Multishot: idle"

    def active_shots(self) -> int:
        return sum(
            1
            for run_id, shots in self.shot_status.items()
            if self.run_status.get(run_id) is RunStatus.RUNNING
            for status in shots.values()
            if not status.is_final
        )

    def menu_state(self) -> MenuState:
        credentials = self.credentials
        if credentials is None:
            lines: tuple[str, ...] = ("Not set up",)
        else:
            lines = (
                f"Claude: {credentials.auth_method.label} {mask(credentials.claude_secret)}",
                f"Daytona: {mask(credentials.daytona_api_key)}",
            )
        runs = tuple(
            RunEntry(
                run_id,
                f"{run_id[-6:]} — {self._run_label(run_id)}",
                status is RunStatus.RUNNING,
            )
            for run_id, status in list(self.run_status.items())[-RECENT_RUNS:][::-1]
        )
        return MenuState(
            credentials is not None,
            lines,
            self.auth_error is not None,
            runs,
            self.start_at_login,
            self.leftovers.count,
        )

    def _run_label(self, run_id: str) -> str:
        status = self.run_status.get(run_id, RunStatus.RUNNING)
        if status is not RunStatus.RUNNING:
            return status.label
        shots = self.shot_status.get(run_id, {})
        return f"running {count_working(shots.values())}/{len(shots)}"

    def refresh(self) -> None:
        """Show the current state. The icon and its menu change only when what they
        show changed, and at most every quarter second (a burst of engine events makes
        one update, not one per event)."""
        if self.icon is not None and not self._icon_update_due:
            wait = self._icon_updated_at + ICON_UPDATE_SECONDS - time.monotonic()
            self._icon_update_due = True
            self.root.after(max(0, int(wait * 1000)), self._update_icon)
        if self.runs_window is not None:
            self._refresh_runs_window()

    def _update_icon(self) -> None:
        self._icon_update_due = False
        if self.icon is None:
            return
        look, menu = self.icon_state(), self.menu_state()
        shown = self._shown
        if shown is None or shown[0] != look:
            self.icon.icon = draw_icon(look[0], look[1])
            self.icon.title = look[2]
        if self.icon.HAS_MENU and (shown is None or shown[1] != menu):
            self.icon.menu = build_menu(menu, self)
        self._shown = (look, menu)
        self._icon_updated_at = time.monotonic()

    # -- engine events ----------------------------------------------------------------------

    def _on_engine_event(self, event: EngineEvent) -> None:
        if isinstance(event, ShotChanged):
            shot = event.shot
            self.run_status.setdefault(shot.run_id, RunStatus.RUNNING)
            self.shot_status.setdefault(shot.run_id, {})[shot.number] = shot.status
        elif isinstance(event, ScanNotice):
            self._on_scan(event)
        elif isinstance(event, AuthFailure):
            self._on_auth_failure(event)
        elif isinstance(event, RunFinished):
            self.run_status[event.run_id] = event.status
            self._refresh_compare(event.run_id)
            if event.failure is None:  # a failure that stopped the run was announced already
                run_id = event.run_id
                self.in_worker(
                    lambda: self._made_changes(run_id),
                    functools.partial(self._notify_finished, event),
                    lambda _error: self._notify_finished(event, False),
                )
            if event.sandboxes_left:
                self.notifier.notify(messages.sandboxes_left_notice(event.sandboxes_left))
                self.leftovers.found(event.sandboxes_left)
        self.refresh()

    def _made_changes(self, run_id: str) -> bool:
        """Whether a shot of the run changed something (a worker: it reads the history)."""
        return any(shot.changed_files for shot in self.service.history.shots(run_id))

    def _notify_finished(self, event: RunFinished, made_changes: bool) -> None:
        notice = messages.run_finished_notice(event.status, event.succeeded, event.total)
        run_id = event.run_id
        compare = (NoticeAction("Compare", lambda: self.open_compare(run_id)),)
        buttons = (
            *(compare if made_changes else ()),
            NoticeAction("Open results", lambda: self.in_tk(lambda: self.open_folder(run_id))),
            NoticeAction("Runs", self.open_runs),
        )
        self.notifier.notify(dataclasses.replace(notice, actions=buttons))

    def _on_scan(self, notice: ScanNotice) -> None:
        kind = notice.event.kind
        if (notice.run_id, kind) in self.notified:
            return
        self.notified.add((notice.run_id, kind))
        policy = policy_for(kind)
        if policy.remedy is Remedy.CLEAR_ONE_METHOD:
            self._resolve_conflict()
        if not policy.stops_run:  # those are told through AuthFailure, once per run
            self.notifier.notify(messages.failure_notice(kind, notice.event.resets_at))

    def _on_auth_failure(self, failure: AuthFailure) -> None:
        notice = dataclasses.replace(messages.failure_notice(failure.kind), urgent=True)
        step = policy_for(failure.kind).fix_step
        if step is None:
            self.notifier.notify(notice)
            return
        fix = NoticeAction("Fix now", lambda: self.in_tk(self.fix_credentials_now))
        self.notifier.notify(dataclasses.replace(notice, actions=(fix,)))
        self.auth_error = failure
        self.fix_credentials_now()

    def _resolve_conflict(self) -> None:
        credentials = self.credentials
        if credentials is None:
            return
        keep_key = self.confirm(messages.CONFLICT_QUESTION)
        method = AuthMethod.API_KEY if keep_key else AuthMethod.OAUTH_TOKEN
        self.save_credentials(
            Credentials(
                credentials.daytona_api_key,
                method,
                anthropic_api_key=credentials.anthropic_api_key if keep_key else None,
                claude_oauth_token=None if keep_key else credentials.claude_oauth_token,
            ),
            lambda: None,
        )

    # -- menu actions (any thread) ---------------------------------------------------------

    def new_run(self) -> None:
        self.in_tk(self._new_run)

    def _new_run(self) -> None:
        if self.credentials is None:
            self.open_wizard()
            return
        from tray.ui.dialogs import NewRunDialog

        NewRunDialog(self.root, self.start_run)

    def start_run(self, spec: RunSpec, started: Callable[[str], None] | None = None) -> None:
        """Start a run from a worker (the engine's process may have to start first);
        ``started`` gets its id on the Tk thread."""
        credentials = self.credentials
        if credentials is None:
            return

        def show(run_id: str) -> None:
            # The run's first events may have come first: they are newer than "queued".
            self.run_status.setdefault(run_id, RunStatus.RUNNING)
            shots = self.shot_status.setdefault(run_id, {})
            for number in range(1, spec.shots + 1):
                shots.setdefault(number, ShotStatus.QUEUED)
            self.refresh()
            if started is not None:
                started(run_id)

        self.in_worker(lambda: self.service.start_run(credentials, spec), show)

    def open_runs(self) -> None:
        """The menu's Runs… (any thread): on Windows and macOS by the tray's corner."""
        self.in_tk(functools.partial(self._open_runs, near_tray=True))

    def show(self) -> None:
        """Come forward (a second launch asked, from any thread): the setup wizard while
        there is nothing to run with, else the Runs window; in front, with the focus."""
        self.in_tk(self._come_forward)

    def _come_forward(self) -> None:
        from tray.ui.placement import bring_forward

        if self.credentials is not None:
            self._open_runs()  # brings it forward
            return
        if self.wizard is None or not self.wizard.top.winfo_exists():
            self.open_wizard()
        if self.wizard is not None:  # as the user left it, at the step they were on
            bring_forward(self.wizard.top)

    def _open_runs(self, anchor: tuple[int, int] | None = None, *, near_tray: bool = False) -> None:
        """``anchor``: where the tray icon was clicked, to open beside it."""
        from tray.ui.placement import bring_forward, place_near
        from tray.ui.runs_window import RunsWindow

        if self.runs_window is None or not self.runs_window.top.winfo_exists():
            self.runs_window = RunsWindow(self.root, self)
            if anchor is not None or near_tray:
                place_near(self.runs_window.top, anchor)
        bring_forward(self.runs_window.top)
        self._refresh_runs_window()

    def _refresh_runs_window(self) -> None:
        """Re-read the history for the Runs window; one read at a time, however many events."""
        window = self.runs_window
        if window is None or self._runs_read_pending:
            return
        self._runs_read_pending = True

        def read() -> list[RunOverview]:
            return self.service.recent_runs(limit=20)

        def show(runs: list[RunOverview]) -> None:
            self._runs_read_pending = False
            window.refresh(runs)

        def failed(error: Exception) -> None:
            self._runs_read_pending = False
            log.info("could not read the run history: %s", error)

        self.in_worker(read, show, failed)

    # -- compare, pick, apply, continue ----------------------------------------------------

    def open_compare(self, run_id: str) -> None:
        """The run's Compare window (any thread); brought forward if it is open already."""
        self.in_tk(functools.partial(self._open_compare, run_id))

    def _open_compare(self, run_id: str) -> None:
        if self._raise_compare(run_id):
            return

        def read() -> tuple[RunComparison, Path | None]:
            from tray.ui.compare_window import last_folder

            return self.service.compare(run_id), last_folder()

        def show(found: tuple[RunComparison, Path | None]) -> None:
            comparison, folder = found
            if self._raise_compare(comparison.run.id):
                return
            from tray.ui.compare_window import CompareWindow

            window = CompareWindow(self.root, self, comparison, folder)
            self.compare_windows[comparison.run.id] = window

        self.in_worker(read, show, self._show_error)

    def _raise_compare(self, run_id: str) -> bool:
        from tray.ui.placement import bring_forward

        window = self.compare_windows.get(run_id)
        if window is None or not window.top.winfo_exists():
            return False
        bring_forward(window.top)
        return True

    def _refresh_compare(self, run_id: str) -> None:
        """A Compare window opened while its run was going shows how the run ended."""
        if run_id not in self.compare_windows:
            return

        def show(comparison: RunComparison) -> None:
            window = self.compare_windows.get(run_id)
            if window is not None and window.top.winfo_exists():
                window.show(comparison)

        self.in_worker(lambda: self.service.compare(run_id), show, lambda _error: None)

    def compare_closed(self, run_id: str) -> None:
        self.compare_windows.pop(run_id, None)

    def continue_from(self, run_id: str, shot: int) -> None:
        """Ask for the next round's prompt, the run's settings prefilled, then start it."""
        if self.credentials is None:
            self.open_wizard()
            return

        def ask(run: RunRecord) -> None:
            from tray.ui.continue_dialog import ContinueDialog

            self.continue_dialog = ContinueDialog(
                self.root, run, shot, functools.partial(self._start_round, run.id, shot)
            )

        self.in_worker(lambda: self.service.find_run(run_id), ask, self._show_error)

    def _start_round(
        self,
        run_id: str,
        shot: int,
        answers: ContinueAnswers,
        started: Callable[[], None],
        refused: Callable[[str], None],
    ) -> None:
        def build() -> RunSpec:
            from tray.runs.rounds import continue_spec

            return continue_spec(
                self.service.history,
                run_id,
                shot,
                answers.prompt,
                shots=answers.shots,
                model=answers.model,
                setup=answers.setup,
                check=answers.check,
            )

        def start(spec: RunSpec) -> None:
            started()
            self.start_run(spec)

        def failed(error: Exception) -> None:
            refused(error.message if isinstance(error, MultishotError) else str(error))

        self.in_worker(build, start, failed)

    def check_credentials(self) -> None:
        credentials = self.credentials
        if credentials is None:
            return

        def report(check: CredentialsCheck) -> None:
            from tray.ui.alerts import Level

            text = messages.check_report(check, credentials.auth_method)
            level = Level.ERROR if check.any_invalid else Level.INFO
            self.inform("Your credentials", text, level)

        self.in_worker(lambda: self.service.check_credentials(credentials), report)

    def setup_credentials(self) -> None:
        self.in_tk(self.open_wizard)

    def fix_credentials(self) -> None:
        self.in_tk(self.fix_credentials_now)

    def fix_credentials_now(self) -> None:
        """The wizard at the step that fixes the waiting auth failure, saying why."""
        failure = self.auth_error
        step = policy_for(failure.kind).fix_step if failure else None
        reason = messages.fix_reason(failure) if failure else None
        self.open_wizard(step or SetupStep.DAYTONA, reason=reason)

    def open_wizard(self, step: SetupStep = SetupStep.DAYTONA, reason: str | None = None) -> None:
        if self.wizard is not None and self.wizard.top.winfo_exists():
            self.wizard.show(step)
            if reason:
                self.wizard.set_reason(reason)
            self.wizard.top.deiconify()
            self.wizard.top.lift()
            return
        from tray.ui.wizard import SetupWizard

        self.wizard = SetupWizard(
            self,
            start_at=step,
            current=self.credentials,
            reason=reason,
            on_close=self._wizard_closed,
        )

    def _wizard_closed(self) -> None:
        self.wizard = None
        # Its Tk variables die with it: collect them on the Tk thread once this call has
        # returned; a collection on a worker thread would finalise them there, and fail.
        self.root.after_idle(gc.collect)

    def save_credentials(self, credentials: Credentials, done: Callable[[], None]) -> None:
        def saved(outcome: StorageOutcome) -> None:
            self.auth_error = None
            self._set_credentials(credentials)
            self.notifier.notify(messages.credentials_saved_notice(outcome))
            done()

        self.in_worker(lambda: self.service.log_in(credentials), saved)

    def log_out(self) -> None:
        self.in_tk(self._log_out)

    def _log_out(self) -> None:
        active = len(self.service.active_runs())
        if active and not self.confirm(messages.log_out_question(active)):
            return

        def cleared(outcome: StorageOutcome) -> None:
            self.credentials = None
            self.auth_error = None
            self.refresh()
            self.notifier.notify(messages.logged_out_notice(outcome))

        self.in_worker(self.service.log_out, cleared)

    def _run_folder(self, run_id: str) -> RunFolder | None:
        record = self.service.history.run(run_id)
        return RunFolder(Path(record.folder)) if record else None

    def open_folder(self, run_id: str) -> None:
        folder = self._run_folder(run_id)
        if folder:
            self._open(folder.path)

    def open_patch(self, run_id: str, shot: int) -> None:
        folder = self._run_folder(run_id)
        if folder:
            self._open(folder.shot(shot).patch)

    def _open(self, path: Path) -> None:
        """Open with the desktop's opener (any thread); say so if it can't, with the path."""
        from tray.ui.widgets import open_path

        try:
            open_path(path)
        except CannotOpen as problem:
            log.info("could not open %s: %s", path, problem.message)
            self.in_tk(functools.partial(self._cannot_open, problem))

    def _cannot_open(self, problem: CannotOpen) -> None:
        from tray.ui.runs_window import OpenFailedWindow

        OpenFailedWindow(self.root, problem)

    def show_log(self, run_id: str, shot: int = 1) -> None:
        def show() -> None:
            from tray.ui.log_viewer import LogViewer

            folder = self._run_folder(run_id)
            if folder:
                LogViewer(
                    self.root,
                    folder.shot(shot).stdout_log,
                    title=f"Log: run {run_id[-6:]}, shot {shot}",
                    is_live=functools.partial(self._shot_is_live, run_id, shot),
                )

        self.in_tk(show)

    def _shot_is_live(self, run_id: str, shot: int) -> bool:
        """Whether a shot of a run this app follows may still write to its log."""
        status = self.shot_status.get(run_id, {}).get(shot)
        running = self.run_status.get(run_id) is RunStatus.RUNNING
        return running and status is not None and not status.is_final

    def cancel_run(self, run_id: str) -> None:
        self.in_worker(lambda: self.service.cancel_run(run_id), lambda _outcome: None)

    def delete_leftovers(self) -> None:
        self.in_tk(self.leftovers.sweep_now)

    def toggle_start_at_login(self) -> None:
        wanted = not self.start_at_login

        def apply() -> bool:
            if wanted:
                self.autostart.enable()
            else:
                self.autostart.disable()
            return self.autostart.is_enabled()

        def applied(enabled: bool) -> None:
            self.start_at_login = enabled
            self.refresh()

        self.in_worker(apply, applied)

    def quit(self) -> None:
        """The menu's Quit (any thread): with runs going, the user is asked first."""
        self.in_tk(self._quit)

    def terminate(self) -> None:
        """SIGTERM or SIGINT (the session ends, Ctrl-C): quit without asking."""
        self.in_tk(functools.partial(self._quit, ask=False))

    def _quit(self, *, ask: bool = True) -> None:
        if self.quitting:
            return
        active = len(self.service.active_runs())
        if ask and active and not self.confirm(messages.quit_question(active)):
            return
        self.quitting = True

        def finish() -> None:
            self.service.shutdown(timeout=60)

        def done(_: None) -> None:
            if self.icon is not None:
                self.icon.stop()
            self.notifier.close()
            # A modal dialog (a message box, its own Tcl loop) would hold the app open
            # past root.quit(); closing every window ends those loops too.
            for window in self.root.tk.splitlist(self.root.tk.call("winfo", "children", ".")):
                self.root.tk.call("destroy", window)
            self.root.quit()

        self.in_worker(finish, done, lambda _exc: done(None))

    # -- icon --------------------------------------------------------------------------------

    def _show_icon(self, icon: TrayIcon | None) -> None:
        if icon is None:
            state, active, tooltip = self.icon_state()
            image = draw_icon(state, active)
            menu = build_menu(self.menu_state(), self)
            icon = create_icon(choose_backend(), image, tooltip, menu, self._icon_activated)
            if icon is None:
                log.warning("no system tray: the app runs without an icon")
                return
            start_icon(icon)
        else:
            icon.on_activate = self._icon_activated
        self.icon = icon
        self.refresh()

    def _icon_activated(self) -> None:
        """A click on the icon (any thread): the Runs window where the icon has a menu
        for the rest; otherwise every action in a window."""
        icon = self.icon
        anchor = icon.anchor if icon is not None else None
        if icon is not None and icon.HAS_MENU:
            self.in_tk(functools.partial(self._open_runs, anchor))
        else:
            self.in_tk(functools.partial(self.open_actions, anchor))

    def open_actions(self, anchor: tuple[int, int] | None = None) -> None:
        """Every action in a window, beside the icon that was clicked (``anchor``)."""
        from tray.ui.dialogs import ActionsWindow
        from tray.ui.placement import bring_forward, place_near

        window = ActionsWindow(self.root, self.menu_state(), self)
        place_near(window.top, anchor)
        bring_forward(window.top)

    def _notify_with_icon(self, title: str, body: str) -> None:
        """Where plyer fails: pystray's own balloon (Windows), if the backend has one."""
        icon: Any = self.icon
        if icon is not None and getattr(icon, "HAS_NOTIFICATION", False):
            icon.notify(body, title)

    def _show_error(self, error: Exception) -> None:
        from tray.ui.alerts import Level

        if isinstance(error, MultishotError):
            self.inform(error.title, error.message, Level.ERROR)
        else:
            self.inform("Something went wrong", str(error), Level.ERROR)

    def _ask(self, question: Question) -> bool:
        from tray.ui.alerts import ask

        return ask(self.root, question)

    def _tell(self, title: str, text: str, level: Level) -> None:
        from tray.ui.alerts import tell

        tell(self.root, title, text, level)


def _ask_folder(title: str, start: Path | None) -> Path | None:
    from tkinter import filedialog

    chosen = filedialog.askdirectory(
        title=title, initialdir=str(start) if start else None, mustexist=False
    )
    return Path(chosen) if chosen else None


def _ask_patch_file(title: str, suggested: str) -> Path | None:
    from tkinter import filedialog

    chosen = filedialog.asksaveasfilename(
        title=title,
        initialfile=suggested,
        defaultextension=".patch",
        filetypes=[("Patches", "*.patch"), ("All files", "*")],
    )
    return Path(chosen) if chosen else None
