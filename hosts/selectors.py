"""Reads of the inventory (database, and live from libvirt)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Max

from atp_core.errors import AtpError
from atp_site.tags import filter_tagged

from .models import AgentPing, Host, VdiEndpoint, VirtualMachine


@dataclass
class LiveHost:
    host: Host
    domains: list = field(default_factory=list)
    error: str = ""
    last_pings: dict[str, AgentPing] = field(default_factory=dict)
    stored: dict[str, VirtualMachine] = field(default_factory=dict)


def host_list():
    return Host.objects.order_by("name")


def _list_domains(host: Host) -> tuple[list, str]:
    try:
        from atp_core.transport.inventory import list_domains

        from .connections import ensure_host, transport

        return transport().execute_on_host(ensure_host(host), list_domains), ""
    except (AtpError, OSError, ImportError) as exc:
        return [], str(exc) or exc.__class__.__name__


def live_hosts() -> list[LiveHost]:
    """Every host with its domains as libvirt reports them right now (enabled hosts only),
    the stored VM rows (thumbnails, tags) and the last agent ping per VM.

    A fixed number of queries whatever the number of hosts and VMs.
    """
    hosts = list(host_list())
    result = {h.pk: LiveHost(host=h) for h in hosts}
    for vm in VirtualMachine.objects.filter(host__in=hosts).only(
        "id", "host_id", "name", "tags", "thumbnail", "thumbnail_taken", "state"
    ):
        result[vm.host_id].stored[vm.name] = vm
    newest = (
        AgentPing.objects.filter(vm__host__in=hosts)
        .order_by()
        .values("vm_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    for ping in AgentPing.objects.filter(id__in=list(newest)).select_related("vm"):
        result[ping.vm.host_id].last_pings[ping.vm.name] = ping
    for live in result.values():
        if live.host.enabled:
            live.domains, live.error = _list_domains(live.host)
    return list(result.values())


def vdi_endpoints():
    return VdiEndpoint.objects.select_related("libvirt_host").order_by("name")


def vdi_vms(endpoint: VdiEndpoint):
    return VirtualMachine.objects.filter(vdi_endpoint=endpoint).order_by("name")


def vm_list(query: str = "", tag: str = ""):
    qs = VirtualMachine.objects.select_related("host", "vdi_endpoint")
    if query:
        qs = qs.filter(name__icontains=query)
    if tag:
        qs = filter_tagged(qs, tag)
    return qs.order_by("host__name", "name")
