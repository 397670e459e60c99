"""A remote host whose address swallows packets: the connect gives up after the configured
timeout, over qemu+tcp://, qemu+ssh:// and qemu+tls:// alike (libvirt alone would wait minutes)."""

import socket

import pytest

from atp_core.errors import ConnectionFailed
from atp_core.transport import ConnectionConfig, ConnectionState, HostConnection
from tests.remote_hosts import black_hole

pytestmark = pytest.mark.rig

URIS = {
    "tcp": "qemu+tcp://{address}/system",
    "ssh": "qemu+ssh://root@{address}/system?no_tty=1",
    "tls": "qemu+tls://{address}/system",
}


@pytest.mark.parametrize("transport", ["tcp", "ssh", "tls"])
def test_connect_to_a_black_holed_address_times_out(remote_hosts, transport):
    with black_hole(remote_hosts[0]) as address:
        # the address is silent, not refusing: a raw connect neither succeeds nor is refused
        with pytest.raises(TimeoutError), socket.create_connection((address, 16509), timeout=1):
            pass
        conn = HostConnection(
            URIS[transport].format(address=address), ConnectionConfig(connect_timeout=2)
        )
        with pytest.raises(ConnectionFailed, match="no connection within 2 s"):
            conn.connect()
        assert conn.state == ConnectionState.FAILED and conn.failures == 1
        conn.close()
