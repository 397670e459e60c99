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


KNOWN_STATUSES: dict[int, str] = {
    1006: "the platform refused the session token (missing, unknown or expired)",
    5098: "no such user on the platform: check the endpoint's username",
    5099: "wrong password: check the endpoint's password",
    5100: "the platform account is locked",
    5101: "the platform account has expired",
    5102: "the platform asks for an SMS verification code for this account",
}
"""Plain-language readings of the envelope codes the vendor documents (vdi_api_spec.md §2.3;
5100-5102 are listed by the vendor's guide but not observed)."""


def explain_status(status: int) -> str:
    """The plain-language reading of a platform status code, or "" for an unknown code."""
    return KNOWN_STATUSES.get(status, "")


class VdiApiError(VdiError):
    """The envelope said ``status != 0``: carries the platform's status code and message.

    The message keeps the platform's own words (often Chinese, e.g. ``5099 密码错误``) and adds
    a plain-language reading of the known codes beside them.
    """

    def __init__(self, status: int, msg: str, *, method: str = "", path: str = "") -> None:
        self.status = status
        self.msg = msg
        self.explanation = explain_status(status)
        text = f"platform status {status}: {msg}"
        if self.explanation:
            text += f" ({self.explanation})"
        super().__init__(text, method=method, path=path)


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
