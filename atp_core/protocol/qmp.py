"""QMP: through libvirt for managed domains, or over a unix socket (qemu.qmp) for plain QEMU."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import libvirt
import libvirt_qemu

from atp_core.errors import InvalidInput, ProtocolError

from .domain import DomainRef, translate
from .wire import trace, wire_logger


def qmp_command(
    dom: libvirt.virDomain, vm: str, command: str, arguments: dict | None = None
) -> Any:
    """One QMP command on an already looked-up domain (``vm`` names it in errors and on its
    wire logger): the hot paths keep their domain object and skip a lookup per command."""
    msg: dict[str, Any] = {"execute": command}
    if arguments:
        msg["arguments"] = arguments
    wire = wire_logger("qmp", vm)
    text = json.dumps(msg)
    trace(wire, ">", text)
    try:
        reply = libvirt_qemu.qemuMonitorCommand(dom, text, 0)
    except libvirt.libvirtError as exc:
        raise translate(exc, vm, f"QMP {command}") from exc
    trace(wire, "<", str(reply))
    data = json.loads(reply)
    if "error" in data:
        raise ProtocolError(f"{vm}: QMP {command}: {data['error'].get('desc')}")
    return data.get("return")


class LibvirtQmp:
    """QMP commands of a libvirt domain via ``qemuMonitorCommand``."""

    def __init__(self, domain: DomainRef) -> None:
        self.domain = domain

    def execute(self, command: str, arguments: dict | None = None) -> Any:
        return qmp_command(self.domain.running(), self.domain.name, command, arguments)


QEMU_NS = "{http://libvirt.org/schemas/domain/qemu/1.0}"


def qmp_socket_path(domain: DomainRef) -> str:
    """The extra QMP unix socket a domain declares in its XML (``<qemu:commandline>`` with
    ``-qmp unix:PATH,server=on,...`` or ``-chardev socket,path=PATH`` + ``-mon chardev=...``).

    libvirt keeps its own monitor socket to itself; a second client needs a socket of its own,
    and its path is read from the XML, never guessed.
    """
    args = [
        arg.get("value", "") for arg in domain.xml().findall(f"{QEMU_NS}commandline/{QEMU_NS}arg")
    ]
    chardevs: dict[str, str] = {}
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "-qmp" and value.startswith("unix:"):
            return value[5:].split(",")[0]
        if flag == "-chardev" and value.startswith("socket,"):
            opts = dict(o.split("=", 1) for o in value.split(",")[1:] if "=" in o)
            if "id" in opts and "path" in opts:
                chardevs[opts["id"]] = opts["path"]
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "-mon":
            opts = dict(o.split("=", 1) for o in value.split(",") if "=" in o)
            if opts.get("mode") == "control" and opts.get("chardev") in chardevs:
                return chardevs[opts["chardev"]]
    raise InvalidInput(
        f"{domain.name}: no QMP socket in the domain XML (add <qemu:commandline> with "
        "-qmp unix:PATH,server=on,wait=off, or use LibvirtQmp)"
    )


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
        try:
            self._run(self._client.connect(path))
        except ProtocolError:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(2)
            raise

    def _run(self, coro):
        future = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, self.timeout), self._loop)
        try:
            return future.result(self.timeout + 1)
        except Exception as exc:
            raise ProtocolError(f"QMP socket {self.path}: {exc}") from exc

    @classmethod
    def for_domain(cls, domain: DomainRef, timeout: float = 10.0) -> SocketQmp:
        """Connect to the QMP socket the domain's XML declares."""
        return cls(qmp_socket_path(domain), timeout)

    def execute(self, command: str, arguments: dict | None = None) -> Any:
        return self._run(self._client.execute(command, arguments or None))

    def close(self) -> None:
        try:
            self._run(self._client.disconnect())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(2)
