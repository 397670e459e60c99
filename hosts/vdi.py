"""VDI endpoints: add, test login, sync their VMs into the inventory, verify against libvirt.

The password is decrypted only to build a client and is never put in a message, a log line,
an exception text or an API answer.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from atp_core.errors import AtpError, InvalidInput
from atp_core.vdiplatform import VdiClient, VdiError
from atp_site.tags import checked_tags

from .models import Host, VdiEndpoint, VirtualMachine
from .secrets import SecretUnreadable

VDI_TIMEOUT = 10.0


def add_endpoint(
    name: str,
    url: str,
    username: str,
    password: str,
    *,
    verify_tls: bool = True,
    tags: list[str] | None = None,
    name_prefix: str = "",
    libvirt_host=None,
) -> VdiEndpoint:
    slug = slugify(name)[:64]
    if not slug or slug != name:
        raise InvalidInput(f"endpoint name {name!r}: use lowercase letters, digits, '-' or '_'")
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(f"URL {url!r}: must start with http:// or https://")
    if not username:
        raise InvalidInput("username: required")
    if VdiEndpoint.objects.filter(name=slug).exists():
        raise InvalidInput(f"a VDI endpoint named {slug!r} already exists")
    endpoint = VdiEndpoint(
        name=slug,
        url=url.rstrip("/"),
        username=username,
        verify_tls=verify_tls,
        tags=checked_tags(tags),
        name_prefix=name_prefix,
        libvirt_host=libvirt_host,
    )
    endpoint.set_password(password)
    endpoint.save()
    return endpoint


def client_for(endpoint: VdiEndpoint, *, timeout: float = VDI_TIMEOUT) -> VdiClient:
    return VdiClient(
        endpoint.url,
        endpoint.username,
        endpoint.get_password(),
        timeout=timeout,
        retries=1,
        verify_ssl=endpoint.verify_tls,
    )


def _safe_error(endpoint: VdiEndpoint, exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    try:
        password = endpoint.get_password()
    except SecretUnreadable:
        password = ""
    if password and password in text:
        text = text.replace(password, "***")
    return text[:2000]


def _record(endpoint: VdiEndpoint, ok: bool, error: str = "", **fields) -> VdiEndpoint:
    endpoint.reachable = ok
    endpoint.last_error = error
    endpoint.last_checked = timezone.now()
    for key, value in fields.items():
        setattr(endpoint, key, value)
    endpoint.save()
    return endpoint


def test_login(endpoint: VdiEndpoint) -> VdiEndpoint:
    """Log in and out; the outcome is stored on the endpoint (health), never raised."""
    try:
        with client_for(endpoint) as client:
            client.login()
    except (VdiError, AtpError, OSError) as exc:
        return _record(endpoint, False, _safe_error(endpoint, exc))
    return _record(endpoint, True)


def _status_label(status) -> str:
    label = getattr(status, "label", None)
    return str(label if label is not None else ("unknown" if status is None else status))


def _uri_address(uri: str) -> str:
    """The address a host's libvirt URI points at; 127.0.0.1 for a local URI."""
    from urllib.parse import urlsplit

    try:
        address = urlsplit(uri).hostname
    except ValueError:
        return ""
    return "127.0.0.1" if address in (None, "", "localhost") else address


def map_platform_hosts(endpoint: VdiEndpoint, platform_hosts) -> dict:
    """Platform host id -> the registered ``Host`` its desks run on, or None.

    A registered host of the same name wins; else the one host whose libvirt URI points at the
    platform host's address (the endpoint's own libvirt host when several do); else none: the
    desks stay platform-only VMs (not run targets).
    """
    registered = list(Host.objects.all())
    mapped = {}
    for ph in platform_hosts:
        named = [h for h in registered if h.name == ph.name]
        if len(named) == 1:
            mapped[ph.id] = named[0]
            continue
        at = [h for h in registered if ph.ip and _uri_address(h.uri) == ph.ip]
        if len(at) > 1 and endpoint.libvirt_host_id:
            at = [h for h in at if h.pk == endpoint.libvirt_host_id] or at
        mapped[ph.id] = at[0] if len(at) == 1 else None
    return mapped


def _store_desk(endpoint: VdiEndpoint, d, host, fields: dict) -> VirtualMachine:
    """One platform VM as an inventory VM; on a registered host it is that host's VM of the
    name (one row, whether the host's libvirt sync or this sync saw it first)."""
    vm = VirtualMachine.objects.filter(vdi_endpoint=endpoint, vdi_id=d.id).first()
    if host is not None:
        same = VirtualMachine.objects.filter(host=host, name=d.name).first()
        if same is not None and (vm is None or same.pk != vm.pk):
            if vm is not None:
                vm.delete()  # the platform-only row of a desk now seen on its host
            vm = same
    if vm is None:
        vm = VirtualMachine(vdi_endpoint=endpoint, vdi_id=d.id)
    vm.vdi_endpoint, vm.vdi_id, vm.host = endpoint, d.id, host
    for key, value in fields.items():
        setattr(vm, key, value)
    vm.save()
    return vm


