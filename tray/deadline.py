"""Blocking calls with a deadline: for libraries whose own timeouts are not enough.

A Secret Service stuck on an unlock prompt never answers; the Daytona SDK retries
a timed-out request several times. The call runs on a daemon thread; if it has
not returned in time, the caller gets :class:`DeadlineExceeded` at once and the
thread is left to finish (or not) on its own.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["DeadlineExceeded", "call_with_deadline"]

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The call did not return within its deadline (internal: callers translate it)."""


def call_with_deadline(call: Callable[[], T], seconds: float, name: str) -> T:
    """``call()``'s result or exception, or DeadlineExceeded after ``seconds``."""
    outcome: queue.Queue[tuple[T, None] | tuple[None, BaseException]] = queue.Queue(maxsize=1)

    def work() -> None:
        try:
            outcome.put((call(), None))
        except BaseException as exc:
            outcome.put((None, exc))

    threading.Thread(target=work, name=name, daemon=True).start()
    try:
        value, error = outcome.get(timeout=seconds)
    except queue.Empty:
        raise DeadlineExceeded(name) from None
    if error is not None:
        raise error
    return value  # type: ignore[return-value]  # None only when error is set
