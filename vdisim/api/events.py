"""Events: the records of asynchronous tasks (``/ocloud/v1/event``)."""

from __future__ import annotations

from vdisim.api._base import HANDLERS, Request, int_param, page
from vdisim.errors import NOT_FOUND, SimError
from vdisim.platform import Platform
from vdisim.vo import plain_vo


@HANDLERS.on("GET", "/ocloud/v1/event")
def list_events(p: Platform, r: Request) -> dict:
    q = r.query
    with p.lock:
        rows = sorted(p.events.values(), key=lambda e: e["createTime"], reverse=True)
        if q.get("domainName"):
            rows = [e for e in rows if q["domainName"] in (e.get("domainName") or "")]
        if q.get("operateType"):
            wanted = int_param(q["operateType"], "operateType")
            rows = [e for e in rows if e["operateType"] == wanted]
        result = page(rows, q.get("pageNum"), q.get("pageSize"))
        result["list"] = [plain_vo(e) for e in result["list"]]
        return result


@HANDLERS.on("GET", "/ocloud/v1/event/{id}")
def get_event(p: Platform, r: Request) -> dict:
    with p.lock:
        event = p.events.get(r.args["id"])
        if event is None:
            raise SimError(NOT_FOUND, "事件不存在")
        return plain_vo(event)
