"""Every SPICE failure is an infrastructure error with a plain message, within its timeout."""

import socket
import threading

import libvirt
import pytest

from atp_core.errors import InfrastructureError, SpiceUnavailable
from atp_core.protocol import SpiceAddress, SpiceClient, VmSession
from tests.prereq import free_port

pytestmark = pytest.mark.rig


def test_domain_without_spice_graphics(vm_session):
    with pytest.raises(SpiceUnavailable, match="has no SPICE graphics \\(it has: vnc\\)"):
        SpiceClient.for_domain(vm_session.ref).connect()


def test_wrong_ticket_is_refused(desktop_guest):
    conn = libvirt.open(desktop_guest.uri)
    try:
        port = desktop_guest.spice_port()
    finally:
        conn.close()
    client = SpiceClient(SpiceAddress("127.0.0.1", port, "wrong"), connect_timeout=20)
    with pytest.raises(SpiceUnavailable, match="ticket was refused") as info:
        client.connect()
    assert "wrong" not in str(info.value).replace("wrong ticket", "")  # the ticket is not shown
    assert isinstance(info.value, InfrastructureError)


def test_port_unreachable():
    client = SpiceClient(SpiceAddress("127.0.0.1", free_port(), "x"), connect_timeout=20)
    with pytest.raises(SpiceUnavailable, match="port unreachable"):
        client.connect()


def test_peer_that_closes_the_channel():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def accept_and_close():
        for _ in range(4):
            try:
                peer, _ = server.accept()
            except OSError:
                return
            peer.close()

    threading.Thread(target=accept_and_close, daemon=True).start()
    try:
        client = SpiceClient(SpiceAddress(*server.getsockname(), "x"), connect_timeout=20)
        with pytest.raises(SpiceUnavailable, match="channel( was closed|'s link failed)"):
            client.connect()
    finally:
        server.close()


def test_no_first_frame_within_the_timeout_is_a_timeout():
    server = socket.socket()  # accepts and says nothing
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        client = SpiceClient(SpiceAddress(*server.getsockname(), "x"), connect_timeout=1.5)
        with pytest.raises(InfrastructureError, match="within 2s|closed|link failed"):
            client.connect()
    finally:
        server.close()


def test_client_for_a_destroyed_domain(desktop_guest):
    conn = libvirt.open(desktop_guest.uri)
    try:
        session = VmSession(conn, "atp-no-such-domain-h13")
        with pytest.raises(InfrastructureError, match="not found"):
            SpiceClient.for_domain(session.ref).connect()
    finally:
        conn.close()
