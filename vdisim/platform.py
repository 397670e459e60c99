"""The simulated platform's state: entities, tokens, events and the task pool, apart from HTTP.

The vendor operations live in ``vdisim.api`` (one module per resource, as the client's
``atp_core.vdiplatform.api``); each handler takes this ``Platform`` and returns the envelope's
``data`` or raises ``SimError(status, msg)``; the server wraps both into ``{status, msg, data}``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from atp_core.vdiplatform.enums import DomainStatus
from vdisim.backends import DESKTOP_TEMPLATE, BackendError, MemoryBackend
from vdisim.errors import NOT_FOUND, TOKEN_INVALID, SimError
from vdisim.vo import now

log = logging.getLogger(__name__)

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


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def new_id() -> str:
    return str(uuid.uuid4())


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
        every = (
            self.backend.all_host_facts()
            if hasattr(self.backend, "all_host_facts")
            else [self.backend.host_facts()]
        )
        self.hosts: dict[str, dict] = {}
        for facts in every:  # the libvirt backend: one platform host per libvirt host
            host_id = str(
                uuid.uuid5(uuid.NAMESPACE_URL, f"vdisim:{self.backend.name}:{facts['name']}")
            )
            self.hosts[host_id] = {
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
        self.host_id = host_id = next(iter(self.hosts))
        facts = every[0]
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
        self.add_domain(
            template_name,
            cpu=1 if self.backend.name != "memory" else 4,
            memory=192 if self.backend.name != "memory" else 4096,
            status=DomainStatus.OFF,
            vm_id=self.template_id,
            isModel=1,
            osType="linux",
            remark="template of the ATP test guest" if self.backend.name != "memory" else None,
        )
        if self.backend.name == "libvirt":
            # the desktop guest (Xorg, xdm, SPICE): desks a user sees, for capacity runs
            self.add_domain(
                DESKTOP_TEMPLATE,
                cpu=1,
                memory=256,
                status=DomainStatus.OFF,
                vm_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"vdisim:template:{DESKTOP_TEMPLATE}")),
                isModel=1,
                osType="linux",
                remark="template of the ATP desktop guest (SPICE, xdm)",
            )
        for dn, ou, parent in (("ou=atp", "atp", None), ("ou=qa,ou=atp", "qa", "ou=atp")):
            self.groups[dn] = {"id": new_id(), "ou": ou, "distinguishedName": dn, "parent": parent}
        for name, group in (("alice", "ou=qa,ou=atp"), ("bob", "ou=atp")):
            self.add_user(name, group)
        if self.seed == "lab" and self.backend.name == "memory":
            for name, cpu, mem in (
                ("lic", 4, 8192),
                ("ocloud01", 16, 24576),
                ("ocloud02", 16, 24576),
                ("win10_22h2001", 16, 32768),
            ):
                self.add_domain(name, cpu=cpu, memory=mem, status=DomainStatus.RUNNING)
            pool_id = new_id()
            self.desk_pools[pool_id] = self.pool_record(
                pool_id, "testpool", 0, 0, self.template_id, None, None
            )
        for i in range(self.extra_vms):
            status = (DomainStatus.RUNNING, DomainStatus.OFF, DomainStatus.SUSPENDED)[i % 3]
            self.add_domain(f"sim-vm-{i:05d}", cpu=2, memory=2048, status=status)

    # ================================================================ records

    def host_id_of(self, host_name: str | None) -> str:
        """The id of the platform host called ``host_name`` (the first host for None/unknown)."""
        if host_name:
            for host_id, host in self.hosts.items():
                if host["name"] == host_name:
                    return host_id
        return self.host_id

    def add_domain(
        self,
        name: str,
        *,
        cpu: int,
        memory: int,
        status: int,
        vm_id: str | None = None,
        host_name: str | None = None,
        **extra,
    ) -> dict:
        t = now()
        host_id = self.host_id_of(host_name)
        host = self.hosts[host_id]
        record = {
            "id": vm_id or new_id(),
            "name": name,
            "status": int(status),
            "hostId": host_id,
            "hostName": host["name"],
            "ip": host["ip"],
            "lastSuccessfulHostId": host_id,
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

    def add_user(self, name: str, group: str, **extra) -> dict:
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

    def pool_record(self, pool_id, name, pool_type, amount, model_id, prefix, remark) -> dict:
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

    # ================================================================ lookups (under the lock)

    def find_vm(self, vm_id: str, *, allow_model: bool = False) -> dict:
        record = self.domains.get(vm_id)
        if (
            record is None
            or record.get("isRecycle") == 1
            or (record.get("isModel") == 1 and not allow_model)
        ):
            raise SimError(NOT_FOUND, "虚拟机不存在")
        return record

    def find_model(self, model_id: str) -> dict:
        record = self.domains.get(model_id)
        if record is None or record.get("isModel") != 1:
            raise SimError(NOT_FOUND, "模板不存在")
        return record

    def find_pool(self, pool_id: str) -> dict:
        pool = self.desk_pools.get(pool_id)
        if pool is None:
            raise SimError(NOT_FOUND, "桌面池不存在")
        return pool

    def find_host(self, host_id: str) -> dict:
        host = self.hosts.get(host_id)
        if host is None:
            raise SimError(NOT_FOUND, "主机不存在")
        return host

    def apply_drift(self) -> None:
        """The injected ``state_drift``: recorded statuses that change behind the VMs' backs."""
        for record in self.domains.values():
            if record["name"] in self.drift:
                record["status"] = self.drift.pop(record["name"])

    # ================================================================ tokens

    def check_token(self, token: str | None) -> None:
        with self.lock:
            entry = self.tokens.get(token or "")
            if entry is None:
                raise SimError(*TOKEN_INVALID)
            if self.token_ttl is not None and time.monotonic() - entry[1] > self.token_ttl:
                del self.tokens[token]
                raise SimError(*TOKEN_INVALID)

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
                    self.add_domain(
                        d.name,
                        cpu=d.cpu,
                        memory=d.memory_mb,
                        status=d.status,
                        vm_id=d.uuid,
                        host_name=d.host,
                    )
                elif not self.backend.manages(d.name) and not record.get("_busy"):
                    record["status"] = int(d.status)
            for vm_id, record in list(self.domains.items()):
                if record.get("isModel") == 1 or vm_id in present:
                    continue
                if not self.backend.manages(record["name"]) and not record.get("_busy"):
                    del self.domains[vm_id]

    # ================================================================ events / tasks

    def new_event(self, op: str, *, domain: dict | None = None, description: str = "") -> dict:
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

    def run_task(self, fn: Callable[[], None], event: dict) -> None:
        """Run ``fn`` in the task pool; its ``event`` ends with its outcome."""

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

    def close(self) -> None:
        self.tasks.shutdown(wait=False, cancel_futures=True)
        self.backend.close()
