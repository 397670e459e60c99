"""Desktop pools (``/ocloud/v1/desk-pool``)."""

from __future__ import annotations

import time

from vdisim.api._base import HANDLERS, Request, body_dict, int_param, page
from vdisim.api.models import clone, free_names
from vdisim.backends import BackendError
from vdisim.errors import BAD_PARAM, STATE_CONFLICT, SimError
from vdisim.platform import Platform, new_id
from vdisim.vo import domain_vo, plain_vo

DESK_POOL_FIELDS = frozenset(
    [
        "adminId",
        "adminName",
        "allocatedAmount",
        "amount",
        "classNo",
        "curModelId",
        "curModelName",
        "domainPrefix",
        "enabled",
        "forceFreeze",
        "groupNameList",
        "id",
        "ldapOpen",
        "ldapType",
        "modelId",
        "modelList",
        "name",
        "remark",
        "status",
        "tableOpen",
        "type",
        "usedAmount",
    ]
)


@HANDLERS.on("GET", "/ocloud/v1/desk-pool")
def list_pools(p: Platform, r: Request) -> dict:
    q = r.query
    with p.lock:
        rows = list(p.desk_pools.values())
        if q.get("keyword"):
            rows = [pool for pool in rows if q["keyword"] in pool["name"]]
        if q.get("type") not in (None, ""):
            rows = [pool for pool in rows if pool["type"] == int_param(q["type"], "type")]
        for pool in rows:
            members = [d for d in p.domains.values() if d.get("desktopPoolId") == pool["id"]]
            pool["usedAmount"] = sum(1 for d in members if d.get("userId"))
            pool["allocatedAmount"] = len(members)
        result = page(rows, q.get("pageNum"), q.get("pageSize"))
        result["list"] = [plain_vo(pool, DESK_POOL_FIELDS) for pool in result["list"]]
        return result


@HANDLERS.on("POST", "/ocloud/v1/desk-pool")
def create_pool(p: Platform, r: Request) -> dict:
    body = body_dict(r.body, "DeskPoolCreateDto")
    name, amount, pool_type = (
        body.get("name"),
        int_param(body.get("amount"), "amount"),
        int_param(body.get("type"), "type"),
    )
    if not isinstance(name, str) or not name or amount is None or pool_type is None:
        raise SimError(BAD_PARAM, "参数错误: name, type, amount 必填")
    if amount < 1 or pool_type not in (0, 1, 2):
        raise SimError(BAD_PARAM, "参数错误: amount >= 1, type 为 0/1/2")
    model_id = (body.get("modelId") or "").split(",")[0] or None
    prefix = body.get("domainPrefix") or name
    with p.lock:
        if any(pool["name"] == name for pool in p.desk_pools.values()):
            raise SimError(STATE_CONFLICT, f"桌面池名称已存在: {name}")
        if model_id is None:
            raise SimError(BAD_PARAM, "参数错误: modelId 必填 (模板)")
        model = p.find_model(model_id)
        names = free_names(p, prefix, amount)
        pool_id = new_id()
        pool = p.pool_record(
            pool_id,
            name,
            pool_type,
            amount,
            model_id,
            body.get("domainPrefix"),
            body.get("remark"),
        )
        p.desk_pools[pool_id] = pool
        event = p.new_event("desk-pool-create", description=f"create desk pool {name} x{amount}")
    p.run_task(lambda: clone(p, model, names, pool), event)
    return {"eventId": event["id"]}


@HANDLERS.on("POST", "/ocloud/v1/desk-pool/{id}/enable", base_response=True)
def enable_pool(p: Platform, r: Request) -> None:
    with p.lock:
        p.find_pool(r.args["id"])["enabled"] = 1


@HANDLERS.on("POST", "/ocloud/v1/desk-pool/{id}/disable", base_response=True)
def disable_pool(p: Platform, r: Request) -> None:
    with p.lock:
        p.find_pool(r.args["id"])["enabled"] = 0


@HANDLERS.on("DELETE", "/ocloud/v1/desk-pool/{id}", base_response=True)
def delete_pool(p: Platform, r: Request) -> None:
    pool_id = r.args["id"]
    with p.lock:
        p.find_pool(pool_id)
        members = [d for d in p.domains.values() if d.get("desktopPoolId") == pool_id]
    for record in members:  # the pool's VMs go with it (running ones are powered off)
        try:
            p.backend.delete_vm(record)
        except BackendError as exc:
            raise SimError(STATE_CONFLICT, str(exc)) from None
        with p.lock:
            p.domains.pop(record["id"], None)
    with p.lock:
        p.desk_pools.pop(pool_id, None)


@HANDLERS.on("GET", "/ocloud/v1/desk-pool/{id}/domain/list")
def pool_domains(p: Platform, r: Request) -> list[dict]:
    pool_id = r.args["id"]
    with p.lock:
        p.find_pool(pool_id)
        p.apply_drift()
        return [domain_vo(d) for d in p.domains.values() if d.get("desktopPoolId") == pool_id]


@HANDLERS.on("POST", "/ocloud/v1/desk-pool/switch-model")
def switch_model(p: Platform, r: Request) -> dict:
    body = r.body
    if not isinstance(body, dict) or not body.get("deskPoolId") or not body.get("modelId"):
        raise SimError(BAD_PARAM, "参数错误: deskPoolId 与 modelId 必填")
    with p.lock:
        pool = p.find_pool(body["deskPoolId"])
        model = p.find_model(body["modelId"])
        pool["status"] = 1
        event = p.new_event("switch-model", description=f"switch {pool['name']} to {model['name']}")

    def switch():
        time.sleep(getattr(p.backend, "op_delay", 0.1))
        with p.lock:
            pool.update(curModelId=model["id"], curModelName=model["name"], status=0)
            for d in p.domains.values():
                if d.get("desktopPoolId") == pool["id"]:
                    d.update(motherId=model["id"], motherName=model["name"])

    p.run_task(switch, event)
    return {"eventId": event["id"]}
