"""The console's RFB reading (atp_core.protocol.vnc): where QEMU's VNC listens, and a viewer's
client stream with its key, pointer and clipboard messages dropped, whatever the chunking."""

from __future__ import annotations

import struct

import pytest

from atp_core.errors import DomainNotRunning, ProtocolError, UnsupportedError
from atp_core.protocol.vnc import ClientStream, VncAddress, vnc_address

HANDSHAKE = b"RFB 003.008\n" + b"\x01" + b"\x00"  # version, security None, ClientInit (exclusive)
SET_ENCODINGS = struct.pack(">BxHii", 2, 2, 0, -223)
UPDATE_REQUEST = struct.pack(">BBHHHH", 3, 1, 0, 0, 640, 480)
KEY = struct.pack(">BBxxI", 4, 1, 0x61)
POINTER = struct.pack(">BBHH", 5, 1, 10, 20)
CUT = struct.pack(">BxxxI", 6, 3) + b"abc"
EXTENDED_CUT = struct.pack(">Bxxxi", 6, -8) + b"\x00" * 8  # noVNC's extended clipboard
QEMU_KEY = struct.pack(">BBHII", 255, 0, 1, 0x61, 0x1E)
FENCE = struct.pack(">BxxxIB", 248, 0, 2) + b"ok"
DESKTOP_SIZE = struct.pack(">BxHHBx", 251, 800, 600, 1) + b"\x00" * 16
STREAM = (
    HANDSHAKE
    + SET_ENCODINGS
    + UPDATE_REQUEST
    + KEY
    + POINTER
    + CUT
    + EXTENDED_CUT
    + QEMU_KEY
    + FENCE
    + DESKTOP_SIZE
    + UPDATE_REQUEST
)
PASSIVE = b"RFB 003.008\n\x01\x01" + SET_ENCODINGS + UPDATE_REQUEST + FENCE + DESKTOP_SIZE
PASSIVE += UPDATE_REQUEST


def _feed(stream: ClientStream, data: bytes, chunk: int) -> bytes:
    return b"".join(stream.feed(data[i : i + chunk]) for i in range(0, len(data), chunk))


@pytest.mark.parametrize("chunk", [1, 3, 7, len(STREAM)])
def test_a_viewer_stream_loses_exactly_its_input_messages(chunk):
    stream = ClientStream(view_only=True)
    assert _feed(stream, STREAM, chunk) == PASSIVE
    assert stream.input_messages == 5


@pytest.mark.parametrize("chunk", [1, 5, len(STREAM)])
def test_an_operator_stream_passes_unchanged_but_shared(chunk):
    stream = ClientStream(view_only=False)
    assert _feed(stream, STREAM, chunk) == STREAM.replace(b"\x01\x00", b"\x01\x01", 1)
    assert stream.input_messages == 5


def test_vnc_authentication_response_is_passed_through():
    stream = ClientStream(view_only=True)
    data = b"RFB 003.008\n\x02" + b"r" * 16 + b"\x01" + KEY + UPDATE_REQUEST
    assert stream.feed(data) == b"RFB 003.008\n\x02" + b"r" * 16 + b"\x01" + UPDATE_REQUEST


@pytest.mark.parametrize(
    "data, message",
    [
        (b"HTTP/1.1 GET", "did not start with an RFB version"),
        (b"RFB 003.008\n\x13", "security type 19 is not supported"),
        (HANDSHAKE + b"\x07" + b"\x00" * 20, "unknown VNC client message type 7"),
        (HANDSHAKE + b"\xff\x09" + b"\x00" * 20, "unknown QEMU VNC client message 9"),
    ],
)
def test_what_it_cannot_read_ends_the_stream(data, message):
    with pytest.raises(ProtocolError, match=message):
        ClientStream(view_only=True).feed(data)


def test_an_oversized_message_ends_the_stream():
    stream = ClientStream(view_only=False)
    stream.feed(HANDSHAKE)
    with pytest.raises(ProtocolError, match="larger than the console allows"):
        stream.feed(struct.pack(">BxxxI", 6, 4 << 20) + b"x" * ((1 << 20) + 10))


def _xml(graphics: str) -> str:
    return f"<domain><devices>{graphics}</devices></domain>"


def test_the_address_of_a_local_vnc_listener():
    xml = _xml("<graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'/>")
    assert vnc_address(xml, "qemu:///system") == VncAddress("127.0.0.1", 5901)
    any_addr = _xml("<graphics type='vnc' port='5902' listen='0.0.0.0'/>")
    assert vnc_address(any_addr, "qemu:///system") == VncAddress("127.0.0.1", 5902)


def test_a_remote_host_needs_a_reachable_listener():
    loopback = _xml("<graphics type='vnc' port='5901' listen='127.0.0.1'/>")
    with pytest.raises(UnsupportedError, match="listens on 127.0.0.1 of h2"):
        vnc_address(loopback, "qemu+ssh://root@h2/system", "vm1")
    open_xml = _xml("<graphics type='vnc' port='5903' listen='0.0.0.0'/>")
    assert vnc_address(open_xml, "qemu+ssh://root@h2/system") == VncAddress("h2", 5903)


def test_no_vnc_device_or_no_port_says_so():
    with pytest.raises(UnsupportedError, match=r"vm1 has no VNC graphics device \(it has: spice\)"):
        vnc_address(_xml("<graphics type='spice' port='5900'/>"), "qemu:///system", "vm1")
    with pytest.raises(DomainNotRunning, match="not running"):
        vnc_address(_xml("<graphics type='vnc' port='-1' autoport='yes'/>"), "qemu:///system")
