"""Hosts (``/ocloud/v1/host``)."""

from __future__ import annotations

import builtins  # the API groups have a list() method: annotations name the type
from collections.abc import Iterable, Iterator

from atp_core.vdiplatform.api._base import ApiGroup, seg
from atp_core.vdiplatform.enums import HostStatus
from atp_core.vdiplatform.records import Host

OPERATIONS = [
    ("GET", "/ocloud/v1/host"),
    ("GET", "/ocloud/v1/host/all"),
    ("GET", "/ocloud/v1/host/{id}"),
    ("GET", "/ocloud/v1/host/{id}/uptime"),
]


class HostsApi(ApiGroup):
    def list(
        self,
        *,
        name: str | None = None,
        status: Iterable[HostStatus | int] | None = None,
        pool_id: str | None = None,
        page_size: int = 100,
    ) -> Iterator[Host]:
        """``GET /ocloud/v1/host`` (every page)."""
        params = {"name": name, "status": list(status) if status else None, "poolId": pool_id}
        return self._client.iter_pages(
            "/ocloud/v1/host", params, page_size=page_size, convert=Host.from_api
        )

    def all(self) -> builtins.list[Host]:
        """``GET /ocloud/v1/host/all`` (the unpaged variant)."""
        return [Host.from_api(h) for h in self._client.call("GET", "/ocloud/v1/host/all") or []]

    def get(self, host_id: str) -> Host:
        """``GET /ocloud/v1/host/{id}`` (``HostDetailVO``)."""
        return Host.from_api(self._client.call("GET", f"/ocloud/v1/host/{seg(host_id, 'host id')}"))

    def uptime(self, host_id: str) -> float | None:
        """``GET /ocloud/v1/host/{id}/uptime`` (unit undocumented by the vendor)."""
        data = self._client.call("GET", f"/ocloud/v1/host/{seg(host_id, 'host id')}/uptime")
        value = (data or {}).get("uptime")
        return None if value is None else float(value)
