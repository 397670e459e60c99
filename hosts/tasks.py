"""Background work on hosts; thin wrappers over hosts.services."""

from celery import shared_task

from . import services
from .models import Host


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
    return [services.sync_host(h) for h in Host.objects.filter(enabled=True)]


@shared_task(name="hosts.vdi_sync")
def vdi_sync(endpoint_id: int) -> dict:
    from . import vdi
    from .models import VdiEndpoint

    return vdi.sync_endpoint(VdiEndpoint.objects.get(pk=endpoint_id))
