"""The site's channel layer: channels_redis's pub/sub layer with three changes.

- **A Redis outage is two log lines.** The layer's receive loop logs a traceback every second
  while Redis is away; here it logs one warning when the subscription is lost and one line
  when it is back (with how long it was away).
- **Every consumer's queue is bounded** (``capacity``, ``ATP_CHANNEL_CAPACITY``). A consumer
  that falls behind (its handlers slower than what is published to it) does not grow without
  end: when its queue is full the queued messages are dropped and replaced by one
  ``{"type": "channel.overflow", "dropped": n}``; consumers answer it by reading what they
  missed from the database (``runs.consumers``: after the last seq sent; ``hosts.consumers``:
  the page re-reads its state).
- **After an outage every consumer hears of it**: when the subscription is back, each
  consumer of this process gets ``{"type": "channel.resync"}`` (what was published meanwhile is
  gone: pub/sub keeps nothing), so it catches up at once, not at its next periodic check.

- **Its channels are named per Redis database** (prefix ``asgi-db<N>``): Redis pub/sub channels
  are global to the server, whatever database a client selected, so two sites (or test
  sessions) on one Redis server with different database numbers heard each other's groups
  (``run_6`` of one got the other's run 6 events: a foreign seq made a viewer skip its own).

``atp_site.channel_send`` sends ``channel.resync`` too, to the groups whose broadcasts its
breaker skipped, once a send goes through again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

CAPACITY = 1000
OVERFLOW = "channel.overflow"
RESYNC = "channel.resync"
_LOST = (RedisConnectionError, RedisTimeoutError, OSError)


def _where(host) -> str:
    """The Redis a shard talks to, without credentials."""
    address = host.get("address", host) if isinstance(host, dict) else host
    if isinstance(address, str):
        parts = urlsplit(address)
        if parts.hostname:
            return f"{parts.hostname}:{parts.port or 6379}{parts.path}"
        return address
    return str(address)


class _Shard(RedisSingleShardConnection):
    """One Redis connection's subscriptions, with the quiet receive loop."""

    async def _do_receiving(self):
        lost_at: float | None = None
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    if lost_at is not None:
                        self._back(time.monotonic() - lost_at)
                        lost_at = None
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except _LOST as exc:
                if lost_at is None:
                    lost_at = time.monotonic()
                    log.warning(
                        "channel layer: lost Redis at %s (%s: %s); live messages to this "
                        "process are lost until it is back, trying again every second",
                        _where(self.host),
                        type(exc).__name__,
                        exc,
                    )
                await asyncio.sleep(1)
            except Exception:
                log.exception("channel layer: unexpected error in the receive loop")
                await asyncio.sleep(1)

    def _back(self, seconds: float) -> None:
        log.info(
            "channel layer: Redis at %s is back after %.1f s; subscriptions renewed, "
            "%d consumers told to catch up",
            _where(self.host),
            seconds,
            len(self.channel_layer.channels),
        )
        for name in list(self.channel_layer.channels):
            self.channel_layer.deliver(name, self.channel_layer.notice({"type": RESYNC}))

    def _receive_message(self, message):
        if message is None:
            return
        name, data = message["channel"], message["data"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        if name in layer.channels:
            layer.deliver(name, data)
        elif name in layer.groups:
            for channel_name in layer.groups[name]:
                layer.deliver(channel_name, data)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, capacity: int = CAPACITY, **kwargs):
        super().__init__(*args, **kwargs)
        self.capacity = max(1, int(capacity))
        self._shards = [_Shard(shard.host, self) for shard in self._shards]

    async def _subscribe_to_channel(self, channel):
        self.channels[channel] = asyncio.Queue(maxsize=self.capacity)
        await self._get_shard(channel).subscribe(channel)

    def notice(self, message: dict) -> bytes:
        return self.channel_layer.serialize(message)

    def deliver(self, channel: str, data: bytes) -> None:
        """Queue ``data`` for a consumer of this process; a full queue is emptied and left
        with one ``channel.overflow`` notice ahead of ``data``."""
        queue = self.channels.get(channel)
        if queue is None:
            return
        try:
            queue.put_nowait(data)
            return
        except asyncio.QueueFull:
            pass
        dropped = 0
        while not queue.empty():
            queue.get_nowait()
            dropped += 1
        log.warning(
            "channel layer: consumer %s fell %d messages behind; dropped, told to catch up",
            channel,
            dropped,
        )
        queue.put_nowait(self.notice({"type": OVERFLOW, "dropped": dropped}))
        if queue.full():  # capacity 1: the notice says it all
            return
        queue.put_nowait(data)


def _prefix(hosts) -> str:
    """``asgi-db<N>`` for the first host's database number (0 when the URL names none)."""
    host = (hosts or ["redis://localhost:6379/0"])[0]
    address = host.get("address", "") if isinstance(host, dict) else host
    db = host.get("db") if isinstance(host, dict) else None
    if db is None and isinstance(address, str):
        path = urlsplit(address).path.strip("/")
        db = int(path) if path.isdigit() else 0
    return f"asgi-db{db or 0}"


class ChannelLayer(RedisPubSubChannelLayer):
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` with bounded consumer queues, a quiet
    outage and a resync notice after it, its channels named per Redis database (module
    docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", _prefix(kwargs.get("hosts")))
        super().__init__(*args, **kwargs)

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
