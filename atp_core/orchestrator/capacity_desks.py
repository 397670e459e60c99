"""The desks and the workload of a capacity run on a libvirt host (``capacity.run_capacity``).

Two kinds of desks: ``TemplateDesks`` (copies of a template VM, made with libvirt; what the
web's capacity runs use) and ``VdiDesks`` (linked clones of a VDI platform template, created
and started through the platform's API; ``bench/p15_capacity.py --vdi``).

A ``TemplateDesks`` desk is a transient copy of a *template* domain on the host (its XML with
a new name, no UUID, no MAC addresses and a fresh SPICE ticket), so destroying it leaves
nothing behind. A template whose disks are writable is refused: every desk would write the same
disk. Once started, a desk is ready when the engine's ``READY`` scenario passed on it: the login
screen is up (the desktop guest's ``/run/atp-greeter`` marker, through the guest agent) and the
guest has been idle for three reads in a row, so its own boot is not taken for the host's load.

The workload (``typing_scenario``) types ``keys`` keys at the login screen over SPICE: a
letter, then backspace, in turns (the name field never grows), each one's input-to-display
latency to the redraw of xdm's name field on the desktop guest's 1024x768 screen.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libvirt

from atp_core.errors import InfrastructureError, InvalidInput

from .loader import load_scenario
from .runtime import Target

# xdm's name field on the desktop guest's login screen: each key's latency ends at its redraw
NAME_FIELD = "{x: 276, y: 270, width: 388, height: 48}"
# three idle reads of /proc/loadavg in a row (one runnable task: the shell reading it, with a
# builtin, no fork), at most ~60 s; a guest that stays busy is measured anyway ("busy"). No
# "${" in it: the engine would take it for a variable
_SETTLE = """n=0; i=0
while [ $i -lt 120 ]; do
  IFS=' /' read l1 l5 l15 r total last < /proc/loadavg
  if [ "$r" -le 1 ]; then n=$((n+1)); else n=0; fi
  [ $n -ge 3 ] && exit 0
  i=$((i+1)); sleep 0.5
done
echo busy"""
READY = """name: capacity-desk-ready
steps:
  - type: wait_until
    name: login screen up
    check: {type: verify_command, command: "test -e /run/atp-greeter"}
    interval: 1s
    timeout: 300s
  - type: wait
    duration: 3s
  - type: exec_command
    name: guest idle
    timeout: 90s
    command: |
