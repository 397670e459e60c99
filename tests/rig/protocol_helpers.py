"""Helpers for the protocol rig tests: an engine session on a rig guest, and polling."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from atp_core.protocol import VmSession
from atp_core.transport import ConnectionConfig, HostConnection

T = TypeVar("T")


@contextlib.contextmanager
def open_session(vm, **config) -> Iterator[VmSession]:
    """A VmSession on its own HostConnection to the rig guest ``vm``."""
    conn = HostConnection(vm.uri, ConnectionConfig(**config)).connect()
    try:
        yield VmSession(conn, vm.name)
    finally:
        conn.close()


def poll(
    read: Callable[[], T], done: Callable[[T], bool], timeout: float = 30, every: float = 0.3
) -> T:
    """Call ``read`` until ``done(value)`` or the deadline; return the last value either way."""
    deadline = time.monotonic() + timeout
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(every)
        value = read()
    return value
