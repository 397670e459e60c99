"""The engine's error hierarchy, shared by every layer.

The split that matters to users: an ``InfrastructureError`` (a host, a VM, an agent or the VDI
platform could not carry out what was asked) makes a step ``error``; a ``CheckFailed`` (the
product under test did not behave) makes it ``failed``. Never mix the two.
"""

from __future__ import annotations


class AtpError(Exception):
    """Base class of every error the engine raises on purpose."""


class InfrastructureError(AtpError):
    """Something the test depends on could not be reached or did not answer."""


class ConnectionFailed(InfrastructureError):
    """A libvirt host could not be connected (or reconnected)."""


class DomainNotFound(InfrastructureError):
    """The named domain does not exist on the host."""


class DomainNotRunning(InfrastructureError):
    """The domain exists but is not running (or stopped during the call)."""


class AgentUnavailable(InfrastructureError):
    """The QEMU guest agent is not connected or did not answer."""


class OperationTimeout(InfrastructureError):
    """A remote party did not finish within the allowed time."""


class ProtocolError(InfrastructureError):
    """A QMP/QGA/channel peer answered something we could not use."""


class SpiceUnavailable(InfrastructureError):
    """A VM's SPICE display cannot be used: none configured, refused ticket, port unreachable,
    channel closed."""


class UnsupportedError(AtpError):
    """A feature that exists as a named slot but is not supported yet."""


class InvalidInput(AtpError):
    """The caller asked for something that cannot be expressed (e.g. an unmappable character)."""


class CheckFailed(AtpError):
    """A verification did not hold: the product under test failed, not the infrastructure."""


class ScreenMismatch(CheckFailed):
    """A screen check did not match; ``details`` holds the best match (reference, candidate,
    score, threshold, areas, the best screenshot's and the diff's artifact names)."""

    def __init__(self, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.details = dict(details or {})


class Cancelled(AtpError):
    """The run was cancelled while this operation was in progress."""
