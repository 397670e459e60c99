"""QMP: through libvirt for managed domains, or over a unix socket (qemu.qmp) for plain QEMU."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import libvirt_qemu

from atp_core.errors import ProtocolError

from .domain import DomainRef


class LibvirtQmp:
    """QMP commands of a libvirt domain via ``qemuMonitorCommand``."""

    def __init__(self, domain: DomainRef) -> None:
        self.domain = domain

    def execute(self, command: str, arguments: dict | None = None) -> Any:
        msg: dict[str, Any] = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        reply = self.domain.call(
            f"QMP {command}", lambda d: libvirt_qemu.qemuMonitorCommand(d, json.dumps(msg), 0)
        )
        data = json.loads(reply)
        if "error" in data:
            raise ProtocolError(f"{self.domain.name}: QMP {command}: {data['error'].get('desc')}")
        return data.get("return")


class SocketQmp:
    """QMP over a QEMU ``-qmp unix:PATH,server=on`` socket, with a private asyncio loop."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        from qemu.qmp import QMPClient

        self.path = path
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._client = QMPClient("atp")
        self._run(self._client.connect(path))

    def _run(self, coro):
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, self.timeout), self._loop)
        try:
            return future.result(self.timeout + 1)
        except Exception as exc:
            raise ProtocolError(f"QMP socket {self.path}: {exc}") from exc

    def execute(self, command: str, arguments: dict | None = None) -> Any:
        return self._run(self._client.execute(command, arguments or None))

    def close(self) -> None:
        try:
            self._run(self._client.disconnect())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(2)
