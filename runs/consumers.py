"""Websocket of the live run view: ``ws/runs/<id>/?after=<seq>``.

On connect (authenticated users only; close 4401 otherwise, 4404 for an unknown run) the
consumer joins the run's group, then sends every stored event after ``after`` from the
database, then relays live events, each with the page fragments it changed
(``runs.live_updates``: rendered once by the event's writer; replayed ones from the database).
Each client gets every event exactly once and in order:
a live event whose ``seq`` is not above the last one sent is dropped, and when a live event's
``seq`` jumps, the missing ones are read from the database first.

A broadcast is a wake-up and may be lost (the pub/sub channel layer keeps nothing for a
subscriber whose Redis connection is being re-made after a Redis restart; a sender's breaker
skips broadcasts while Redis is down). So while no live event has come for
``ATP_LIVE_CATCHUP_SECONDS`` (3 s) and the run has not finished, the consumer reads what was
stored after its last seq: a lost tail reaches the viewer a few seconds late, never not at all,
and the websocket stays open through a Redis restart. The channel layer
(``atp_site.channel_layer``) also says when to catch up at once: ``channel.resync`` when its
Redis subscription is back after an outage, ``channel.overflow`` when this consumer fell so far
behind that its queue was dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from .broadcast import group_name
from .event_store import FINISHED_EVENT
from .live_updates import with_views
from .selectors import EVENTS_MAX, events_between, events_since

log = logging.getLogger(__name__)


@database_sync_to_async
def _run_exists(run_id: int) -> bool:
    from .models import Run

    return Run.objects.filter(pk=run_id).exists()


@database_sync_to_async
def _since(run_id: int, after: int) -> list[dict]:
    events = events_since(run_id, after, EVENTS_MAX)
    return with_views(run_id, events) if events else events


@database_sync_to_async
def _between(run_id: int, after: int, upto: int) -> list[dict]:
    events = events_between(run_id, after, upto)
    return with_views(run_id, events) if events else events


def _after(scope) -> int:
    query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
    try:
        return max(0, int((query.get("after") or ["0"])[0]))
    except ValueError:
        return 0


class RunConsumer(AsyncJsonWebsocketConsumer):
    run_id: int = 0
    last_sent: int = 0
    group: str = ""
    finished: bool = False
    _catch_up_task: asyncio.Task | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        if not await _run_exists(self.run_id):
            await self.close(code=4404)
            return
        self.last_sent = _after(self.scope)
        self.group = group_name(self.run_id)
        # one writer of the socket at a time: the handlers below and the catch-up task
        self._sending = asyncio.Lock()
        self._live_at = time.monotonic()
        # join first: live events queue up behind this handler, so none falls in between
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        async with self._sending:
            await self._replay()
        if not self.finished:
            self._catch_up_task = asyncio.create_task(self._catch_up())

    async def disconnect(self, code):
        if self._catch_up_task is not None:
            self._catch_up_task.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _catch_up(self) -> None:
        """Read what was stored after the last seq sent whenever no live event came for a
        while (a lost broadcast), until the run's end has been sent."""
        interval = float(getattr(settings, "ATP_LIVE_CATCHUP_SECONDS", 3.0))
        while not self.finished:
            await asyncio.sleep(max(0.0, self._live_at + interval - time.monotonic()))
            if time.monotonic() - self._live_at < interval:
                continue  # a live event came meanwhile
            self._live_at = time.monotonic()
            try:
                async with self._sending:
                    await self._replay()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup: try again next time; the socket stays
                log.warning(
                    "run %s: catching up after #%s failed",
                    self.run_id,
                    self.last_sent,
                    exc_info=True,
                )

    async def channel_overflow(self, message):
        """The layer dropped this consumer's queue: the dropped events are in the database."""
        await self._catch_up_now()

    async def channel_resync(self, message):
        """The layer's Redis subscription is back: what was broadcast meanwhile is lost."""
        await self._catch_up_now()

    async def _catch_up_now(self) -> None:
        if not self.group:
            return
        self._live_at = time.monotonic()
        async with self._sending:
            await self._replay()

    async def receive_json(self, content, **kwargs):
        """``{"after": N}`` asks for a resend after ``N`` (e.g. after the page lost events)."""
        if self.group and isinstance(content, dict) and "after" in content:
            try:
                after = max(0, int(content["after"]))
            except (TypeError, ValueError):
                return
            async with self._sending:
                self.last_sent = after
                await self._replay()

    async def _replay(self) -> None:
        while True:
            batch = await _since(self.run_id, self.last_sent)
            for event in batch:
                await self._send(event)
            if len(batch) < EVENTS_MAX:
                return

    async def _send(self, event: dict, text: str | None = None) -> None:
        """One event to the socket: ``text`` when the broadcast brought it encoded."""
        if text is None:
            await self.send_json(event)
        else:
            await self.send(text_data=text)
        self.last_sent = event["seq"]
        if event.get("type") == FINISHED_EVENT:
            self.finished = True

    async def run_event(self, message):
        event = message["event"]
        seq = int(event["seq"])
        self._live_at = time.monotonic()
        async with self._sending:
            if seq <= self.last_sent:
                return
            if seq > self.last_sent + 1:
                for missing in await _between(self.run_id, self.last_sent, seq):
                    await self._send(missing)
            await self._send(event, message.get("text"))
