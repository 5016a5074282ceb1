"""The run engine with the real Claude Code CLI (pinned, from npm) in the Daytona
stand-in's sandboxes, against the loopback Messages API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from tests.claude_cli import QUIET_ENV, real_claude
from tests.daytona_standin import VALID_DAYTONA_KEY, DaytonaStandIn
from tests.notification_server import NotificationServer
from tests.standins import AnthropicStandIn
from tests.test_engine import Recorder
from tray.credentials.model import AuthMethod, Credentials, SetupStep
from tray.failures import FailureKind
from tray.runs.events import AuthFailure, RunFinished, ShotChanged
from tray.runs.history import History
from tray.runs.manager import RunManager
from tray.runs.settings import EngineSettings
from tray.runs.spec import RunSpec
from tray.sandbox.retry import Backoff

API_KEY = "sk-ant-api03-" + "Q" * 40 + "rea1"
TOKEN = "sk-ant-oat01-" + "Q" * 40 + "rea2"
WITH_KEY = Credentials(VALID_DAYTONA_KEY, AuthMethod.API_KEY, anthropic_api_key=API_KEY)
WITH_TOKEN = Credentials(VALID_DAYTONA_KEY, AuthMethod.OAUTH_TOKEN, claude_oauth_token=TOKEN)


@pytest.fixture
def api() -> Iterator[AnthropicStandIn]:
    with AnthropicStandIn() as server:
        yield server


@pytest.fixture
def standin(tmp_path: Path, api: AnthropicStandIn) -> Iterator[DaytonaStandIn]:
    executable = real_claude()
    with DaytonaStandIn(tmp_path / "daytona") as server:
        server.real_claude = executable
        server.extra_env.update(ANTHROPIC_BASE_URL=api.url, **QUIET_ENV)
        yield server


def run_with(
    standin: DaytonaStandIn,
    tmp_path: Path,
    credentials: Credentials,
    spec: RunSpec,
    settings: EngineSettings | None = None,
) -> tuple[RunManager, str, Recorder]:
    manager = RunManager(
        credentials,
        history=History(tmp_path / "history.sqlite3"),
        results_root=tmp_path / "runs",
        daytona_url=standin.api_url,
        settings=settings or EngineSettings(backoff=Backoff(attempts=3, base_seconds=0.1)),
    )
    recorder = Recorder()
    manager.subscribe(recorder)
    try:
        run_id = manager.start(spec)
        assert manager.wait(run_id, 120), "the run did not finish"
    finally:
        manager.shutdown(timeout=60)
    return manager, run_id, recorder


def test_a_shot_that_writes_a_file_brings_back_its_patch(
    standin: DaytonaStandIn, api: AnthropicStandIn, tmp_path: Path
) -> None:
    api.messages = "tool_write"
    manager, run_id, _ = run_with(standin, tmp_path, WITH_KEY, RunSpec("Write hello.txt", shots=2))
    shots = manager.history.shots(run_id)
    assert [s.status for s in shots] == ["succeeded", "succeeded"]
    assert shots[0].changed_files == ["hello.txt"]
    patch = Path(cast(str, shots[0].patch_path)).read_text()
    assert "+hello from the stand-in" in patch
    assert (shots[0].cost_usd or 0) > 0
    assert standin.live == []


@pytest.mark.parametrize(
    ("messages", "credentials", "kind"),
    [
        ("invalid_key", WITH_KEY, FailureKind.INVALID),
        ("expired_token", WITH_TOKEN, FailureKind.EXPIRED),
        ("revoked_token", WITH_TOKEN, FailureKind.REVOKED),
        ("org_not_allowed", WITH_TOKEN, FailureKind.ORG_DISABLED),
        ("billing", WITH_KEY, FailureKind.BILLING),
    ],
)
def test_a_refused_credential_stops_every_shot_in_seconds(
    standin: DaytonaStandIn,
    api: AnthropicStandIn,
    tmp_path: Path,
    messages: str,
    credentials: Credentials,
    kind: FailureKind,
) -> None:
    api.messages = messages
    manager, run_id, recorder = run_with(standin, tmp_path, credentials, RunSpec("task", shots=3))
    (failure,) = recorder.of(AuthFailure)
    assert failure.kind is kind
    assert recorder.of(RunFinished)[0].status == "auth_failed"
    assert {s.status for s in manager.history.shots(run_id)} <= {"auth_failed", "cancelled"}
    # The CLI would retry an API key's 401 for minutes; one refusal is enough.
    assert api.message_requests <= 3 * 3
    assert standin.live == []


def test_a_session_limit_far_off_ends_the_shot_with_its_reset_time(
    standin: DaytonaStandIn, api: AnthropicStandIn, tmp_path: Path
) -> None:
    api.messages = "session_limit"
    api.reset_at = int(time.time()) + 3 * 3600
    manager, run_id, _ = run_with(standin, tmp_path, WITH_TOKEN, RunSpec("task", shots=1))
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "quota_exhausted"
    reset = time.strftime("%H:%M", time.localtime(api.reset_at))
    assert "it resets at " in shot.detail
    assert f"{reset}." in shot.detail  # with the day before it when that is not today


def test_a_session_limit_about_to_reset_is_waited_for(
    standin: DaytonaStandIn, api: AnthropicStandIn, tmp_path: Path
) -> None:
    api.messages = "session_limit"
    api.fail_first = 1
    api.reset_at = int(time.time()) + 2
    manager, run_id, recorder = run_with(standin, tmp_path, WITH_TOKEN, RunSpec("task", shots=1))
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "succeeded", shot.detail
    details = [e.shot.detail for e in recorder.of(ShotChanged)]
    assert any(d.startswith("Usage limit reached: resuming at ") for d in details)


def test_the_clis_own_overload_retries_show_in_the_shot_status(
    standin: DaytonaStandIn, api: AnthropicStandIn, tmp_path: Path
) -> None:
    api.messages = "overloaded"
    api.fail_first = 2
    manager, run_id, recorder = run_with(standin, tmp_path, WITH_KEY, RunSpec("task", shots=1))
    (shot,) = manager.history.shots(run_id)
    assert shot.status == "succeeded", shot.detail
    details = [e.shot.detail for e in recorder.of(ShotChanged)]
    assert "API overloaded, retry 1 of 6" in details
    assert "API overloaded, retry 2 of 6" in details
    assert recorder.of(AuthFailure) == []


@pytest.mark.usefixtures("display", "secret_service")
def test_the_tray_announces_an_invalid_key_once_and_opens_the_fix(
    standin: DaytonaStandIn,
    api: AnthropicStandIn,
    tmp_path: Path,
    notifications: NotificationServer,
) -> None:
    import tkinter as tk

    from tests.test_tray import pump, pump_for, start_run
    from tray.credentials.keychain import CredentialStore
    from tray.failures import policy_for
    from tray.service import Service
    from tray.ui.app import TrayApp
    from tray.ui.widgets import close_window

    api.messages = "invalid_key"
    root = tk.Tk()
    root.withdraw()
    service = Service(
        CredentialStore(),
        history_path=tmp_path / "h.sqlite3",
        daytona_url=standin.api_url,
        engine_process=True,
    )
    app = TrayApp(root, service=service, with_icon=False)
    try:
        app._set_credentials(WITH_KEY)
        run_id = start_run(app, RunSpec("task", shots=2))
        pump(root, lambda: app.run_status.get(run_id) == "auth_failed", timeout=60)
        pump(root, lambda: len(notifications.received) >= 1)
        pump_for(root, 1.0)
        assert [n.summary for n in notifications.received] == [
            policy_for(FailureKind.INVALID).title
        ]
        assert app.wizard is not None  # the fix: the setup wizard, at the Claude step
        assert app.wizard.step is SetupStep.CLAUDE
    finally:
        service.shutdown(timeout=30)
        app.notifier.close()
        app.close()
        close_window(root)
