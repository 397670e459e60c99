"""The endpoint sync maps each platform host to the registered host its desks run on: by name,
else by the address its libvirt URI points at (the endpoint's own libvirt host when several
do); a desk on a mapped host is that host's VM (one row, whichever sync saw it first)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hosts import vdi
from hosts.models import Host, VdiEndpoint, VirtualMachine

pytestmark = pytest.mark.django_db


def _ph(id_, name, ip):
    return SimpleNamespace(id=id_, name=name, ip=ip)


def test_platform_hosts_map_by_name_then_by_address():
    local = Host.objects.create(name="local", uri="qemu:///system")
    rh1 = Host.objects.create(name="rh1", uri="qemu+tcp://10.0.0.2/system")
    rh2_tcp = Host.objects.create(name="rh2-tcp", uri="qemu+tcp://10.0.0.3/system")
    Host.objects.create(name="rh2-ssh", uri="qemu+ssh://root@10.0.0.3/system?no_tty=1")
    endpoint = VdiEndpoint.objects.create(name="e", url="http://x", username="u")
    mapped = vdi.map_platform_hosts(
        endpoint,
        [
            _ph("a", "vm", "127.0.0.1"),  # the local libvirtd, by address
            _ph("b", "rh1", "10.9.9.9"),  # by name, whatever the address
            _ph("c", "10.0.0.3", "10.0.0.3"),  # two hosts at that address: ambiguous
            _ph("d", "far", "192.0.2.1"),  # not registered
        ],
    )
    assert mapped == {"a": local, "b": rh1, "c": None, "d": None}
    endpoint.libvirt_host = rh2_tcp
    endpoint.save()
    assert vdi.map_platform_hosts(endpoint, [_ph("c", "x", "10.0.0.3")]) == {"c": rh2_tcp}


def test_a_desk_already_seen_on_its_host_stays_one_row():
    host = Host.objects.create(name="rh1", uri="qemu+tcp://10.0.0.2/system")
    endpoint = VdiEndpoint.objects.create(name="e", url="http://x", username="u")
    seen_by_libvirt = VirtualMachine.objects.create(host=host, name="desk-001", state="running")
    desk = SimpleNamespace(id="uuid-1", name="desk-001")
    fields = {"name": "desk-001", "source": "vdi", "state": "running", "desk_pool": "p"}
    vm = vdi._store_desk(endpoint, desk, host, fields)
    assert vm.pk == seen_by_libvirt.pk
    assert VirtualMachine.objects.filter(name="desk-001").count() == 1
    vm.refresh_from_db()
    assert (vm.host, vm.vdi_endpoint, vm.vdi_id, vm.desk_pool) == (host, endpoint, "uuid-1", "p")
    # a platform-only row of the desk (synced before its host was registered) is folded in
    VirtualMachine.objects.filter(pk=vm.pk).update(host=None)
    other = VirtualMachine.objects.create(host=host, name="desk-001", state="running")
    again = vdi._store_desk(endpoint, desk, host, fields)
    assert again.pk == other.pk
    assert VirtualMachine.objects.filter(name="desk-001").count() == 1
