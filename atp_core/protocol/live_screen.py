"""The screens of VMs being watched: one display client per VM, whatever the number of viewers.

A VM whose domain has SPICE graphics is watched through a ``SpiceClient`` kept connected while
someone asks for its screen (the server streams its updates; a screenshot is the latest frame,
no capture on the VM); others through libvirt screenshots. A client nobody asked for in
``idle_close`` seconds is closed.
"""

from __future__ import annotations

import threading
import time

from atp_core.errors import SpiceUnavailable

from .domain import ConnectionLike, DomainRef
from .screen import Screen
from .spice import SpiceClient

NO_SPICE_RECHECK = 60.0  # seconds before a domain without SPICE graphics is looked at again


class LiveScreens:
    def __init__(self, idle_close: float = 30.0) -> None:
        self.idle_close = idle_close
        self._lock = threading.Lock()
        self._clients: dict[tuple, tuple[SpiceClient, threading.Lock]] = {}
        self._used: dict[tuple, float] = {}
        self._no_spice: dict[tuple, float] = {}

    def screenshot(self, connection: ConnectionLike, vm_name: str, key: object = None) -> bytes:
        """The VM's screen now as PNG; ``key`` tells hosts apart (default: the connection)."""
        ref = DomainRef(connection, vm_name)
        ident = (key if key is not None else id(connection), vm_name)
        self._close_idle()
        now = time.monotonic()
        with self._lock:
            no_spice_at = self._no_spice.get(ident)
            entry = self._clients.get(ident)
            if entry is None and (no_spice_at is None or now - no_spice_at > NO_SPICE_RECHECK):
                entry = (SpiceClient.for_domain(ref, connect_timeout=10.0), threading.Lock())
                self._clients[ident] = entry
            self._used[ident] = now
        if entry is None:
            return Screen(ref).screenshot()
        client, lock = entry
        with lock:  # concurrent first viewers wait for the one connect
            try:
                return client.screenshot()
            except SpiceUnavailable as exc:
                if "no SPICE graphics" not in str(exc):
                    raise
                with self._lock:
                    self._clients.pop(ident, None)
                    self._no_spice[ident] = time.monotonic()
                client.close()
                return Screen(ref).screenshot()

    def _close_idle(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [k for k, t in self._used.items() if now - t > self.idle_close]
            closing = [self._clients.pop(k)[0] for k in idle if k in self._clients]
            for k in idle:
                self._used.pop(k, None)
        for client in closing:
            client.close()

    def close(self) -> None:
        with self._lock:
            clients = [c for c, _ in self._clients.values()]
            self._clients.clear()
            self._used.clear()
        for client in clients:
            client.close()

    def watched(self) -> list[tuple]:
        """The VMs with an open display client (for tests and status pages)."""
        with self._lock:
            return list(self._clients)
