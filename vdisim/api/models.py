"""Templates (``/ocloud/v1/model``): the list and linked clones (also used by desk pools)."""

from __future__ import annotations

from atp_core.vdiplatform.enums import DomainStatus
from vdisim.api._base import HANDLERS, Request, body_dict, int_param
from vdisim.api.domains import list_domains
from vdisim.errors import BAD_PARAM, SimError
from vdisim.platform import Platform


@HANDLERS.on("GET", "/ocloud/v1/model")
def list_models(p: Platform, r: Request) -> dict:
    return list_domains(p, r.query, models=True)


@HANDLERS.on("POST", "/ocloud/v1/model/{id}/clone")
def clone_model(p: Platform, r: Request) -> dict:
    body = body_dict(r.body, "ModelCloneDto")
    amount = int_param(body.get("amount"), "amount")
    prefix = body.get("name")
    if not amount or amount < 1 or not isinstance(prefix, str) or not prefix:
        raise SimError(BAD_PARAM, "参数错误: name 与 amount 必填")
    with p.lock:
        model = p.find_model(r.args["id"])
        names = free_names(p, prefix, amount)
        event = p.new_event("model-clone", description=f"clone {model['name']} x{amount}")
    p.run_task(lambda: clone(p, model, names, None), event)
    return {"eventId": event["id"]}


def free_names(p: Platform, prefix: str, amount: int) -> list[str]:
    """``amount`` unused VM names ``<prefix>001``, ``<prefix>002``, ... (under the lock)."""
    if not p.backend.manages(prefix):
        raise SimError(BAD_PARAM, f"参数错误: 虚拟机名称前缀必须以 {p.backend.prefix} 开头")
    taken = {d["name"] for d in p.domains.values()}
    names, i = [], 1
    while len(names) < amount:
        candidate = f"{prefix}{i:03d}"
        if candidate not in taken:
            names.append(candidate)
        i += 1
    return names


def clone(p: Platform, model: dict, names: list[str], pool: dict | None) -> None:
    """The task body: one linked clone of ``model`` per name (in ``pool`` if given)."""
    for name in names:
        vm_id, host_name = p.backend.create_vm(
            name, model["cpu"], model["memory"], model=model["name"]
        )
        with p.lock:
            p.add_domain(
                name,
                host_name=host_name,
                cpu=model["cpu"],
                memory=model["memory"],
                status=DomainStatus.OFF,
                vm_id=vm_id,
                isCloneDomain=1,
                cloneType="1",
                motherId=model["id"],
                motherName=model["name"],
                desktopPoolId=pool["id"] if pool else None,
                osType=model.get("osType"),
            )
