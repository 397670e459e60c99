"""The channel layer keeps reading through quiet spells: a receive on an idle channel outlasts
redis-py 8's default 5 s socket timeout without a Redis read timeout (that default once made
every websocket drop each 5-6 s: the core layer's 5 s blocking pop timed out with it), and a
message sent after the quiet spell arrives."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import channel_layers

pytestmark = [pytest.mark.redis, pytest.mark.asyncio]

REDIS_PY_DEFAULT_SOCKET_TIMEOUT = 5.0


async def test_receive_survives_a_quiet_spell_longer_than_redis_py_s_socket_timeout(
    redis_url, settings
):
    layer = channel_layers.make_backend("default")
    channel = await layer.new_channel()
    try:

        async def send_later():
            await asyncio.sleep(REDIS_PY_DEFAULT_SOCKET_TIMEOUT * 1.6)
            await layer.send(channel, {"type": "late.hello", "n": 1})

        sender = asyncio.create_task(send_later())
        message = await asyncio.wait_for(layer.receive(channel), timeout=60)
        await sender
        assert message == {"type": "late.hello", "n": 1}
    finally:
        await layer.flush()
