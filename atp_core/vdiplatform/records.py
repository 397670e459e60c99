"""Typed, read-only views of the platform's VOs.

Each record exposes the fields ATP uses under Python names and keeps the whole VO in ``raw`` (the
vendor's camelCase keys), so nothing the platform sent is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from atp_core.vdiplatform.enums import DeskPoolStatus, DeskPoolType, DomainStatus, HostStatus

R = TypeVar("R")


def parse_time(value: Any) -> datetime | None:
    """Accept every timestamp shape the platform uses: ISO/"yyyy-MM-dd HH:mm:ss" strings, epoch
    milliseconds, or the ``java.sql.Timestamp`` bean (``{"time": <ms>, ...}``)."""
    if type(value) is dict:  # the common shape first: no ABC check
        value = value.get("time")
        if type(value) is int:
            return datetime.fromtimestamp(value / 1000.0, tz=UTC)
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        value = value.get("time")
        if value is None:
            return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000.0, tz=UTC)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        for candidate in (text, text.replace(" ", "T", 1)):
            try:
                parsed = datetime.fromisoformat(candidate)
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _filled(cls: type[R], **fields: Any) -> R:
    """A frozen record made without its generated ``__init__`` (one ``object.__setattr__`` per
    field): the hot path of a 10,000-VM listing (``bench/p6_vdi_listing.py``). Every field must
    be given; the record is as frozen afterwards (``tests/unit/test_vdi_records.py``)."""
    record = object.__new__(cls)
    record.__dict__.update(fields)
    return record


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Domain:
    """A VM (``DomainVO``); templates are the same VO with ``is_model`` true."""

    id: str
    name: str
    status: DomainStatus | int | None
    host_id: str | None
    host_name: str | None
    cpu: int | None
    memory_mb: int | None
    is_model: bool
    desk_pool_id: str | None
    user_id: str | None
    mother_id: str | None
    created: datetime | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, vo: Mapping[str, Any]) -> Domain:
        return _filled(
            cls,
            id=str(vo.get("id") or ""),
            name=str(vo.get("name") or ""),
            status=DomainStatus.parse(vo.get("status")),
            host_id=vo.get("hostId") or None,
            host_name=vo.get("hostName") or None,
            cpu=_int(vo.get("cpu", vo.get("cpuNum"))),
            memory_mb=_int(vo.get("memory")),
            is_model=_int(vo.get("isModel")) == 1,
            desk_pool_id=vo.get("desktopPoolId") or None,
            user_id=vo.get("userId") or None,
            mother_id=vo.get("motherId") or None,
            created=parse_time(vo.get("createTime")),
            raw=vo,
        )


@dataclass(frozen=True)
class Host:
    """A hypervisor host (``HostVO`` / ``HostDetailVO``)."""

    id: str
    name: str
    ip: str | None
    status: HostStatus | int | None
    cpu_model: str | None
    cpu_count: int | None
    memory_gb: float | None
    running_domains: int | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def online(self) -> bool:
        return self.status == HostStatus.ONLINE

    @classmethod
    def from_api(cls, vo: Mapping[str, Any]) -> Host:
        return cls(
            id=str(vo.get("id") or ""),
            name=str(vo.get("name") or ""),
            ip=vo.get("ip") or None,
            status=HostStatus.parse(vo.get("status")),
            cpu_model=vo.get("cpu") or None,
            cpu_count=_int(vo.get("cpuSize")),
            memory_gb=_float(vo.get("memory")),
            running_domains=_int(vo.get("runningDomainCount")),
            raw=vo,
        )


@dataclass(frozen=True)
class DeskPool:
    """A desktop pool (``DesktopPoolVO``)."""

    id: str
    name: str
    type: DeskPoolType | int | None
    enabled: bool
    status: DeskPoolStatus | int | None
    amount: int | None
    model_id: str | None
    domain_prefix: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, vo: Mapping[str, Any]) -> DeskPool:
        return cls(
            id=str(vo.get("id") or ""),
            name=str(vo.get("name") or ""),
            type=DeskPoolType.parse(vo.get("type")),
            enabled=_int(vo.get("enabled")) == 1,
            status=DeskPoolStatus.parse(vo.get("status")),
            amount=_int(vo.get("amount")),
            model_id=vo.get("curModelId") or vo.get("modelId") or None,
            domain_prefix=vo.get("domainPrefix") or None,
            raw=vo,
        )


@dataclass(frozen=True)
class Event:
    """An asynchronous task record (``EventVO``).

    The vendor documents contradict each other on ``isSuccess`` (the VO says 0 = success, the
    list filter says 1 = success), so completion is read as "``isSuccess`` present" and failure as
    "``errorReason`` non-empty", which holds under either reading.
    """

    id: str
    domain_id: str | None
    domain_name: str | None
    operate_type: int | None
    is_success: int | None
    error_reason: str | None
    description: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def done(self) -> bool:
        return self.is_success is not None

    @property
    def failed(self) -> bool:
        return self.done and bool(self.error_reason)

    @classmethod
    def from_api(cls, vo: Mapping[str, Any]) -> Event:
        return cls(
            id=str(vo.get("id") or ""),
            domain_id=vo.get("domainId") or None,
            domain_name=vo.get("domainName") or None,
            operate_type=_int(vo.get("operateType")),
            is_success=_int(vo.get("isSuccess")),
            error_reason=vo.get("errorReason") or None,
            description=vo.get("description") or None,
            raw=vo,
        )


@dataclass(frozen=True)
class User:
    """An end user (``UserListVo`` / ``UserDetailVo``); ``username`` is ``sAMAccountName``."""

    username: str
    id: str | None
    display_name: str | None
    bound_domain: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, vo: Mapping[str, Any]) -> User:
        return cls(
            username=str(vo.get("sAMAccountName") or ""),
            id=vo.get("id") or None,
            display_name=vo.get("displayName") or None,
            bound_domain=vo.get("domainName") or None,
            raw=vo,
        )


@dataclass(frozen=True)
class Group:
    """An organisational unit (``UserGroupVO``); ``dn`` is what user calls pass as ``group``."""

    dn: str
    ou: str
    id: str | None
    children: tuple[Group, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, vo: Mapping[str, Any]) -> Group:
        return cls(
            dn=str(vo.get("distinguishedName") or ""),
            ou=str(vo.get("ou") or ""),
            id=vo.get("id") or None,
            children=tuple(cls.from_api(c) for c in vo.get("list") or ()),
            raw=vo,
        )

    def walk(self):
        """This group and every descendant, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class BatchItemError:
    """One VM a batch operation refused (``ErrorInfo``)."""

    domain_id: str | None
    domain_name: str | None
    message: str
    status: int | None


@dataclass(frozen=True)
class BatchResult:
    """What a batch power operation accepted (one event per VM) and what it refused."""

    event_ids: tuple[str, ...]
    errors: tuple[BatchItemError, ...]

    @classmethod
    def from_api(cls, vo: Mapping[str, Any] | None) -> BatchResult:
        vo = vo or {}
        return cls(
            event_ids=tuple(str(e) for e in vo.get("eventIdList") or ()),
            errors=tuple(
                BatchItemError(
                    domain_id=e.get("domainId") or None,
                    domain_name=e.get("domainName") or None,
                    message=str(e.get("errorMsg") or ""),
                    status=_int(e.get("status")),
                )
                for e in vo.get("errorList") or ()
            ),
        )


@dataclass(frozen=True)
class LoginInfo:
    """``LoginVO``. The token is deliberately left out of ``repr``."""

    username: str
    role_level: str | None
    token: str = field(repr=False)
