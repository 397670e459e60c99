"""Transport: libvirt connections to many hosts (timeouts, keepalive, reconnect, pools)."""

from .config import ConnectionConfig
from .connection import ConnectionState, HostConnection
from .manager import HostResult, TransportManager
from .pool import ConnectionPool, PoolMetrics

__all__ = [
    "ConnectionConfig",
    "ConnectionPool",
    "ConnectionState",
    "HostConnection",
    "HostResult",
    "PoolMetrics",
    "TransportManager",
]
