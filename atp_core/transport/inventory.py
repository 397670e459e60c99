"""What a host runs and what it is: plain data read through one libvirt connection."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import libvirt

STATE_NAMES = {
    libvirt.VIR_DOMAIN_NOSTATE: "nostate",
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_BLOCKED: "blocked",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTDOWN: "shutdown",
    libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended",
}


def state_name(state: int) -> str:
    return STATE_NAMES.get(state, f"state-{state}")


def _version(number: int) -> str:
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


@dataclass(frozen=True)
class DomainInfo:
    name: str
    uuid: str
    state: str
    vcpus: int
    memory_mib: int
    vnc_port: int | None = None
    display: str = ""  # the first graphics device's type (spice, vnc), "" without one
    disks_read_only: bool | None = None  # every disk read-only: it can be copied (capacity)


@dataclass(frozen=True)
class HostInfo:
    hostname: str
    libvirt_version: str
    hypervisor_version: str
    cpus: int
    memory_mib: int
    running_domains: int
    total_domains: int


def devices_of(xml: str) -> tuple[str, bool]:
    """``(display, disks_read_only)`` of a domain's XML: the type of its first graphics device
    (``spice``, ``vnc``, ...; ``""`` without one) and whether every disk is read-only (what a
    template of copies needs: ``capacity_desks.desk_xml`` refuses a writable one).

    >>> devices_of("<domain><devices><graphics type='spice'/></devices></domain>")
    ('spice', True)
    >>> devices_of("<domain><devices><disk device='disk'/></devices></domain>")
    ('', False)
    """
    devices = ET.fromstring(xml).find("devices")
    if devices is None:
        return "", True
    graphics = devices.find("graphics")
    display = (graphics.get("type") or "") if graphics is not None else ""
    read_only = all(
        disk.find("readonly") is not None
        for disk in devices.findall("disk")
        if disk.get("device", "disk") == "disk"
    )
    return display, read_only


def _vnc_port(root: ET.Element) -> int | None:
    graphics = root.find("devices/graphics[@type='vnc']")
    port = graphics.get("port") if graphics is not None else None
    return int(port) if port and port.isdigit() and int(port) > 0 else None


def list_domains(conn: libvirt.virConnect) -> list[DomainInfo]:
    """Every domain on the host (running or not), sorted by name."""
    result = []
    for dom in conn.listAllDomains(0):
        try:
            state, max_mem_kib, _mem, vcpus, _cpu_time = dom.info()
            xml = dom.XMLDesc(0)
            display, read_only = devices_of(xml)
            result.append(
                DomainInfo(
                    name=dom.name(),
                    uuid=dom.UUIDString(),
                    state=state_name(state),
                    vcpus=vcpus,
                    memory_mib=max_mem_kib // 1024,
                    vnc_port=_vnc_port(ET.fromstring(xml)) if dom.isActive() else None,
                    display=display,
                    disks_read_only=read_only,
                )
            )
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # removed while we listed
            raise
    return sorted(result, key=lambda d: d.name)


def host_info(conn: libvirt.virConnect) -> HostInfo:
    _model, memory_mib, cpus, *_ = conn.getInfo()
    try:
        hostname = conn.getHostname()
    except libvirt.libvirtError:
        hostname = socket.gethostname()
    running = conn.numOfDomains()
    return HostInfo(
        hostname=hostname,
        libvirt_version=_version(conn.getLibVersion()),
        hypervisor_version=_version(conn.getVersion()),
        cpus=cpus,
        memory_mib=memory_mib,
        running_domains=running,
        total_domains=running + conn.numOfDefinedDomains(),
    )
