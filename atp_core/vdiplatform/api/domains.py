"""VMs (``/ocloud/v1/domain``): list, detail, create, batch power operations, delete, users."""

from __future__ import annotations

import builtins  # the API groups have a list() method: annotations name the type
import time
from collections.abc import Iterable, Iterator
from typing import Any

from atp_core.errors import InvalidInput
from atp_core.vdiplatform.api._base import ApiGroup, id_list, seg
from atp_core.vdiplatform.enums import DomainStatus
from atp_core.vdiplatform.errors import VdiBatchError, VdiTimeout
from atp_core.vdiplatform.records import BatchResult, Domain

BATCH_OPERATIONS = ("start", "close", "reboot", "suspend", "resume", "sleep", "wakeup")

OPERATIONS = [
    ("GET", "/ocloud/v1/domain"),
    ("GET", "/ocloud/v1/domain/{id}"),
    ("POST", "/ocloud/v1/domain"),
    *[("POST", f"/ocloud/v1/domain/{op}") for op in BATCH_OPERATIONS],
    ("POST", "/ocloud/v1/domain/delete"),
    ("POST", "/ocloud/v1/domain/bind-user"),
    ("POST", "/ocloud/v1/domain/unbind-user"),
    ("POST", "/ocloud/v1/domain/{id}/sync-status"),
]


