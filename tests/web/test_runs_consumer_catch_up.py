"""A lost broadcast never leaves a live viewer behind: while no live event comes, the run's
websocket consumer reads what was stored after the last seq it sent (ATP_LIVE_CATCHUP_SECONDS),
so an event stored but never broadcast (Redis restarting, the breaker open) still arrives, once,
and the catch-up ends with the run."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from runs.event_store import record_event
from runs.models import Run, RunEvent
from runs.routing import websocket_urlpatterns
from runs.services import launch_run
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@database_sync_to_async
def _setup(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)  # seq 1
    return run, make_user("vera", "viewer")


@database_sync_to_async
def _store_silently(run: Run, type_: str, **data) -> int:
    """An event stored with the next seq and never broadcast (its broadcast was lost)."""
    run.refresh_from_db(fields=["last_seq"])
    seq = run.last_seq + 1
    RunEvent.objects.create(run=run, seq=seq, type=type_, payload=data)
    Run.objects.filter(pk=run.pk).update(last_seq=seq)
    return seq


async def test_events_stored_without_a_broadcast_reach_the_viewer(redis_url, monkeypatch, settings):
    settings.ATP_LIVE_CATCHUP_SECONDS = 0.5
    run, user = await _setup(monkeypatch)
    communicator = WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), f"/ws/runs/{run.pk}/?after=0"
    )
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["seq"] == 1

    # no live event follows the lost one: only the catch-up can bring it
    lost = await _store_silently(run, "step_log", message="lost")
    caught = await communicator.receive_json_from(timeout=10)
    assert (caught["seq"], caught["data"]) == (lost, {"message": "lost"})

    # live events still come at once, each once (the catch-up does not send them again)
    await database_sync_to_async(record_event)(run, "step_log", {"message": "live"})
    live = await communicator.receive_json_from(timeout=5)
    assert (live["seq"], live["data"]["message"]) == (lost + 1, "live")
    assert await communicator.receive_nothing(timeout=1.5)

    # the run's end, lost too, is caught up; nothing after it
    end = await _store_silently(run, "run_finished", result="passed")
    finished = await communicator.receive_json_from(timeout=10)
    assert (finished["seq"], finished["type"]) == (end, "run_finished")
    await _store_silently(run, "step_log", message="after the end")
    assert await communicator.receive_nothing(timeout=1.5), "the catch-up ended with the run"
    await communicator.disconnect()
