"""virtio-serial channels of a domain: newline-delimited JSON requests with ids, or raw bytes.

The host side of a ``<channel type='unix'>`` is a unix socket whose path libvirt chooses; it is
read from the live domain XML by the channel's target name, never guessed.
"""

from __future__ import annotations

import itertools
import json
import socket
import time

from atp_core.errors import InvalidInput, OperationTimeout, ProtocolError

from .domain import DomainRef


def channel_path(domain: DomainRef, name: str) -> str:
    root = domain.xml()
    names = []
    for channel in root.findall("devices/channel"):
        target = channel.find("target")
        if target is None or target.get("type") != "virtio":
            continue
        names.append(target.get("name"))
        if target.get("name") == name:
            source = channel.find("source")
            if channel.get("type") != "unix" or source is None or not source.get("path"):
                raise ProtocolError(f"{domain.name}: channel {name!r} has no unix socket path")
            return source.get("path")
    known = ", ".join(map(str, names)) or "none"
    raise InvalidInput(f"{domain.name}: no virtio channel {name!r} (channels: {known})")


class VirtioSerialChannel:
    def __init__(self, domain: DomainRef, name: str, timeout: float = 10.0) -> None:
        self.domain = domain
        self.name = name
        self.timeout = timeout
        self.path = channel_path(domain, name)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(self.path)
        except OSError as exc:
            self._sock.close()
            raise ProtocolError(f"{domain.name}: cannot connect channel {name!r}: {exc}") from exc
        self._buffer = b""
        self._ids = itertools.count(1)

    def send_raw(self, data: bytes) -> None:
        self._sock.sendall(data)

    def recv_raw(self, timeout: float | None = None, size: int = 65536) -> bytes:
        if self._buffer:
            data, self._buffer = self._buffer, b""
            return data
        self._sock.settimeout(timeout or self.timeout)
        try:
            return self._sock.recv(size)
        except TimeoutError as exc:
            raise OperationTimeout(f"{self.domain.name}: nothing on channel {self.name!r}") from exc

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OperationTimeout(f"{self.domain.name}: no reply on channel {self.name!r}")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise ProtocolError(f"{self.domain.name}: channel {self.name!r} closed")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def request(self, message: dict, timeout: float | None = None) -> dict:
        """Send ``message`` with a fresh ``id``; return the first reply carrying that id."""
        request_id = next(self._ids)
        self._sock.sendall(json.dumps({**message, "id": request_id}).encode() + b"\n")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            line = self._read_line(deadline)
            try:
                reply = json.loads(line)
            except ValueError:
                continue  # noise on the line; keep looking for our reply
            if isinstance(reply, dict) and reply.get("id") == request_id:
                return reply

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> VirtioSerialChannel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
