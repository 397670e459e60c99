"""Named values of the platform's integer codes, and the VDI ↔ libvirt state mapping."""

from __future__ import annotations

from enum import IntEnum


class _Coded(IntEnum):
    """An IntEnum whose ``parse`` keeps unknown codes as plain ints instead of failing."""

    @classmethod
    def parse(cls, value: object) -> _Coded | int | None:
        if type(value) is int:  # the common case: one dict probe, no exception
            return cls._value2member_map_.get(value, value)
        if value is None or value == "":
            return None
        try:
            number = int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        try:
            return cls(number)
        except ValueError:
            return number


class DomainStatus(_Coded):
    """``DomainVO.status``."""

    OFF = 0
    RUNNING = 1
    SUSPENDED = 2
    SLEEPING = 3  # 休眠 (hibernated)
    IN_PROGRESS = 5  # 操作中: a batch operation is running on the VM
    UPGRADING = 6

    @property
    def label(self) -> str:
        return _DOMAIN_LABELS[self]


_DOMAIN_LABELS = {
    DomainStatus.OFF: "off",
    DomainStatus.RUNNING: "running",
    DomainStatus.SUSPENDED: "suspended",
    DomainStatus.SLEEPING: "sleeping",
    DomainStatus.IN_PROGRESS: "in progress",
    DomainStatus.UPGRADING: "upgrading",
}


class HostStatus(_Coded):
    """``HostVO.status``."""

    MAINTENANCE = 0
    ONLINE = 1
    SHUT_DOWN = 2
    OFFLINE = 3


class DeskPoolType(_Coded):
    """``DesktopPoolVO.type`` / ``DeskPoolCreateDto.type``."""

    DEDICATED = 0  # 非共享
    SHARED = 1
    TEACHING = 2


class DeskPoolStatus(_Coded):
    """``DesktopPoolVO.status``."""

    IDLE = 0
    SWITCHING_MODEL = 1
    ARCHIVED = 2


class EventType(_Coded):
    """``EventVO.eventType``."""

    DOMAIN = 0
    TEMPLATE = 1
    TERMINAL = 2


class LibvirtState(_Coded):
    """libvirt ``virDomainState``."""

    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4  # shutting down (transitional)
    SHUTOFF = 5
    CRASHED = 6
    PMSUSPENDED = 7


PLATFORM_TO_LIBVIRT: dict[DomainStatus, frozenset[LibvirtState]] = {
    DomainStatus.OFF: frozenset({LibvirtState.SHUTOFF}),
    DomainStatus.RUNNING: frozenset({LibvirtState.RUNNING, LibvirtState.BLOCKED}),
    DomainStatus.SUSPENDED: frozenset({LibvirtState.PAUSED}),
    # a hibernated VM is a managed-save image (shut off) or a guest in S3/S4 (pmsuspended)
    DomainStatus.SLEEPING: frozenset({LibvirtState.SHUTOFF, LibvirtState.PMSUSPENDED}),
}
"""Which libvirt states agree with a platform status. Status 5/6 (transitional) agree with none."""


def states_agree(
    platform: DomainStatus | int | None, libvirt_state: LibvirtState | int | None
) -> bool:
    """True when the platform's VM status and libvirt's domain state describe the same thing."""
    if platform is None or libvirt_state is None:
        return False
    allowed = PLATFORM_TO_LIBVIRT.get(DomainStatus.parse(platform))  # type: ignore[arg-type]
    return allowed is not None and libvirt_state in allowed


def libvirt_to_platform(state: int) -> DomainStatus:
    """The platform status a VM in libvirt ``state`` should have (used by the simulator)."""
    if state in (LibvirtState.RUNNING, LibvirtState.BLOCKED):
        return DomainStatus.RUNNING
    if state == LibvirtState.PAUSED:
        return DomainStatus.SUSPENDED
    if state == LibvirtState.PMSUSPENDED:
        return DomainStatus.SLEEPING
    if state == LibvirtState.SHUTDOWN:
        return DomainStatus.IN_PROGRESS
    return DomainStatus.OFF


def state_label(value: object, enum: type[_Coded]) -> str:
    """``"running(1)"`` for a known code, ``"7"`` for an unknown one, ``"-"`` for none."""
    parsed = enum.parse(value)
    if parsed is None:
        return "-"
    if isinstance(parsed, _Coded):
        return f"{parsed.name.lower()}({int(parsed)})"
    return str(parsed)
