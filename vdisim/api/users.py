"""Directory users and groups (``/ocloud/v1/user``, ``/ocloud/v1/group``)."""

from __future__ import annotations

from vdisim.api._base import HANDLERS, Request, page, status_set
from vdisim.errors import BAD_PARAM, NOT_FOUND, STATE_CONFLICT, USER_UNKNOWN, SimError
from vdisim.platform import Platform, new_id
from vdisim.vo import domain_vo, plain_vo

# ---------------------------------------------------------------- users


@HANDLERS.on("GET", "/ocloud/v1/user")
def list_users(p: Platform, r: Request) -> dict:
    q = r.query
    group = q.get("group")
    if not group:
        raise SimError(BAD_PARAM, "参数错误: group 必填")
    with p.lock:
        if group not in p.groups:
            raise SimError(NOT_FOUND, "组织单位不存在")
        rows = [
            u for u in p.users.values() if u["_group"] == group or u["_group"].endswith("," + group)
        ]
        if q.get("keyword"):
            rows = [u for u in rows if q["keyword"] in u["sAMAccountName"]]
        result = page(rows, q.get("pageNum"), q.get("pageSize"))
        result["list"] = [plain_vo(u) for u in result["list"]]
        return result


@HANDLERS.on("GET", "/ocloud/v1/user/detail")
def user_detail(p: Platform, r: Request) -> dict:
    with p.lock:
        user = p.users.get(r.query.get("sAMAccountName") or "")
        if user is None:
            raise SimError(*USER_UNKNOWN)
        return plain_vo(user, frozenset({"sAMAccountName", "displayName", "mail", "mobile"}))


@HANDLERS.on("POST", "/ocloud/v1/user", base_response=True)
def create_user(p: Platform, r: Request) -> None:
    body = r.body
    if not isinstance(body, dict) or not body.get("sAMAccountName") or not body.get("group"):
        raise SimError(BAD_PARAM, "参数错误: sAMAccountName 与 group 必填")
    with p.lock:
        if body["group"] not in p.groups:
            raise SimError(NOT_FOUND, "组织单位不存在")
        if body["sAMAccountName"] in p.users:
            raise SimError(STATE_CONFLICT, "用户已存在")
        extra = {k: body.get(k) for k in ("givenName", "sn", "mail", "mobile", "idNumber")}
        p.add_user(body["sAMAccountName"], body["group"], **extra)


@HANDLERS.on("POST", "/ocloud/v1/user/delete", base_response=True)
def delete_user(p: Platform, r: Request) -> None:
    body = r.body
    if not isinstance(body, dict) or not body.get("userId"):
        raise SimError(BAD_PARAM, "参数错误: userId 必填")
    with p.lock:
        if p.users.pop(body["userId"], None) is None:
            raise SimError(*USER_UNKNOWN)
        for d in p.domains.values():
            if d.get("userId") == body["userId"]:
                d.pop("userId")


@HANDLERS.on("GET", "/ocloud/v1/user/domain")
def user_domains(p: Platform, r: Request) -> dict:
    q = r.query
    user = q.get("userId")
    if not user:
        raise SimError(BAD_PARAM, "参数错误: userId 必填")
    with p.lock:
        rows = [d for d in p.domains.values() if d.get("userId") == user and d.get("isModel") != 1]
        if q.get("status"):
            wanted = status_set(q["status"])
            rows = [d for d in rows if d["status"] in wanted]
        result = page(rows, q.get("pageNum"), q.get("pageSize"))
        result["list"] = [domain_vo(d) for d in result["list"]]
        return result


# ---------------------------------------------------------------- groups


@HANDLERS.on("GET", "/ocloud/v1/group/tree")
def group_tree(p: Platform, r: Request) -> list[dict]:
    with p.lock:

        def node(dn: str) -> dict:
            g = p.groups[dn]
            children = [node(c) for c, cg in p.groups.items() if cg.get("parent") == dn]
            return plain_vo({**g, "list": children})

        return [node(dn) for dn, g in p.groups.items() if g.get("parent") is None]


@HANDLERS.on("GET", "/ocloud/v1/group")
def get_group(p: Platform, r: Request) -> dict:
    with p.lock:
        g = p.groups.get(r.query.get("distinguishedName") or "")
        if g is None:
            raise SimError(NOT_FOUND, "组织单位不存在")
        return {"distinguishedName": g["distinguishedName"], "ou": g["ou"]}


@HANDLERS.on("POST", "/ocloud/v1/group", base_response=True)
def create_group(p: Platform, r: Request) -> None:
    body = r.body
    if not isinstance(body, dict) or not body.get("group"):
        raise SimError(BAD_PARAM, "参数错误: group 必填")
    base = body.get("base") or None
    with p.lock:
        if base and base not in p.groups:
            raise SimError(NOT_FOUND, "上级组织单位不存在")
        dn = f"ou={body['group']}" + (f",{base}" if base else "")
        if dn in p.groups:
            raise SimError(STATE_CONFLICT, "组织单位已存在")
        p.groups[dn] = {
            "id": new_id(),
            "ou": body["group"],
            "distinguishedName": dn,
            "parent": base,
        }


@HANDLERS.on("POST", "/ocloud/v1/group/delete", base_response=True)
def delete_group(p: Platform, r: Request) -> None:
    body = r.body
    if not isinstance(body, dict) or not body.get("group"):
        raise SimError(BAD_PARAM, "参数错误: group 必填")
    with p.lock:
        dn = body["group"]
        if dn not in p.groups:
            raise SimError(NOT_FOUND, "组织单位不存在")
        if any(g.get("parent") == dn for g in p.groups.values()) or any(
            u["_group"] == dn for u in p.users.values()
        ):
            raise SimError(STATE_CONFLICT, "组织单位下还有用户或子部门")
        del p.groups[dn]
