"""Cooperative cancellation shared by every layer.

A ``CancelToken`` is checked between steps and inside every wait or poll, so a cancel ends a run
promptly (well under a second) without killing the worker. ``wait`` replaces ``time.sleep``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from atp_core.errors import Cancelled


class CancelToken:
    """A flag set once; optionally also polls an external source (e.g. a database field)."""

    def __init__(self, poll: Callable[[], bool] | None = None, poll_interval: float = 0.5) -> None:
        self._event = threading.Event()
        self._poll = poll
        self._poll_interval = poll_interval
        self.reason: str | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        if not self._event.is_set() and self._poll is not None and self._poll():
            self.cancel("cancel requested")
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled(self.reason or "cancelled")

    def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``; raise ``Cancelled`` as soon as the token is cancelled."""
        import time

        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            self.raise_if_cancelled()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            step = remaining if self._poll is None else min(remaining, self._poll_interval)
            if self._event.wait(step):
                self.raise_if_cancelled()


NEVER = CancelToken()
"""A token nobody cancels, for callers that do not need cancellation."""
