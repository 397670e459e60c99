"""Writes to the inventory: hosts, VM sync, guest-agent pings."""

from __future__ import annotations

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from atp_core.errors import AtpError
from atp_core.protocol import VmSession
from atp_core.transport.inventory import list_domains

from .connections import ensure_host, transport
from .models import AgentPing, Host, VirtualMachine

INVENTORY_GROUP = "inventory"


def ensure_local_host() -> Host:
    """The machine's own libvirt, registered as host ``local``."""
    host, _ = Host.objects.get_or_create(
        name="local",
        defaults={"uri": settings.ATP_LOCAL_LIBVIRT_URI, "description": "this machine"},
    )
    return host


def sync_host_vms(host: Host) -> list[VirtualMachine]:
    """Store the host's domains as libvirt reports them now."""
    domains = transport().execute_on_host(ensure_host(host), list_domains)
    now = timezone.now()
    vms = []
    for info in domains:
        vm, _ = VirtualMachine.objects.update_or_create(
            host=host,
            name=info.name,
            defaults={
                "uuid": info.uuid,
                "state": info.state,
                "vcpus": info.vcpus,
                "memory_mib": info.memory_mib,
                "last_seen": now,
            },
        )
        vms.append(vm)
    return vms


def ping_guest_agent(host: Host, vm_name: str) -> AgentPing:
    """Ping the VM's guest agent, store the result and broadcast it to the inventory page."""
    vm, _ = VirtualMachine.objects.get_or_create(host=host, name=vm_name)
    started = time.monotonic()
    try:
        connection = transport().connection(ensure_host(host))
        VmSession(connection, vm_name, agent_timeout=5.0).agent.ping()
        ping = AgentPing.objects.create(
            vm=vm, ok=True, latency_ms=round((time.monotonic() - started) * 1000, 2)
        )
    except (AtpError, OSError) as exc:
        ping = AgentPing.objects.create(vm=vm, ok=False, error=str(exc) or type(exc).__name__)
    broadcast_inventory_event(
        {
            "kind": "agent_ping",
            "host": host.name,
            "vm": vm_name,
            "ok": ping.ok,
            "latency_ms": ping.latency_ms,
            "error": ping.error,
            "at": ping.created.isoformat(),
        }
    )
    return ping


def broadcast_inventory_event(payload: dict) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(INVENTORY_GROUP, {"type": "inventory.event", **payload})
