"""Sending to a Channels group from synchronous code (Celery tasks, the run event writer).

``async_to_sync(layer.group_send)`` from a plain thread builds an event loop, and with it a
Redis connection, for every message. ``group_send`` keeps one loop per thread instead, so the
channel layer reuses its connection; a thread that ends calls ``close_thread_loop``. Inside a
thread that serves an async loop (sync_to_async of daphne or a test) the send goes to that loop,
where the layer's other users (consumers) live.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

_local = threading.local()


def _thread_loop() -> asyncio.AbstractEventLoop | None:
    """The calling thread's kept loop; None when the thread runs a loop or serves one."""
    try:
        asyncio.get_running_loop()
        return None
    except RuntimeError:
        pass
    if getattr(SyncToAsync.threadlocal, "main_event_loop", None) is not None:
        return None
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop


def close_thread_loop() -> None:
    """Close the calling thread's kept loop (and with it the layer's Redis connections)."""
    loop = getattr(_local, "loop", None)
    _local.loop = None
    if loop is not None and not loop.is_closed():
        try:
            loop.close()  # channels_redis closes its pools of this loop on close
        except Exception:
            log.debug("closing the kept event loop failed", exc_info=True)


def group_send(group: str, message: dict) -> None:
    """Send ``message`` to ``group``; a kept connection that died (Redis restarted) is dropped
    and the send retried once. Raises the second failure; no channel layer: nothing to do."""
    layer = get_channel_layer()
    if layer is None:
        return
    for attempt in range(2):
        try:
            loop = _thread_loop()
            if loop is None:
                async_to_sync(layer.group_send)(group, message)
            else:
                loop.run_until_complete(layer.group_send(group, message))
            return
        except Exception:
            if attempt:
                raise
            close_thread_loop()