def sync_endpoint(endpoint: VdiEndpoint) -> dict:
    """Store the platform's VMs (not templates) as inventory VMs of source ``vdi``; a VM on a
    platform host that maps to a registered host (``map_platform_hosts``) is stored under that
    host, so a desk pool's desks are run targets on their own hosts (``{desk_pool: name}``)."""
    now = timezone.now()
    try:
        with client_for(endpoint) as client:
            domains = [d for d in client.domains.list() if not d.is_model]
            pools = {p.id: p.name for p in client.desk_pools.list()}
            hosts = map_platform_hosts(endpoint, client.hosts.all())
    except (VdiError, AtpError, OSError) as exc:
        _record(endpoint, False, _safe_error(endpoint, exc))
        return {"endpoint": endpoint.name, "ok": False, "error": endpoint.last_error, "vms": 0}
    if endpoint.name_prefix:
        domains = [d for d in domains if d.name.startswith(endpoint.name_prefix)]
    seen = []
    for d in domains:
        vm = _store_desk(
            endpoint,
            d,
            hosts.get(d.host_id or ""),
            {
                "name": d.name,
                "source": VirtualMachine.SOURCE_VDI,
                "state": _status_label(d.status),
                "vcpus": d.cpu,
                "memory_mib": d.memory_mb,
                "desk_pool": pools.get(d.desk_pool_id or "", d.desk_pool_id or ""),
                "last_seen": now,
            },
        )
        seen.append(vm.pk)
    gone = (
        VirtualMachine.objects.filter(vdi_endpoint=endpoint, source=VirtualMachine.SOURCE_VDI)
        .exclude(pk__in=seen)
        .update(state="gone")
    )
    on_hosts = sum(1 for d in domains if hosts.get(d.host_id or "") is not None)
    _record(endpoint, True, last_synced=now)
    return {
        "endpoint": endpoint.name,
        "ok": True,
        "vms": len(seen),
        "gone": gone,
        "on_hosts": on_hosts,
    }


def verify_endpoint(endpoint: VdiEndpoint) -> dict:
    """``vdi verify`` (platform vs libvirt, both directions); the report is stored as JSON."""
    from atp_core.vdiplatform import verify_platform

    libvirt = endpoint.libvirt_host.uri if endpoint.libvirt_host_id else None
    try:
        with client_for(endpoint) as client:
            report = verify_platform(
                client,
                libvirt,
                name_prefix=endpoint.name_prefix or None,
                connect_timeout=float(settings.ATP_LIBVIRT_CONNECT_TIMEOUT),
            )
    except (VdiError, AtpError, OSError) as exc:
        _record(endpoint, False, _safe_error(endpoint, exc))
        return {"ok": False, "error": endpoint.last_error}
    data = report.to_dict()
    data["consistent"] = report.consistent
    data["checked_at"] = timezone.now().isoformat()
    data.update(verify_summary(data))
    _record(endpoint, True, last_verify=data)
    return {"ok": True, **data}


ACTIONS = ("test", "sync", "verify")


def run_action(endpoint: VdiEndpoint, action: str) -> dict:
    """One of ``ACTIONS`` (run by a worker): the result with a one-line ``text`` for people;
    broadcast to the inventory viewers as ``vdi_action``."""
    from .services import broadcast_inventory_event

    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}; allowed: {', '.join(ACTIONS)}")
    try:
        if action == "test":
            test_login(endpoint)
            result = {"ok": bool(endpoint.reachable), "error": endpoint.last_error}
            text = "login works" if endpoint.reachable else f"login failed: {endpoint.last_error}"
        elif action == "sync":
            result = sync_endpoint(endpoint)
            ok = result["ok"]
            text = f"{result['vms']} VM(s) synced" if ok else f"sync failed: {result['error']}"
        else:
            result = verify_endpoint(endpoint)
            if not result["ok"]:
                text = f"could not check: {result['error']}"
            else:
                text = result["summary"]
                # a verify that could not reach libvirt is no verdict: not a success either
                result["ok"] = result["outcome"] in ("consistent", "inconsistent", "partial")
    except InvalidInput as exc:
        result, text = {"ok": False, "error": str(exc)}, str(exc)
    result["text"] = text
    broadcast_inventory_event(
        {
            "kind": "vdi_action",
            "endpoint": endpoint.name,
            "action": action,
            "ok": bool(result.get("ok")),
            "text": text,
        }
    )
    return result


def verify_summary(data: dict | None) -> dict:
    """``{"outcome", "summary"}`` of a stored verify report, as a person reads it.

    outcome: ``consistent``, ``inconsistent`` (rows disagree), ``partial`` (what was checked
    agrees but some hosts could not be reached) or ``unchecked`` (no libvirt host could be
    reached: no verdict at all, never "0 of 0 inconsistent").
    """
    if not data:
        return {"outcome": "", "summary": ""}
    unreachable = data.get("hosts_unreachable") or {}
    checked = data.get("hosts_checked") or []
    where = ", ".join(f"{host} ({error})" for host, error in unreachable.items())
    total, bad = int(data.get("total") or 0), int(data.get("inconsistent") or 0)
    if bad:
        text = f"{bad} of {total} VM(s) inconsistent"
        if unreachable:
            text += f"; could not check {where}"
        return {"outcome": "inconsistent", "summary": text}
    if unreachable and not checked:
        text = f"could not check: libvirt unreachable on {where}"
        return {"outcome": "unchecked", "summary": text}
    if unreachable:
        return {
            "outcome": "partial",
            "summary": f"{total} VM(s) agree where checked; could not check {where}",
        }
    return {"outcome": "consistent", "summary": f"consistent: {total} VM(s) agree"}