""" + "".join(f"      {line}\n" for line in _SETTLE.splitlines())


def typing_scenario(keys: int) -> str:
    """``keys`` measured key presses at the login screen (a letter, then backspace, in turns),
    each followed by a pause as a user types; first a pause for the SPICE connection's first
    full-screen updates to pass."""
    steps = ["  - type: wait\n    duration: 2s"]
    for n in range(keys):
        key = "backspace" if n % 2 else "a"
        steps.append(
            f"  - type: send_key\n    key: {key}\n    area: {NAME_FIELD}\n    timeout: 20s"
        )
        steps.append("  - type: wait\n    duration: 300ms")
    return "name: capacity-workload\ndisplay: spice\nsteps:\n" + "\n".join(steps) + "\n"


@dataclass(frozen=True)
class Desk:
    """One started desk: its domain on the host."""

    name: str
    host_uri: str


def desk_xml(template_xml: str, name: str, ticket: str) -> str:
    """The domain XML of desk ``name`` copied from ``template_xml``; ``InvalidInput`` when the
    template has a writable disk (every desk would write it)."""
    root = ET.fromstring(template_xml)
    old = root.findtext("name") or ""
    for disk in root.findall("devices/disk"):
        if disk.get("device", "disk") == "disk" and disk.find("readonly") is None:
            dev = disk.find("target")
            raise InvalidInput(
                f"template {old}: disk {dev.get('dev') if dev is not None else '?'} is writable; "
                "a capacity template's disks must be read-only (each desk is a copy of it)"
            )
    root.find("name").text = name
    for tag in ("uuid", "seclabel"):
        for node in root.findall(tag):
            root.remove(node)
    for iface in root.findall("devices/interface"):
        for mac in iface.findall("mac"):
            iface.remove(mac)
    for log in root.iter("log"):
        if old and old in log.get("file", ""):
            log.set("file", log.get("file").replace(old, name))
    for graphics in root.findall("devices/graphics"):
        if graphics.get("type") == "spice":
            graphics.set("passwd", ticket)
            graphics.set("autoport", "yes")
            graphics.attrib.pop("port", None)
            graphics.attrib.pop("tlsPort", None)
    return ET.tostring(root, encoding="unicode")


class TemplateDesks:
    """Desks started as transient copies of ``template`` on ``host_uri``, named
    ``<template>-cap<tag>-<n>``; ``close`` destroys every one it started."""

    def __init__(self, host_uri: str, template: str, *, tag: str = "", artifacts: Path) -> None:
        self.host_uri, self.template, self.tag = host_uri, template, tag
        self.artifacts = artifacts
        self.conn = libvirt.open(host_uri)
        try:
            flags = libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE
            self.template_xml = self.conn.lookupByName(template).XMLDesc(flags)
        except libvirt.libvirtError as exc:
            self.conn.close()
            raise InvalidInput(f"template {template}: not found on {host_uri} ({exc})") from None
        desk_xml(self.template_xml, "check", "check")  # refuses a writable template now
        self.started: list[str] = []
        self._lock = threading.Lock()
        self._ready = load_scenario(READY)

    def name(self, n: int) -> str:
        return f"{self.template}-cap{self.tag}-{n}"

    def start(self, n: int) -> Desk:
        """Start desk ``n`` and wait until it is ready (``READY``); the reason when not."""
        from .executor import run_scenario

        name = self.name(n)
        with contextlib.suppress(libvirt.libvirtError):  # a leftover of a run that died
            self.conn.lookupByName(name).destroy()
        xml = desk_xml(self.template_xml, name, secrets.token_hex(8))
        try:
            self.conn.createXML(xml, 0)
        except libvirt.libvirtError as exc:
            raise InfrastructureError(f"{name}: could not be started: {exc}") from None
        with self._lock:
            self.started.append(name)
        report = run_scenario(
            self._ready,
            [Target("desk", self.host_uri, name)],
            artifact_dir=self.artifacts / f"{name}-ready",
        )
        target = report.targets[0]
        if target.result != "passed":
            bad = [f"{s.name or s.type}: {s.error}" for s in target.steps if s.status != "passed"]
            raise InfrastructureError(f"{name}: not ready ({'; '.join(bad[:2]) or target.error})")
        return Desk(name, self.host_uri)

    def close(self) -> None:
        for name in self.started:
            with contextlib.suppress(libvirt.libvirtError):
                self.conn.lookupByName(name).destroy()
        self.conn.close()


class VdiDesks:
    """Desks created through the VDI platform's API (``atp_core.vdiplatform``): one desk pool
    of ``count`` linked clones of the platform template ``template``, named
    ``<domain_prefix>001``..., created (shut off) up front; ``start(n)`` starts clone ``n``
    through the platform, waits until the platform reports it running, then runs ``READY`` on
    it over libvirt (``host_uri``: the hypervisor the platform's VMs run on). ``close``
    deletes the pool, and its VMs with it."""

    def __init__(
        self,
        client: Any,
        host_uri: str,
        *,
        template: str,
        pool: str,
        count: int,
        domain_prefix: str,
        artifacts: Path,
        timeout: float = 120.0,
    ) -> None:
        self.client, self.host_uri, self.artifacts = client, host_uri, artifacts
        self.timeout = timeout
        model = client.models.find(template)
        if model is None or not model.is_model:
            raise InvalidInput(f"template {template}: the VDI platform has no such template")
        event = client.desk_pools.create(pool, count, model.id, domain_prefix=domain_prefix)
        client.events.wait(event, timeout=timeout)
        found = client.desk_pools.find(pool)
        if found is None:
            raise InfrastructureError(f"desk pool {pool}: created, then not found")
        self.pool_id = found.id
        self.vms = sorted(client.desk_pools.domains(self.pool_id), key=lambda vm: vm.name)
        if len(self.vms) != count:
            self.close()
            raise InfrastructureError(f"desk pool {pool}: {len(self.vms)} VMs, not {count}")
        self._ready = load_scenario(READY)

    def start(self, n: int) -> Desk:
        from atp_core.vdiplatform import DomainStatus

        from .executor import run_scenario

        vm = self.vms[n - 1]
        started = self.client.domains.start([vm.id])
        self.client.events.wait_all(started.event_ids, timeout=self.timeout)
        self.client.domains.wait_status([vm.id], DomainStatus.RUNNING, timeout=self.timeout)
        report = run_scenario(
            self._ready,
            [Target("desk", self.host_uri, vm.name)],
            artifact_dir=self.artifacts / f"{vm.name}-ready",
        )
        target = report.targets[0]
        if target.result != "passed":
            bad = [f"{s.name or s.type}: {s.error}" for s in target.steps if s.status != "passed"]
            raise InfrastructureError(
                f"{vm.name}: not ready ({'; '.join(bad[:2]) or target.error})"
            )
        return Desk(vm.name, self.host_uri)

    def close(self) -> None:
        self.client.desk_pools.delete(self.pool_id)


def typing_workload(keys: int, artifacts: Path) -> Callable[[Desk, int], list[float]]:
    """The workload of one desk and step: ``typing_scenario(keys)`` through the engine; the
    latencies of its keys (seconds). A key that drew nothing, or a step that did not pass, is
    an error naming the desk."""
    from .executor import run_scenario

    scenario = load_scenario(typing_scenario(keys))

    def workload(desk: Desk, step: int) -> list[float]:
        report = run_scenario(
            scenario,
            [Target("desk", desk.host_uri, desk.name)],
            artifact_dir=artifacts / f"{desk.name}-{step}",
        )
        target = report.targets[0]
        if target.result != "passed":
            bad = [(s.id, s.status, s.error) for s in target.steps if s.status != "passed"]
            raise RuntimeError(f"{desk.name}: workload {target.result}: {bad[:2]}")
        values = [s.metrics.get("latency") for s in target.steps if s.type == "send_key"]
        missing = [n for n, v in enumerate(values, 1) if v is None]
        if missing:
            raise RuntimeError(
                f"{desk.name}: keys {missing} of {len(values)} drew nothing in the name field"
            )
        return [float(v) for v in values]

    return workload