class DomainsApi(ApiGroup):
    # ------------------------------------------------------------ reads

    def list(
        self,
        *,
        keyword: str | None = None,
        status: Iterable[DomainStatus | int] | None = None,
        host_id: str | None = None,
        mother_id: str | None = None,
        bound: bool | None = None,
        page_size: int = 100,
    ) -> Iterator[Domain]:
        """``GET /ocloud/v1/domain``: every VM (templates excluded), page after page.

        ``keyword`` is the platform's name search (substring); ``status`` a set of codes.
        """
        params = {
            "keyword": keyword,
            "status": list(status) if status else None,
            "hostId": host_id,
            "motherId": mother_id,
            "isBindUser": None if bound is None else int(bound),
        }
        return self._client.iter_pages(
            "/ocloud/v1/domain", params, page_size=page_size, convert=Domain.from_api
        )

    def get(self, domain_id: str) -> Domain:
        """``GET /ocloud/v1/domain/{id}``."""
        return Domain.from_api(
            self._client.call("GET", f"/ocloud/v1/domain/{seg(domain_id, 'VM id')}")
        )

    def find(self, name: str) -> Domain | None:
        """The VM called exactly ``name`` (VDI and libvirt share VM names), or None."""
        return next((d for d in self.list(keyword=name) if d.name == name), None)

    # ------------------------------------------------------------ create / delete

    def create(
        self,
        name: str,
        *,
        cpu: int = 1,
        memory_mb: int = 1024,
        bootloader: str = "bios",
        main_board: str = "i440fx",
        os_type: str | None = None,
        pool_id: str | None = None,
        remark: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """``POST /ocloud/v1/domain`` (``DomainCreateDto``); returns the new VM id (``uuid``).

        ``extra`` adds any other ``DomainCreateDto`` field (e.g. ``volumeList``).
        """
        if not name or cpu < 1 or memory_mb < 1:
            raise InvalidInput(
                f"create needs a name, cpu >= 1, memory_mb >= 1 ({name!r}, {cpu}, {memory_mb})"
            )
        body: dict[str, Any] = {
            "name": name,
            "cpu": cpu,
            "sockets": 1,
            "cores": cpu,
            "threads": 1,
            "memory": memory_mb,
            "bootloader": bootloader,
            "mainBoard": main_board,
            "autoJoinDomain": 0,
            "graphicsCardNum": 1,
            "vgpuType": "",
        }
        for key, value in (("osType", os_type), ("poolId", pool_id), ("remark", remark)):
            if value is not None:
                body[key] = value
        body.update(extra or {})
        data = self._client.call("POST", "/ocloud/v1/domain", json=body)
        return str((data or {}).get("uuid") or "")

    def delete(self, domain_ids: Iterable[str] | str, *, recycle: bool = False) -> None:
        """``POST /ocloud/v1/domain/delete``; ``recycle`` moves them to the recycle bin instead."""
        body = {"domainIdList": id_list(domain_ids), "isRecycle": int(recycle)}
        self._client.call("POST", "/ocloud/v1/domain/delete", json=body)

    # ------------------------------------------------------------ batch power operations

    def _batch(self, op: str, ids: Iterable[str] | str, strict: bool, **extra: Any) -> BatchResult:
        body: dict[str, Any] = {"idList": id_list(ids)}
        body.update({k: v for k, v in extra.items() if v is not None})
        result = BatchResult.from_api(
            self._client.call("POST", f"/ocloud/v1/domain/{op}", json=body)
        )
        if strict and result.errors:
            raise VdiBatchError(op, list(result.errors))
        return result

    def start(
        self, domain_ids: Iterable[str] | str, *, host_id: str | None = None, strict: bool = True
    ) -> BatchResult:
        """``POST /ocloud/v1/domain/start``. With ``strict`` (default) a refused VM raises
        ``VdiBatchError``; otherwise refusals are in ``result.errors``."""
        return self._batch("start", domain_ids, strict, hostId=host_id)

    def close(
        self, domain_ids: Iterable[str] | str, *, force: bool = False, strict: bool = True
    ) -> BatchResult:
        """``POST /ocloud/v1/domain/close`` (graceful shutdown; ``force`` = power off)."""
        return self._batch("close", domain_ids, strict, isForce=int(force))

    def reboot(self, domain_ids: Iterable[str] | str, *, strict: bool = True) -> BatchResult:
        """``POST /ocloud/v1/domain/reboot``."""
        return self._batch("reboot", domain_ids, strict)

    def suspend(self, domain_ids: Iterable[str] | str, *, strict: bool = True) -> BatchResult:
        """``POST /ocloud/v1/domain/suspend`` (pause; status 2)."""
        return self._batch("suspend", domain_ids, strict)

    def resume(self, domain_ids: Iterable[str] | str, *, strict: bool = True) -> BatchResult:
        """``POST /ocloud/v1/domain/resume``."""
        return self._batch("resume", domain_ids, strict)

    def sleep(self, domain_ids: Iterable[str] | str, *, strict: bool = True) -> BatchResult:
        """``POST /ocloud/v1/domain/sleep`` (hibernate; status 3)."""
        return self._batch("sleep", domain_ids, strict)

    def wakeup(self, domain_ids: Iterable[str] | str, *, strict: bool = True) -> BatchResult:
        """``POST /ocloud/v1/domain/wakeup``."""
        return self._batch("wakeup", domain_ids, strict)

    def sync_status(self, domain_id: str, *, manual: bool = True) -> None:
        """``POST /ocloud/v1/domain/{id}/sync-status``: the platform re-reads the VM's state."""
        self._client.call(
            "POST",
            f"/ocloud/v1/domain/{seg(domain_id, 'VM id')}/sync-status",
            json={"syncType": int(manual)},
        )

    def wait_status(
        self,
        domain_ids: Iterable[str] | str,
        status: DomainStatus | int,
        timeout: float = 120.0,
        *,
        poll: float = 0.25,
    ) -> builtins.list[Domain]:
        """Re-read the VMs until each reports ``status``; ``VdiTimeout`` otherwise."""
        ids = id_list(domain_ids)
        deadline = time.monotonic() + timeout
        while True:
            current = [self.get(i) for i in ids]
            if all(d.status == status for d in current):
                return current
            if time.monotonic() >= deadline:
                lagging = ", ".join(f"{d.name}={d.status!s}" for d in current if d.status != status)
                raise VdiTimeout(
                    f"VMs not {DomainStatus.parse(status)!s} after {timeout}s: {lagging}",
                    method="GET",
                    path="/ocloud/v1/domain/{id}",
                )
            self._client.cancel.wait(min(poll, max(0.0, deadline - time.monotonic())))

    # ------------------------------------------------------------ users

    def bind_user(self, domain_ids: Iterable[str] | str, username: str) -> builtins.list[str]:
        """``POST /ocloud/v1/domain/bind-user``; returns the ids that were NOT bound."""
        if not username:
            raise InvalidInput("bind_user needs the user's login name (sAMAccountName)")
        data = self._client.call(
            "POST",
            "/ocloud/v1/domain/bind-user",
            json={"domainIdList": id_list(domain_ids), "userId": username},
        )
        return [str(i) for i in (data or {}).get("notBindDomainIdList") or []]

    def unbind_user(self, domain_ids: Iterable[str] | str) -> None:
        """``POST /ocloud/v1/domain/unbind-user``."""
        self._client.call(
            "POST", "/ocloud/v1/domain/unbind-user", json={"domainIdList": id_list(domain_ids)}
        )
