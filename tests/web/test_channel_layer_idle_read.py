"""The channel layer keeps reading through quiet spells: a receive on an idle channel outlasts
its 5 s blocking pop without a Redis read timeout (redis-py 8's default 5 s socket timeout made
every websocket drop each 5-6 s), and a message sent after the quiet spell arrives."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import channel_layers

pytestmark = [pytest.mark.redis, pytest.mark.asyncio]


async def test_receive_survives_a_quiet_spell_longer_than_the_blocking_pop(redis_url, settings):
    layer = channel_layers.make_backend("default")
    assert layer.brpop_timeout <= 5  # the pop that the read timeout must outlast
    channel = await layer.new_channel()
    try:

        async def send_later():
            await asyncio.sleep(layer.brpop_timeout * 1.6)  # two pops time out before it
            await layer.send(channel, {"type": "late.hello", "n": 1})

        sender = asyncio.create_task(send_later())
        message = await asyncio.wait_for(layer.receive(channel), timeout=60)
        await sender
        assert message == {"type": "late.hello", "n": 1}
    finally:
        await layer.flush()
        await layer.close_pools()
