"""Login and logout (``/ocloud/v1/login``, ``/ocloud/v1/logout``)."""

from __future__ import annotations

import time

from vdisim.api._base import HANDLERS, Request
from vdisim.errors import BAD_PARAM, PASSWORD_WRONG, USER_UNKNOWN, SimError
from vdisim.platform import Platform, new_id


@HANDLERS.on("POST", "/ocloud/v1/login", auth=False)
def login(p: Platform, r: Request) -> dict:
    body = r.body
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
    ):
        raise SimError(BAD_PARAM, "参数错误: username/password 必填")
    with p.lock:
        stored = p.admins.get(body["username"])
        if stored is None:
            raise SimError(*USER_UNKNOWN)
        if body["password"].lower() != stored:
            raise SimError(*PASSWORD_WRONG)
        token = new_id()
        p.tokens[token] = (body["username"], time.monotonic())
    return {
        "token": token,
        "username": body["username"],
        "roleLevel": "1",
        "resourcePri": 1,
        "userPri": 1,
    }


@HANDLERS.on("POST", "/ocloud/v1/logout", base_response=True)
def logout(p: Platform, r: Request) -> None:
    with p.lock:
        p.tokens.pop(r.token or "", None)
