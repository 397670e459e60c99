"""A remote host's link taken down: libvirt's keepalive notices it without any call from us (the
connection turns DISCONNECTED), and the next call reconnects once the link is back. Over
qemu+tcp://, qemu+ssh:// and qemu+tls://; the daemon and its guests are untouched (only the
cable is pulled)."""

import pytest

from atp_core.transport import ConnectionConfig, ConnectionState, HostConnection
from tests.rig.protocol_helpers import poll

pytestmark = pytest.mark.rig


@pytest.mark.parametrize("transport", ["tcp", "ssh", "tls"])
def test_keepalive_notices_a_dropped_link_and_the_next_call_reconnects(remote_hosts, transport):
    host = remote_hosts[0]
    states: list[str] = []
    config = ConnectionConfig(
        connect_timeout=10,
        keepalive_interval=1,
        keepalive_count=2,
        heartbeat_interval=0,  # only libvirt's keepalive may notice
        reconnect_base=0.5,
        reconnect_cap=2,
        reconnect_attempts=10,
        jitter=0.0,
    )
    conn = HostConnection(
        host.uri(transport), config, on_state_change=lambda _c, s: states.append(s.value)
    ).connect()
    try:
        hostname = conn.call(lambda c: c.getHostname())
        with host.link_cut():
            lost = poll(lambda: conn.state, lambda s: s == ConnectionState.DISCONNECTED, timeout=60)
            assert lost == ConnectionState.DISCONNECTED, f"keepalive did not notice: {states}"
            assert conn.reconnects == 0 and conn.calls == 1
        # the link is back: the next call dials again and answers
        assert conn.call(lambda c: c.getHostname()) == hostname
        assert conn.state == ConnectionState.CONNECTED and conn.reconnects == 1
        assert states == ["connecting", "connected", "disconnected", "connecting", "connected"]
    finally:
        conn.close()
