"""Redis pub/sub channels are global to the server, whatever database a client selected: the
channel layer names its channels per database, so two sites (or test sessions) on one Redis
server with different database numbers do not hear each other's groups (real Redis)."""

from __future__ import annotations

import asyncio

import pytest
import redis

from atp_site.channel_layer import ChannelLayer

pytestmark = pytest.mark.asyncio


def _layer(url: str) -> ChannelLayer:
    return ChannelLayer(hosts=[{"address": url, "socket_timeout": 30}], capacity=10)


async def test_a_group_on_another_database_number_is_another_group(redis_url):
    base = redis_url.rsplit("/", 1)[0]
    ours, theirs = _layer(f"{base}/11"), _layer(f"{base}/12")
    mine = await ours.new_channel()
    await ours.group_add("run_6", mine)
    other = await theirs.new_channel()
    await theirs.group_add("run_6", other)
    client = redis.Redis.from_url(redis_url)
    names = [f"asgi-db{n}__group__run_6".encode() for n in (11, 12)]
    for _ in range(100):  # SUBSCRIBE is sent, not awaited: wait until Redis counts both
        if all(dict(client.pubsub_numsub(*names)).get(name) for name in names):
            break
        await asyncio.sleep(0.05)
    client.close()

    await theirs.group_send("run_6", {"type": "run.event", "site": "theirs"})
    await ours.group_send("run_6", {"type": "run.event", "site": "ours"})
    assert (await asyncio.wait_for(ours.receive(mine), 5))["site"] == "ours"
    assert (await asyncio.wait_for(theirs.receive(other), 5))["site"] == "theirs"
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ours.receive(mine), 1)
    await theirs.flush()
    await ours.flush()
