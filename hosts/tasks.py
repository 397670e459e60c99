"""Background work on hosts; thin wrappers over hosts.services."""

import logging

from celery import shared_task

from . import services
from .models import Host

log = logging.getLogger(__name__)


def queue(task, *args) -> str:
    """Send ``task`` to the workers from a request; the error text when the broker cannot take
    it ("" when queued). A broker outage is reported to the person, never a 500."""
    try:
        task.delay(*args)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds
        log.warning("could not queue %s%r: %s", task.name, args, exc)
        return f"could not queue the task (broker unreachable: {exc.__class__.__name__})"
    return ""


@shared_task(name="hosts.ping_guest_agent")
def ping_guest_agent(host_id: int, vm_name: str) -> bool:
    host = Host.objects.get(pk=host_id)
    return services.ping_guest_agent(host, vm_name).ok


@shared_task(name="hosts.sync_host_vms")
def sync_host_vms(host_id: int) -> int:
    return len(services.sync_host_vms(Host.objects.get(pk=host_id)))


@shared_task(name="hosts.test_host")
def test_host(host_id: int) -> str:
    """ "Test connection" of one host: its health is stored and broadcast (host_health)."""
    return services.test_host_connection(Host.objects.get(pk=host_id)).health


@shared_task(name="hosts.sync_host")
def sync_host(host_id: int, thumbnails: bool = True) -> dict:
    """Health, VM list and thumbnails of one host (periodic or on demand); broadcast as
    host_health and host_synced."""
    return services.sync_host(Host.objects.get(pk=host_id), thumbnails=thumbnails)


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
    return vdi_action("sync", endpoint_id)


@shared_task(name="hosts.vdi_action")
def vdi_action(action: str, endpoint_id: int) -> dict:
    """test / sync / verify of a VDI endpoint; the outcome is stored on the endpoint (health,
    last error, last verify report) and broadcast as ``vdi_action``."""
    from . import vdi
    from .models import VdiEndpoint

    return vdi.run_action(VdiEndpoint.objects.get(pk=endpoint_id), action)
