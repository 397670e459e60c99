"""VMs (``/ocloud/v1/domain``): list, detail, create, batch power operations, delete, users."""

from __future__ import annotations

from atp_core.vdiplatform.enums import DomainStatus
from vdisim.api._base import HANDLERS, Request, body_dict, int_param, page, status_set, str_list
from vdisim.backends import ALLOWED_FROM, BackendError
from vdisim.errors import BAD_PARAM, NOT_FOUND, STATE_CONFLICT, USER_UNKNOWN, SimError
from vdisim.platform import Platform
from vdisim.vo import domain_vo, now

CREATE_REQUIRED = (
    "autoJoinDomain",
    "bootloader",
    "cores",
    "graphicsCardNum",
    "mainBoard",
    "sockets",
    "threads",
    "vgpuType",
)


def list_domains(p: Platform, q: dict[str, str], *, models: bool = False) -> dict:
    """The paged VM list (``models``: the templates instead)."""
    p.refresh()
    with p.lock:
        p.apply_drift()
        rows = [
            r
            for r in p.domains.values()
            if r.get("isModel", 0) == int(models) and r.get("isRecycle") != 1
        ]
        if q.get("keyword"):
            rows = [r for r in rows if q["keyword"] in r["name"]]
        if q.get("status"):
            wanted = status_set(q["status"])
            rows = [r for r in rows if r["status"] in wanted]
        for key in ("hostId", "motherId", "poolId"):
            if q.get(key):
                rows = [r for r in rows if r.get(key) == q[key]]
        if q.get("isBindUser") not in (None, ""):
            bound = int_param(q["isBindUser"], "isBindUser") == 1
            rows = [r for r in rows if bool(r.get("userId")) == bound]
        result = page(rows, q.get("pageNum"), q.get("pageSize"))
        result["list"] = [domain_vo(r) for r in result["list"]]
        return result


@HANDLERS.on("GET", "/ocloud/v1/domain")
def list_vms(p: Platform, r: Request) -> dict:
    return list_domains(p, r.query)


@HANDLERS.on("GET", "/ocloud/v1/domain/{id}")
def get_domain(p: Platform, r: Request) -> dict:
    p.refresh()
    with p.lock:
        p.apply_drift()
        return domain_vo(p.find_vm(r.args["id"], allow_model=True))


@HANDLERS.on("POST", "/ocloud/v1/domain")
def create_domain(p: Platform, r: Request) -> dict:
    body = body_dict(r.body, "DomainCreateDto")
    missing = [f for f in CREATE_REQUIRED if f not in body]
    name = body.get("name")
    if missing or not isinstance(name, str) or not name:
        raise SimError(BAD_PARAM, f"参数错误: 缺少 {', '.join(missing) or 'name'}")
    cpu = int_param(body.get("cpu"), "cpu", 1)
    memory = int_param(body.get("memory"), "memory", 1024)
    with p.lock:
        if any(d["name"] == name for d in p.domains.values()):
            raise SimError(STATE_CONFLICT, f"虚拟机名称已存在: {name}")
        if not p.backend.manages(name):
            raise SimError(BAD_PARAM, f"参数错误: 虚拟机名称必须以 {p.backend.prefix} 开头")
    try:
        vm_id, host_name = p.backend.create_vm(name, cpu, memory)
    except BackendError as exc:
        raise SimError(STATE_CONFLICT, str(exc)) from None
    with p.lock:
        p.add_domain(
            name,
            host_name=host_name,
            cpu=cpu,
            memory=memory,
            status=DomainStatus.OFF,
            vm_id=vm_id,
            bootloader=body["bootloader"],
            mainboard=body["mainBoard"],
            osType=body.get("osType") or "linux",
            remark=body.get("remark"),
        )
    return {"uuid": vm_id}


# ---------------------------------------------------------------- batch power operations


def batch(p: Platform, op: str, body: object) -> dict:
    """``POST /ocloud/v1/domain/{op}``: one task (and event) per accepted VM, refusals listed."""
    body = body_dict(body, "DomainBatchTaskDto")
    ids = str_list(body.get("idList"), "idList")
    force = int_param(body.get("isForce"), "isForce", 0) == 1
    host_id = body.get("hostId")
    if host_id and host_id not in p.hosts:
        raise SimError(NOT_FOUND, "主机不存在")
    p.refresh()
    event_ids, errors = [], []
    with p.lock:
        p.apply_drift()
        for vm_id in ids:
            record = p.domains.get(vm_id)
            if record is None or record.get("isModel") == 1 or record.get("isRecycle") == 1:
                errors.append({"domainId": vm_id, "errorMsg": "虚拟机不存在", "status": NOT_FOUND})
                continue
            if not p.backend.manages(record["name"]):
                errors.append(
                    _refusal(record, f"不受本平台管理 (名称不以 {p.backend.prefix} 开头)")
                )
                continue
            if host_id and host_id != record["hostId"] and p.backend.name == "libvirt":
                errors.append(
                    _refusal(record, f"虚拟机位于主机 {record['hostName']} (模拟器不迁移虚拟机)")
                )
                continue
            if record["status"] not in ALLOWED_FROM[op]:
                errors.append(_refusal(record, f"虚拟机状态 {record['status']} 不允许 {op}"))
                continue
            previous = record["status"]
            record["status"] = int(DomainStatus.IN_PROGRESS)
            record["_busy"] = True
            event = p.new_event(op, domain=record, description=f"{op} {record['name']}")
            event_ids.append(event["id"])
            p.run_task(lambda d=record, prev=previous: _power(p, d, op, force, prev), event)
    return {"eventIdList": event_ids, "errorList": errors}


