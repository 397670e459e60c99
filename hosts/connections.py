"""One TransportManager per process (web server or worker), fed from the Host table.

Connections are expensive to open over ssh/tcp and libvirt keeps them alive, so a process keeps
one manager and adds a host the first time it is used. Registering a host never dials it (the
first call does, bounded by ``ATP_LIBVIRT_CONNECT_TIMEOUT``), and the module lock guards only the
bookkeeping dicts: a black-holed host never holds up calls to the others.

A host whose connect failed is remembered as down for ``ATP_HOST_DOWN_SECONDS`` (negative cache):
calls to it fail at once with the remembered error instead of re-dialling it on every request.
An explicit "test connection" (``fresh=True``) dials again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

from atp_core.errors import ConnectionFailed
from atp_core.transport import ConnectionConfig, TransportManager
from atp_core.transport.connection import HostConnection

from .models import Host

T = TypeVar("T")

_lock = threading.Lock()  # guards the dicts below; never held while dialling a host
_manager: TransportManager | None = None
_known: dict[str, str] = {}
_down: dict[str, tuple[float, str]] = {}  # host name -> (monotonic time it may be retried, error)


def _config() -> ConnectionConfig:
    return ConnectionConfig(
        connect_timeout=float(settings.ATP_LIBVIRT_CONNECT_TIMEOUT), reconnect_attempts=2
    )


def transport() -> TransportManager:
    global _manager
    with _lock:
        if _manager is None:
            _manager = TransportManager(_config())
        return _manager


def ensure_host(host: Host) -> str:
    """Make sure ``host`` is registered with this process's manager (without dialling it);
    return its key."""
    manager = transport()
    with _lock:
        if _known.get(host.name) == host.uri:
            return host.name
        _known[host.name] = host.uri
        _down.pop(host.name, None)
    # replaces (and closes) an older pool; the connect timeout is read now, per host
    manager.add_host(host.name, host.uri, _config(), wait=False)
    return host.name


def forget_host(name: str) -> None:
    manager = transport()  # takes _lock itself: never call it while holding _lock
    with _lock:
        known = _known.pop(name, None) is not None
        _down.pop(name, None)
    if known:
        manager.remove_host(name)


def down_error(name: str) -> str | None:
    """The remembered error of a host that failed recently, None when it may be dialled."""
    with _lock:
        entry = _down.get(name)
        if entry is None:
            return None
        if time.monotonic() >= entry[0]:
            del _down[name]
            return None
        return entry[1]


def _remember_down(name: str, error: str) -> None:
    with _lock:
        _down[name] = (time.monotonic() + float(settings.ATP_HOST_DOWN_SECONDS), error)


def _mark_up(name: str) -> None:
    with _lock:
        _down.pop(name, None)


def _refuse_if_down(host: Host, fresh: bool) -> str:
    from django.core.exceptions import ValidationError

    from .uris import validate_host_uri

    try:  # a row stored before the check (or written around it) is never dialled
        validate_host_uri(host.uri)
    except ValidationError as exc:
        raise ConnectionFailed(exc.messages[0]) from None
    key = ensure_host(host)
    if fresh:
        _mark_up(key)
        return key
    error = down_error(key)
    if error is not None:
        raise ConnectionFailed(f"{error} (host marked down; retried after a while)")
    return key


def call(host: Host, fn: Callable, *, fresh: bool = False) -> T:
    """``fn(conn)`` on ``host``; a connect failure marks the host down for a while."""
    key = _refuse_if_down(host, fresh)
    try:
        result = transport().execute_on_host(key, fn)
    except ConnectionFailed as exc:
        _remember_down(key, str(exc))
        raise
    _mark_up(key)
    return result


def connection(host: Host, *, fresh: bool = False) -> HostConnection:
    """The long-lived connection to ``host`` (for a VmSession), opened now so that a down host
    fails here (and is remembered) rather than somewhere inside the session."""
    key = _refuse_if_down(host, fresh)
    conn = transport().connection(key)
    try:
        conn.get()
    except ConnectionFailed as exc:
        _remember_down(key, str(exc))
        raise
    _mark_up(key)
    return conn
