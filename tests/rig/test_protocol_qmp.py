"""QMP: through libvirt for managed domains; over a unix socket whose path the XML declares."""

import contextlib
import os
import subprocess
import tempfile
import time

import libvirt
import pytest

from atp_core.errors import InvalidInput, ProtocolError
from atp_core.protocol import LibvirtQmp, SocketQmp
from atp_core.protocol.domain import DomainRef
from atp_core.protocol.qmp import qmp_socket_path
from tests.conftest import RIG_PREFIX

pytestmark = pytest.mark.rig


def test_query_status_through_libvirt(vm_session):
    status = vm_session.qmp.execute("query-status")
    assert status["status"] == "running" and status["running"] is True


def test_qmp_error_is_a_protocol_error_naming_the_domain(vm_session):
    with pytest.raises(ProtocolError, match=rf"{vm_session.name}: QMP no-such-command: .*"):
        vm_session.qmp.execute("no-such-command")


def test_arguments_are_passed(vm_session):
    qom = vm_session.qmp.execute("qom-list", {"path": "/machine"})
    assert any(item["name"] == "type" for item in qom)


def test_rig_guest_declares_no_extra_qmp_socket(vm_session):
    with pytest.raises(InvalidInput, match="no QMP socket in the domain XML"):
        qmp_socket_path(vm_session.ref)


DOMAIN_XML = """
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <graphics type='vnc' listen='127.0.0.1' autoport='yes'/>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-chardev'/>
    <qemu:arg value='socket,id=atpqmp,path={path},server=on,wait=off'/>
    <qemu:arg value='-mon'/>
    <qemu:arg value='chardev=atpqmp,mode=control'/>
  </qemu:commandline>
</domain>
"""


@pytest.fixture
def domain_with_qmp_socket(libvirt_uri):
    """A tiny diskless libvirt domain (sits in the BIOS) with a second QMP monitor."""
    name = f"{RIG_PREFIX}qmpsock"
    path = f"/tmp/{name}.qmp"  # qemu runs as an unprivileged user: a world-writable dir
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    conn = libvirt.open(libvirt_uri)
    with contextlib.suppress(libvirt.libvirtError):
        old = conn.lookupByName(name)
        with contextlib.suppress(libvirt.libvirtError):
            old.destroy()
        old.undefine()
    dom = conn.defineXML(DOMAIN_XML.format(name=name, path=path))
    try:
        dom.create()
        yield DomainRef(conn, name), path
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            dom.destroy()
        with contextlib.suppress(libvirt.libvirtError):
            dom.undefine()
        conn.close()


def test_socket_path_is_read_from_the_domain_xml(domain_with_qmp_socket):
    ref, path = domain_with_qmp_socket
    assert qmp_socket_path(ref) == path
    qmp = SocketQmp.for_domain(ref)
    try:
        assert qmp.execute("query-status")["status"] == "running"
        # libvirt's own monitor is still in charge alongside ours
        assert LibvirtQmp(ref).execute("query-name") == {"name": ref.name}
        with pytest.raises(ProtocolError, match="QMP socket"):
            qmp.execute("no-such-command")
    finally:
        qmp.close()


def test_plain_qemu_over_its_socket():
    """QEMU outside libvirt: -qmp unix:PATH, driven with qemu.qmp."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp.sock")
        proc = subprocess.Popen(
            ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
             "-S", "-qmp", f"unix:{path},server=on,wait=off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.05)
            qmp = SocketQmp(path)
            try:
                assert qmp.execute("query-status")["status"] == "prelaunch"
                version = qmp.execute("query-version")
                assert version["qemu"]["major"] >= 6
            finally:
                qmp.close()
        finally:
            proc.kill()
            proc.wait(10)


def test_missing_socket_is_a_clear_error():
    with pytest.raises(ProtocolError, match="QMP socket /nonexistent/qmp.sock"):
        SocketQmp("/nonexistent/qmp.sock", timeout=2)
