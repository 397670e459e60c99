"""A consumer that falls behind does not grow its queue without end: the channel layer keeps at
most ``capacity`` messages per consumer; a full queue is dropped and replaced by one
``channel.overflow`` notice, and the run consumer answers it by reading what it missed from the
database, so its viewer still gets every event once and in order (real Redis pub/sub)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from runs.consumers import RunConsumer
from runs.event_store import record_event
from runs.routing import websocket_urlpatterns
from runs.services import launch_run
from tests.fixtures.web import channel_layers_on, make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

CAPACITY = 4


@pytest.fixture
def small_layer(redis_url, settings):
    layers = channel_layers_on(redis_url)
    layers["default"]["CONFIG"]["capacity"] = CAPACITY
    settings.CHANNEL_LAYERS = layers
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


async def _until(condition, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_a_full_queue_becomes_one_overflow_notice(small_layer, caplog):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("bounded", channel)
    queue = layer._get_layer().channels[channel]
    with caplog.at_level(logging.WARNING, logger="atp_site.channel_layer"):
        for n in range(10):
            await layer.group_send("bounded", {"type": "note", "n": n})
        await _until(
            lambda: queue.qsize() and layer.deserialize(queue._queue[-1]).get("n") == 9,
            10,
            "the last message to arrive",
        )
    assert queue.qsize() <= CAPACITY
    received = [await layer.receive(channel) for _ in range(queue.qsize())]
    assert received[0]["type"] == "channel.overflow" and received[0]["dropped"] >= 1
    notes = [m["n"] for m in received if m["type"] == "note"]
    assert notes == sorted(notes) and notes[-1] == 9
    assert "fell" in caplog.text and "behind" in caplog.text
    await layer.group_discard("bounded", channel)


@database_sync_to_async
def _setup(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)  # seq 1
    return run, make_user("vera", "viewer")


async def test_a_viewer_that_fell_behind_catches_up_from_the_database(
    small_layer, monkeypatch, caplog, settings
):
    settings.ATP_LIVE_CATCHUP_SECONDS = 600  # the overflow notice, not the periodic catch-up
    run, user = await _setup(monkeypatch)
    gate = asyncio.Event()
    send_json = RunConsumer.send_json

    async def slow_viewer(self, content, close=False):  # the socket write of #2 hangs
        if content.get("seq") == 2:
            await gate.wait()
        await send_json(self, content, close)

    monkeypatch.setattr(RunConsumer, "send_json", slow_viewer)
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/runs/{run.pk}/?after=0"
    )
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["seq"] == 1

    with caplog.at_level(logging.WARNING, logger="atp_site.channel_layer"):
        for n in range(30):
            await database_sync_to_async(record_event)(run, "step_log", {"message": f"#{n}"})
        await _until(lambda: "fell" in caplog.text, 15, "the consumer's queue to overflow")
    gate.set()

    seqs = []
    while not seqs or seqs[-1] < 31:
        seqs.append((await communicator.receive_json_from(timeout=10))["seq"])
    assert seqs == list(range(2, 32)), "every event once, in order, the dropped ones included"
    assert await communicator.receive_nothing(timeout=1.0)
    await communicator.disconnect()


async def test_an_inventory_page_that_fell_behind_is_told_to_re_read(
    small_layer, monkeypatch, caplog
):
    from hosts.consumers import InventoryConsumer
    from hosts.routing import websocket_urlpatterns as hosts_ws
    from hosts.services import INVENTORY_GROUP

    user = await database_sync_to_async(make_user)("vera", "viewer")
    gate = asyncio.Event()
    send_json = InventoryConsumer.send_json

    async def slow_page(self, content, close=False):  # socket writes hang until the gate opens
        await gate.wait()
        await send_json(self, content, close)

    monkeypatch.setattr(InventoryConsumer, "send_json", slow_page)
    communicator = WebsocketCommunicator(URLRouter(hosts_ws), "/ws/inventory/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    layer = get_channel_layer()
    with caplog.at_level(logging.WARNING, logger="atp_site.channel_layer"):
        for n in range(20):
            await layer.group_send(
                INVENTORY_GROUP, {"type": "inventory.event", "kind": "x", "n": n}
            )
        await _until(lambda: "fell" in caplog.text, 15, "the consumer's queue to overflow")
    gate.set()
    received = []
    while not received or received[-1].get("n") != 19:
        received.append(await communicator.receive_json_from(timeout=10))
    assert {"kind": "resync"} in received, "the page is told that it missed messages"
    assert len(received) <= CAPACITY + 2
    await communicator.disconnect()
