"""The one facade both shells call for everything that is policy, not presentation.

Log in and out, check credentials, start, cancel and list runs, clean up after a
crash: the command line and the tray app do each of these through this class,
so they cannot drift apart. What to do about each failure kind is in
:mod:`tray.failures`. Calls that touch the keychain, the network or Daytona block:
the tray calls them from worker threads.
"""

from __future__ import annotations

import enum
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tray.credentials.keychain import CredentialStore, StorageOutcome
from tray.credentials.model import Credentials
from tray.credentials.secret_input import DAYTONA_API_KEY_ENV, credentials_from_environment
from tray.errors import NotLoggedIn, RunNotFound
from tray.runs.sweep import Sweep

if TYPE_CHECKING:  # each loaded by the first call that needs it: `status` needs none
    from tray.credentials.validation import CredentialsCheck
    from tray.runs.compare import RunComparison
    from tray.runs.display import RunOverview
    from tray.runs.engine import Engine
    from tray.runs.events import Subscriber
    from tray.runs.history import History, RunRecord
    from tray.runs.landing import Applied, ShotChain
    from tray.runs.settings import EngineSettings
    from tray.runs.spec import RunSpec

__all__ = ["CancelOutcome", "Service", "Sweep"]


class CancelOutcome(enum.Enum):
    CANCELLED = "cancelled"  # a run of this process: its shots stop now
    REQUESTED = "requested"  # another live process runs it and will stop it within seconds
    NOT_RUNNING = "not_running"  # its process is gone; `cleanup` deletes what it left
    ALREADY_ENDED = "already_ended"


