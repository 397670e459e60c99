"""Shared helpers of the API groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import quote

from atp_core.errors import InvalidInput

if TYPE_CHECKING:
    from atp_core.vdiplatform.client import VdiClient


class ApiGroup:
    def __init__(self, client: VdiClient) -> None:
        self._client = client


def seg(value: str, what: str) -> str:
    """A path segment from an id: non-empty, URL-quoted."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must be a non-empty string, got {value!r}")
    return quote(value, safe="")


def id_list(ids: Iterable[str] | str, what: str = "VM ids") -> list[str]:
    """A non-empty list of ids; a lone string is taken as one id."""
    items = [ids] if isinstance(ids, str) else list(ids)
    if not items or not all(isinstance(i, str) and i for i in items):
        raise InvalidInput(f"{what} must be a non-empty list of non-empty strings, got {ids!r}")
    return items
