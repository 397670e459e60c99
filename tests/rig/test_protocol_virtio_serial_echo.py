"""virtio-serial: the channel's socket comes from the domain XML; JSON requests and raw echo."""

import os
import stat

import pytest

from atp_core.errors import InvalidInput, OperationTimeout
from atp_core.protocol.virtio_serial import channel_path

pytestmark = pytest.mark.rig

ECHO = "org.atp.echo.0"


@pytest.fixture
def echo(vm_session):
    """The echo channel once the guest's service answers.

    The guest's echo service sees EOF when a previous host client disconnects and is restarted
    by init a second later; whatever is sent in that gap is lost. Requests carry ids, so a
    late reply to a lost attempt is never mistaken for the answer to the next one.
    """
    channel = vm_session.channel(ECHO, timeout=2)
    try:
        for _ in range(15):
            try:
                channel.request({"op": "hello"})
                break
            except OperationTimeout:
                continue
        else:
            pytest.fail("the guest's echo service never answered")
        yield channel
    finally:
        channel.close()


def test_path_is_read_from_the_live_xml(vm_session):
    path = channel_path(vm_session.ref, ECHO)
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    assert "*" not in path  # chosen by libvirt per domain, not a pattern
    xml = vm_session.ref.call("xml", lambda d: d.XMLDesc(0))
    assert f"path='{path}'" in xml or f'path="{path}"' in xml


def test_json_request_round_trips_with_its_id(echo):
    first = echo.request({"op": "ping", "text": "héllo"})
    assert first["op"] == "ping" and first["text"] == "héllo"
    second = echo.request({"op": "again"})
    assert second["op"] == "again"
    assert second["id"] == first["id"] + 1


def test_noise_and_other_ids_are_skipped(echo):
    echo.send_raw(b'not json\n{"id": 999, "op": "stale"}\n')
    reply = echo.request({"op": "mine"}, timeout=10)
    assert reply["op"] == "mine"


def test_raw_mode_echo(echo):
    echo.send_raw(b"raw line 1\n")
    got = b""
    while b"\n" not in got:
        got += echo.recv_raw(timeout=10)
    assert got == b"raw line 1\n"


def test_unknown_channel_lists_the_known_ones(vm_session):
    with pytest.raises(InvalidInput, match=r"no virtio channel 'org.nope.0' \(channels: .*org.atp"):
        vm_session.channel("org.nope.0")


def test_a_reply_that_never_comes_times_out(echo):
    echo.send_raw(b"partial")  # the echo service only answers whole lines
    with pytest.raises(OperationTimeout, match="nothing on channel"):
        echo.recv_raw(timeout=1)
    echo.send_raw(b"\n")  # complete the line: now it comes back
    got = b""
    while b"\n" not in got:
        got += echo.recv_raw(timeout=10)
    assert got == b"partial\n"


def test_request_timeout_names_the_channel(echo):
    echo.send_raw(b"{")  # the echoed reply comes back glued to it: not JSON, never matched
    with pytest.raises(OperationTimeout, match="no reply on channel 'org.atp.echo.0'"):
        echo.request({"op": "x"}, timeout=1)
