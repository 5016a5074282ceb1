"""Runs in words: the labels and figures both shells show, written once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from typing import TYPE_CHECKING

from tray.runs.status import RunStatus, ShotStatus, count_working

if TYPE_CHECKING:  # the menu and notices use the words here without the history
    from tray.runs.history import RunRecord, ShotRecord

__all__ = [
    "RunOverview",
    "first_line",
    "format_change",
    "format_check",
    "format_cost",
    "format_duration",
    "format_reset",
    "format_time",
    "plural",
    "repository_name",
]


def plural(count: int, noun: str) -> str:
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}es" if noun.endswith(("s", "x", "ch", "sh")) else f"{count} {noun}s"


def format_reset(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """A reset time in this computer's time zone: "19:32" today, else with its day."""
    local = when.astimezone()
    today = (now or dt.datetime.now(dt.timezone.utc)).astimezone().date()
    if local.date() == today:
        return f"{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def format_time(stamp: float) -> str:
    """A moment (seconds since the epoch) in this computer's time zone, as reset times are."""
    return format_reset(dt.datetime.fromtimestamp(stamp, dt.timezone.utc))


def first_line(text: str, limit: int = 80) -> str:
    """A text's first non-blank line, its spaces collapsed, cut with "…" past ``limit``."""
    line = next((" ".join(line.split()) for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def repository_name(url: str | None) -> str:
    """ "owner/name" of a repository URL (https, ssh, scp-like or file), "—" for none."""
    if not url:
        return "—"
    path = url.rstrip("/").removesuffix(".git")
    parts = [part for part in path.replace(":", "/").split("/") if part]
    return "/".join(parts[-2:]) if len(parts) >= 2 else path


def format_cost(usd: float | None) -> str:
    if usd is None:
        return "—"
    if 0 < usd < 0.01:
        return "< $0.01"
    return f"${usd:,.2f}"


def format_duration(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "—"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_check(exit_code: int | None, duration_ms: int | None) -> str:
    """ "passed (4.2 s)", "failed, exit 1 (3.0 s)", or "—" when no check ran."""
    if exit_code is None:
        return "—"
    took = "" if duration_ms is None else f" ({format_duration(duration_ms)})"
    return f"passed{took}" if exit_code == 0 else f"failed, exit {exit_code}{took}"


def format_change(added: int, removed: int, binary_files: int = 0) -> str:
    """ "+12 −3", with ", 1 binary" when binary files changed; "—" for no change."""
    if not (added or removed or binary_files):
        return "—"
    lines = f"+{added} −{removed}"
    return f"{lines}, {binary_files} binary" if binary_files else lines


@dataclasses.dataclass(frozen=True)
class RunOverview:
    """A run from the history with its shots, as both shells list it."""

    record: RunRecord
    shots: list[ShotRecord]

    @property
    def status(self) -> RunStatus:
        """Its status; an unfinished run whose process is gone shows as interrupted."""
        if self.record.status is RunStatus.RUNNING and not self.record.is_alive():
            return RunStatus.INTERRUPTED
        return self.record.status

    @property
    def succeeded(self) -> int:
        return sum(1 for shot in self.shots if shot.status is ShotStatus.SUCCEEDED)

    @property
    def round(self) -> int:
        """1 for a first run, 2 for a run that continues another's work, and so on."""
        return self.record.round

    @property
    def parent_run_id(self) -> str | None:
        """The run this one continues."""
        return self.record.parent_run_id

    @property
    def repository(self) -> str:
        return repository_name(self.record.spec.get("repo_url"))

    @property
    def cost_usd(self) -> float | None:
        """What its shots cost together, None while none has reported a cost."""
        costs = [shot.cost_usd for shot in self.shots if shot.cost_usd is not None]
        return sum(costs) if costs else None

    def elapsed_ms(self, now: float | None = None) -> float:
        """How long it ran, or has been running."""
        end = self.record.finished_at
        if end is None:
            end = now if now is not None else time.time()
        return max(0.0, end - self.record.created_at) * 1000

    @property
    def shots_summary(self) -> str:
        """ "3/4 working" while it runs, "2/4 succeeded" after."""
        total = len(self.shots)
        if self.status is RunStatus.RUNNING:
            return f"{count_working(shot.status for shot in self.shots)}/{total} working"
        return f"{self.succeeded}/{total} succeeded"

    @property
    def progress(self) -> str:
        """ "running 3/4" while Claude works in 3 of 4 shots; the status in words after."""
        if self.status is RunStatus.RUNNING:
            working = count_working(shot.status for shot in self.shots)
            return f"running {working}/{len(self.shots)}"
        return self.status.label
