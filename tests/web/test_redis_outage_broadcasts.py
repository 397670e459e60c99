"""A Redis that is down or black-holed never fails a write (issue 11 item 7): inventory actions
answer, the periodic sync goes through every host, each send is bounded, a breaker skips
broadcasts for a while after a failure (logged), and a run's events are stored in order before
its run_finished.

The black hole is a real TCP listener that never accepts: connects complete in the kernel's
backlog and every read waits forever, as with a firewalled Redis.
"""

from __future__ import annotations

import logging
import socket

import pytest

from atp_site import channel_send
from hosts.models import Host
from runs.event_sink import RunEventSink
from runs.models import RunEvent
from tests.fixtures.web import channel_layers_on, make_user
from tests.web.runs_core_data import event, inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def black_hole_redis(settings):
    from channels.layers import channel_layers

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    settings.CHANNEL_LAYERS = channel_layers_on(f"redis://127.0.0.1:{port}/0")
    settings.ATP_BROADCAST_TIMEOUT = 0.5
    settings.ATP_BROADCAST_BREAKER_SECONDS = 600
    channel_layers.backends = {}
    channel_send.close_thread_loop()
    channel_send.breaker.reset()
    yield port
    channel_send.close_thread_loop()
    channel_layers.backends = {}
    channel_send.breaker.reset()
    listener.close()


def test_inventory_actions_answer_and_the_breaker_skips_later_broadcasts(
    black_hole_redis, client, caplog, eager_tasks
):
    client.force_login(make_user("root", "admin"))
    caplog.set_level(logging.WARNING, logger="atp_site.channel_send")
    created = client.post(
        "/api/hosts/", {"name": "h1", "uri": "test:///default"}, content_type="application/json"
    )
    assert created.status_code == 201
    first = client.post("/api/hosts/h1/test/")
    assert first.status_code == 202, first.content
    assert Host.objects.get(name="h1").reachable is True
    assert channel_send.breaker.is_open
    assert "broadcast to inventory failed" in caplog.text
    skipped = channel_send.breaker.skipped
    assert client.post("/api/hosts/h1/sync/?thumbnails=0").status_code == 202
    assert channel_send.breaker.skipped > skipped  # not attempted again while open


def test_the_periodic_sync_goes_through_every_host(black_hole_redis):
    from hosts.tasks import sync_all_hosts

    for name in ("a1", "a2", "a3"):
        Host.objects.create(name=name, uri="test:///default")
    results = sync_all_hosts()
    assert [r["host"] for r in results] == ["a1", "a2", "a3"]
    assert all(r["ok"] for r in results)
    assert Host.objects.filter(last_checked__isnull=False).count() == 3


def test_one_failing_host_does_not_stop_the_periodic_sync(monkeypatch, redis_url):
    from hosts import services
    from hosts.tasks import sync_all_hosts

    for name in ("b1", "b2"):
        Host.objects.create(name=name, uri="test:///default")
    real = services.sync_host

    def sync(host, **kwargs):
        if host.name == "b1":
            raise RuntimeError("database hiccup")
        return real(host, **kwargs)

    monkeypatch.setattr(services, "sync_host", sync)
    results = sync_all_hosts()
    assert results[0] == {"host": "b1", "ok": False, "error": "database hiccup", "vms": 0}
    assert results[1]["host"] == "b2" and results[1]["ok"]


def test_run_events_are_stored_in_order_before_run_finished(black_hole_redis, monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    from runs.services import launch_run

    inventory()
    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)
    sink = RunEventSink(run.pk, hold=("run_finished",))
    for i in range(20):
        sink(event("step_log", step_id="1", message=f"line {i}", level="info"))
        sink(event("step_started", step_id=str(i)))
    from runs import lifecycle

    sink.call_last(lambda: lifecycle.finish(run.pk, "passed", close_open=False))
    sink.close()
    kinds = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))
    assert kinds[-1] == "run_finished"
    assert kinds.count("step_started") == 20
    seqs = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    run.refresh_from_db()
    assert run.state == "finished" and run.result == "passed"
