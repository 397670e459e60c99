"""Reads of the inventory, from the database only (the sync tasks store what libvirt says)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Max

from .filters import VmFilter
from .models import AgentPing, Host, VdiEndpoint, VirtualMachine


@dataclass
class HostView:
    """One host as the last sync stored it: its VMs, thumbnails and last agent pings.

    Pages never dial libvirt: the periodic sync (hosts.tasks.sync_all_hosts) and the test/sync
    tasks store the state, and the page refreshes over the inventory websocket.
    """

    host: Host
    domains: list[VirtualMachine] = field(default_factory=list)
    last_pings: dict[str, AgentPing] = field(default_factory=dict)

    @property
    def error(self) -> str:
        return (self.host.last_error or "unreachable") if self.host.health == "down" else ""

    @property
    def stored(self) -> dict[str, VirtualMachine]:
        return {vm.name: vm for vm in self.domains}


def host_list():
    return Host.objects.order_by("name")


def inventory_hosts(hosts=None) -> list[HostView]:
    """Every host (or those of ``hosts``) with its VMs as last synced (not those gone from
    it) and the last agent ping per VM, from the database only.

    A fixed number of queries whatever the number of hosts and VMs.
    """
    hosts = list(host_list() if hosts is None else hosts)
    result = {h.pk: HostView(host=h) for h in hosts}
    for vm in (
        VirtualMachine.objects.filter(host__in=hosts)
        .exclude(state="gone")
        .order_by("name")
        .only(
            "id",
            "host_id",
            "name",
            "tags",
            "thumbnail",
            "thumbnail_taken",
            "state",
            "vcpus",
            "memory_mib",
        )
    ):
        result[vm.host_id].domains.append(vm)
    newest = (
        AgentPing.objects.filter(vm__host__in=hosts)
        .order_by()
        .values("vm_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    for ping in AgentPing.objects.filter(id__in=list(newest)).select_related("vm"):
        result[ping.vm.host_id].last_pings[ping.vm.name] = ping
    return list(result.values())


def vdi_endpoints():
    return VdiEndpoint.objects.select_related("libvirt_host").order_by("name")


def vdi_vms(endpoint: VdiEndpoint):
    return VirtualMachine.objects.filter(vdi_endpoint=endpoint).order_by("name")


def vms():
    """Every stored VM with its host and VDI endpoint, by host then name."""
    return VirtualMachine.objects.select_related("host", "vdi_endpoint").order_by(
        "host__name", "name"
    )


def vm_list(filters=None):
    """VMs filtered by ``hosts.filters.VmFilter`` (q, tag, host, name, source); a bad value
    raises InvalidInput."""
    return VmFilter(filters or {}, queryset=vms()).checked_qs()
