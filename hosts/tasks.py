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
