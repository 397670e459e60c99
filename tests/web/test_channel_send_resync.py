"""A group whose broadcasts were lost (a failed send, or skipped while the sender's breaker was
open) gets one ``channel.resync`` once a send goes through again, so its consumers catch up
from the database (real Redis pub/sub)."""

from __future__ import annotations

import asyncio

import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer

from atp_site import channel_send
from tests.fixtures.web import channel_layers_on

pytestmark = pytest.mark.asyncio


@pytest.fixture
def layer(redis_url, settings):
    settings.CHANNEL_LAYERS = channel_layers_on(redis_url)
    settings.ATP_BROADCAST_BREAKER_SECONDS = 0.3
    channel_layers.backends = {}
    channel_send.breaker.reset()
    yield get_channel_layer()
    channel_layers.backends = {}
    channel_send.breaker.reset()


async def _subscribed(layer, redis_url: str, group: str) -> str:
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    name = layer._get_layer()._get_group_channel_name(group)
    client = redis.Redis.from_url(redis_url)
    for _ in range(100):  # SUBSCRIBE is sent, not awaited: wait until Redis counts it
        if dict(client.pubsub_numsub(name)).get(name.encode()):
            break
        await asyncio.sleep(0.05)
    client.close()
    return channel


async def test_a_group_the_breaker_skipped_gets_a_resync(layer, redis_url):
    skipped = await _subscribed(layer, redis_url, "resync-skipped")
    other = await _subscribed(layer, redis_url, "resync-other")
    send = sync_to_async(channel_send.group_send)

    channel_send.breaker.trip()  # as after a failed send
    assert not await send("resync-skipped", {"type": "note", "n": 1})
    for _ in range(200):  # the breaker closes again (ATP_BROADCAST_BREAKER_SECONDS)
        if not channel_send.breaker.is_open:
            break
        await asyncio.sleep(0.02)
    assert not channel_send.breaker.is_open
    assert await send("resync-other", {"type": "note", "n": 2})

    assert (await asyncio.wait_for(layer.receive(other), 5))["n"] == 2
    assert (await asyncio.wait_for(layer.receive(skipped), 5)) == {"type": "channel.resync"}
    assert await send("resync-other", {"type": "note", "n": 3})  # once, not on every send
    assert (await asyncio.wait_for(layer.receive(other), 5))["n"] == 3
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(skipped), 1)
