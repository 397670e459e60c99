"""The simulated platform: entities, rules and asynchronous tasks, independent of HTTP.

Handlers return the envelope's ``data`` or raise ``SimError(status, msg)``; the server wraps
both into ``{status, msg, data}``. Error codes the vendor does not document are the simulator's
own choice (see ``docs/vdi.md``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from atp_core.vdiplatform.enums import DomainStatus
from vdisim.backends import ALLOWED_FROM, FINAL_STATUS, BackendError, MemoryBackend
from vdisim.vo import domain_vo, now, plain_vo

log = logging.getLogger(__name__)

OK_MSG = "操作成功"
TOKEN_INVALID = (1006, "token校验失败")
USER_UNKNOWN = (5098, "用户不存在")
PASSWORD_WRONG = (5099, "密码错误")
BAD_PARAM = 4001  # 参数错误
NOT_FOUND = 4004
STATE_CONFLICT = 4009

ADMIN_USER = "admin"
ADMIN_PASSWORD = "11111111"

OPERATE_TYPES = {  # EventVO.operateType codes (undocumented by the vendor; the simulator's own)
    "start": 1,
    "close": 2,
    "reboot": 3,
    "suspend": 4,
    "resume": 5,
    "sleep": 6,
    "wakeup": 7,
    "create": 10,
    "desk-pool-create": 20,
    "switch-model": 21,
    "model-clone": 22,
}

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


class SimError(Exception):
    """A refusal answered as ``{status != 0, msg}`` with HTTP 200."""

    def __init__(self, status: int, msg: str) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def new_id() -> str:
    return str(uuid.uuid4())


def _int(value: Any, what: str, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SimError(BAD_PARAM, f"参数错误: {what} 必须是整数") from None


def _str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SimError(BAD_PARAM, f"参数错误: {what} 必须是字符串数组")
    return value


def page(rows: list[Any], page_num: Any, page_size: Any) -> dict[str, Any]:
    """``PageResult``: 1-based ``pageNum`` (default 1), ``pageSize`` (default 10)."""
    num = _int(page_num, "pageNum", 1)
    size = _int(page_size, "pageSize", 10)
    if num < 1 or size < 1:
        raise SimError(BAD_PARAM, "参数错误: pageNum/pageSize 必须 >= 1")
    total = len(rows)
    start = (num - 1) * size
    return {
        "list": rows[start : start + size],
        "pageNum": num,
        "pageSize": size,
        "pages": math.ceil(total / size) if total else 0,
        "total": total,
    }


class Platform:
    """All state of one simulated platform. Thread-safe (one lock; backend calls outside it)."""

    def __init__(
        self,
        backend=None,
        *,
        seed: str = "lab",
        extra_vms: int = 0,
        extra_hosts: int = 0,
        token_ttl: float | None = None,
    ):
        self.backend = backend or MemoryBackend()
        self.lock = threading.RLock()
        self.tasks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="vdisim-task")
        self.seed = seed
        self.extra_vms = extra_vms
        self.extra_hosts = extra_hosts  # memory backend: more (empty) online hosts
        self.token_ttl = token_ttl
        self._last_discovery = 0.0
        self.reset()

    # ================================================================ seed / reset

    def reset(self) -> None:
        """Back to the seed: forget tokens, events and every entity (the libvirt backend then
        adopts the domains that exist, with their current state)."""
        with self.lock:
            self.admins = {ADMIN_USER: md5(ADMIN_PASSWORD)}
            self.tokens: dict[str, tuple[str, float]] = {}
            self.events: dict[str, dict] = {}
            self.drift: dict[str, int] = {}
            if hasattr(self.backend, "default_op_delay"):
                self.backend.op_delay = self.backend.default_op_delay
            self._seed()  # libvirt backend: domains are re-discovered on the next read
            self._last_discovery = 0.0

    def _seed(self) -> None:
        t0 = now()
        self.vmc = {"id": "vmc-1", "name": "default-dc", "status": 1}
        self.pool = {"id": "pool-1", "name": "default", "vmcId": "vmc-1"}
        facts = self.backend.host_facts()
        host_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vdisim:{self.backend.name}:{facts['name']}"))
        self.hosts: dict[str, dict] = {
            host_id: {
                "id": host_id,
                "status": 1,
                "physicalMemory": facts["memory"],
                "manufacturer": "ATP",
                "model": "vdisim",
                "poolId": self.pool["id"],
                "poolName": self.pool["name"],
                "vmcId": self.vmc["id"],
                "domainLimit": 100,
                "createTime": t0,
                "_booted": time.time(),
                **facts,
            }
        }
        self.host_id = host_id
        for i in range(2, 2 + self.extra_hosts):
            extra_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vdisim:{self.backend.name}:host{i}"))
            self.hosts[extra_id] = {
                **self.hosts[host_id],
                "id": extra_id,
                "name": f"{facts['name']}-{i}",
                "ip": f"192.0.2.{i}",
            }
        self.domains: dict[str, dict] = {}
        self.desk_pools: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        template_name = "win10-template" if self.backend.name == "memory" else "atp-test-guest"
        self.template_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vdisim:template:{template_name}"))
        self._add_domain(
            template_name,
            cpu=1 if self.backend.name != "memory" else 4,
            memory=192 if self.backend.name != "memory" else 4096,
            status=DomainStatus.OFF,
            vm_id=self.template_id,
            isModel=1,
            osType="linux",
            remark="template of the ATP test guest" if self.backend.name != "memory" else None,
        )
        for dn, ou, parent in (("ou=atp", "atp", None), ("ou=qa,ou=atp", "qa", "ou=atp")):
            self.groups[dn] = {"id": new_id(), "ou": ou, "distinguishedName": dn, "parent": parent}
        for name, group in (("alice", "ou=qa,ou=atp"), ("bob", "ou=atp")):
            self._add_user(name, group)
        if self.seed == "lab" and self.backend.name == "memory":
            for name, cpu, mem in (
                ("lic", 4, 8192),
                ("ocloud01", 16, 24576),
                ("ocloud02", 16, 24576),
                ("win10_22h2001", 16, 32768),
            ):
                self._add_domain(name, cpu=cpu, memory=mem, status=DomainStatus.RUNNING)
            pool_id = new_id()
            self.desk_pools[pool_id] = self._pool_record(
                pool_id, "testpool", 0, 0, self.template_id, None, None
            )
        for i in range(self.extra_vms):
            status = (DomainStatus.RUNNING, DomainStatus.OFF, DomainStatus.SUSPENDED)[i % 3]
            self._add_domain(f"sim-vm-{i:05d}", cpu=2, memory=2048, status=status)

    def _add_domain(
        self, name: str, *, cpu: int, memory: int, status: int, vm_id: str | None = None, **extra
    ) -> dict:
        t = now()
        host = self.hosts[self.host_id]
        record = {
            "id": vm_id or new_id(),
            "name": name,
            "status": int(status),
            "hostId": self.host_id,
            "hostName": host["name"],
            "ip": host["ip"],
            "lastSuccessfulHostId": self.host_id,
            "cpu": cpu,
            "sockets": 1,
            "cores": cpu,
            "threads": 1,
            "memory": memory,
            "osType": "linux",
            "osName": "ATP test guest",
            "isModel": 0,
            "isRecycle": 0,
            "isConnected": 0,
            "isCloneDomain": 0,
            "cloneType": "0",
            "freeze": 0,
            "bootloader": "bios",
            "mainboard": "i440fx",
            "poolId": self.pool["id"],
            "poolName": self.pool["name"],
            "vmcId": self.vmc["id"],
            "graphicsCardNum": 1,
            "createTime": t,
            "updateTime": t,
        }
        record.update({k: v for k, v in extra.items()})
        self.domains[record["id"]] = record
        return record

    def _add_user(self, name: str, group: str, **extra) -> dict:
        record = {
            "id": new_id(),
            "sAMAccountName": name,
            "displayName": extra.pop("displayName", name),
            "cn": name,
            "distinguishedName": f"cn={name},{group}",
            "_group": group,
            **{k: v for k, v in extra.items() if v is not None},
        }
        self.users[name] = record
        return record

    def _pool_record(self, pool_id, name, pool_type, amount, model_id, prefix, remark) -> dict:
        model = self.domains.get(model_id) if model_id else None
        return {
            "id": pool_id,
            "name": name,
            "type": pool_type,
            "amount": amount,
            "usedAmount": 0,
            "allocatedAmount": 0,
            "enabled": 1,
            "status": 0,
            "modelId": model_id,
            "curModelId": model_id,
            "curModelName": model["name"] if model else None,
            "modelList": [{"id": model["id"], "name": model["name"]}] if model else [],
            "domainPrefix": prefix,
            "remark": remark,
            "forceFreeze": 0,
            "tableOpen": 0,
            "groupNameList": [],
        }

    # ================================================================ auth

    def login(self, body: Any) -> dict:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("username"), str)
            or not isinstance(body.get("password"), str)
        ):
            raise SimError(BAD_PARAM, "参数错误: username/password 必填")
        with self.lock:
            stored = self.admins.get(body["username"])
            if stored is None:
                raise SimError(*USER_UNKNOWN)
            if body["password"].lower() != stored:
                raise SimError(*PASSWORD_WRONG)
            token = new_id()
            self.tokens[token] = (body["username"], time.monotonic())
        return {
            "token": token,
            "username": body["username"],
            "roleLevel": "1",
            "resourcePri": 1,
            "userPri": 1,
        }

    def check_token(self, token: str | None) -> None:
        with self.lock:
            entry = self.tokens.get(token or "")
            if entry is None:
                raise SimError(*TOKEN_INVALID)
            if self.token_ttl is not None and time.monotonic() - entry[1] > self.token_ttl:
                del self.tokens[token]
                raise SimError(*TOKEN_INVALID)

    def logout(self, token: str | None) -> None:
        with self.lock:
            self.tokens.pop(token or "", None)

    def expire_tokens(self) -> int:
        with self.lock:
            count = len(self.tokens)
            self.tokens.clear()
            return count

    # ================================================================ discovery (libvirt)

    def refresh(self, force: bool = False) -> None:
        """Mirror the backend's domains: adopt new ones, follow the state of domains outside the
        prefix, drop vanished ones outside the prefix. Own domains keep their recorded status."""
        if self.backend.name == "memory":
            return
        if not force and time.monotonic() - self._last_discovery < 0.5:
            return
        seen = self.backend.discover()
        self._last_discovery = time.monotonic()
        with self.lock:
            present = set()
            for d in seen:
                present.add(d.uuid)
                record = self.domains.get(d.uuid)
                if record is None:
                    if any(r["name"] == d.name for r in self.domains.values()):
                        continue  # a stale record of ours still carries the name
                    self._add_domain(
                        d.name, cpu=d.cpu, memory=d.memory_mb, status=d.status, vm_id=d.uuid
                    )
                elif not self.backend.manages(d.name) and not record.get("_busy"):
                    record["status"] = int(d.status)
            for vm_id, record in list(self.domains.items()):
                if record.get("isModel") == 1 or vm_id in present:
                    continue
                if not self.backend.manages(record["name"]) and not record.get("_busy"):
                    del self.domains[vm_id]

    # ================================================================ events / tasks

    def _new_event(self, op: str, *, domain: dict | None = None, description: str = "") -> dict:
        t = now()
        event = {
            "id": new_id(),
            "eventType": 1 if op in ("desk-pool-create", "switch-model", "model-clone") else 0,
            "operateType": OPERATE_TYPES[op],
            "isAsc": 1,
            "description": description or op,
            "domainId": domain["id"] if domain else None,
            "domainName": domain["name"] if domain else None,
            "hostId": domain.get("hostId") if domain else None,
            "ip": domain.get("ip") if domain else None,
            "createTime": t,
            "updateTime": t,
        }
        self.events[event["id"]] = event
        return event

    def _finish(self, event: dict, error: str | None = None) -> None:
        with self.lock:
            event["isSuccess"] = 1 if error else 0  # EventVO: 0 success, 1 failure
            if error:
                event["errorReason"] = error
            event["updateTime"] = now()

    def _run(self, fn, event: dict) -> None:
        def task():
            try:
                fn()
            except BackendError as exc:
                self._finish(event, str(exc))
            except Exception as exc:  # a task must always end its event
                log.exception("simulator task failed")
                self._finish(event, f"internal error: {exc}")
            else:
                self._finish(event)

        self.tasks.submit(task)

    # ================================================================ domains

    def _vm(self, vm_id: str, *, allow_model: bool = False) -> dict:
        record = self.domains.get(vm_id)
        if (
            record is None
            or record.get("isRecycle") == 1
            or (record.get("isModel") == 1 and not allow_model)
        ):
            raise SimError(NOT_FOUND, "虚拟机不存在")
        return record

    def _apply_drift(self) -> None:
        for record in self.domains.values():
            if record["name"] in self.drift:
                record["status"] = self.drift.pop(record["name"])

    def list_domains(self, q: dict[str, str], *, models: bool = False) -> dict:
        self.refresh()
        with self.lock:
            self._apply_drift()
            rows = [
                r
                for r in self.domains.values()
                if r.get("isModel", 0) == int(models) and r.get("isRecycle") != 1
            ]
            if q.get("keyword"):
                rows = [r for r in rows if q["keyword"] in r["name"]]
            if q.get("status"):
                wanted = {_int(s, "status") for s in q["status"].split(",") if s != ""}
                rows = [r for r in rows if r["status"] in wanted]
            for key in ("hostId", "motherId", "poolId"):
                if q.get(key):
                    rows = [r for r in rows if r.get(key) == q[key]]
            if q.get("isBindUser") not in (None, ""):
                bound = _int(q["isBindUser"], "isBindUser") == 1
                rows = [r for r in rows if bool(r.get("userId")) == bound]
            result = page(rows, q.get("pageNum"), q.get("pageSize"))
            result["list"] = [domain_vo(r) for r in result["list"]]
            return result

    def get_domain(self, vm_id: str) -> dict:
        self.refresh()
        with self.lock:
            self._apply_drift()
            return domain_vo(self._vm(vm_id, allow_model=True))

    def create_domain(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise SimError(BAD_PARAM, "参数错误: 请求体必须是 DomainCreateDto")
        missing = [
            f
            for f in (
                "autoJoinDomain",
                "bootloader",
                "cores",
                "graphicsCardNum",
                "mainBoard",
                "sockets",
                "threads",
                "vgpuType",
            )
            if f not in body
        ]
        name = body.get("name")
        if missing or not isinstance(name, str) or not name:
            raise SimError(BAD_PARAM, f"参数错误: 缺少 {', '.join(missing) or 'name'}")
        cpu = _int(body.get("cpu"), "cpu", 1)
        memory = _int(body.get("memory"), "memory", 1024)
        with self.lock:
            if any(r["name"] == name for r in self.domains.values()):
                raise SimError(STATE_CONFLICT, f"虚拟机名称已存在: {name}")
            if not self.backend.manages(name):
                raise SimError(BAD_PARAM, f"参数错误: 虚拟机名称必须以 {self.backend.prefix} 开头")
        try:
            vm_id = self.backend.create_vm(name, cpu, memory)
        except BackendError as exc:
            raise SimError(STATE_CONFLICT, str(exc)) from None
        with self.lock:
            self._add_domain(
                name,
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

    def batch(self, op: str, body: Any) -> dict:
        if not isinstance(body, dict):
            raise SimError(BAD_PARAM, "参数错误: 请求体必须是 DomainBatchTaskDto")
        ids = _str_list(body.get("idList"), "idList")
        force = _int(body.get("isForce"), "isForce", 0) == 1
        host_id = body.get("hostId")
        if host_id and host_id not in self.hosts:
            raise SimError(NOT_FOUND, "主机不存在")
        self.refresh()
        event_ids, errors = [], []
        with self.lock:
            self._apply_drift()
            for vm_id in ids:
                record = self.domains.get(vm_id)
                if record is None or record.get("isModel") == 1 or record.get("isRecycle") == 1:
                    errors.append(
                        {"domainId": vm_id, "errorMsg": "虚拟机不存在", "status": NOT_FOUND}
                    )
                    continue
                if not self.backend.manages(record["name"]):
                    errors.append(
                        self._error(record, f"不受本平台管理 (名称不以 {self.backend.prefix} 开头)")
                    )
                    continue
                if record["status"] not in ALLOWED_FROM[op]:
                    errors.append(self._error(record, f"虚拟机状态 {record['status']} 不允许 {op}"))
                    continue
                previous = record["status"]
                record["status"] = int(DomainStatus.IN_PROGRESS)
                record["_busy"] = True
                event = self._new_event(op, domain=record, description=f"{op} {record['name']}")
                event_ids.append(event["id"])
                self._run(lambda r=record, p=previous: self._power(r, op, force, p), event)
        return {"eventIdList": event_ids, "errorList": errors}

    @staticmethod
    def _error(record: dict, message: str) -> dict:
        return {
            "domainId": record["id"],
            "domainName": record["name"],
            "errorMsg": message,
            "status": STATE_CONFLICT,
        }

    def _power(self, record: dict, op: str, force: bool, previous: int) -> None:
        try:
            final = self.backend.power(record, op, force)
        except BackendError:
            actual = self.backend.actual_status(record)
            with self.lock:
                record["status"] = int(actual if actual is not None else previous)
                record.pop("_busy", None)
            raise
        with self.lock:
            record["status"] = int(final)
            record["updateTime"] = now()
            record.pop("_busy", None)
            if final == DomainStatus.RUNNING:
                record["lastSuccessfulHostId"] = record["hostId"]

    def delete_domains(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise SimError(BAD_PARAM, "参数错误: 请求体必须是 BatchDelDomainReq")
        ids = _str_list(body.get("domainIdList"), "domainIdList")
        recycle = _int(body.get("isRecycle"), "isRecycle")
        if recycle not in (0, 1):
            raise SimError(BAD_PARAM, "参数错误: isRecycle 必须是 0 或 1")
        with self.lock:
            records = [self._vm(i) for i in ids]
            for r in records:
                if r["status"] != DomainStatus.OFF:
                    raise SimError(STATE_CONFLICT, f"虚拟机运行中，请先关机: {r['name']}")
                if not self.backend.manages(r["name"]):
                    raise SimError(STATE_CONFLICT, f"不受本平台管理: {r['name']}")
        for r in records:
            if recycle:
                with self.lock:
                    r["isRecycle"] = 1
                continue
            try:
                self.backend.delete_vm(r)
            except BackendError as exc:
                raise SimError(STATE_CONFLICT, str(exc)) from None
            with self.lock:
                self.domains.pop(r["id"], None)

    def sync_status(self, vm_id: str, body: Any) -> None:
        with self.lock:
            record = self._vm(vm_id)
        actual = self.backend.actual_status(record)
        with self.lock:
            self.drift.pop(record["name"], None)
            if actual is not None:
                record["status"] = int(actual)
                record["updateTime"] = now()

    def bind_user(self, body: Any) -> dict:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("userId"), str)
            or not body["userId"]
        ):
            raise SimError(BAD_PARAM, "参数错误: userId 必填")
        ids = _str_list(body.get("domainIdList") or [], "domainIdList")
        with self.lock:
            if body["userId"] not in self.users:
                raise SimError(*USER_UNKNOWN)
            not_bound = []
            for vm_id in ids:
                record = self.domains.get(vm_id)
                if record is None or record.get("isModel") == 1:
                    not_bound.append(vm_id)
                else:
                    record["userId"] = body["userId"]
                    self.users[body["userId"]]["domainName"] = record["name"]
            return {"notBindDomainIdList": not_bound}

    def unbind_user(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise SimError(BAD_PARAM, "参数错误: 请求体必须是 DomainUnbindUserParam")
        ids = _str_list(body.get("domainIdList") or [], "domainIdList")
        with self.lock:
            for vm_id in ids:
                record = self.domains.get(vm_id)
                if record is not None:
                    user = self.users.get(record.pop("userId", None) or "")
                    if user is not None:
                        user.pop("domainName", None)

    # ================================================================ templates

    def clone_model(self, model_id: str, body: Any) -> dict:
        if not isinstance(body, dict):
            raise SimError(BAD_PARAM, "参数错误: 请求体必须是 ModelCloneDto")
        amount = _int(body.get("amount"), "amount")
        prefix = body.get("name")
        if not amount or amount < 1 or not isinstance(prefix, str) or not prefix:
            raise SimError(BAD_PARAM, "参数错误: name 与 amount 必填")
        with self.lock:
            model = self._model(model_id)
            names = self._free_names(prefix, amount)
            event = self._new_event("model-clone", description=f"clone {model['name']} x{amount}")
        self._run(lambda: self._clone(model, names, None), event)
        return {"eventId": event["id"]}

    def _model(self, model_id: str) -> dict:
        record = self.domains.get(model_id)
        if record is None or record.get("isModel") != 1:
            raise SimError(NOT_FOUND, "模板不存在")
        return record

    def _free_names(self, prefix: str, amount: int) -> list[str]:
        if not self.backend.manages(prefix):
            raise SimError(BAD_PARAM, f"参数错误: 虚拟机名称前缀必须以 {self.backend.prefix} 开头")
        taken = {r["name"] for r in self.domains.values()}
        names, i = [], 1
        while len(names) < amount:
            candidate = f"{prefix}{i:03d}"
            if candidate not in taken:
                names.append(candidate)
            i += 1
        return names

    def _clone(self, model: dict, names: list[str], pool: dict | None) -> None:
        for name in names:
            vm_id = self.backend.create_vm(name, model["cpu"], model["memory"])
            with self.lock:
                self._add_domain(
                    name,
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

    # ================================================================ desk pools

    def list_pools(self, q: dict[str, str]) -> dict:
        with self.lock:
            rows = list(self.desk_pools.values())
            if q.get("keyword"):
                rows = [p for p in rows if q["keyword"] in p["name"]]
            if q.get("type") not in (None, ""):
                rows = [p for p in rows if p["type"] == _int(q["type"], "type")]
            for p in rows:
                members = [d for d in self.domains.values() if d.get("desktopPoolId") == p["id"]]
                p["usedAmount"] = sum(1 for d in members if d.get("userId"))
                p["allocatedAmount"] = len(members)
            result = page(rows, q.get("pageNum"), q.get("pageSize"))
            result["list"] = [plain_vo(p, DESK_POOL_FIELDS) for p in result["list"]]
            return result

    def create_pool(self, body: Any) -> dict:
        if not isinstance(body, dict):
            raise SimError(BAD_PARAM, "参数错误: 请求体必须是 DeskPoolCreateDto")
        name, amount, pool_type = (
            body.get("name"),
            _int(body.get("amount"), "amount"),
            _int(body.get("type"), "type"),
        )
        if not isinstance(name, str) or not name or amount is None or pool_type is None:
            raise SimError(BAD_PARAM, "参数错误: name, type, amount 必填")
        if amount < 1 or pool_type not in (0, 1, 2):
            raise SimError(BAD_PARAM, "参数错误: amount >= 1, type 为 0/1/2")
        model_id = (body.get("modelId") or "").split(",")[0] or None
        prefix = body.get("domainPrefix") or name
        with self.lock:
            if any(p["name"] == name for p in self.desk_pools.values()):
                raise SimError(STATE_CONFLICT, f"桌面池名称已存在: {name}")
            if model_id is None:
                raise SimError(BAD_PARAM, "参数错误: modelId 必填 (模板)")
            model = self._model(model_id)
            names = self._free_names(prefix, amount)
            pool_id = new_id()
            pool = self._pool_record(
                pool_id,
                name,
                pool_type,
                amount,
                model_id,
                body.get("domainPrefix"),
                body.get("remark"),
            )
            self.desk_pools[pool_id] = pool
            event = self._new_event(
                "desk-pool-create", description=f"create desk pool {name} x{amount}"
            )
        self._run(lambda: self._clone(model, names, pool), event)
        return {"eventId": event["id"]}

    def _pool(self, pool_id: str) -> dict:
        pool = self.desk_pools.get(pool_id)
        if pool is None:
            raise SimError(NOT_FOUND, "桌面池不存在")
        return pool

    def set_pool_enabled(self, pool_id: str, enabled: bool) -> None:
        with self.lock:
            self._pool(pool_id)["enabled"] = int(enabled)

    def delete_pool(self, pool_id: str) -> None:
        with self.lock:
            self._pool(pool_id)
            members = [d for d in self.domains.values() if d.get("desktopPoolId") == pool_id]
        for record in members:  # the pool's VMs go with it (running ones are powered off)
            try:
                self.backend.delete_vm(record)
            except BackendError as exc:
                raise SimError(STATE_CONFLICT, str(exc)) from None
            with self.lock:
                self.domains.pop(record["id"], None)
        with self.lock:
            self.desk_pools.pop(pool_id, None)

    def pool_domains(self, pool_id: str) -> list[dict]:
        with self.lock:
            self._pool(pool_id)
            self._apply_drift()
            return [
                domain_vo(d) for d in self.domains.values() if d.get("desktopPoolId") == pool_id
            ]

    def switch_model(self, body: Any) -> dict:
        if not isinstance(body, dict) or not body.get("deskPoolId") or not body.get("modelId"):
            raise SimError(BAD_PARAM, "参数错误: deskPoolId 与 modelId 必填")
        with self.lock:
            pool = self._pool(body["deskPoolId"])
            model = self._model(body["modelId"])
            pool["status"] = 1
            event = self._new_event(
                "switch-model", description=f"switch {pool['name']} to {model['name']}"
            )

        def switch():
            time.sleep(getattr(self.backend, "op_delay", 0.1))
            with self.lock:
                pool.update(curModelId=model["id"], curModelName=model["name"], status=0)
                for d in self.domains.values():
                    if d.get("desktopPoolId") == pool["id"]:
                        d.update(motherId=model["id"], motherName=model["name"])

        self._run(switch, event)
        return {"eventId": event["id"]}

    # ================================================================ hosts

    def _host(self, host_id: str) -> dict:
        host = self.hosts.get(host_id)
        if host is None:
            raise SimError(NOT_FOUND, "主机不存在")
        return host

    def _host_vo(self, host: dict) -> dict:
        running = sum(
            1 for d in self.domains.values() if d.get("hostId") == host["id"] and d["status"] == 1
        )
        return plain_vo({**host, "runningDomainCount": running})

    def list_hosts(self, q: dict[str, str], *, paged: bool = True) -> Any:
        with self.lock:
            rows = list(self.hosts.values())
            if q.get("name"):
                rows = [h for h in rows if q["name"] in h["name"]]
            if q.get("status"):
                wanted = {_int(s, "status") for s in q["status"].split(",") if s != ""}
                rows = [h for h in rows if h["status"] in wanted]
            if q.get("poolId"):
                rows = [h for h in rows if h.get("poolId") == q["poolId"]]
            if not paged:
                return [self._host_vo(h) for h in rows]
            result = page(rows, q.get("pageNum"), q.get("pageSize"))
            result["list"] = [self._host_vo(h) for h in result["list"]]
            return result

    def get_host(self, host_id: str) -> dict:
        with self.lock:
            host = self._host(host_id)
            return plain_vo(
                {**host, "hostNum": len(self.hosts), "localIp": host["ip"]}, HOST_DETAIL_FIELDS
            )

    def host_uptime(self, host_id: str) -> dict:
        with self.lock:
            return {"uptime": round(time.time() - self._host(host_id)["_booted"], 3)}

    # ================================================================ users and groups

    def list_users(self, q: dict[str, str]) -> dict:
        group = q.get("group")
        if not group:
            raise SimError(BAD_PARAM, "参数错误: group 必填")
        with self.lock:
            if group not in self.groups:
                raise SimError(NOT_FOUND, "组织单位不存在")
            rows = [
                u
                for u in self.users.values()
                if u["_group"] == group or u["_group"].endswith("," + group)
            ]
            if q.get("keyword"):
                rows = [u for u in rows if q["keyword"] in u["sAMAccountName"]]
            result = page(rows, q.get("pageNum"), q.get("pageSize"))
            result["list"] = [plain_vo(u) for u in result["list"]]
            return result

    def user_detail(self, q: dict[str, str]) -> dict:
        with self.lock:
            user = self.users.get(q.get("sAMAccountName") or "")
            if user is None:
                raise SimError(*USER_UNKNOWN)
            return plain_vo(user, frozenset({"sAMAccountName", "displayName", "mail", "mobile"}))

    def create_user(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("sAMAccountName") or not body.get("group"):
            raise SimError(BAD_PARAM, "参数错误: sAMAccountName 与 group 必填")
        with self.lock:
            if body["group"] not in self.groups:
                raise SimError(NOT_FOUND, "组织单位不存在")
            if body["sAMAccountName"] in self.users:
                raise SimError(STATE_CONFLICT, "用户已存在")
            extra = {k: body.get(k) for k in ("givenName", "sn", "mail", "mobile", "idNumber")}
            self._add_user(body["sAMAccountName"], body["group"], **extra)

    def delete_user(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("userId"):
            raise SimError(BAD_PARAM, "参数错误: userId 必填")
        with self.lock:
            if self.users.pop(body["userId"], None) is None:
                raise SimError(*USER_UNKNOWN)
            for d in self.domains.values():
                if d.get("userId") == body["userId"]:
                    d.pop("userId")

    def user_domains(self, q: dict[str, str]) -> dict:
        user = q.get("userId")
        if not user:
            raise SimError(BAD_PARAM, "参数错误: userId 必填")
        with self.lock:
            rows = [
                d
                for d in self.domains.values()
                if d.get("userId") == user and d.get("isModel") != 1
            ]
            if q.get("status"):
                wanted = {_int(s, "status") for s in q["status"].split(",") if s != ""}
                rows = [d for d in rows if d["status"] in wanted]
            result = page(rows, q.get("pageNum"), q.get("pageSize"))
            result["list"] = [domain_vo(d) for d in result["list"]]
            return result

    def group_tree(self) -> list[dict]:
        with self.lock:

            def node(dn: str) -> dict:
                g = self.groups[dn]
                children = [node(c) for c, cg in self.groups.items() if cg.get("parent") == dn]
                return plain_vo({**g, "list": children})

            return [node(dn) for dn, g in self.groups.items() if g.get("parent") is None]

    def get_group(self, q: dict[str, str]) -> dict:
        with self.lock:
            g = self.groups.get(q.get("distinguishedName") or "")
            if g is None:
                raise SimError(NOT_FOUND, "组织单位不存在")
            return {"distinguishedName": g["distinguishedName"], "ou": g["ou"]}

    def create_group(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("group"):
            raise SimError(BAD_PARAM, "参数错误: group 必填")
        base = body.get("base") or None
        with self.lock:
            if base and base not in self.groups:
                raise SimError(NOT_FOUND, "上级组织单位不存在")
            dn = f"ou={body['group']}" + (f",{base}" if base else "")
            if dn in self.groups:
                raise SimError(STATE_CONFLICT, "组织单位已存在")
            self.groups[dn] = {
                "id": new_id(),
                "ou": body["group"],
                "distinguishedName": dn,
                "parent": base,
            }

    def delete_group(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("group"):
            raise SimError(BAD_PARAM, "参数错误: group 必填")
        with self.lock:
            dn = body["group"]
            if dn not in self.groups:
                raise SimError(NOT_FOUND, "组织单位不存在")
            if any(g.get("parent") == dn for g in self.groups.values()) or any(
                u["_group"] == dn for u in self.users.values()
            ):
                raise SimError(STATE_CONFLICT, "组织单位下还有用户或子部门")
            del self.groups[dn]

    # ================================================================ events

    def list_events(self, q: dict[str, str]) -> dict:
        with self.lock:
            rows = sorted(self.events.values(), key=lambda e: e["createTime"], reverse=True)
            if q.get("domainName"):
                rows = [e for e in rows if q["domainName"] in (e.get("domainName") or "")]
            if q.get("operateType"):
                rows = [
                    e for e in rows if e["operateType"] == _int(q["operateType"], "operateType")
                ]
            result = page(rows, q.get("pageNum"), q.get("pageSize"))
            result["list"] = [plain_vo(e) for e in result["list"]]
            return result

    def get_event(self, event_id: str) -> dict:
        with self.lock:
            event = self.events.get(event_id)
            if event is None:
                raise SimError(NOT_FOUND, "事件不存在")
            return plain_vo(event)

    def close(self) -> None:
        self.tasks.shutdown(wait=False, cancel_futures=True)
        self.backend.close()


__all__ = ["FINAL_STATUS", "Platform", "SimError"]
