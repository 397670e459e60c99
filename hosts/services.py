"""Writes to the inventory: hosts, VM sync, guest-agent pings."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.utils import timezone

from atp_core.errors import AtpError
from atp_site.channel_send import group_send
from atp_site.tags import checked_tags

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
    from atp_core.transport.inventory import list_domains

    from . import connections

    domains = connections.call(host, list_domains)
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
                "display": info.display,
                "disks_read_only": info.disks_read_only,
                "last_seen": now,
            },
        )
        vms.append(vm)
    return vms


def ping_guest_agent(host: Host, vm_name: str) -> AgentPing:
    """Ping the VM's guest agent, store the result and broadcast it to the inventory page."""
    from atp_core.protocol import VmSession

    from . import connections

    vm, _ = VirtualMachine.objects.get_or_create(host=host, name=vm_name)
    started = time.monotonic()
    try:
        connection = connections.connection(host)
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
    group_send(INVENTORY_GROUP, {"type": "inventory.event", **payload})


# --- hosts: add, test connection (health), full sync with thumbnails ------------------------

THUMBNAIL_WIDTH = 320


def add_host(
    name: str,
    uri: str,
    *,
    description: str = "",
    credentials_ref: str = "",
    tags: list[str] | None = None,
    slots: int = 4,
) -> Host:
    """Register a libvirt host; the name is a slug, the URI a libvirt URI."""
    from django.utils.text import slugify

    from atp_core.errors import InvalidInput

    slug = slugify(name)[:64]
    if not slug or slug != name:
        raise InvalidInput(f"host name {name!r}: use lowercase letters, digits, '-' or '_'")
    from django.core.exceptions import ValidationError

    from .uris import validate_host_uri

    try:
        validate_host_uri(uri)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0]) from None
    if slots < 1:
        raise InvalidInput(f"slots: {slots}; a host runs at least 1 run at a time")
    if Host.objects.filter(name=slug).exists():
        raise InvalidInput(f"a host named {slug!r} already exists")
    return Host.objects.create(
        name=slug,
        uri=uri,
        description=description,
        credentials_ref=credentials_ref,
        tags=checked_tags(tags),
        slots=slots,
    )


def test_host_connection(host: Host) -> Host:
    """Connect to the host (dialling it again even if it was remembered as down), read its
    health, store it; errors are stored, not raised. Run by a worker (hosts.tasks), never in a
    request."""
    from atp_core.transport.inventory import host_info

    from . import connections

    host.last_checked = timezone.now()
    try:
        info = connections.call(host, host_info, fresh=True)
    except (AtpError, OSError) as exc:
        host.reachable = False
        host.last_error = str(exc) or type(exc).__name__
    else:
        host.reachable = True
        host.last_error = ""
        host.libvirt_version = str(info.libvirt_version)[:32]
        host.hypervisor_version = str(info.hypervisor_version)[:32]
        host.cpus = info.cpus
        host.memory_mib = info.memory_mib
        host.running_domains = info.running_domains
    host.save()
    broadcast_inventory_event({"kind": "host_health", "host": host.name, "health": host.health})
    return host


_live_screens = None


def take_screenshot(host: Host, vm_name: str) -> bytes:
    """A full-resolution PNG of the VM's screen now; raises AtpError. From the VM's display
    client (SPICE, kept open while watched) when it has one, else a libvirt screenshot."""
    global _live_screens
    from atp_core.protocol.live_screen import LiveScreens

    from . import connections

    if _live_screens is None:
        _live_screens = LiveScreens()
    connection = connections.connection(host)
    return _live_screens.screenshot(connection, vm_name, key=host.pk)


_capture_pool = None
_capture_guard = threading.Lock()


def take_screenshot_within(host: Host, vm_name: str, timeout: float) -> bytes:
    """``take_screenshot`` bounded by ``timeout`` seconds in all (OperationTimeout after it):
    for a request that must answer while a hypervisor hangs. The capture itself goes on in a
    small pool (its own connect and keepalive bounds end it); a full pool times out too."""
    from concurrent.futures import ThreadPoolExecutor
    from concurrent.futures import TimeoutError as FutureTimeout

    from atp_core.errors import OperationTimeout

    global _capture_pool
    with _capture_guard:
        if _capture_pool is None:
            _capture_pool = ThreadPoolExecutor(4, thread_name_prefix="screen-capture")
    future = _capture_pool.submit(take_screenshot, host, vm_name)
    try:
        return future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        raise OperationTimeout(
            f"no screenshot of {vm_name} on {host.name} within {timeout:g} s"
        ) from None


def capture_thumbnail(host: Host, vm: VirtualMachine) -> bool:
    """Store a small PNG of the VM's screen (libvirt screenshot); False when it cannot."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    try:
        png = take_screenshot(host, vm.name)
        with Image.open(io.BytesIO(png)) as img:
            img = img.convert("RGB")
            ratio = THUMBNAIL_WIDTH / max(img.width, 1)
            if ratio < 1:
                img = img.resize((THUMBNAIL_WIDTH, max(1, int(img.height * ratio))))
            buf = io.BytesIO()
            img.save(buf, "PNG", optimize=True)
    except (AtpError, OSError):
        return False
    if vm.thumbnail:
        vm.thumbnail.delete(save=False)
    vm.thumbnail.save(f"{host.name}-{vm.name}.png", ContentFile(buf.getvalue()), save=False)
    vm.thumbnail_taken = timezone.now()
    vm.save(update_fields=["thumbnail", "thumbnail_taken"])
    return True


def sync_host(host: Host, *, thumbnails: bool = True) -> dict:
    """Health, the VM list (VMs no longer on the host are marked ``gone``) and thumbnails."""
    test_host_connection(host)
    if not host.reachable:
        return {"host": host.name, "ok": False, "error": host.last_error, "vms": 0}
    try:
        vms = sync_host_vms(host)
    except (AtpError, OSError) as exc:
        return {"host": host.name, "ok": False, "error": str(exc), "vms": 0}
    seen = [vm.pk for vm in vms]
    gone = (
        VirtualMachine.objects.filter(host=host, source=VirtualMachine.SOURCE_LIBVIRT)
        .exclude(pk__in=seen)
        .update(state="gone")
    )
    shots = 0
    if thumbnails:
        for vm in vms:
            if vm.state == "running" and capture_thumbnail(host, vm):
                shots += 1
    broadcast_inventory_event({"kind": "host_synced", "host": host.name, "vms": len(vms)})
    return {"host": host.name, "ok": True, "vms": len(vms), "gone": gone, "thumbnails": shots}
