"""The console of a VM on a remote libvirt host (the rig's atp-rh1/atp-rh2 in their network
namespaces), through the real websocket proxy: QEMU there listens for VNC on the host's own
address with a password (VNC authentication only); the proxy reads the password from the live
domain XML (VIR_DOMAIN_XML_SECURE), answers QEMU's challenge itself and offers the browser a
password-less session, so an operator's keys reach the guest over qemu+tcp, +ssh and +tls hosts
and the password never reaches the browser; a viewer's keys still do not."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from channels.db import database_sync_to_async

from hosts.models import VirtualMachine
from tests.fixtures.web import make_user
from tests.rig.protocol_helpers import poll
from tests.web.test_console_proxy_rig import _communicator, _keylog, _rfb_open, _type

pytestmark = [pytest.mark.rig, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _security_types(address: str, port: int) -> bytes:
    """What the VNC server itself offers a client that connects straight to it."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(address, port), 10)
    try:
        await reader.readexactly(12)
        writer.write(b"RFB 003.008\n")
        count = (await reader.readexactly(1))[0]
        return await reader.readexactly(count)
    finally:
        writer.close()


@pytest.mark.parametrize("transport", ["tcp", "ssh", "tls"])
async def test_an_operator_types_into_a_remote_hosts_vm(
    remote_vms, remote_host_records, remote_hosts, transport, redis_url
):
    import libvirt

    index = {"tcp": 0, "ssh": 1, "tls": 0}[transport]
    guest, rig_host = remote_vms[index], remote_hosts[index]
    host = remote_host_records[f"{rig_host.name}-{transport}"]
    vm = await database_sync_to_async(VirtualMachine.objects.create)(
        host=host, name=guest.name, state="running"
    )
    xml = guest.domain.XMLDesc(0)
    assert f"listen='{rig_host.address}'" in xml and "passwd" not in xml  # not in plain XML
    port = int(xml.split("type='vnc' port='", 1)[1].split("'", 1)[0])
    assert await _security_types(rig_host.address, port) == bytes([2])  # VNC auth, nothing else
    assert "passwd=" in guest.domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)

    operator = await database_sync_to_async(make_user)("olga", "operator")
    viewer = await database_sync_to_async(make_user)("vera", "viewer")
    mark = secrets.token_hex(3)
    watching = _communicator(f"/ws/vms/{vm.pk}/console/", viewer)
    await _rfb_open(watching)  # security None offered: the browser is never asked for it
    await _type(watching, f"\nviewer{mark}\n")
    typing = _communicator(f"/ws/vms/{vm.pk}/console/", operator)
    await _rfb_open(typing)
    await _type(typing, f"\nremote{mark}\n")

    log = await asyncio.to_thread(
        poll, lambda: _keylog(guest), lambda text: f"remote{mark}" in text, 60
    )
    assert f"remote{mark}" in log.splitlines()
    assert f"viewer{mark}" not in log
    await watching.disconnect()
    await typing.disconnect()


async def test_a_remote_loopback_listener_is_refused_with_the_reason(
    remote_vms, remote_host_records, remote_hosts, redis_url
):
    """A remote guest defined the old way (VNC on its host's loopback) says what it needs."""
    from guest.domain import define_guest

    guest = remote_vms[1]
    host = remote_host_records[f"{remote_hosts[1].name}-tcp"]
    name = f"{guest.name}-loop"

    def define():
        define_guest(guest.conn, name).create()  # VNC on 127.0.0.1 of the remote host

    def remove():
        dom = guest.conn.lookupByName(name)
        dom.destroy()
        dom.undefine()

    await asyncio.to_thread(define)
    try:
        vm = await database_sync_to_async(VirtualMachine.objects.create)(
            host=host, name=name, state="running"
        )
        user = await database_sync_to_async(make_user)("olga", "operator")
        console = _communicator(f"/ws/vms/{vm.pk}/console/", user)
        connected, _ = await console.connect(timeout=30)
        assert connected
        closed = await console.receive_output(timeout=30)
        assert closed["type"] == "websocket.close" and closed["code"] == 4409
        assert "listens on 127.0.0.1" in closed["reason"], closed
    finally:
        await asyncio.to_thread(remove)
