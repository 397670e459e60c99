"""Reads of the inventory (database, and live from libvirt)."""

from __future__ import annotations

from dataclasses import dataclass, field

from atp_core.errors import AtpError
from atp_core.transport.inventory import DomainInfo, list_domains

from .connections import ensure_host, transport
from .models import AgentPing, Host


@dataclass
class LiveHost:
    host: Host
    domains: list[DomainInfo] = field(default_factory=list)
    error: str = ""
    last_pings: dict[str, AgentPing] = field(default_factory=dict)


def host_list():
    return Host.objects.order_by("name")


def live_hosts() -> list[LiveHost]:
    """Every enabled host with its domains as libvirt reports them right now."""
    result = []
    for host in host_list().filter(enabled=True):
        live = LiveHost(host=host)
        try:
            key = ensure_host(host)
            live.domains = transport().execute_on_host(key, list_domains)
        except (AtpError, OSError) as exc:
            live.error = str(exc) or exc.__class__.__name__
        pings = AgentPing.objects.filter(vm__host=host).select_related("vm").order_by("-created")
        for ping in pings[:200]:
            live.last_pings.setdefault(ping.vm.name, ping)
        result.append(live)
    return result
