"""One TransportManager per process (web server or worker), fed from the Host table.

Connections are expensive to open over ssh/tcp and libvirt keeps them alive, so a process keeps
one manager and adds a host the first time it is used.
"""

from __future__ import annotations

import threading

from atp_core.transport import ConnectionConfig, TransportManager

from .models import Host

_lock = threading.Lock()
_manager: TransportManager | None = None
_known: dict[str, str] = {}

WEB_CONFIG = ConnectionConfig(connect_timeout=5.0, reconnect_attempts=2)


def transport() -> TransportManager:
    global _manager
    with _lock:
        if _manager is None:
            _manager = TransportManager(WEB_CONFIG)
        return _manager


def ensure_host(host: Host) -> str:
    """Make sure ``host`` is registered with this process's manager; return its key."""
    manager = transport()
    with _lock:
        if _known.get(host.name) != host.uri:
            if host.name in _known:
                manager.remove_host(host.name)
            manager.add_host(host.name, host.uri)
            _known[host.name] = host.uri
    return host.name


def forget_host(name: str) -> None:
    manager = transport()  # takes _lock itself: never call it while holding _lock
    with _lock:
        if name in _known:
            manager.remove_host(name)
            del _known[name]
