"""The engine's knobs: defaults for users, smaller values for tests and benchmarks."""

from __future__ import annotations

import dataclasses

from tray.sandbox.retry import Backoff

__all__ = ["EngineSettings"]


@dataclasses.dataclass(frozen=True)
class EngineSettings:
    backoff: Backoff = dataclasses.field(default_factory=Backoff)
    claude_reruns: int = 3  # re-runs of Claude after a rate limit or an overloaded API
    cli_retries: int = 6  # CLAUDE_CODE_MAX_RETRIES: the CLI's own retries within one run
    # A usage limit that resets within this many minutes is waited for, then resumed.
    wait_for_reset_minutes: int = 15
    poll_seconds: float = 0.5  # how often a shot asks whether Claude has exited
    stream_join_seconds: float = 15.0  # how long the live log may lag behind the exit
    # Daytona's idle auto-stop can ignore a running process: keep it off the shot's way.
    auto_stop_margin_minutes: int = 15
    # Safety nets in Daytona itself, for a sandbox the engine could not delete (app
    # killed, network gone): 0 deletes a sandbox as soon as it stops (for example by
    # auto-stop), and a sandbox is destroyed this long after the shot's time limit
    # whatever its state.
    auto_delete_minutes: int = 0
    lifetime_margin_minutes: int = 30
    # A time limit in seconds for every shot, instead of the spec's minutes (tests).
    time_limit_seconds: float | None = None
    # The same for the check command (the spec's check_time_limit_minutes otherwise).
    check_time_limit_seconds: float | None = None
