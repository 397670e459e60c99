"""Looking up a domain and turning libvirt errors into the engine's typed errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import libvirt

from atp_core.errors import (
    AgentUnavailable,
    DomainNotFound,
    DomainNotRunning,
    InfrastructureError,
    OperationTimeout,
    ProtocolError,
)
from atp_core.transport import HostConnection

ConnectionLike = HostConnection | libvirt.virConnect


def connection_getter(connection: ConnectionLike) -> Callable[[], libvirt.virConnect]:
    if isinstance(connection, HostConnection):
        return connection.get
    return lambda: connection


def translate(exc: libvirt.libvirtError, domain: str, what: str) -> InfrastructureError:
    """A libvirt error as the typed error a step reports, naming the domain."""
    code = exc.get_error_code()
    msg = exc.get_error_message() or str(exc)
    if code == libvirt.VIR_ERR_NO_DOMAIN:
        return DomainNotFound(f"domain {domain!r} not found")
    if code == libvirt.VIR_ERR_OPERATION_INVALID and "not running" in msg:
        return DomainNotRunning(f"domain {domain!r} is not running ({what})")
    lower = msg.lower()
    if "unable to execute qemu agent command" in lower:
        # the agent answered, with an error of its own (no such file, bad pid, ...)
        return ProtocolError(f"{domain}: {what}: {msg.split(': ', 1)[-1]}")
    if code == libvirt.VIR_ERR_AGENT_UNRESPONSIVE or "agent" in lower:
        if "timeout" in lower or "timed out" in lower:
            return OperationTimeout(f"{domain}: guest agent timed out ({what}): {msg}")
        return AgentUnavailable(f"{domain}: guest agent not available ({what}): {msg}")
    if code == libvirt.VIR_ERR_OPERATION_TIMEOUT:
        return OperationTimeout(f"{domain}: {what} timed out: {msg}")
    return InfrastructureError(f"{domain}: {what} failed: {msg}")


class DomainRef:
    """A domain by name on a connection; looked up on every use so reconnects are transparent."""

    def __init__(self, connection: ConnectionLike, name: str) -> None:
        self.connection = connection
        self.name = name
        self._get_conn = connection_getter(connection)

    def lookup(self) -> libvirt.virDomain:
        """The domain, on a live connection. On a ``HostConnection`` a lookup that finds the
        connection dead (a daemon that just died still looks alive until its socket is read)
        reconnects, with the connection's backoff, and looks up again: a lookup is safe to
        repeat, so a call made while the daemon restarts waits for it."""
        try:
            if isinstance(self.connection, HostConnection):
                return self.connection.call(lambda conn: conn.lookupByName(self.name))
            return self._get_conn().lookupByName(self.name)
        except libvirt.libvirtError as exc:
            raise translate(exc, self.name, "lookup") from exc

    def running(self) -> libvirt.virDomain:
        dom = self.lookup()
        try:
            active = dom.isActive()
        except libvirt.libvirtError as exc:
            raise translate(exc, self.name, "state") from exc
        if not active:
            raise DomainNotRunning(f"domain {self.name!r} is not running")
        return dom

    def call(self, what: str, fn: Callable[[libvirt.virDomain], object], *, running=True):
        dom = self.running() if running else self.lookup()
        try:
            return fn(dom)
        except libvirt.libvirtError as exc:
            raise translate(exc, self.name, what) from exc

    def xml(self) -> ET.Element:
        return ET.fromstring(self.call("read XML", lambda d: d.XMLDesc(0), running=False))
