"""Typed errors of the VDI platform client.

Every error names the call (``method path``) it came from. The split follows ``atp_core.errors``:
all of these are ``InfrastructureError`` (the platform could not do what was asked), so a step that
hits one ends ``error``, not ``failed``. Passwords and tokens never appear in messages.
"""

from __future__ import annotations

from typing import Any

from atp_core.errors import (
    ConnectionFailed,
    InfrastructureError,
    OperationTimeout,
    ProtocolError,
)


class VdiError(InfrastructureError):
    """Base class of every VDI platform error."""

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        self.method = method
        self.path = path
        where = f"VDI {method} {path}: " if method or path else "VDI: "
        super().__init__(where + message)


class VdiConnectionError(VdiError, ConnectionFailed):
    """The platform could not be reached (refused, DNS, reset)."""


class VdiTimeout(VdiError, OperationTimeout):
    """The platform (or an event it runs) did not answer within the allowed time."""


class VdiHttpError(VdiError):
    """The platform answered with a non-2xx HTTP status (e.g. a 5xx or a 404 route)."""

    def __init__(self, http_status: int, body: str, *, method: str = "", path: str = "") -> None:
        self.http_status = http_status
        self.body = body[:500]
        super().__init__(f"HTTP {http_status}: {self.body[:200]}", method=method, path=path)


class VdiProtocolError(VdiError, ProtocolError):
    """The answer was not the platform's ``{status, msg, data}`` JSON envelope."""


class VdiApiError(VdiError):
    """The envelope said ``status != 0``: carries the platform's status code and message."""

    def __init__(self, status: int, msg: str, *, method: str = "", path: str = "") -> None:
        self.status = status
        self.msg = msg
        super().__init__(f"platform status {status}: {msg}", method=method, path=path)


class VdiAuthError(VdiApiError):
    """Login refused, or the token was rejected again right after a fresh login."""


class VdiEventFailed(VdiError):
    """An asynchronous platform event (task) finished with an error."""

    def __init__(self, event: Any, reason: str) -> None:
        self.event = event
        super().__init__(f"event {getattr(event, 'id', '?')} failed: {reason}")


class VdiBatchError(VdiError):
    """A batch operation refused some of its VMs (the platform's ``errorList``)."""

    def __init__(self, operation: str, errors: list[Any]) -> None:
        self.errors = errors
        detail = "; ".join(f"{e.domain_name or e.domain_id}: {e.message}" for e in errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{operation} refused {len(errors)} VM(s): {detail}{more}")


TOKEN_INVALID = 1006
"""Envelope status of a missing, unknown or expired ``Token`` header ("token校验失败")."""
