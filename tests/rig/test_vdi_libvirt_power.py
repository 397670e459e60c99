"""Power operations through the libvirt-backed simulator act on the real guest: create, start,
suspend, resume, sleep (managed save), wakeup, reboot, force close, delete."""

from __future__ import annotations

import libvirt
import pytest

from atp_core.vdiplatform import DomainStatus, LibvirtState, VdiApiError

pytestmark = pytest.mark.rig


def test_power_operations_drive_the_real_guest(vdisim_libvirt, libvirt_uri):
    client = vdisim_libvirt.client(timeout=30)
    name = f"{vdisim_libvirt.prefix}power"
    conn = libvirt.open(libvirt_uri)
    try:
        vm_id = client.domains.create(name, cpu=1, memory_mb=192)
        dom = conn.lookupByName(name)
        assert dom.UUIDString() == vm_id

        def step(op: str, status: DomainStatus, state: LibvirtState, **kwargs) -> None:
            result = getattr(client.domains, op)([vm_id], **kwargs)
            client.events.wait_all(result.event_ids, timeout=90)
            assert client.domains.get(vm_id).status == status, op
            assert conn.lookupByName(name).state()[0] == state, op

        step("start", DomainStatus.RUNNING, LibvirtState.RUNNING)
        step("suspend", DomainStatus.SUSPENDED, LibvirtState.PAUSED)
        step("resume", DomainStatus.RUNNING, LibvirtState.RUNNING)
        step("sleep", DomainStatus.SLEEPING, LibvirtState.SHUTOFF)
        assert conn.lookupByName(name).hasManagedSaveImage(0)
        step("wakeup", DomainStatus.RUNNING, LibvirtState.RUNNING)
        step("reboot", DomainStatus.RUNNING, LibvirtState.RUNNING)

        with pytest.raises(VdiApiError) as err:  # a running VM is not deleted
            client.domains.delete([vm_id])
        assert err.value.status == 4009

        step("close", DomainStatus.OFF, LibvirtState.SHUTOFF, force=True)
        client.domains.delete([vm_id])
        with pytest.raises(libvirt.libvirtError):
            conn.lookupByName(name)
    finally:
        conn.close()


def test_domains_outside_the_prefix_are_listed_but_never_touched(vdisim_libvirt, libvirt_uri):
    conn = libvirt.open(libvirt_uri)
    outsider = "atp-vdx-outsider"  # not under the simulator's prefix
    from guest.domain import define_guest

    define_guest(conn, outsider)
    try:
        client = vdisim_libvirt.client()
        vm = client.domains.find(outsider)
        assert vm is not None and vm.status == DomainStatus.OFF
        result = client.domains.start([vm.id], strict=False)
        assert result.event_ids == () and "不受本平台管理" in result.errors[0].message
        assert conn.lookupByName(outsider).state()[0] == LibvirtState.SHUTOFF
        with pytest.raises(VdiApiError):
            client.domains.delete([vm.id])
        assert conn.lookupByName(outsider)  # still defined
    finally:
        conn.lookupByName(outsider).undefine()
        conn.close()
