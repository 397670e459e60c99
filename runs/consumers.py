"""Websocket of the live run view: ``ws/runs/<id>/?after=<seq>``.

On connect (authenticated users only; close 4401 otherwise, 4404 for an unknown run) the
consumer joins the run's group, then sends every stored event after ``after`` from the
database, then relays live events. Each client gets every event exactly once and in order:
a live event whose ``seq`` is not above the last one sent is dropped, and when a live event's
``seq`` jumps, the missing ones are read from the database first.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .broadcast import group_name
from .selectors import EVENTS_MAX, events_between, events_since


@database_sync_to_async
def _run_exists(run_id: int) -> bool:
    from .models import Run

    return Run.objects.filter(pk=run_id).exists()


@database_sync_to_async
def _since(run_id: int, after: int) -> list[dict]:
    return events_since(run_id, after, EVENTS_MAX)


@database_sync_to_async
def _between(run_id: int, after: int, upto: int) -> list[dict]:
    return events_between(run_id, after, upto)


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
        # join first: live events queue up behind this handler, so none falls in between
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._replay()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """``{"after": N}`` asks for a resend after ``N`` (e.g. after the page lost events)."""
        if isinstance(content, dict) and "after" in content:
            try:
                self.last_sent = max(0, int(content["after"]))
            except (TypeError, ValueError):
                return
            await self._replay()

    async def _replay(self) -> None:
        while True:
            batch = await _since(self.run_id, self.last_sent)
            for event in batch:
                await self._send(event)
            if len(batch) < EVENTS_MAX:
                return

    async def _send(self, event: dict) -> None:
        await self.send_json(event)
        self.last_sent = event["seq"]

    async def run_event(self, message):
        event = message["event"]
        seq = int(event["seq"])
        if seq <= self.last_sent:
            return
        if seq > self.last_sent + 1:
            for missing in await _between(self.run_id, self.last_sent, seq):
                await self._send(missing)
        await self._send(event)
