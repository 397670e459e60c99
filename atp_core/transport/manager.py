"""Many hosts by name: add/remove, run work on one host or on many with a concurrency bound."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import libvirt

from atp_core.errors import ConnectionFailed, DomainNotFound, InfrastructureError, InvalidInput

from .config import ConnectionConfig
from .connection import HostConnection, is_connection_error
from .pool import ConnectionPool

T = TypeVar("T")


@dataclass
class HostResult(Generic[T]):
    """The outcome of ``fn`` on one host: ``value`` or ``error`` (never both)."""

    host: str
    value: T | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class TransportManager:
    """Connection pools to many libvirt hosts, addressed by the names the caller gives them."""

    def __init__(self, config: ConnectionConfig | None = None) -> None:
        self.config = config or ConnectionConfig()
        self._pools: dict[str, ConnectionPool] = {}
        self._lock = threading.Lock()

    def add_host(
        self,
        name: str,
        uri: str,
        config: ConnectionConfig | None = None,
        *,
        pool_min: int = 1,
        pool_max: int = 4,
        strategy: str = "round_robin",
        wait: bool = True,
    ) -> ConnectionPool:
        """Register a host; with ``wait`` the first connection opens now (or raises its error)."""
        pool = ConnectionPool(
            uri,
            min_size=pool_min,
            max_size=pool_max,
            strategy=strategy,
            config=config or self.config,
        )
        if wait:
            pool.open()
        with self._lock:
            old = self._pools.pop(name, None)
            self._pools[name] = pool
        if old is not None:
            old.close()
        return pool

    def remove_host(self, name: str) -> None:
        with self._lock:
            pool = self._pools.pop(name, None)
        if pool is not None:
            pool.close()

    def hosts(self) -> list[str]:
        with self._lock:
            return list(self._pools)

    def pool(self, name: str) -> ConnectionPool:
        with self._lock:
            try:
                return self._pools[name]
            except KeyError:
                known = ", ".join(self._pools) or "none"
                raise InvalidInput(f"unknown host {name!r} (known: {known})") from None

    def connection(self, name: str) -> HostConnection:
        """A long-lived connection to ``name`` for a VmSession."""
        return self.pool(name).primary()

    def execute_on_host(self, name: str, fn: Callable[[libvirt.virConnect], T]) -> T:
        """Run ``fn(conn)`` on host ``name``. libvirt errors become ConnectionFailed (the host
        cannot be reached), DomainNotFound, or InfrastructureError (the host refused the call)."""
        try:
            return self.pool(name).call(fn)
        except libvirt.libvirtError as exc:
            message = f"{name}: {exc.get_error_message()}"
            if is_connection_error(exc):
                raise ConnectionFailed(message) from exc
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                raise DomainNotFound(message) from exc
            raise InfrastructureError(message) from exc

    def execute_on_hosts(
        self,
        names: Sequence[str],
        fn: Callable[[libvirt.virConnect], T],
        *,
        max_concurrency: int = 4,
    ) -> list[HostResult[T]]:
        """Run ``fn`` on each host, at most ``max_concurrency`` at once; results in input order."""
        if max_concurrency < 1:
            raise InvalidInput("max_concurrency must be at least 1")

        def one(name: str) -> HostResult[T]:
            try:
                return HostResult(name, value=self.execute_on_host(name, fn))
            except Exception as exc:  # noqa: BLE001 - each host gets its own result or error
                return HostResult(name, error=exc)

        if not names:
            return []
        with ThreadPoolExecutor(max_workers=min(max_concurrency, len(names))) as ex:
            return list(ex.map(one, names))

    def metrics(self) -> dict[str, Any]:
        with self._lock:
            return {name: pool.metrics() for name, pool in self._pools.items()}

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
