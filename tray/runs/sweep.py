"""What a sweep of leftover sandboxes did."""

from __future__ import annotations

import dataclasses

__all__ = ["Sweep"]


@dataclasses.dataclass
class Sweep:
    """The sandboxes a sweep deleted, and those it could not delete (and why)."""

    deleted: list[str] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)
    problem: str = ""