class Service:
    """Multishot's core as one object: credentials, runs, recovery."""

    def __init__(
        self,
        store: CredentialStore | None = None,
        *,
        history_path: Path | None = None,
        results_root: Path | None = None,
        daytona_url: str | None = None,
        settings: EngineSettings | None = None,
        engine_process: bool = False,
    ) -> None:
        """``engine_process``: run the engine in a child process that lives only while
        runs are active (the tray app, which must return to its idle size after runs);
        otherwise in this process (the command line, which ends with its run)."""
        self.store = store or CredentialStore()
        self._history_path = history_path
        self._results_root = results_root
        self._daytona_url = daytona_url
        self._settings = settings
        self._engine_process = engine_process
        self._history: History | None = None
        self._engine: Engine | None = None
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()

    # -- credentials ---------------------------------------------------------------------

    def credentials_for_run(self, environ: Mapping[str, str] = os.environ) -> Credentials:
        """The environment's credentials when DAYTONA_API_KEY is set, else the keychain's."""
        if environ.get(DAYTONA_API_KEY_ENV):
            return credentials_from_environment(environ)
        credentials = self.store.load()
        if credentials is None:
            raise NotLoggedIn(
                "No credentials: run `multishot login`, or set DAYTONA_API_KEY and "
                "ANTHROPIC_API_KEY or CLAUDE_CODE_OAUTH_TOKEN."
            )
        return credentials

    def check_credentials(self, credentials: Credentials) -> CredentialsCheck:
        from tray.credentials.validation import check_credentials

        return check_credentials(credentials)

    def log_in(self, credentials: Credentials) -> StorageOutcome:
        """Save the credentials; runs started from now on use them."""
        outcome = self.store.save(credentials)
        self.use_credentials(credentials)
        return outcome

    def log_out(self) -> StorageOutcome:
        """Cancel every run (deleting its sandboxes), then clear the keychain.

        SESSION_ONLY: no keychain could be reached, so nothing was removed from it.
        """
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.shutdown()
        return self.store.clear()

    # -- runs ----------------------------------------------------------------------------

    @property
    def history(self) -> History:
        from tray.runs.history import History

        with self._lock:
            if self._history is None:
                self._history = History(self._history_path)
            return self._history

    def use_credentials(self, credentials: Credentials) -> Engine:
        """The run engine, created on first use; new credentials apply to the next shots."""
        history = None if self._engine_process else self.history
        with self._lock:
            if self._engine is None:
                self._engine = self._new_engine(credentials, history)
                for callback in self._subscribers:
                    self._engine.subscribe(callback)
            else:
                self._engine.set_credentials(credentials)
            return self._engine

    def _new_engine(self, credentials: Credentials, history: History | None) -> Engine:
        """In a child process when asked for (there is then no history here), else here."""
        if history is None:
            from tray.runs.engine_process import EngineProcess

            return EngineProcess(
                credentials,
                history_path=self._history_path,
                results_root=self._results_root,
                daytona_url=self._daytona_url,
                settings=self._settings,
            )
        from tray.runs.manager import RunManager

        return RunManager(
            credentials,
            history=history,
            results_root=self._results_root,
            daytona_url=self._daytona_url,
            settings=self._settings,
        )

    def subscribe(self, callback: Subscriber) -> None:
        """Engine events of every run this service starts (on worker threads), from now on
        and across log-outs (a new engine gets every subscriber)."""
        with self._lock:
            self._subscribers.append(callback)
            if self._engine is not None:
                self._engine.subscribe(callback)

    def start_run(self, credentials: Credentials, spec: RunSpec) -> str:
        return self.use_credentials(credentials).start(spec)

    def wait(self, run_id: str, timeout: float) -> bool:
        engine = self._engine
        return True if engine is None else engine.wait(run_id, timeout)

    def active_runs(self) -> list[str]:
        engine = self._engine
        return [] if engine is None else engine.active()

    def cancel_run(self, run_id: str) -> CancelOutcome:
        engine = self._engine
        if engine is not None and run_id in engine.active():
            engine.cancel(run_id)
            return CancelOutcome.CANCELLED
        record = self.find_run(run_id)
        if record.finished_at is not None:
            return CancelOutcome.ALREADY_ENDED
        if not record.is_alive():
            return CancelOutcome.NOT_RUNNING
        self.history.request_cancel(record.id)
        return CancelOutcome.REQUESTED

    def find_run(self, prefix: str) -> RunRecord:
        """A run by id or unique prefix; otherwise say what matched."""
        matches = self.history.find_runs(prefix)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise RunNotFound(f"No run matches '{prefix}'. `multishot runs` lists them.")
        listed = ", ".join(record.id for record in matches[:5])
        raise RunNotFound(f"'{prefix}' matches several runs ({listed}); give more of the id.")

    def overview(self, run_id: str) -> RunOverview:
        from tray.runs.display import RunOverview

        record = self.find_run(run_id)
        return RunOverview(record, self.history.shots(record.id))

    def recent_runs(self, limit: int = 50) -> list[RunOverview]:
        from tray.runs.display import RunOverview

        history = self.history
        return [RunOverview(record, history.shots(record.id)) for record in history.runs(limit)]

    # -- compare, pick, apply: local files and git only, no credentials --------------------

    def compare(self, run_prefix: str) -> RunComparison:
        """The run's shots side by side, ranked, with the judge's verdict if there is one."""
        from tray.runs.compare import compare_run

        return compare_run(self.history, self.find_run(run_prefix).id)

    def pick(self, run_prefix: str, shot: int | None) -> RunRecord:
        """Record ``shot`` as the run's winner (None takes the pick back); the updated run."""
        from tray.runs.landing import ended_shot

        record = self.find_run(run_prefix)
        if shot is not None:
            ended_shot(self.history, record, shot)
        self.history.pick_shot(record.id, shot)
        return self.find_run(record.id)

    def chain(self, run_prefix: str, shot: int | None = None) -> ShotChain:
        """What landing ``shot`` (default: the winner) means: its changes after every
        earlier round's chosen shot."""
        from tray.errors import ShotUnusable
        from tray.runs.landing import chain_for

        record = self.find_run(run_prefix)
        if shot is None:
            shot = self.compare(record.id).winner
            if shot is None:
                raise ShotUnusable(f"Run {record.id} has no shots to apply.")
        return chain_for(self.history, record, shot)

    def apply(
        self, run_prefix: str, shot: int | None, to: Path, branch: str | None = None
    ) -> Applied:
        """Commit the shot's changes (one commit per round) on a new branch of the clone at
        ``to``, starting at the run's first commit; the checkout there is never touched.
        A run made without a repository is applied into the empty or new folder ``to``."""
        from tray.runs.landing import land

        return land(self.chain(run_prefix, shot), to, branch)

    def save_patch(self, run_prefix: str, shot: int | None, to: Path) -> Applied:
        """Write the shot's changes (every round's, in order) into the new patch file ``to``."""
        from tray.repo.apply import write_patch
        from tray.runs.landing import Applied

        chain = self.chain(run_prefix, shot)
        return Applied(chain, write_patch(to, chain.changes))

    def recover_after_crash(self, credentials: Credentials) -> Sweep:
        """The one crash-recovery policy, for both shells: after a run died, or while
        sandboxes that could not be deleted are on record, sweep.

        Runs whose process died are marked interrupted; only then are sandboxes
        listed and the orphans deleted. Listing loads the Daytona SDK (about 70 MB),
        which a clean start should not pay for; `multishot cleanup` always sweeps.
        """
        history = self.history
        if not history.mark_abandoned() and not history.leftovers():
            return Sweep()
        return self.sweep(credentials)

    def sweep(self, credentials: Credentials) -> Sweep:
        """Delete every Multishot sandbox that no live run owns."""
        return self.use_credentials(credentials).cleanup_orphans()

    def sandboxes_left(self, run_id: str | None = None) -> list[str]:
        """Sandboxes (of one run, or of all) that could not be deleted, still on record."""
        return self.history.leftovers(run_id)

    def shutdown(self, timeout: float = 120) -> None:
        """Cancel every run and wait for their sandboxes to be deleted."""
        engine = self._engine
        if engine is not None:
            engine.shutdown(timeout)