def _batch_handler(op: str):
    def handler(p: Platform, r: Request) -> dict:
        return batch(p, op, r.body)

    handler.__name__ = f"batch_{op}"
    return handler


for _op in ALLOWED_FROM:  # the operations the backends know, each its own vendor path
    HANDLERS.on("POST", f"/ocloud/v1/domain/{_op}")(_batch_handler(_op))


def _refusal(record: dict, message: str) -> dict:
    return {
        "domainId": record["id"],
        "domainName": record["name"],
        "errorMsg": message,
        "status": STATE_CONFLICT,
    }


def _power(p: Platform, record: dict, op: str, force: bool, previous: int) -> None:
    try:
        final = p.backend.power(record, op, force)
    except BackendError:
        actual = p.backend.actual_status(record)
        with p.lock:
            record["status"] = int(actual if actual is not None else previous)
            record.pop("_busy", None)
        raise
    with p.lock:
        record["status"] = int(final)
        record["updateTime"] = now()
        record.pop("_busy", None)
        if final == DomainStatus.RUNNING:
            record["lastSuccessfulHostId"] = record["hostId"]


# ---------------------------------------------------------------- delete, status, users


@HANDLERS.on("POST", "/ocloud/v1/domain/delete", base_response=True)
def delete_domains(p: Platform, r: Request) -> None:
    body = body_dict(r.body, "BatchDelDomainReq")
    ids = str_list(body.get("domainIdList"), "domainIdList")
    recycle = int_param(body.get("isRecycle"), "isRecycle")
    if recycle not in (0, 1):
        raise SimError(BAD_PARAM, "参数错误: isRecycle 必须是 0 或 1")
    with p.lock:
        records = [p.find_vm(i) for i in ids]
        for d in records:
            if d["status"] != DomainStatus.OFF:
                raise SimError(STATE_CONFLICT, f"虚拟机运行中，请先关机: {d['name']}")
            if not p.backend.manages(d["name"]):
                raise SimError(STATE_CONFLICT, f"不受本平台管理: {d['name']}")
    for d in records:
        if recycle:
            with p.lock:
                d["isRecycle"] = 1
            continue
        try:
            p.backend.delete_vm(d)
        except BackendError as exc:
            raise SimError(STATE_CONFLICT, str(exc)) from None
        with p.lock:
            p.domains.pop(d["id"], None)


@HANDLERS.on("POST", "/ocloud/v1/domain/{id}/sync-status", base_response=True)
def sync_status(p: Platform, r: Request) -> None:
    with p.lock:
        record = p.find_vm(r.args["id"])
    actual = p.backend.actual_status(record)
    with p.lock:
        p.drift.pop(record["name"], None)
        if actual is not None:
            record["status"] = int(actual)
            record["updateTime"] = now()


@HANDLERS.on("POST", "/ocloud/v1/domain/bind-user")
def bind_user(p: Platform, r: Request) -> dict:
    body = r.body
    if not isinstance(body, dict) or not isinstance(body.get("userId"), str) or not body["userId"]:
        raise SimError(BAD_PARAM, "参数错误: userId 必填")
    ids = str_list(body.get("domainIdList") or [], "domainIdList")
    with p.lock:
        if body["userId"] not in p.users:
            raise SimError(*USER_UNKNOWN)
        not_bound = []
        for vm_id in ids:
            record = p.domains.get(vm_id)
            if record is None or record.get("isModel") == 1:
                not_bound.append(vm_id)
            else:
                record["userId"] = body["userId"]
                p.users[body["userId"]]["domainName"] = record["name"]
        return {"notBindDomainIdList": not_bound}


@HANDLERS.on("POST", "/ocloud/v1/domain/unbind-user", base_response=True)
def unbind_user(p: Platform, r: Request) -> None:
    body = body_dict(r.body, "DomainUnbindUserParam")
    ids = str_list(body.get("domainIdList") or [], "domainIdList")
    with p.lock:
        for vm_id in ids:
            record = p.domains.get(vm_id)
            if record is not None:
                user = p.users.get(record.pop("userId", None) or "")
                if user is not None:
                    user.pop("domainName", None)
