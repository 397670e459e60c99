"""What the resource modules share: the request a handler sees, the handler table, parameters.

Each resource module registers its handlers with ``@HANDLERS.on(method, template)``, the
template written exactly as in the client's operation table
(``atp_core.vdiplatform.api.OPERATIONS``); ``vdisim.server`` builds its routes from that table
and refuses to start when a client operation has no handler or a handler no client operation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vdisim.errors import BAD_PARAM, SimError

if TYPE_CHECKING:
    from vdisim.platform import Platform


@dataclass(frozen=True)
class Request:
    """One vendor-API call as a handler sees it: path arguments, query, JSON body, token."""

    args: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    token: str | None = None


Handler = Callable[["Platform", Request], Any]


@dataclass(frozen=True)
class Operation:
    """A handler of one vendor operation. ``base_response``: the answer has no ``data``
    (``BaseResponseVO``); ``auth``: the call needs a valid token."""

    method: str
    template: str
    handler: Handler
    auth: bool = True
    base_response: bool = False


class Handlers(dict[tuple[str, str], Operation]):
    """(method, template) → Operation, filled by the resource modules' decorators."""

    def on(
        self, method: str, template: str, *, auth: bool = True, base_response: bool = False
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.add(Operation(method, template, handler, auth, base_response))
            return handler

        return register

    def add(self, operation: Operation) -> None:
        key = (operation.method, operation.template)
        if key in self:
            raise ValueError(f"two simulator handlers for {key[0]} {key[1]}")
        self[key] = operation


HANDLERS = Handlers()
"""Every handler of the simulator (filled when ``vdisim.api`` is imported)."""


def int_param(value: Any, what: str, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SimError(BAD_PARAM, f"参数错误: {what} 必须是整数") from None


def str_list(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SimError(BAD_PARAM, f"参数错误: {what} 必须是字符串数组")
    return value


def status_set(value: str) -> set[int | None]:
    """A comma-separated ``status`` query parameter as a set of codes."""
    return {int_param(s, "status") for s in value.split(",") if s != ""}


def body_dict(body: Any, dto: str) -> dict:
    """The JSON body, which must be an object (the vendor's ``dto``)."""
    if not isinstance(body, dict):
        raise SimError(BAD_PARAM, f"参数错误: 请求体必须是 {dto}")
    return body


def page(rows: list[Any], page_num: Any, page_size: Any) -> dict[str, Any]:
    """``PageResult``: 1-based ``pageNum`` (default 1), ``pageSize`` (default 10)."""
    num = int_param(page_num, "pageNum", 1)
    size = int_param(page_size, "pageSize", 10)
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
