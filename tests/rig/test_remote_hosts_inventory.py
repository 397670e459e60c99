"""The remote hosts registered as hosts (``remote_host_records``): the platform's health check
and sync reach them over qemu+tcp://, qemu+ssh:// and qemu+tls://, list each host's own guest
and take its thumbnail; a host whose link is down is stored as down with its reason, not raised."""

import pytest

from hosts import connections
from hosts.models import VirtualMachine
from hosts.services import sync_host
from hosts.services import test_host_connection as check_host
from tests.rig.protocol_helpers import poll

pytestmark = [pytest.mark.rig, pytest.mark.django_db]


def test_sync_reaches_each_remote_host_over_both_transports(remote_host_records, remote_vms):
    for index, vm in enumerate(remote_vms):
        for transport in ("tcp", "ssh", "tls"):
            host = next(
                h
                for h in remote_host_records.values()
                if h.name.endswith(transport) and h.name.startswith(f"atp-rh{index + 1}")
            )
            summary = sync_host(host)
            host.refresh_from_db()
            assert summary["ok"], summary
            assert host.health == "ok" and host.libvirt_version and host.cpus
            row = VirtualMachine.objects.get(host=host, name=vm.name)
            assert row.state == "running" and row.thumbnail
            # the other remote host's guest is not on this one
            other = remote_vms[1 - index].name
            assert not VirtualMachine.objects.filter(host=host, name=other).exists()


def test_a_host_with_its_link_down_is_stored_down(remote_hosts, remote_host_records, settings):
    settings.ATP_LIBVIRT_CONNECT_TIMEOUT = 3
    host = remote_host_records[f"{remote_hosts[1].name}-tcp"]
    connections.forget_host(host.name)  # registered again with the 3 s connect timeout
    with remote_hosts[1].link_cut():
        check_host(host)
        host.refresh_from_db()
        assert host.health == "down" and host.last_error
    # the link is back: a later check finds the host up (ARP may take a moment to recover)
    health = poll(lambda: check_host(host).health, lambda h: h == "ok", timeout=60, every=1)
    assert health == "ok", host.last_error
