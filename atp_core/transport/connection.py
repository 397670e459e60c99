"""One libvirt connection to one host, kept alive and reconnected when it drops."""

from __future__ import annotations

import enum
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import libvirt

from atp_core.errors import ConnectionFailed

from .config import ConnectionConfig
from .events import ensure_event_loop

log = logging.getLogger(__name__)
T = TypeVar("T")

# libvirt error codes that mean "the connection is gone", not "the call was wrong".
CONNECTION_ERROR_CODES = {
    libvirt.VIR_ERR_SYSTEM_ERROR,
    libvirt.VIR_ERR_RPC,
    libvirt.VIR_ERR_NO_CONNECT,
    libvirt.VIR_ERR_INVALID_CONN,
    libvirt.VIR_ERR_AUTH_FAILED,
}


def is_connection_error(exc: libvirt.libvirtError) -> bool:
    code = exc.get_error_code()
    if code in CONNECTION_ERROR_CODES:
        return True
    msg = (exc.get_error_message() or "").lower()
    return "connection" in msg and ("closed" in msg or "reset" in msg or "broken" in msg)


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"


def open_with_timeout(uri: str, timeout: float, *, read_only: bool = False) -> libvirt.virConnect:
    """``libvirt.open`` (or ``openReadOnly``) in a helper thread, waited for at most ``timeout``
    seconds: a black-holed ssh/tcp host cannot hold the caller. A connection that opens after
    the caller gave up is closed, not leaked. Raises ConnectionFailed."""
    result: dict = {}
    guard = threading.Lock()

    def target() -> None:
        try:
            conn = libvirt.openReadOnly(uri) if read_only else libvirt.open(uri)
        except libvirt.libvirtError as exc:
            result["error"] = exc
            return
        with guard:
            if result.get("abandoned"):
                try:
                    conn.close()
                except libvirt.libvirtError:
                    pass
            else:
                result["conn"] = conn

    thread = threading.Thread(target=target, name=f"libvirt-open {uri}", daemon=True)
    thread.start()
    thread.join(timeout)
    with guard:
        if "conn" not in result and "error" not in result:
            result["abandoned"] = True
            raise ConnectionFailed(f"{uri}: no connection within {timeout:g} s")
    if "error" in result:
        raise ConnectionFailed(f"{uri}: {result['error'].get_error_message()}")
    return result["conn"]


