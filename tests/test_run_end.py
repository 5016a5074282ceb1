"""Every run reaches its end, whatever fails while it is written down."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.test_engine import API_KEY, Recorder
from tray.credentials.model import AuthMethod, Credentials
from tray.runs.events import RunFinished
from tray.runs.history import History
from tray.runs.manager import RunManager
from tray.runs.spec import RunSpec
from tray.runs.status import RunStatus


class LockedAtTheEnd(History):
    """A history whose database another process keeps locked when the run ends."""

    def finish_run(self, run_id: str, status: RunStatus, detail: str = "") -> None:
        raise sqlite3.OperationalError("database is locked")


def test_a_run_whose_end_cannot_be_recorded_still_ends(
    daytona: DaytonaStandIn, tmp_path: Path
) -> None:
    manager = RunManager(
        Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=API_KEY),
        history=LockedAtTheEnd(tmp_path / "history.sqlite3"),
        results_root=tmp_path / "runs",
    )
    recorder = Recorder()
    manager.subscribe(recorder)
    try:
        run_id = manager.start(RunSpec("task", shots=2))
        assert manager.wait(run_id, 60), "the run never reached its end"
    finally:
        manager.shutdown(timeout=30)
    assert manager.active() == []
    (finished,) = recorder.of(RunFinished)
    assert finished.run_id == run_id
    assert finished.status is RunStatus.DONE
    assert "the history could not record its end (database is locked)" in finished.detail
    assert (tmp_path / "runs" / run_id / "summary.json").is_file()
    assert daytona.live == []
