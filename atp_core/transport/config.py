"""Connection settings. The caller's values are used as given; defaults only fill gaps."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionConfig:
    connect_timeout: float = 10.0
    """Seconds to wait for libvirt to open a connection (ssh/tcp can hang much longer)."""
    keepalive_interval: int = 5
    """libvirt keepalive: seconds between probes (0 disables)."""
    keepalive_count: int = 3
    """libvirt keepalive: unanswered probes before the connection is closed."""
    heartbeat_interval: float = 10.0
    """Seconds between our own liveness checks of an idle connection (0 disables)."""
    reconnect_base: float = 0.5
    reconnect_cap: float = 30.0
    reconnect_attempts: int = 8
    jitter: float = 0.2
    """Each backoff delay is multiplied by a random factor in [1 - jitter, 1 + jitter]."""
    idle_timeout: float = 300.0
    """A pool closes connections above its minimum after this many idle seconds."""

    def backoff_delay(self, attempt: int, rand: float) -> float:
        """Delay before reconnect attempt ``attempt`` (0-based); ``rand`` in [0, 1)."""
        delay = min(self.reconnect_cap, self.reconnect_base * (2**attempt))
        return max(0.0, delay * (1 - self.jitter + 2 * self.jitter * rand))
