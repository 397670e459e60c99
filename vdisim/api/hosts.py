"""Hosts (``/ocloud/v1/host``)."""

from __future__ import annotations

import time
from typing import Any

from vdisim.api._base import HANDLERS, Request, page, status_set
from vdisim.platform import Platform
from vdisim.vo import plain_vo

HOST_DETAIL_FIELDS = frozenset(
    [
        "arch",
        "cpu",
        "cpuSize",
        "createTime",
        "domainLimit",
        "extranetIp",
        "extranetIpV6",
        "hostNum",
        "id",
        "ip",
        "ipV6",
        "localIp",
        "manufacturer",
        "memory",
        "model",
        "name",
        "physicalMemory",
        "poolId",
        "status",
        "vmcId",
    ]
)


def _host_vo(p: Platform, host: dict) -> dict:
    running = sum(
        1 for d in p.domains.values() if d.get("hostId") == host["id"] and d["status"] == 1
    )
    return plain_vo({**host, "runningDomainCount": running})


def _hosts(p: Platform, q: dict[str, str], *, paged: bool) -> Any:
    with p.lock:
        rows = list(p.hosts.values())
        if q.get("name"):
            rows = [h for h in rows if q["name"] in h["name"]]
        if q.get("status"):
            wanted = status_set(q["status"])
            rows = [h for h in rows if h["status"] in wanted]
        if q.get("poolId"):
            rows = [h for h in rows if h.get("poolId") == q["poolId"]]
        if not paged:
            return [_host_vo(p, h) for h in rows]
        result = page(rows, q.get("pageNum"), q.get("pageSize"))
        result["list"] = [_host_vo(p, h) for h in result["list"]]
        return result


@HANDLERS.on("GET", "/ocloud/v1/host")
def list_hosts(p: Platform, r: Request) -> dict:
    return _hosts(p, r.query, paged=True)


@HANDLERS.on("GET", "/ocloud/v1/host/all")
def all_hosts(p: Platform, r: Request) -> list[dict]:
    return _hosts(p, r.query, paged=False)


@HANDLERS.on("GET", "/ocloud/v1/host/{id}")
def get_host(p: Platform, r: Request) -> dict:
    with p.lock:
        host = p.find_host(r.args["id"])
        return plain_vo(
            {**host, "hostNum": len(p.hosts), "localIp": host["ip"]}, HOST_DETAIL_FIELDS
        )


@HANDLERS.on("GET", "/ocloud/v1/host/{id}/uptime")
def host_uptime(p: Platform, r: Request) -> dict:
    with p.lock:
        return {"uptime": round(time.time() - p.find_host(r.args["id"])["_booted"], 3)}
