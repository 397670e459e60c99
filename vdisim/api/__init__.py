"""The simulator's vendor operations, one module per resource as in ``atp_core.vdiplatform.api``.

Importing the package registers every handler in ``HANDLERS``; ``vdisim.server.build_routes``
turns the client's operation table into routes with them.
"""

from vdisim.api import desk_pools, domains, events, hosts, models, session, users
from vdisim.api._base import HANDLERS, Operation, Request

__all__ = [
    "HANDLERS",
    "Operation",
    "Request",
    "desk_pools",
    "domains",
    "events",
    "hosts",
    "models",
    "session",
    "users",
]
