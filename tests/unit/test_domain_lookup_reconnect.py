"""A domain lookup that finds its connection dead (the daemon just died, the socket not read
yet, so the connection still looked alive) reconnects through the HostConnection and looks
up again, instead of failing the call at once; an error that is not the connection's is
reported as it is."""

import libvirt
import pytest

from atp_core.errors import DomainNotFound
from atp_core.protocol.domain import DomainRef
from atp_core.transport import HostConnection


def _libvirt_error(code: int, message: str) -> libvirt.libvirtError:
    exc = libvirt.libvirtError(message)
    exc.err = (code, 0, message, 2, "", None, None, 0, 0)
    return exc


class _Conn:
    def __init__(self, errors: list[libvirt.libvirtError]) -> None:
        self.errors = errors
        self.lookups = 0

    def lookupByName(self, name):  # noqa: N802 - libvirt's name
        self.lookups += 1
        if self.errors:
            raise self.errors.pop(0)
        return f"domain {name}"


def _host(old: _Conn, new: _Conn) -> HostConnection:
    host = HostConnection("test:///default")
    host.get = lambda: old  # looks alive
    host._reconnect = lambda: new  # the connection's own backoff, elsewhere tested
    return host


def test_a_lookup_on_a_dead_connection_reconnects_and_looks_up_again():
    dead = _Conn([_libvirt_error(libvirt.VIR_ERR_SYSTEM_ERROR, "End of file while reading data")])
    fresh = _Conn([])
    ref = DomainRef(_host(dead, fresh), "vm-1")
    assert ref.lookup() == "domain vm-1"
    assert (dead.lookups, fresh.lookups) == (1, 1)


def test_a_missing_domain_is_reported_without_a_reconnect():
    conn = _Conn([_libvirt_error(libvirt.VIR_ERR_NO_DOMAIN, "Domain not found")])
    fresh = _Conn([])
    ref = DomainRef(_host(conn, fresh), "vm-2")
    with pytest.raises(DomainNotFound, match="vm-2"):
        ref.lookup()
    assert fresh.lookups == 0
