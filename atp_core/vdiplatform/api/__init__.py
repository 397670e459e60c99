"""The platform's API groups, one module each. ``OPERATIONS`` lists every (method, path) used."""

from atp_core.vdiplatform.api import desk_pools, domains, events, hosts, models, users
from atp_core.vdiplatform.api.desk_pools import DeskPoolsApi
from atp_core.vdiplatform.api.domains import DomainsApi
from atp_core.vdiplatform.api.events import EventsApi
from atp_core.vdiplatform.api.hosts import HostsApi
from atp_core.vdiplatform.api.models import ModelsApi
from atp_core.vdiplatform.api.users import GroupsApi, UsersApi

OPERATIONS: list[tuple[str, str]] = [
    ("POST", "/ocloud/v1/login"),
    ("POST", "/ocloud/v1/logout"),
    *domains.OPERATIONS,
    *desk_pools.OPERATIONS,
    *hosts.OPERATIONS,
    *models.OPERATIONS,
    *users.OPERATIONS,
    *events.OPERATIONS,
]
"""Every vendor operation the client can call (the contract test covers each one)."""

__all__ = [
    "OPERATIONS",
    "DeskPoolsApi",
    "DomainsApi",
    "EventsApi",
    "GroupsApi",
    "HostsApi",
    "ModelsApi",
    "UsersApi",
]
