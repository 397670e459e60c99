"""``vdi verify``: compare the platform's view of its VMs with libvirt's, both directions.

Matching is by VM name (the platform's ``DomainVO.name`` is the libvirt domain name). A row is
reported for every VM seen on either side; it is inconsistent when the VM exists on one side
only, when the states disagree (``enums.PLATFORM_TO_LIBVIRT``; a platform VM "in progress"
agrees with nothing), or when libvirt runs it on another host than the platform records.
Online platform hosts that cannot be reached make the report inconsistent too (unverifiable).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from atp_core.errors import InvalidInput
from atp_core.vdiplatform.client import VdiClient
from atp_core.vdiplatform.enums import (
    DomainStatus,
    HostStatus,
    LibvirtState,
    state_label,
    states_agree,
)
from atp_core.vdiplatform.records import Host

ONLY_ON_PLATFORM = "only on platform"
ONLY_IN_LIBVIRT = "only in libvirt"
STATE_MISMATCH = "state mismatch"
HOST_MISMATCH = "host mismatch"

LibvirtTarget = Any  # a URI string or an open libvirt.virConnect


@dataclass(frozen=True)
class VerifyRow:
    vm_name: str
    platform_host: str | None
    libvirt_host: str | None
    platform_status: int | None
    libvirt_state: int | None
    problem: str | None  # None when consistent

    @property
    def consistent(self) -> bool:
        return self.problem is None

    @property
    def platform_label(self) -> str:
        return state_label(self.platform_status, DomainStatus)

    @property
    def libvirt_label(self) -> str:
        return state_label(self.libvirt_state, LibvirtState)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "platform_label": self.platform_label,
            "libvirt_label": self.libvirt_label,
            "consistent": self.consistent,
        }


@dataclass
class VerifyReport:
    rows: list[VerifyRow] = field(default_factory=list)
    hosts_checked: list[str] = field(default_factory=list)
    hosts_unreachable: dict[str, str] = field(default_factory=dict)  # host name -> error
    hosts_skipped: dict[str, str] = field(default_factory=dict)  # host name -> why (not online)

    @property
    def inconsistent_rows(self) -> list[VerifyRow]:
        return [r for r in self.rows if not r.consistent]

    @property
    def consistent(self) -> bool:
        return not self.inconsistent_rows and not self.hosts_unreachable

    @property
    def exit_code(self) -> int:
        return 0 if self.consistent else 1

    def to_dict(self, only_diff: bool = False) -> dict[str, Any]:
        rows = self.inconsistent_rows if only_diff else self.rows
        return {
            "consistent": self.consistent,
            "total": len(self.rows),
            "inconsistent": len(self.inconsistent_rows),
            "hosts_checked": self.hosts_checked,
            "hosts_unreachable": self.hosts_unreachable,
            "hosts_skipped": self.hosts_skipped,
            "rows": [r.to_dict() for r in rows],
        }

    def to_json(self, only_diff: bool = False) -> str:
        return json.dumps(self.to_dict(only_diff), ensure_ascii=False, indent=2)

    def to_table(self, only_diff: bool = False) -> str:
        rows = self.inconsistent_rows if only_diff else self.rows
        header = ("VM", "platform host", "libvirt host", "platform", "libvirt", "result")
        lines = [
            (
                r.vm_name,
                r.platform_host or "-",
                r.libvirt_host or "-",
                r.platform_label,
                r.libvirt_label,
                "ok" if r.consistent else r.problem or "",
            )
            for r in rows
        ]
        widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=False)]
        out = [
            "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)).rstrip()
            for line in (header, *lines)
        ]
        out.insert(1, "  ".join("-" * w for w in widths))
        total, bad = len(self.rows), len(self.inconsistent_rows)
        pct = 100.0 * (total - bad) / total if total else 100.0
        out.append("")
        out.append(
            f"{total} VM(s), {total - bad} consistent, {bad} inconsistent ({pct:.1f}% consistent)"
        )
        for host, error in self.hosts_unreachable.items():
            out.append(f"host {host}: libvirt unreachable: {error}")
        for host, why in self.hosts_skipped.items():
            out.append(f"host {host}: skipped ({why})")
        out.append("CONSISTENT" if self.consistent else "INCONSISTENT")
        return "\n".join(out)


DEFAULT_CONNECT_TIMEOUT = 10.0


def _open(target: LibvirtTarget, timeout: float = DEFAULT_CONNECT_TIMEOUT):
    """An open connection for ``target``: a URI is opened read-only within ``timeout`` seconds
    (a black-holed host is reported unreachable, never waited for)."""
    from atp_core.transport.connection import open_with_timeout

    if isinstance(target, str):
        return open_with_timeout(target, timeout, read_only=True), True
    return target, False


def _libvirt_domains(conn) -> dict[str, int]:
    import libvirt

    found: dict[str, int] = {}
    for dom in conn.listAllDomains(0):
        try:
            found[dom.name()] = dom.state()[0]
        except libvirt.libvirtError:
            continue  # vanished while listing
    return found


def _targets(
    hosts: list[Host],
    libvirt: LibvirtTarget | Mapping[str, LibvirtTarget] | None,
    uri_template: str,
) -> dict[str, LibvirtTarget]:
    """Host id -> libvirt URI/connection for each online platform host."""
    if libvirt is None:
        missing = [h.name for h in hosts if not h.ip]
        if missing:
            raise InvalidInput(f"hosts without an ip, pass a libvirt URI for them: {missing}")
        return {h.id: uri_template.format(ip=h.ip, name=h.name) for h in hosts}
    if isinstance(libvirt, Mapping):
        targets = {}
        for h in hosts:
            target = libvirt.get(h.id, libvirt.get(h.name))
            if target is None:
                raise InvalidInput(
                    f"no libvirt URI for platform host {h.name!r} ({h.id}); "
                    f"the mapping has {sorted(libvirt)}"
                )
            targets[h.id] = target
        return targets
    if len(hosts) > 1:
        raise InvalidInput(
            f"the platform has {len(hosts)} online hosts ({', '.join(h.name for h in hosts)}); "
            "pass a mapping host name -> libvirt URI instead of one URI"
        )
    return {h.id: libvirt for h in hosts}


def verify_platform(
    client: VdiClient,
    libvirt: LibvirtTarget | Mapping[str, LibvirtTarget] | None = None,
    *,
    name_prefix: str | None = None,
    name_filter: Callable[[str], bool] | None = None,
    uri_template: str = "qemu+tcp://{ip}/system",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> VerifyReport:
    """Compare the platform (through ``client``) with libvirt.

    ``libvirt``: one URI or open connection (a single-host platform), a mapping from platform
    host name or id to URI/connection, or None to derive ``uri_template`` from each host's ip.
    Each URI is opened within ``connect_timeout`` seconds (a hanging host is unreachable).
    ``name_prefix``/``name_filter`` limit the comparison to some VMs on both sides (e.g. on a
    libvirtd shared with other users).
    """

    def wanted(name: str) -> bool:
        if name_prefix and not name.startswith(name_prefix):
            return False
        return name_filter(name) if name_filter else True

    report = VerifyReport()
    all_hosts = list(client.hosts.list())
    online = [h for h in all_hosts if h.online]
    for h in all_hosts:
        if not h.online:
            report.hosts_skipped[h.name] = f"platform status {state_label(h.status, HostStatus)}"
    host_names = {h.id: h.name for h in all_hosts}
    targets = _targets(online, libvirt, uri_template)

    seen_libvirt: dict[str, tuple[str, int]] = {}  # vm name -> (host id, state)
    for host in online:
        try:
            conn, owned = _open(targets[host.id], connect_timeout)
        except Exception as exc:  # libvirt.libvirtError and friends
            report.hosts_unreachable[host.name] = str(exc).splitlines()[0][:200]
            continue
        try:
            for name, state in _libvirt_domains(conn).items():
                if wanted(name):
                    seen_libvirt.setdefault(name, (host.id, state))
        finally:
            if owned:
                conn.close()
        report.hosts_checked.append(host.name)
    checked_ids = {h.id for h in online if h.name in report.hosts_checked}

    platform_vms = {d.name: d for d in client.domains.list() if d.name and wanted(d.name)}
    for name in sorted(set(platform_vms) | set(seen_libvirt)):
        vm = platform_vms.get(name)
        lv = seen_libvirt.get(name)
        platform_host = host_names.get(vm.host_id, vm.host_id) if vm and vm.host_id else None
        if vm is not None and lv is None:
            if vm.host_id and vm.host_id not in checked_ids:
                continue  # its host was skipped or unreachable: nothing to compare with
            problem = ONLY_ON_PLATFORM
        elif vm is None:
            problem = ONLY_IN_LIBVIRT
        elif not states_agree(vm.status, lv[1]):
            problem = STATE_MISMATCH
        elif vm.host_id and vm.host_id != lv[0]:
            problem = HOST_MISMATCH
        else:
            problem = None
        report.rows.append(
            VerifyRow(
                vm_name=name,
                platform_host=platform_host,
                libvirt_host=host_names.get(lv[0]) if lv else None,
                platform_status=int(vm.status) if vm and vm.status is not None else None,
                libvirt_state=lv[1] if lv else None,
                problem=problem,
            )
        )
    return report
