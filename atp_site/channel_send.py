"""Sending to a Channels group from synchronous code (Celery tasks, the run event writer).

``async_to_sync(layer.group_send)`` from a plain thread builds an event loop, and with it a
Redis connection, for every message. ``group_send`` keeps one loop per thread instead, so the
channel layer reuses its connection; a thread that ends calls ``close_thread_loop``. Inside a
thread that serves an async loop (sync_to_async of daphne or a test) the send goes to that loop,
where the layer's other users (consumers) live.

Sends never raise and never wait long (docs/live-view.md, "When Redis is down"): every attempt
is bounded, and a breaker skips broadcasts for a while after a failure. The groups whose
broadcasts failed or were skipped get one ``channel.resync`` once a send goes through again, so
their consumers catch up (``atp_site.channel_layer``). Only sends are bounded here; the
consumers' blocking receive keeps its own (long) read timeout.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

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


class _Breaker:
    """After a failed send, skip broadcasts for ``ATP_BROADCAST_BREAKER_SECONDS``: a Redis that
    is down or black-holed then costs one bounded attempt per period, not one per event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0
        self.skipped = 0
        self._missed: set[str] = set()  # groups whose broadcasts failed or were skipped

    def allow(self, group: str = "") -> bool:
        with self._lock:
            if time.monotonic() < self._open_until:
                self.skipped += 1
                if group:
                    self._missed.add(group)
                return False
            return True

    def missed(self, group: str) -> None:
        with self._lock:
            self._missed.add(group)

    def take_missed(self) -> list[str]:
        with self._lock:
            missed, self._missed = sorted(self._missed), set()
            return missed

    def trip(self) -> None:
        with self._lock:
            self._open_until = time.monotonic() + _setting("ATP_BROADCAST_BREAKER_SECONDS", 30.0)

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0
            self.skipped = 0
            self._missed = set()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until


breaker = _Breaker()


def _setting(name: str, default: float) -> float:
    from django.conf import settings

    return float(getattr(settings, name, default))


async def _bounded(send, timeout: float):
    """Await ``send()`` for at most ``timeout`` s. The coroutine is made here, inside the loop:
    one made by the caller is never awaited when the loop cannot be entered (a warning)."""
    return await asyncio.wait_for(send(), timeout)


def group_send(group: str, message: dict) -> bool:
    """Send ``message`` to ``group``; True when it was sent.

    Never raises: a broadcast is a wake-up, the database holds the truth. Each attempt (connect
    included) is bounded by ``ATP_BROADCAST_TIMEOUT`` (2 s); a kept connection that died (Redis
    restarted) is dropped and the send retried once; a failure is logged and opens the breaker.
    No channel layer: nothing to do."""
    layer = get_channel_layer()
    if layer is None:
        return False
    if not breaker.allow(group):
        return False
    if not _send(layer, group, message):
        breaker.missed(group)
        return False
    for missed in breaker.take_missed():  # what they missed is in the database
        if not _send(layer, missed, {"type": "channel.resync"}):
            breaker.missed(missed)
            break
    return True


def _send(layer, group: str, message: dict) -> bool:
    timeout = _setting("ATP_BROADCAST_TIMEOUT", 2.0)
    for attempt in range(2):
        try:
            loop = _thread_loop()
            send = lambda: layer.group_send(group, message)  # noqa: E731
            if loop is None:
                async_to_sync(_bounded)(send, timeout)
            else:
                coro = _bounded(send, timeout)
                try:
                    loop.run_until_complete(coro)
                finally:
                    coro.close()  # never entered (a closed loop): no "never awaited" warning
            return True
        except Exception as exc:
            close_thread_loop()
            if attempt or isinstance(exc, TimeoutError):
                breaker.trip()
                log.warning(
                    "broadcast to %s failed (%s); broadcasts skipped for %g s",
                    group,
                    _describe(exc),
                    _setting("ATP_BROADCAST_BREAKER_SECONDS", 30.0),
                )
                return False
    return False


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer within the broadcast timeout"
    return f"{type(exc).__name__}: {exc}"[:300]
