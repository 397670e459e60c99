"""Shaping records into the vendor's VOs: timestamps, and no ``null`` fields.

The vendor schema declares no field ``nullable``, so the simulator leaves unknown fields out
rather than sending ``null`` (a ``null`` would not validate). ``DomainVO`` time fields are
``java.sql.Timestamp`` beans in the schema; every other time field is a ``date-time`` string.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

DOMAIN_TIMESTAMP_FIELDS = frozenset(
    {"createTime", "updateTime", "connectTime", "disconnectTime", "lastFreezeTime"}
)


def now() -> datetime:
    return datetime.now(UTC)


def timestamp_bean(moment: datetime) -> dict[str, int]:
    """A ``java.sql.Timestamp`` as Jackson would serialise the bean (``java.util.Date`` getters)."""
    local = moment.astimezone(UTC)
    return {
        "date": local.day,
        "day": (local.weekday() + 1) % 7,  # Sunday = 0
        "hours": local.hour,
        "minutes": local.minute,
        "month": local.month - 1,
        "nanos": local.microsecond * 1000,
        "seconds": local.second,
        "time": int(local.timestamp() * 1000),
        "timezoneOffset": 0,
        "year": local.year - 1900,
    }


def date_time(moment: datetime) -> str:
    """Spring's default ``date-time`` form, e.g. ``2025-12-01T10:00:00.000+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def domain_vo(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or key.startswith("_"):
            continue
        if isinstance(value, datetime):
            value = timestamp_bean(value) if key in DOMAIN_TIMESTAMP_FIELDS else date_time(value)
        out[key] = value
    return out


def plain_vo(record: dict[str, Any], fields: frozenset[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or key.startswith("_") or (fields is not None and key not in fields):
            continue
        out[key] = date_time(value) if isinstance(value, datetime) else value
    return out
