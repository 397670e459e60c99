"""Where the simulator's hosts and VMs live: in memory, or the local libvirtd.

A backend performs the hypervisor side of each operation (blocking; the platform runs it in a
worker thread) and reports what exists. The platform keeps its own record of every VM's status,
as the real product does, so acting on a guest behind the platform's back (``virsh destroy``)
makes the two views drift until ``sync-status`` — exactly what ``vdi verify`` looks for.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from atp_core.vdiplatform.enums import DomainStatus, libvirt_to_platform

log = logging.getLogger(__name__)


# the libvirt backend's second model: its clones are desktop guests (guest.domain.define_desktop)
DESKTOP_TEMPLATE = "atp-desktop-guest"


class BackendError(Exception):
    """The hypervisor refused or failed an operation (ends up in an event's errorReason)."""


@dataclass
class SeenDomain:
    uuid: str
    name: str
    status: DomainStatus
    cpu: int
    memory_mb: int
    host: str | None = None  # the backend host it was seen on (None: the first)


# final platform status after each batch operation
FINAL_STATUS = {
    "start": DomainStatus.RUNNING,
    "close": DomainStatus.OFF,
    "reboot": DomainStatus.RUNNING,
    "suspend": DomainStatus.SUSPENDED,
    "resume": DomainStatus.RUNNING,
    "sleep": DomainStatus.SLEEPING,
    "wakeup": DomainStatus.RUNNING,
}

# platform statuses each operation may start from (anything else is refused in errorList)
ALLOWED_FROM = {
    "start": {DomainStatus.OFF},
    "close": {DomainStatus.RUNNING, DomainStatus.SUSPENDED},
    "reboot": {DomainStatus.RUNNING},
    "suspend": {DomainStatus.RUNNING},
    "resume": {DomainStatus.SUSPENDED},
    "sleep": {DomainStatus.RUNNING},
    "wakeup": {DomainStatus.SLEEPING},
}


class MemoryBackend:
    """Pure simulation: every operation succeeds after ``op_delay`` seconds."""

    name = "memory"
    prefix = ""

    def __init__(self, op_delay: float = 0.2) -> None:
        self.op_delay = self.default_op_delay = op_delay

    def manages(self, name: str) -> bool:
        return True

    def host_facts(self) -> dict:
        return {
            "name": "ocloud",
            "ip": "192.168.41.51",
            "cpu": "Intel(R) Core(TM) i9-14900K",
            "cpuSize": 32,
            "memory": 125.47,
            "arch": "x86_64",
        }

    def discover(self) -> list[SeenDomain] | None:
        return None  # nothing exists outside the platform's own records

    def power(self, vm: dict, op: str, force: bool) -> DomainStatus:
        time.sleep(self.op_delay)
        return FINAL_STATUS[op]

    def create_vm(
        self, name: str, cpu: int, memory_mb: int, model: str | None = None
    ) -> tuple[str, str | None]:
        """(new id, host name): None = the platform's first host."""
        time.sleep(self.op_delay / 4)
        return str(uuid.uuid4()), None

    def delete_vm(self, vm: dict) -> None:
        return None

    def actual_status(self, vm: dict) -> DomainStatus | None:
        return None

    def close(self) -> None:
        return None


@dataclass
class Site:
    """One libvirt host of the libvirt backend: the platform host ``name`` at ``ip``."""

    name: str
    uri: str
    ip: str
    conn: object


def parse_site(spec: str) -> tuple[str | None, str]:
    """``URI`` or ``NAME=URI`` (a name has no ``:`` or ``/``; a URI may hold ``=`` in its query)."""
    name, sep, rest = spec.partition("=")
    if sep and name and not any(c in name for c in ":/?") and "://" in rest:
        return name, rest
    return None, spec


def uri_address(uri: str) -> str | None:
    """The host part of a libvirt URI (``qemu+tcp://10.0.0.2/system`` -> ``10.0.0.2``), None for
    a local one (``qemu:///system``)."""
    from urllib.parse import urlsplit

    return urlsplit(uri).hostname or None


class LibvirtBackend:
    """One or more libvirtds: each is a host of the simulated platform and its domains the VMs.

    ``uris`` is one URI or a list (``URI`` or ``NAME=URI`` each); a new VM goes to the host with
    the fewest of the simulator's own domains (ties: the order given), and every VM record names
    its host (``hostId``/``hostName``/``ip``), so a client maps each desk to the libvirt host
    it runs on. A host's name is ``NAME`` if given, else the libvirtd's hostname for a local URI
    and the URI's address for a remote one; its ``ip`` is the URI's address (127.0.0.1 local).

    Only domains named ``<prefix>...`` are ever created, changed or removed; the others are
    listed (mirrored read-only) and every operation on them is refused. New VMs are the ATP test
    guest (``guest.domain.define_guest``), or the desktop guest when cloned from the
    ``DESKTOP_TEMPLATE`` model (``guest.domain.define_desktop``).
    """

    name = "libvirt"

    def __init__(
        self,
        uri: str | list[str] = "qemu:///system",
        prefix: str = "atp-vdi-",
        op_timeout: float = 60.0,
    ) -> None:
        import libvirt

        if not prefix:
            raise ValueError("the libvirt backend needs a non-empty VM name prefix")
        self.libvirt = libvirt
        specs = [uri] if isinstance(uri, str) else list(uri)
        if not specs:
            raise ValueError("the libvirt backend needs at least one libvirt URI")
        self.prefix = prefix
        self.op_timeout = op_timeout
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
        self.sites: list[Site] = []
        try:
            for spec in specs:
                given, site_uri = parse_site(spec)
                conn = libvirt.open(site_uri)
                address = uri_address(site_uri)
                name = given or (address if address else conn.getHostname() or socket.gethostname())
                if any(s.name == name for s in self.sites):
                    conn.close()
                    raise ValueError(f"two libvirt hosts are called {name!r}: name them NAME=URI")
                self.sites.append(Site(name, site_uri, address or "127.0.0.1", conn))
        except Exception:
            self.close()
            raise
        self.uri = self.sites[0].uri
        self.conn = self.sites[0].conn  # the first host (single-host callers)
        self._place_lock = threading.Lock()

    def manages(self, name: str) -> bool:
        return name.startswith(self.prefix)

    def _facts(self, site: Site) -> dict:
        model, memory_mib, cpus, *_ = site.conn.getInfo()
        return {
            "name": site.name,
            "ip": site.ip,
            "cpu": model,
            "cpuSize": cpus,
            "memory": round(memory_mib / 1024.0, 2),
            "arch": model,
        }

    def host_facts(self) -> dict:
        return self._facts(self.sites[0])

    def all_host_facts(self) -> list[dict]:
        """Facts of every host, in the order given (the first is ``host_facts()``)."""
        return [self._facts(site) for site in self.sites]

    def discover(self) -> list[SeenDomain]:
        seen = []
        for site in self.sites:
            try:
                domains = site.conn.listAllDomains(0)
            except self.libvirt.libvirtError:
                log.warning("libvirt host %s (%s) cannot be listed", site.name, site.uri)
                continue
            for dom in domains:
                try:
                    state, _max_kib, mem_kib, vcpus, _ = dom.info()
                    seen.append(
                        SeenDomain(
                            dom.UUIDString(),
                            dom.name(),
                            self._status(dom, state),
                            vcpus,
                            mem_kib // 1024,
                            site.name,
                        )
                    )
                except self.libvirt.libvirtError:
                    continue  # vanished while listing
        return seen

    def _status(self, dom, state: int) -> DomainStatus:
        if state == self.libvirt.VIR_DOMAIN_SHUTOFF:
            with contextlib.suppress(self.libvirt.libvirtError):
                if dom.hasManagedSaveImage(0):
                    return DomainStatus.SLEEPING
        return libvirt_to_platform(state)

    def _site(self, vm: dict) -> Site:
        """The host a VM record names (``hostName``); the first host when it names none."""
        wanted = vm.get("hostName")
        for site in self.sites:
            if site.name == wanted:
                return site
        return self.sites[0]

    def _lookup(self, vm: dict):
        """The VM's libvirt domain on its host (on any host when its record names another)."""
        lv = self.libvirt
        first = self._site(vm)
        for site in [first, *(s for s in self.sites if s is not first)]:
            try:
                return site.conn.lookupByName(vm["name"])
            except lv.libvirtError:
                continue
        raise lv.libvirtError(f"no domain {vm['name']} on any libvirt host")

    def _own_count(self, site: Site) -> int:
        try:
            return sum(1 for d in site.conn.listAllDomains(0) if self.manages(d.name()))
        except self.libvirt.libvirtError:
            return 1 << 30  # a host that cannot be listed gets nothing new

    def _dom(self, vm: dict):
        if not self.manages(vm["name"]):
            raise BackendError(f"{vm['name']} is outside the simulator's prefix {self.prefix!r}")
        try:
            return self._lookup(vm)
        except self.libvirt.libvirtError as exc:
            raise BackendError(f"libvirt has no domain {vm['name']}: {exc}") from None

    def power(self, vm: dict, op: str, force: bool) -> DomainStatus:
        lv = self.libvirt
        dom = self._dom(vm)
        try:
            if op in ("start", "wakeup"):
                if not dom.isActive():
                    dom.create()
            elif op == "close":
                if force:
                    dom.destroy()
                else:
                    dom.shutdown()
                    if not self._wait_off(dom, self.op_timeout / 2):
                        dom.destroy()  # the platform powers off a guest ignoring ACPI
            elif op == "reboot":
                try:
                    dom.reboot(0)
                except lv.libvirtError:
                    dom.reset(0)
            elif op == "suspend":
                dom.suspend()
            elif op == "resume":
                dom.resume()
            elif op == "sleep":
                dom.managedSave(0)
        except lv.libvirtError as exc:
            raise BackendError(
                f"libvirt {op} of {vm['name']} failed: {exc.get_error_message()}"
            ) from None
        return self._status(dom, dom.state()[0])

    def _wait_off(self, dom, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not dom.isActive():
                return True
            time.sleep(0.2)
        return False

    def create_vm(
        self, name: str, cpu: int, memory_mb: int, model: str | None = None
    ) -> tuple[str, str]:
        """Define ``name`` on the host with the fewest of our domains: a desktop guest (SPICE
        with a fresh ticket) when cloned from ``DESKTOP_TEMPLATE``, else the text guest.
        Returns (libvirt UUID, host name)."""
        import secrets

        from guest.domain import define_desktop, define_guest

        if not self.manages(name):
            raise BackendError(f"{name} is outside the simulator's prefix {self.prefix!r}")
        with self._place_lock:
            for site in self.sites:
                with contextlib.suppress(self.libvirt.libvirtError):
                    site.conn.lookupByName(name)
                    raise BackendError(f"libvirt host {site.name} already has a domain {name}")
            site = min(self.sites, key=self._own_count)  # min keeps the first of equals
            try:
                if model == DESKTOP_TEMPLATE:
                    dom = define_desktop(site.conn, name, ticket=secrets.token_hex(8))
                else:
                    dom = define_guest(site.conn, name)
            except self.libvirt.libvirtError as exc:
                raise BackendError(
                    f"defining {name} on {site.name} failed: {exc.get_error_message()}"
                ) from None
            return dom.UUIDString(), site.name

    def delete_vm(self, vm: dict) -> None:
        lv = self.libvirt
        if not self.manages(vm["name"]):
            raise BackendError(f"{vm['name']} is outside the simulator's prefix {self.prefix!r}")
        try:
            dom = self._lookup(vm)
        except lv.libvirtError:
            return  # already gone
        with contextlib.suppress(lv.libvirtError):
            if dom.isActive():
                dom.destroy()
        try:
            dom.undefineFlags(lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        except lv.libvirtError as exc:
            raise BackendError(
                f"undefining {vm['name']} failed: {exc.get_error_message()}"
            ) from None

    def actual_status(self, vm: dict) -> DomainStatus | None:
        try:
            dom = self._lookup(vm)
            return self._status(dom, dom.state()[0])
        except self.libvirt.libvirtError:
            return None

    def close(self) -> None:
        for site in getattr(self, "sites", []):
            with contextlib.suppress(Exception):
                site.conn.close()
