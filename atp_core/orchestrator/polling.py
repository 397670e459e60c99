"""``poll_until``: the one poll loop of the step handlers that wait for something to hold.

A waiting step (a screen, a text, a domain state, typed keys, a check repeated by
``wait_until``) tries, waits ``interval`` on the step's token (so a cancel or the step's
deadline ends the wait at once) and tries again until the attempt answers or the step's time,
less a ``margin`` kept for the failure report (artifacts, the best screenshot), is up. The last
wait is cut to that deadline, so the last try happens at it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

T = TypeVar("T")


class _Token(Protocol):
    def wait(self, timeout: float) -> None: ...


class _Call(Protocol):
    token: _Token

    def remaining(self) -> float: ...


@dataclass
class Polling:
    """Where a poll stands: when it started, its deadline and the tries made so far."""

    started: float
    deadline: float
    tries: int = 0

    def elapsed(self) -> float:
        """Seconds since the first try began."""
        return time.monotonic() - self.started

    def left(self) -> float:
        """Seconds until the deadline (0 once it has passed)."""
        return max(0.0, self.deadline - time.monotonic())


def poll_until(
    call: _Call,
    attempt: Callable[[Polling], T | None],
    *,
    interval: float,
    margin: float = 0.0,
    at_least: float = 0.0,
) -> tuple[T | None, Polling]:
    """Call ``attempt`` until it returns something other than None; ``(that, polling)``, or
    ``(None, polling)`` when the deadline — the step's remaining time less ``margin``, but at
    least ``at_least`` seconds — passed first. ``attempt`` may raise to end the poll early
    (a definite failure); the step's cancel or timeout raises ``Cancelled`` from the wait.

    >>> class Token:
    ...     def wait(self, timeout): pass
    >>> class Call:
    ...     token = Token()
    ...     def remaining(self): return 5.0
    >>> answer, polling = poll_until(Call(), lambda p: p.tries if p.tries == 3 else None,
    ...                              interval=0.0)
    >>> answer, polling.tries
    (3, 3)
    """
    started = time.monotonic()
    polling = Polling(started, started + max(at_least, call.remaining() - margin))
    while True:
        polling.tries += 1
        answer = attempt(polling)
        if answer is not None:
            return answer, polling
        left = polling.deadline - time.monotonic()
        if left <= 0:
            return None, polling
        call.token.wait(min(interval, left))
