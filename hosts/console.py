"""The VM console: noVNC in the browser, relayed to QEMU's VNC server by a websocket consumer.

``ws/vms/<vm_id>/console/`` (and, in runs, a run target's console) carries raw RFB bytes both
ways, after a handshake the proxy does with QEMU itself (``atp_core.protocol.vnc.authenticate``:
the domain's VNC password, read from its live XML with VIR_DOMAIN_XML_SECURE, answers QEMU's
challenge; the browser is offered security None and never sees the password). Local and remote
hosts take the same path: a remote host's QEMU listens on that host's address.

Any signed-in role may watch; only operators (and admins) may type: a viewer's stream goes
through ``atp_core.protocol.vnc.ClientStream(view_only=True)``, which drops key, pointer and
clipboard messages server-side. When QEMU closes the VNC connection (the VM stopped) the
websocket closes with code 1000, so the page's noVNC ends cleanly.

Close codes: 4401 not signed in, 4403 no role, 4404 unknown VM, 4409 no console (the VM is off,
has no VNC device, its host is down); the reason says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from atp_core.errors import AtpError
from atp_core.protocol.vnc import (
    ClientStream,
    VncAddress,
    authenticate,
    vnc_address,
    vnc_password,
)
from atp_site.permissions import has_role

from .models import Host, VirtualMachine

log = logging.getLogger(__name__)

READ_CHUNK = 64 * 1024


def console_address(host: Host, vm_name: str) -> VncAddress:
    """Where the VM's VNC server listens (live domain XML); raises AtpError."""
    return console_endpoint(host, vm_name)[0]


def console_endpoint(host: Host, vm_name: str) -> tuple[VncAddress, str]:
    """Where the VM's VNC server listens and its VNC password (``""``: none), from the live
    domain XML read with VIR_DOMAIN_XML_SECURE; raises AtpError."""
    from . import connections

    def lookup(conn):
        import libvirt

        try:
            dom = conn.lookupByName(vm_name)
        except libvirt.libvirtError as exc:
            from atp_core.errors import DomainNotFound

            raise DomainNotFound(f"{vm_name} is not on {host.name}: {exc}") from exc
        if not dom.isActive():
            from atp_core.errors import DomainNotRunning

            raise DomainNotRunning(f"{vm_name} is not running")
        return dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)

    xml = connections.call(host, lookup)
    return vnc_address(xml, host.uri, vm_name), vnc_password(xml)


def console_status(host: Host | None, vm_name: str) -> dict:
    """``{"ok": bool, "error": str}``: whether a console can be opened now (for the page)."""
    if host is None:
        return {"ok": False, "error": f"{vm_name} has no libvirt host"}
    try:
        console_address(host, vm_name)
    except AtpError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": True, "error": ""}


@database_sync_to_async
def _can(user, role: str) -> bool:
    return has_role(user, role)


@database_sync_to_async
def _vm(vm_id: int) -> tuple[Host | None, str] | None:
    vm = VirtualMachine.objects.select_related("host").filter(pk=vm_id).first()
    return None if vm is None else (vm.host, vm.name)


class ConsoleConsumer(AsyncWebsocketConsumer):
    """Relays one browser's noVNC to the VM's VNC server; see the module docstring."""

    channel_layer_alias = "console-needs-no-channel-layer"  # not configured: no Redis reader
    view_only: bool = True
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    pump: asyncio.Task | None = None
    stream: ClientStream | None = None

    async def find_target(self) -> tuple[Host | None, str] | None:
        """(host, domain name) of the console asked for, or None when there is none."""
        return await _vm(int(self.scope["url_route"]["kwargs"]["vm_id"]))

    async def taken_over(self) -> None:
        """An operator's console is open (a run records it as an event)."""

    async def released(self) -> None:
        """That console closed."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        if not await _can(user, "viewer"):
            await self.close(code=4403)
            return
        self.view_only = not await _can(user, "operator")
        found = await self.find_target()
        if found is None:
            await self.close(code=4404)
            return
        host, vm_name = found
        await self.accept()
        try:
            if host is None:
                raise AtpError(f"{vm_name} has no libvirt host")
            address, password = await sync_to_async(console_endpoint, thread_sensitive=False)(
                host, vm_name
            )
            timeout = float(settings.ATP_CONSOLE_CONNECT_TIMEOUT)
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(address.host, address.port), timeout=timeout
            )
            # the proxy does the RFB handshake with QEMU (answering its password challenge)
            # and offers the browser security None: a VNC password never reaches a browser
            await authenticate(self.reader, self.writer, password, timeout)
        except (AtpError, OSError, TimeoutError) as exc:
            if self.writer is not None:
                self.writer.close()
                self.writer = None
            await self.close(code=4409, reason=_reason(f"no console of {vm_name}: {exc}"))
            return
        self.stream = ClientStream(view_only=self.view_only, answer_handshake=True)
        await self.send(bytes_data=b"RFB 003.008\n")
        self.pump = asyncio.create_task(self._pump())
        if not self.view_only:
            await self.taken_over()

    async def _pump(self) -> None:
        """QEMU → browser, until QEMU closes (the VM stopped) or the browser left."""
        assert self.reader is not None
        try:
            while True:
                data = await self.reader.read(READ_CHUNK)
                if not data:
                    break
                await self.send(bytes_data=data)
        except (OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            return
        await self.close(code=1000, reason="the VM's display closed")

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is None or self.writer is None or self.stream is None:
            return
        try:
            forward = self.stream.feed(bytes_data)
        except AtpError as exc:
            await self.close(code=4400, reason=_reason(str(exc)))
            return
        replies = self.stream.take_replies()
        if replies:
            await self.send(bytes_data=replies)
        if forward:
            self.writer.write(forward)
            try:
                await asyncio.wait_for(self.writer.drain(), timeout=30)
            except (OSError, TimeoutError):
                await self.close(code=1011, reason="the VM's display stopped reading")

    async def disconnect(self, code):
        if self.pump is not None:
            self.pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.pump
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.wait_closed(), timeout=5)
            if not self.view_only:
                await self.released()
        self.writer = None


def _reason(text: str) -> str:
    """A websocket close reason (at most 123 bytes of UTF-8)."""
    data = text.encode()[:120]
    return data.decode(errors="ignore")
