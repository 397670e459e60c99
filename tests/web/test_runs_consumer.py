"""ws/runs/<id>/?after=N: anonymous refused (4401); replays what came after N from the
database, then live events, each exactly once and in order (duplicates dropped, gaps filled)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from runs.broadcast import group_name
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
    for i in range(2, 6):
        record_event(run, "step_log", {"level": "info", "message": f"m{i}"}, "local/demo-1", "1")
    return run, make_user("vera", "viewer")


def _communicator(run_id: int, user, after: int | None = None) -> WebsocketCommunicator:
    path = f"/ws/runs/{run_id}/" + (f"?after={after}" if after is not None else "")
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    communicator.scope["user"] = user
    return communicator


async def _seqs(communicator, count: int) -> list[int]:
    return [(await communicator.receive_json_from(timeout=5))["seq"] for _ in range(count)]


async def test_anonymous_is_refused_with_4401(redis_url, monkeypatch):
    run, _ = await _setup(monkeypatch)
    communicator = _communicator(run.pk, AnonymousUser())
    connected, code = await communicator.connect(timeout=5)
    assert not connected and code == 4401


async def test_unknown_run_is_closed(redis_url, monkeypatch):
    _, user = await _setup(monkeypatch)
    connected, code = await _communicator(999999, user).connect(timeout=5)
    assert not connected and code == 4404


async def test_replay_after_n_then_live_without_duplicates_or_gaps(redis_url, monkeypatch):
    run, user = await _setup(monkeypatch)
    communicator = _communicator(run.pk, user, after=2)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    first = await communicator.receive_json_from(timeout=5)
    # the stored event, and what it changed on the live page (runs/live_updates.py)
    assert set(first) == {"seq", "type", "ts", "target", "step_id", "data", "view"}
    assert (first["seq"], first["type"], first["data"]["message"]) == (3, "step_log", "m3")
    assert await _seqs(communicator, 2) == [4, 5]

    # a live event from another process (the worker): stored, then broadcast
    await database_sync_to_async(record_event)(run, "step_log", {"message": "live"})
    live = await communicator.receive_json_from(timeout=5)
    assert (live["seq"], live["data"]["message"]) == (6, "live")

    layer = get_channel_layer()
    old = await database_sync_to_async(lambda: RunEvent.objects.get(run=run, seq=4).to_client())()
    await layer.group_send(group_name(run.pk), {"type": "run.event", "event": old})

    # two events stored but never broadcast (a lost message), then seq 9 arrives live
    @database_sync_to_async
    def silent_events():
        for seq in (7, 8):
            RunEvent.objects.create(run=run, seq=seq, type="step_log", payload={"n": seq})
        Run.objects.filter(pk=run.pk).update(last_seq=8)

    await silent_events()
    await database_sync_to_async(record_event)(run, "step_log", {"n": 9})
    assert await _seqs(communicator, 3) == [7, 8, 9], "the duplicate 4 dropped, the gap filled"
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_reconnect_from_zero_gets_everything_once(redis_url, monkeypatch):
    run, user = await _setup(monkeypatch)
    communicator = _communicator(run.pk, user)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert await _seqs(communicator, 5) == [1, 2, 3, 4, 5]
    assert await communicator.receive_nothing(timeout=0.3)
    # the page may ask again after a seq it already has
    await communicator.send_json_to({"after": 3})
    assert await _seqs(communicator, 2) == [4, 5]
    await communicator.disconnect()


async def test_the_site_routes_runs_websocket_with_session_auth(redis_url, monkeypatch):
    """Through the real ASGI application (session auth, origin check): anonymous closed."""
    from atp_site.asgi import application

    run, _ = await _setup(monkeypatch)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/runs/{run.pk}/",
        headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
    )
    connected, _ = await communicator.connect(timeout=5)
    if connected:
        message = await communicator.receive_output(timeout=5)
        assert message == {"type": "websocket.close", "code": 4401}
    await communicator.wait()
