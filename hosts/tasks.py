"""Background work on hosts; thin wrappers over hosts.services."""

import logging

from celery import shared_task

from . import services
from .models import Host

log = logging.getLogger(__name__)


@shared_task(name="hosts.ping_guest_agent")
def ping_guest_agent(host_id: int, vm_name: str) -> bool:
    host = Host.objects.get(pk=host_id)
    return services.ping_guest_agent(host, vm_name).ok


@shared_task(name="hosts.sync_host_vms")
def sync_host_vms(host_id: int) -> int:
    return len(services.sync_host_vms(Host.objects.get(pk=host_id)))


@shared_task(name="hosts.sync_host")
def sync_host(host_id: int) -> dict:
    """Health, VM list and thumbnails of one host (periodic or on demand)."""
    return services.sync_host(Host.objects.get(pk=host_id))


@shared_task(name="hosts.sync_all_hosts")
def sync_all_hosts() -> list[dict]:
    """Every enabled host in turn; one that fails is reported and the next one synced."""
    results = []
    for host in Host.objects.filter(enabled=True).order_by("name"):
        try:
            results.append(services.sync_host(host))
        except Exception as exc:  # noqa: BLE001 - the periodic sync never stops at one host
            log.exception("sync of host %s failed", host.name)
            results.append({"host": host.name, "ok": False, "error": str(exc), "vms": 0})
    return results


@shared_task(name="hosts.vdi_sync")
def vdi_sync(endpoint_id: int) -> dict:
    from . import vdi
    from .models import VdiEndpoint

    return vdi.sync_endpoint(VdiEndpoint.objects.get(pk=endpoint_id))
