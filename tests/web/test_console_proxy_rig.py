"""The console websocket against a rig VM's real VNC server (QEMU): an operator's keys reach the
guest's key recorder; a viewer's do not, even sent by hand past the page's view-only noVNC; a
console of a running run's target records the take-over as events of the run; an unknown or
stopped VM closes with a reason."""

from __future__ import annotations

import asyncio
import secrets
import struct

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from atp_core.status import RunState
from atp_site.routing import websocket_urlpatterns
from hosts.models import Host, VirtualMachine
from tests.fixtures.web import make_user
from tests.rig.protocol_helpers import poll

pytestmark = [pytest.mark.rig, pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

RETURN = 0xFF0D


def _communicator(path: str, user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user
    return communicator


async def _recv(communicator, size: int, buf: bytearray) -> bytes:
    while len(buf) < size:
        message = await communicator.receive_output(timeout=60)
        assert message["type"] == "websocket.send", message
        buf += message["bytes"]
    data = bytes(buf[:size])
    del buf[:size]
    return data


async def _rfb_open(communicator) -> bytearray:
    """The client's side of the RFB handshake (security None), up to ServerInit."""
    connected, _ = await communicator.connect(timeout=30)
    assert connected
    buf = bytearray()
    assert (await _recv(communicator, 12, buf)).startswith(b"RFB 003.")
    await communicator.send_to(bytes_data=b"RFB 003.008\n")
    count = (await _recv(communicator, 1, buf))[0]
    assert 1 in await _recv(communicator, count, buf), "QEMU's VNC should offer security None"
    await communicator.send_to(bytes_data=b"\x01")
    assert await _recv(communicator, 4, buf) == b"\x00\x00\x00\x00"
    await communicator.send_to(bytes_data=b"\x01")
    width, height, _format, name_len = struct.unpack(">HH16sI", await _recv(communicator, 24, buf))
    await _recv(communicator, name_len, buf)
    assert width > 0 and height > 0
    return buf


async def _type(communicator, text: str) -> None:
    for ch in text:
        sym = RETURN if ch == "\n" else ord(ch)
        for down in (1, 0):
            await communicator.send_to(bytes_data=struct.pack(">BBxxI", 4, down, sym))
            await asyncio.sleep(0.02)  # a typist's pace at the console


def _keylog(vm) -> str:
    return vm.shell("cat /tmp/keys.log 2>/dev/null; true")[1]


@database_sync_to_async
def _inventory(rig_vm) -> VirtualMachine:
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    return VirtualMachine.objects.create(host=host, name=rig_vm.name, state="running")


async def test_operator_types_and_viewer_cannot(rig_vm, redis_url):
    vm = await _inventory(rig_vm)
    operator = await database_sync_to_async(make_user)("olga", "operator")
    viewer = await database_sync_to_async(make_user)("vera", "viewer")
    mark = secrets.token_hex(3)

    watching = _communicator(f"/ws/vms/{vm.pk}/console/", viewer)
    await _rfb_open(watching)
    await _type(watching, f"\nviewer{mark}\n")
    typing = _communicator(f"/ws/vms/{vm.pk}/console/", operator)
    await _rfb_open(typing)  # the viewer's console is shared: it stays open beside this one
    await _type(typing, f"\noper{mark}\n")

    log = await asyncio.to_thread(
        poll, lambda: _keylog(rig_vm), lambda text: f"oper{mark}" in text, 60
    )
    assert f"oper{mark}" in log.splitlines()
    assert f"viewer{mark}" not in log
    await watching.disconnect()
    await typing.disconnect()


async def test_take_over_of_a_run_target_is_an_event_of_the_run(rig_vm, redis_url):
    from runs.models import RunEvent
    from tests.web.run_pages_data import new_run, scenario

    vm = await _inventory(rig_vm)

    @database_sync_to_async
    def setup():
        user = make_user("olga", "operator")
        sc, rev = scenario()
        run = new_run(sc, rev, user, targets=(("local", vm.name),), state=RunState.RUNNING)
        return user, run, run.run_targets.get()

    user, run, target = await setup()
    console = _communicator(f"/ws/runs/{run.pk}/targets/{target.pk}/console/", user)
    await _rfb_open(console)
    await console.disconnect()

    @database_sync_to_async
    def events():
        return list(RunEvent.objects.filter(run=run).order_by("seq").values("type", "payload"))

    seen = await events()
    kinds = [e["type"] for e in seen]
    assert kinds[-2:] == ["console_taken_over", "console_released"], kinds
    assert seen[-2]["payload"] == {"by": "olga", "vm": rig_vm.name}


async def test_no_console_closes_with_a_reason(rig_vm, redis_url):
    vm = await _inventory(rig_vm)
    user = await database_sync_to_async(make_user)("olga", "operator")

    connected, code = await _communicator("/ws/vms/999999/console/", user).connect(timeout=10)
    assert not connected and code == 4404

    await database_sync_to_async(VirtualMachine.objects.filter(pk=vm.pk).update)(
        name="atp-no-such-domain"
    )
    console = _communicator(f"/ws/vms/{vm.pk}/console/", user)
    connected, _ = await console.connect(timeout=30)
    assert connected
    closed = await console.receive_output(timeout=30)
    assert closed["type"] == "websocket.close" and closed["code"] == 4409
    assert "atp-no-such-domain" in closed["reason"]
