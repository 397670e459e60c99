"""The console proxy's own RFB handshake (atp_core.protocol.vnc): it authenticates to QEMU
(VNC authentication with the domain's password, else security None) and plays a password-less
server to the browser, for RFB 3.8, 3.7 and 3.3 clients. A fake VNC server covers the refusals;
tests/web/test_console_remote_rig.py proves the password against real QEMU."""

from __future__ import annotations

import asyncio
import struct

import pytest

from atp_core.errors import ProtocolError
from atp_core.protocol.vnc import ClientStream, authenticate, vnc_auth_response, vnc_password

KEY = struct.pack(">BBxxI", 4, 1, 0x61)


@pytest.mark.parametrize(
    ("version", "replies", "rest"),
    [
        (b"RFB 003.008\n", [b"\x01\x01", b"\x00\x00\x00\x00"], b"\x01"),  # list, then OK
        (b"RFB 003.007\n", [b"\x01\x01", b""], b"\x01"),  # no SecurityResult for None
        (b"RFB 003.003\n", [struct.pack(">I", 1)], b""),  # the server picks; no choice
    ],
)
def test_the_browser_is_answered_by_the_proxy(version, replies, rest):
    stream = ClientStream(view_only=False, answer_handshake=True)
    assert stream.feed(version) == b""  # QEMU heard the proxy's own version already
    assert stream.take_replies() == replies[0]
    if rest:
        assert stream.feed(rest) == b""  # the browser's security choice stays here
        assert stream.take_replies() == replies[1]
    assert stream.feed(b"\x00") == b"\x01"  # ClientInit, forced shared, goes on to QEMU
    assert stream.feed(KEY) == KEY
    assert stream.take_replies() == b""


def test_the_browser_may_not_ask_for_vnc_authentication():
    stream = ClientStream(answer_handshake=True)
    stream.feed(b"RFB 003.008\n")
    with pytest.raises(ProtocolError, match="security type 2 was not offered"):
        stream.feed(b"\x02")


def test_the_password_comes_from_the_secure_xml_only():
    xml = "<domain><devices><graphics type='vnc' port='5901' passwd='s3cret'/></devices></domain>"
    assert vnc_password(xml) == "s3cret"
    assert vnc_password("<domain><devices><graphics type='vnc'/></devices></domain>") == ""
    assert vnc_password("<domain><devices/></domain>") == ""


def test_the_response_is_des_of_the_challenge_and_needs_16_bytes():
    challenge = bytes(range(16))
    one = vnc_auth_response("abc", challenge)
    assert len(one) == 16 and one != challenge
    assert vnc_auth_response("abc", challenge) == one
    assert vnc_auth_response("abcdefgh-ignored", challenge) == vnc_auth_response(
        "abcdefgh", challenge
    )  # VNC uses 8 bytes of the password
    with pytest.raises(ProtocolError, match="16"):
        vnc_auth_response("abc", b"short")


async def _serve(types: bytes, result: int = 0, reason: bytes = b""):
    """A VNC server that offers ``types`` and answers ``result``; what it received."""
    received = bytearray()

    async def handle(reader, writer):
        writer.write(b"RFB 003.008\n")
        received.extend(await reader.readexactly(12))
        writer.write(bytes([len(types)]) + types)
        choice = await reader.readexactly(1)
        received.extend(choice)
        if choice == b"\x02":
            writer.write(b"c" * 16)
            received.extend(await reader.readexactly(16))
        writer.write(struct.pack(">I", result))
        if result:
            writer.write(struct.pack(">I", len(reason)) + reason)
        await writer.drain()
        await asyncio.sleep(0.2)  # the fake server lingers a moment before it hangs up
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], received


async def _handshake(port: int, password: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await authenticate(reader, writer, password, timeout=5)
    finally:
        writer.close()


@pytest.mark.asyncio
async def test_vnc_authentication_with_the_password():
    server, port, received = await _serve(b"\x02")
    async with server:
        await _handshake(port, "pw")
    assert bytes(received) == b"RFB 003.008\n\x02" + vnc_auth_response("pw", b"c" * 16)


@pytest.mark.asyncio
async def test_security_none_when_offered_and_no_password():
    server, port, received = await _serve(b"\x02\x01")
    async with server:
        await _handshake(port, "")
    assert bytes(received) == b"RFB 003.008\n\x01"


@pytest.mark.asyncio
async def test_a_refused_password_says_why():
    server, port, _ = await _serve(b"\x02", result=1, reason=b"Authentication failed")
    async with server:
        with pytest.raises(ProtocolError, match="refused the password: Authentication failed"):
            await _handshake(port, "wrong")


@pytest.mark.asyncio
async def test_a_password_asked_for_and_not_known_says_what_to_set():
    server, port, _ = await _serve(b"\x02")
    async with server:
        with pytest.raises(ProtocolError, match="set passwd on its <graphics>"):
            await _handshake(port, "")
