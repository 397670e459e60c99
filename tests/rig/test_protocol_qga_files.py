"""Guest files through the agent: binary round-trip, offsets and sizes, large files, errors."""

import hashlib
import os

import pytest

from atp_core.errors import InvalidInput, ProtocolError

pytestmark = pytest.mark.rig


def test_binary_round_trip(rig_vm, vm_session):
    data = bytes(range(256)) * 4 + b"\r\n\x00end"
    vm_session.agent.file_write("/tmp/hp-bin", data)
    assert vm_session.agent.file_read("/tmp/hp-bin") == data
    # the guest sees the same bytes (not a re-encoding of them)
    code, out, _ = rig_vm.shell("md5sum /tmp/hp-bin")
    assert code == 0 and out.split()[0] == hashlib.md5(data).hexdigest()


def test_text_is_written_as_utf8(vm_session):
    vm_session.agent.file_write("/tmp/hp-text", "héllo 你好\n")
    assert vm_session.agent.file_read("/tmp/hp-text") == "héllo 你好\n".encode()


def test_offsets_and_sizes(vm_session):
    data = bytes(range(200))
    vm_session.agent.file_write("/tmp/hp-off", data)
    agent = vm_session.agent
    assert agent.file_size("/tmp/hp-off") == 200
    assert agent.file_read("/tmp/hp-off", offset=150) == data[150:]
    assert agent.file_read("/tmp/hp-off", offset=10, size=5) == data[10:15]
    assert agent.file_read("/tmp/hp-off", size=0) == b""
    assert agent.file_read("/tmp/hp-off", offset=200) == b""
    assert agent.file_read("/tmp/hp-off", offset=190, size=50) == data[190:]
    with pytest.raises(InvalidInput, match="must not be negative"):
        agent.file_read("/tmp/hp-off", offset=-1)


def test_large_file_spans_many_chunks(rig_vm, vm_session):
    data = os.urandom(1024 * 1024 + 123)  # > 20 agent chunks each way
    vm_session.agent.file_write("/tmp/hp-large", data)
    code, out, _ = rig_vm.shell("md5sum /tmp/hp-large; rm -f /tmp/hp-large.copy")
    assert out.split()[0] == hashlib.md5(data).hexdigest()
    assert vm_session.agent.file_read("/tmp/hp-large") == data
    assert (
        vm_session.agent.file_read("/tmp/hp-large", offset=700_000, size=100_000)
        == (data[700_000:800_000])
    )
    rig_vm.shell("rm -f /tmp/hp-large")


def test_overwrite_truncates(vm_session):
    vm_session.agent.file_write("/tmp/hp-trunc", b"a long first version")
    vm_session.agent.file_write("/tmp/hp-trunc", b"short")
    assert vm_session.agent.file_read("/tmp/hp-trunc") == b"short"


def test_missing_file_is_a_clear_error(vm_session):
    with pytest.raises(ProtocolError, match=rf"{vm_session.name}: guest-file-open: .*"):
        vm_session.agent.file_read("/no/such/file")
    with pytest.raises(ProtocolError, match="guest-file-open"):
        vm_session.agent.file_write("/no/such/dir/file", b"x")
