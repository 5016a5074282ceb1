"""Exponential backoff with jitter, shared by the Daytona calls and the Claude re-runs."""

from __future__ import annotations

import dataclasses
import random

__all__ = [
    "Backoff",
]


@dataclasses.dataclass(frozen=True)
class Backoff:
    attempts: int = 4
    base_seconds: float = 1.0
    max_seconds: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_seconds)
        ceiling = min(self.max_seconds, self.base_seconds * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto
