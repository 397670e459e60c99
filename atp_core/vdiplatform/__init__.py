"""The OCloudView VDI platform: HTTP client, status enums and ``vdi verify``.

Public API::

    from atp_core.vdiplatform import VdiClient, DomainStatus, verify_platform
"""

from atp_core.vdiplatform.client import VdiClient, md5_password
from atp_core.vdiplatform.enums import (
    DeskPoolStatus,
    DeskPoolType,
    DomainStatus,
    EventType,
    HostStatus,
    LibvirtState,
    states_agree,
)
from atp_core.vdiplatform.errors import (
    VdiApiError,
    VdiAuthError,
    VdiBatchError,
    VdiConnectionError,
    VdiError,
    VdiEventFailed,
    VdiHttpError,
    VdiProtocolError,
    VdiTimeout,
)
from atp_core.vdiplatform.records import (
    BatchItemError,
    BatchResult,
    DeskPool,
    Domain,
    Event,
    Group,
    Host,
    LoginInfo,
    User,
)

__all__ = [
    "BatchItemError",
    "BatchResult",
    "DeskPool",
    "DeskPoolStatus",
    "DeskPoolType",
    "Domain",
    "DomainStatus",
    "Event",
    "EventType",
    "Group",
    "Host",
    "HostStatus",
    "LibvirtState",
    "LoginInfo",
    "User",
    "VdiApiError",
    "VdiAuthError",
    "VdiBatchError",
    "VdiClient",
    "VdiConnectionError",
    "VdiError",
    "VdiEventFailed",
    "VdiHttpError",
    "VdiProtocolError",
    "VdiTimeout",
    "md5_password",
    "states_agree",
]


def __getattr__(name: str):
    # verify pulls in libvirt; import it only when asked for
    if name in ("verify_platform", "VerifyReport", "VerifyRow"):
        from atp_core.vdiplatform import verify

        return getattr(verify, name)
    raise AttributeError(name)