class HostConnection:
    """A libvirt connection with a connect timeout, keepalive, heartbeat and auto-reconnect.

    ``get()`` always returns a live ``virConnect`` (reconnecting with exponential backoff and
    jitter if the old one was lost) or raises ``ConnectionFailed``.
    """

    def __init__(
        self,
        uri: str,
        config: ConnectionConfig | None = None,
        *,
        on_state_change: Callable[[HostConnection, ConnectionState], None] | None = None,
    ) -> None:
        self.uri = uri
        self.config = config or ConnectionConfig()
        self.state = ConnectionState.DISCONNECTED
        self.last_error: str = ""
        self.reconnects = 0
        self.reconnected_at: float | None = None
        """``time.monotonic()`` of the last successful reconnect (None: never reconnected)."""
        self.failures = 0
        self.calls = 0
        self.total_call_seconds = 0.0
        self._on_state_change = on_state_change
        self._conn: libvirt.virConnect | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._ever_connected = False
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()

    # -- state ---------------------------------------------------------------------------
    def _set_state(self, state: ConnectionState) -> None:
        if state != self.state:
            log.debug("%s: %s -> %s", self.uri, self.state.value, state.value)
            self.state = state
            if self._on_state_change:
                self._on_state_change(self, state)

    # -- opening -------------------------------------------------------------------------
    def _open_once(self) -> libvirt.virConnect:
        """libvirt.open in a helper thread, so a hanging ssh/tcp connect cannot block us."""
        conn = open_with_timeout(self.uri, self.config.connect_timeout)
        if self.config.keepalive_interval > 0:
            try:
                conn.setKeepAlive(self.config.keepalive_interval, self.config.keepalive_count)
            except libvirt.libvirtError:
                pass  # local drivers without RPC have no keepalive; the heartbeat still runs
        try:
            conn.registerCloseCallback(self._closed_by_libvirt, None)
        except libvirt.libvirtError:
            pass
        return conn

    def _closed_by_libvirt(self, conn, reason, _opaque) -> None:
        log.info("%s: connection closed by libvirt (reason %s)", self.uri, reason)
        with self._lock:
            if conn is not self._conn and self._conn is not None:
                return  # an old connection we already replaced
            self._conn = None
            if not self._closed:
                self._set_state(ConnectionState.DISCONNECTED)

    def connect(self) -> HostConnection:
        """Open the connection (first attempt only; ``get`` reconnects later). Returns self."""
        ensure_event_loop()
        with self._lock:
            self._closed = False
            if self._conn is not None and self.state == ConnectionState.CONNECTED:
                return self
            self._set_state(ConnectionState.CONNECTING)
            try:
                self._conn = self._open_once()
            except ConnectionFailed as exc:
                self.failures += 1
                self.last_error = str(exc)
                self._set_state(ConnectionState.FAILED)
                raise
            self._ever_connected = True
            self._set_state(ConnectionState.CONNECTED)
        self._start_heartbeat()
        return self

    def _reconnect(self) -> libvirt.virConnect:
        """Reopen with exponential backoff and jitter; raises ConnectionFailed when out of tries."""
        cfg = self.config
        with self._lock:
            if self._closed:
                raise ConnectionFailed(f"{self.uri}: connection was closed")
            old, self._conn = self._conn, None
            if old is not None:
                try:
                    old.close()
                except libvirt.libvirtError:
                    pass
            self._set_state(ConnectionState.CONNECTING)
            last = ""
            for attempt in range(max(1, cfg.reconnect_attempts)):
                try:
                    self._conn = self._open_once()
                    self.reconnects += 1
                    self.reconnected_at = time.monotonic()
                    self._set_state(ConnectionState.CONNECTED)
                    log.info("%s: reconnected after %d attempt(s)", self.uri, attempt + 1)
                    return self._conn
                except ConnectionFailed as exc:
                    self.failures += 1
                    last = str(exc)
                    if attempt + 1 < cfg.reconnect_attempts:
                        time.sleep(cfg.backoff_delay(attempt, random.random()))
            self.last_error = last
            self._set_state(ConnectionState.FAILED)
            raise ConnectionFailed(
                f"{self.uri}: reconnect failed after {cfg.reconnect_attempts} attempts: {last}"
            )

    # -- use -----------------------------------------------------------------------------
    def get(self) -> libvirt.virConnect:
        """A live connection, reconnecting first if it was lost."""
        with self._lock:
            conn = self._conn
            if conn is None and not self._ever_connected and not self._closed:
                self.connect()
                return self._conn  # type: ignore[return-value]
            if conn is not None:
                try:
                    if conn.isAlive():
                        return conn
                except libvirt.libvirtError:
                    pass
            return self._reconnect()

    def call(self, fn: Callable[[libvirt.virConnect], T]) -> T:
        """Run ``fn(conn)``; if the connection dropped during the call, reconnect and retry once."""
        started = time.monotonic()
        try:
            try:
                return fn(self.get())
            except libvirt.libvirtError as exc:
                if not is_connection_error(exc):
                    raise
                log.info("%s: connection lost during a call (%s); retrying", self.uri, exc)
                with self._lock:
                    self._conn = None
                    self._set_state(ConnectionState.DISCONNECTED)
                return fn(self._reconnect())
        finally:
            self.calls += 1
            self.total_call_seconds += time.monotonic() - started

    def is_alive(self) -> bool:
        conn = self._conn
        try:
            return conn is not None and bool(conn.isAlive()) and conn.getLibVersion() > 0
        except libvirt.libvirtError:
            return False

    # -- heartbeat -----------------------------------------------------------------------
    def _start_heartbeat(self) -> None:
        if self.config.heartbeat_interval <= 0 or self._heartbeat is not None:
            return
        self._stop.clear()
        self._heartbeat = threading.Thread(
            target=self._heartbeat_loop, name=f"heartbeat {self.uri}", daemon=True
        )
        self._heartbeat.start()

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.config.heartbeat_interval):
            if self._closed:
                return
            if not self.is_alive():
                log.info("%s: heartbeat found the connection dead; reconnecting", self.uri)
                try:
                    self._reconnect()
                except ConnectionFailed as exc:
                    log.warning("%s", exc)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is not None:
                try:
                    conn.close()
                except libvirt.libvirtError:
                    pass
            self._set_state(ConnectionState.DISCONNECTED)

    @property
    def average_call_ms(self) -> float:
        return 1000 * self.total_call_seconds / self.calls if self.calls else 0.0

    def __repr__(self) -> str:
        return f"<HostConnection {self.uri} {self.state.value}>"
