"""HostConnection on the local libvirtd: states, connect timeout, close callback, heartbeat,
reconnect. Connections are cut with a proxy in front of libvirtd, not by killing it."""

import socket
import tempfile
import threading
import time

import pytest

from atp_core.errors import ConnectionFailed
from atp_core.transport import ConnectionConfig, ConnectionState, HostConnection
from tests.rig.libvirt_proxy import LibvirtProxy
from tests.rig.protocol_helpers import poll
from tests.waiting import wait_for

pytestmark = pytest.mark.rig

FAST = {"reconnect_base": 0.05, "reconnect_cap": 0.2, "jitter": 0.0}


@pytest.fixture
def proxy(libvirt_uri):
    p = LibvirtProxy()
    yield p
    p.close()


def recorder():
    states: list[str] = []
    return states, lambda _conn, state: states.append(state.value)


def test_states_from_connect_to_close(libvirt_uri):
    states, on_change = recorder()
    conn = HostConnection(libvirt_uri, on_state_change=on_change)
    assert conn.state == ConnectionState.DISCONNECTED
    assert conn.connect() is conn
    assert conn.state == ConnectionState.CONNECTED and conn.is_alive()
    assert conn.get().getLibVersion() > 0
    conn.close()
    assert states == ["connecting", "connected", "disconnected"]
    assert not conn.is_alive()


def test_first_get_connects_lazily(libvirt_uri):
    conn = HostConnection(libvirt_uri)
    try:
        assert conn.call(lambda c: c.getURI()) == libvirt_uri
        assert conn.state == ConnectionState.CONNECTED and conn.calls == 1
    finally:
        conn.close()


def test_refused_connection_fails_with_its_reason():
    states, on_change = recorder()
    conn = HostConnection("qemu+unix:///system?socket=/nonexistent/sock", on_state_change=on_change)
    with pytest.raises(ConnectionFailed, match="/nonexistent/sock"):
        conn.connect()
    assert conn.state == ConnectionState.FAILED
    assert conn.failures == 1 and "/nonexistent/sock" in conn.last_error
    assert states == ["connecting", "failed"]


def test_connect_timeout_on_a_peer_that_never_answers():
    """A socket that accepts but never speaks: libvirt would wait forever, we give up (the
    deadline below only tells "gave up" from "waits forever"; how soon is bench material)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/silent"
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        server.listen(4)
        try:
            conn = HostConnection(
                f"qemu+unix:///system?socket={path}", ConnectionConfig(connect_timeout=1)
            )
            started = time.monotonic()
            with pytest.raises(ConnectionFailed, match="no connection within 1 s"):
                conn.connect()
            assert time.monotonic() - started < 60, "the connect waited past its timeout"
            assert conn.state == ConnectionState.FAILED
        finally:
            server.close()


def test_close_callback_marks_the_connection_lost(proxy):
    states, on_change = recorder()
    conn = HostConnection(
        proxy.uri, ConnectionConfig(heartbeat_interval=0, **FAST), on_state_change=on_change
    ).connect()
    try:
        proxy.drop()
        lost = ConnectionState.DISCONNECTED
        poll(lambda: conn.state, lambda s: s == lost, timeout=10, every=0.05)
        assert conn.state == ConnectionState.DISCONNECTED  # told by libvirt, nobody called
        # the next use reconnects
        assert conn.call(lambda c: c.getLibVersion()) > 0
        assert conn.reconnects == 1 and proxy.accepted == 2
        assert states == ["connecting", "connected", "disconnected", "connecting", "connected"]
    finally:
        conn.close()


def test_heartbeat_reconnects_an_idle_connection(proxy):
    conn = HostConnection(proxy.uri, ConnectionConfig(heartbeat_interval=0.3, **FAST)).connect()
    try:
        proxy.drop()
        poll(lambda: conn.reconnects, lambda n: n >= 1, timeout=10, every=0.1)
        assert conn.reconnects == 1
        assert conn.state == ConnectionState.CONNECTED and conn.is_alive()
        assert proxy.accepted == 2  # reconnected without any call from us
    finally:
        conn.close()


def test_call_retries_once_when_the_connection_drops(proxy):
    conn = HostConnection(proxy.uri, ConnectionConfig(heartbeat_interval=0, **FAST)).connect()
    try:
        first = conn.get()
        proxy.drop()
        lost = ConnectionState.DISCONNECTED
        assert poll(lambda: conn.state, lambda s: s == lost, timeout=30, every=0.05) == lost
        assert conn.call(lambda c: c.getHostname())
        assert conn.get() is not first and conn.reconnects == 1
    finally:
        conn.close()


def test_reconnect_gives_up_after_the_configured_attempts(proxy):
    config = ConnectionConfig(heartbeat_interval=0, reconnect_attempts=3, **FAST)
    conn = HostConnection(proxy.uri, config).connect()
    try:
        proxy.refuse = True
        proxy.drop()
        poll(lambda: conn.state, lambda s: s == ConnectionState.DISCONNECTED, timeout=10)
        with pytest.raises(ConnectionFailed, match="reconnect failed after 3 attempts"):
            conn.get()
        assert conn.state == ConnectionState.FAILED and conn.failures == 3
        # the host comes back: the next use tries again and succeeds
        proxy.refuse = False
        assert conn.get().getLibVersion() > 0
        assert conn.state == ConnectionState.CONNECTED and conn.reconnects == 1
    finally:
        conn.close()


def test_closed_connection_stays_closed(proxy):
    conn = HostConnection(proxy.uri, ConnectionConfig(heartbeat_interval=0.2, **FAST)).connect()
    conn.close()
    heartbeat = f"heartbeat {proxy.uri}"
    wait_for(
        lambda: all(t.name != heartbeat for t in threading.enumerate()), 30, "the heartbeat to end"
    )
    assert proxy.accepted == 1  # the heartbeat did not reopen it
    with pytest.raises(ConnectionFailed, match="closed"):
        conn.get()
