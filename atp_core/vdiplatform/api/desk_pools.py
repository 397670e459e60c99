"""Desktop pools (``/ocloud/v1/desk-pool``)."""

from __future__ import annotations

import builtins  # the API groups have a list() method: annotations name the type
from collections.abc import Iterator

from atp_core.errors import InvalidInput
from atp_core.vdiplatform.api._base import ApiGroup, seg
from atp_core.vdiplatform.enums import DeskPoolType
from atp_core.vdiplatform.records import DeskPool, Domain

OPERATIONS = [
    ("GET", "/ocloud/v1/desk-pool"),
    ("POST", "/ocloud/v1/desk-pool"),
    ("POST", "/ocloud/v1/desk-pool/{id}/enable"),
    ("POST", "/ocloud/v1/desk-pool/{id}/disable"),
    ("DELETE", "/ocloud/v1/desk-pool/{id}"),
    ("GET", "/ocloud/v1/desk-pool/{id}/domain/list"),
    ("POST", "/ocloud/v1/desk-pool/switch-model"),
]


class DeskPoolsApi(ApiGroup):
    def list(
        self,
        *,
        keyword: str | None = None,
        type: DeskPoolType | int | None = None,
        page_size: int = 100,
    ) -> Iterator[DeskPool]:
        """``GET /ocloud/v1/desk-pool`` (every page)."""
        return self._client.iter_pages(
            "/ocloud/v1/desk-pool",
            {"keyword": keyword, "type": type},
            page_size=page_size,
            convert=DeskPool.from_api,
        )

    def find(self, name: str) -> DeskPool | None:
        """The pool called exactly ``name`` (there is no ``GET /desk-pool/{id}``), or None."""
        return next((p for p in self.list(keyword=name) if p.name == name), None)

    def create(
        self,
        name: str,
        amount: int,
        model_id: str,
        *,
        type: DeskPoolType | int = DeskPoolType.DEDICATED,
        domain_prefix: str | None = None,
        remark: str | None = None,
    ) -> str:
        """``POST /ocloud/v1/desk-pool``: a pool of ``amount`` linked clones of template
        ``model_id``. Asynchronous: returns the event id (follow it with ``events.wait``)."""
        if not name or amount < 1 or not model_id:
            raise InvalidInput(
                "desk pool needs a name, amount >= 1 and a template id "
                f"({name!r}, {amount}, {model_id!r})"
            )
        body: dict = {"name": name, "amount": amount, "type": int(type), "modelId": model_id}
        if domain_prefix is not None:
            body["domainPrefix"] = domain_prefix
        if remark is not None:
            body["remark"] = remark
        data = self._client.call("POST", "/ocloud/v1/desk-pool", json=body)
        return str((data or {}).get("eventId") or "")

    def enable(self, pool_id: str) -> None:
        """``POST /ocloud/v1/desk-pool/{id}/enable``."""
        self._client.call("POST", f"/ocloud/v1/desk-pool/{seg(pool_id, 'desk pool id')}/enable")

    def disable(self, pool_id: str) -> None:
        """``POST /ocloud/v1/desk-pool/{id}/disable``."""
        self._client.call("POST", f"/ocloud/v1/desk-pool/{seg(pool_id, 'desk pool id')}/disable")

    def delete(self, pool_id: str) -> None:
        """``DELETE /ocloud/v1/desk-pool/{id}`` (the pool's VMs go with it)."""
        self._client.call("DELETE", f"/ocloud/v1/desk-pool/{seg(pool_id, 'desk pool id')}")

    def domains(self, pool_id: str) -> builtins.list[Domain]:
        """``GET /ocloud/v1/desk-pool/{id}/domain/list`` (not paged)."""
        data = self._client.call(
            "GET", f"/ocloud/v1/desk-pool/{seg(pool_id, 'desk pool id')}/domain/list"
        )
        return [Domain.from_api(d) for d in data or []]

    def switch_model(self, pool_id: str, model_id: str) -> str:
        """``POST /ocloud/v1/desk-pool/switch-model``; returns the event id."""
        seg(pool_id, "desk pool id"), seg(model_id, "model id")  # validates both
        body = {"deskPoolId": pool_id, "modelId": model_id}
        data = self._client.call("POST", "/ocloud/v1/desk-pool/switch-model", json=body)
        return str((data or {}).get("eventId") or "")
