"""A pool of connections to one host, with selection strategies and real usage accounting."""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import libvirt

from atp_core.errors import InvalidInput

from .config import ConnectionConfig
from .connection import ConnectionState, HostConnection

T = TypeVar("T")
STRATEGIES = ("round_robin", "least_connections", "random")


@dataclass
class PoolMetrics:
    total: int
    in_use: int
    failures: int
    reconnects: int
    calls: int
    average_call_ms: float


class _Slot:
    def __init__(self, connection: HostConnection) -> None:
        self.connection = connection
        self.in_use = 0
        self.last_used = time.monotonic()


class ConnectionPool:
    """``min_size``..``max_size`` connections to ``uri``; ``acquire()`` lends one out.

    least_connections picks the connection with the fewest current borrowers and opens a new
    one (up to ``max_size``) when every existing one is busy.
    """

    def __init__(
        self,
        uri: str,
        *,
        min_size: int = 1,
        max_size: int = 4,
        strategy: str = "round_robin",
        config: ConnectionConfig | None = None,
    ) -> None:
        if strategy not in STRATEGIES:
            raise InvalidInput(f"pool strategy {strategy!r}: allowed {', '.join(STRATEGIES)}")
        if not 1 <= min_size <= max_size:
            raise InvalidInput(f"pool size: need 1 <= min ({min_size}) <= max ({max_size})")
        self.uri = uri
        self.min_size = min_size
        self.max_size = max_size
        self.strategy = strategy
        self.config = config or ConnectionConfig()
        self._slots: list[_Slot] = []
        self._lock = threading.Lock()
        self._rr = itertools.count()
        self._closed_failures = 0
        self._closed_reconnects = 0

    def open(self) -> ConnectionPool:
        """Open the minimum number of connections; raises ConnectionFailed on the first error."""
        while len(self._slots) < self.min_size:
            self._slots.append(_Slot(HostConnection(self.uri, self.config).connect()))
        return self

    def _choose(self) -> _Slot:
        with self._lock:
            self._close_idle()
            if not self._slots:
                self._slots.append(_Slot(HostConnection(self.uri, self.config)))
            if self.strategy == "least_connections":
                slot = min(self._slots, key=lambda s: s.in_use)
                if slot.in_use > 0 and len(self._slots) < self.max_size:
                    slot = _Slot(HostConnection(self.uri, self.config))
                    self._slots.append(slot)
            elif self.strategy == "random":
                slot = random.choice(self._slots)
            else:
                slot = self._slots[next(self._rr) % len(self._slots)]
            slot.in_use += 1
            slot.last_used = time.monotonic()
            return slot

    def _close_idle(self) -> None:
        """Close connections idle longer than ``idle_timeout``, never going below ``min_size``;
        unconnected ones go first, then the longest idle, so a live connection is kept."""
        now = time.monotonic()
        idle = [
            s for s in self._slots if s.in_use == 0 and now - s.last_used > self.config.idle_timeout
        ]
        idle.sort(key=lambda s: (s.connection.state == ConnectionState.CONNECTED, s.last_used))
        for slot in idle[: max(0, len(self._slots) - self.min_size)]:
            self._closed_failures += slot.connection.failures
            self._closed_reconnects += slot.connection.reconnects
            slot.connection.close()
            self._slots.remove(slot)

    @contextlib.contextmanager
    def acquire(self) -> Iterator[HostConnection]:
        slot = self._choose()
        try:
            yield slot.connection
        finally:
            with self._lock:
                slot.in_use -= 1
                slot.last_used = time.monotonic()

    def call(self, fn: Callable[[libvirt.virConnect], T]) -> T:
        with self.acquire() as connection:
            return connection.call(fn)

    def metrics(self) -> PoolMetrics:
        with self._lock:
            conns = [s.connection for s in self._slots]
            calls = sum(c.calls for c in conns)
            seconds = sum(c.total_call_seconds for c in conns)
            return PoolMetrics(
                total=len(self._slots),
                in_use=sum(s.in_use for s in self._slots),
                failures=self._closed_failures + sum(c.failures for c in conns),
                reconnects=self._closed_reconnects + sum(c.reconnects for c in conns),
                calls=calls,
                average_call_ms=1000 * seconds / calls if calls else 0.0,
            )

    def primary(self) -> HostConnection:
        """A connection for long-lived users (sessions); the least used one."""
        with self._lock:
            if not self._slots:
                self._slots.append(_Slot(HostConnection(self.uri, self.config)))
            return min(self._slots, key=lambda s: s.in_use).connection

    def close(self) -> None:
        with self._lock:
            for slot in self._slots:
                slot.connection.close()
            self._slots.clear()
