"""End users and organisational units (``/ocloud/v1/user``, ``/ocloud/v1/group``).

Users are LDAP-style: ``username`` is the ``sAMAccountName``; ``group`` is an OU DN such as
``ou=qa,ou=atp``. Listing users requires the group.
"""

from __future__ import annotations

import builtins  # the API groups have a list() method: annotations name the type
from collections.abc import Iterator

from atp_core.errors import InvalidInput
from atp_core.vdiplatform.api._base import ApiGroup
from atp_core.vdiplatform.enums import DomainStatus
from atp_core.vdiplatform.records import Domain, Group, User

OPERATIONS = [
    ("GET", "/ocloud/v1/user"),
    ("POST", "/ocloud/v1/user"),
    ("GET", "/ocloud/v1/user/detail"),
    ("POST", "/ocloud/v1/user/delete"),
    ("GET", "/ocloud/v1/user/domain"),
    ("GET", "/ocloud/v1/group/tree"),
    ("GET", "/ocloud/v1/group"),
    ("POST", "/ocloud/v1/group"),
    ("POST", "/ocloud/v1/group/delete"),
]


def _need(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must be a non-empty string, got {value!r}")
    return value


class UsersApi(ApiGroup):
    def list(
        self, group: str, *, keyword: str | None = None, page_size: int = 100
    ) -> Iterator[User]:
        """``GET /ocloud/v1/user?group=<dn>`` (every page)."""
        return self._client.iter_pages(
            "/ocloud/v1/user",
            {"group": _need(group, "group DN"), "keyword": keyword},
            page_size=page_size,
            convert=User.from_api,
        )

    def get(self, username: str) -> User:
        """``GET /ocloud/v1/user/detail?sAMAccountName=``."""
        data = self._client.call(
            "GET", "/ocloud/v1/user/detail", params={"sAMAccountName": _need(username, "username")}
        )
        return User.from_api(data or {})

    def create(
        self,
        username: str,
        group: str,
        *,
        password: str | None = None,
        given_name: str | None = None,
        surname: str | None = None,
        mail: str | None = None,
        mobile: str | None = None,
    ) -> None:
        """``POST /ocloud/v1/user`` (``UserCreateParam``; ``password`` is the initial one)."""
        body = {"sAMAccountName": _need(username, "username"), "group": _need(group, "group DN")}
        for key, value in (
            ("password", password),
            ("givenName", given_name),
            ("sn", surname),
            ("mail", mail),
            ("mobile", mobile),
        ):
            if value is not None:
                body[key] = value
        self._client.call("POST", "/ocloud/v1/user", json=body)

    def delete(self, username: str, group: str) -> None:
        """``POST /ocloud/v1/user/delete`` (``UserDeleteParam {group, userId}``)."""
        body = {"userId": _need(username, "username"), "group": _need(group, "group DN")}
        self._client.call("POST", "/ocloud/v1/user/delete", json=body)

    def domains(
        self,
        username: str,
        *,
        status: builtins.list[DomainStatus | int] | None = None,
        page_size: int = 100,
    ) -> Iterator[Domain]:
        """``GET /ocloud/v1/user/domain?userId=<username>``: the VMs bound to the user."""
        return self._client.iter_pages(
            "/ocloud/v1/user/domain",
            {"userId": _need(username, "username"), "status": status},
            page_size=page_size,
            convert=Domain.from_api,
        )


class GroupsApi(ApiGroup):
    def tree(self) -> builtins.list[Group]:
        """``GET /ocloud/v1/group/tree``: the top-level OUs with their descendants."""
        return [Group.from_api(g) for g in self._client.call("GET", "/ocloud/v1/group/tree") or []]

    def get(self, dn: str) -> Group:
        """``GET /ocloud/v1/group?distinguishedName=``."""
        data = self._client.call(
            "GET", "/ocloud/v1/group", params={"distinguishedName": _need(dn, "group DN")}
        )
        return Group.from_api(data or {})

    def create(self, ou: str, base: str | None = None) -> None:
        """``POST /ocloud/v1/group`` (``GroupCreateParam``): OU ``ou`` under ``base``."""
        body = {"group": _need(ou, "OU name")}
        if base:
            body["base"] = base
        self._client.call("POST", "/ocloud/v1/group", json=body)

    def delete(self, group: str) -> None:
        """``POST /ocloud/v1/group/delete``."""
        self._client.call(
            "POST", "/ocloud/v1/group/delete", json={"group": _need(group, "group DN")}
        )
