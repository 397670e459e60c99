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

    def create_vm(self, name: str, cpu: int, memory_mb: int, model: str | None = None) -> str:
        time.sleep(self.op_delay / 4)
        return str(uuid.uuid4())

    def delete_vm(self, vm: dict) -> None:
        return None

    def actual_status(self, vm: dict) -> DomainStatus | None:
        return None

    def close(self) -> None:
        return None


class LibvirtBackend:
    """The local libvirtd: its host is the simulator's host and its domains are the VMs.

    Only domains named ``<prefix>...`` are ever created, changed or removed; the others are
    listed (mirrored read-only) and every operation on them is refused. New VMs are the ATP test
    guest (``guest.domain.define_guest``), or the desktop guest when cloned from the
    ``DESKTOP_TEMPLATE`` model (``guest.domain.define_desktop``).
    """

    name = "libvirt"

    def __init__(
        self, uri: str = "qemu:///system", prefix: str = "atp-vdi-", op_timeout: float = 60.0
    ) -> None:
        import libvirt

        if not prefix:
            raise ValueError("the libvirt backend needs a non-empty VM name prefix")
        self.libvirt = libvirt
        self.uri = uri
        self.prefix = prefix
        self.op_timeout = op_timeout
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
        self.conn = libvirt.open(uri)

    def manages(self, name: str) -> bool:
        return name.startswith(self.prefix)

    def host_facts(self) -> dict:
        model, memory_mib, cpus, *_ = self.conn.getInfo()
        return {
            "name": self.conn.getHostname() or socket.gethostname(),
            "ip": "127.0.0.1",
            "cpu": model,
            "cpuSize": cpus,
            "memory": round(memory_mib / 1024.0, 2),
            "arch": model,
        }

    def discover(self) -> list[SeenDomain]:
        seen = []
        for dom in self.conn.listAllDomains(0):
            try:
                state, _max_kib, mem_kib, vcpus, _ = dom.info()
                seen.append(
                    SeenDomain(
                        dom.UUIDString(),
                        dom.name(),
                        self._status(dom, state),
                        vcpus,
                        mem_kib // 1024,
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

    def _dom(self, vm: dict):
        if not self.manages(vm["name"]):
            raise BackendError(f"{vm['name']} is outside the simulator's prefix {self.prefix!r}")
        try:
            return self.conn.lookupByName(vm["name"])
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

    def create_vm(self, name: str, cpu: int, memory_mb: int, model: str | None = None) -> str:
        """Define ``name``: a desktop guest (SPICE with a fresh ticket) when cloned from
        ``DESKTOP_TEMPLATE``, else the text guest."""
        import secrets

        from guest.domain import define_desktop, define_guest

        if not self.manages(name):
            raise BackendError(f"{name} is outside the simulator's prefix {self.prefix!r}")
        with contextlib.suppress(self.libvirt.libvirtError):
            self.conn.lookupByName(name)
            raise BackendError(f"libvirt already has a domain called {name}")
        try:
            if model == DESKTOP_TEMPLATE:
                return define_desktop(self.conn, name, ticket=secrets.token_hex(8)).UUIDString()
            return define_guest(self.conn, name).UUIDString()
        except self.libvirt.libvirtError as exc:
            raise BackendError(f"defining {name} failed: {exc.get_error_message()}") from None

    def delete_vm(self, vm: dict) -> None:
        lv = self.libvirt
        if not self.manages(vm["name"]):
            raise BackendError(f"{vm['name']} is outside the simulator's prefix {self.prefix!r}")
        try:
            dom = self.conn.lookupByName(vm["name"])
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
            dom = self.conn.lookupByName(vm["name"])
        except self.libvirt.libvirtError:
            return None
        return self._status(dom, dom.state()[0])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
