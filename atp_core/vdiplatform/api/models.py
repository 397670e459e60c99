"""Templates ("models"): domains with ``isModel=1`` (``/ocloud/v1/model``)."""

from __future__ import annotations

from collections.abc import Iterator

from atp_core.errors import InvalidInput
from atp_core.vdiplatform.api._base import ApiGroup, seg
from atp_core.vdiplatform.records import Domain

OPERATIONS = [
    ("GET", "/ocloud/v1/model"),
    ("POST", "/ocloud/v1/model/{id}/clone"),
]


class ModelsApi(ApiGroup):
    def list(self, *, keyword: str | None = None, page_size: int = 100) -> Iterator[Domain]:
        """``GET /ocloud/v1/model`` (every page); each row is a ``Domain`` with ``is_model``."""
        return self._client.iter_pages(
            "/ocloud/v1/model", {"keyword": keyword}, page_size=page_size, convert=Domain.from_api
        )

    def get(self, model_id: str) -> Domain:
        """A template's detail: ``GET /ocloud/v1/domain/{id}`` (there is no ``/model/{id}``)."""
        return self._client.domains.get(model_id)

    def find(self, name: str) -> Domain | None:
        """The template called exactly ``name``, or None."""
        return next((m for m in self.list(keyword=name) if m.name == name), None)

    def clone(self, model_id: str, name_prefix: str, amount: int) -> str:
        """``POST /ocloud/v1/model/{id}/clone``: ``amount`` linked clones; returns the event id."""
        if amount < 1 or not name_prefix:
            raise InvalidInput(
                f"clone needs amount >= 1 and a name prefix ({amount}, {name_prefix!r})"
            )
        body = {"name": name_prefix, "amount": amount, "check": False, "storageNameList": []}
        data = self._client.call(
            "POST", f"/ocloud/v1/model/{seg(model_id, 'model id')}/clone", json=body
        )
        return str((data or {}).get("eventId") or "")
