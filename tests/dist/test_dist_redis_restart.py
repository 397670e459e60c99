"""Redis restarted mid-run (our own redis-server, broker and channel layer of this test's
worker): the run finishes, its events are complete, and a live view that reconnects after the
restart catches up (replay after its last seq, then live) with no gap and no duplicate."""

import asyncio
import time

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import assert_full_event_sequence, events_of, make_scenario, wait_for
from tests.fixtures.web import make_user

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo before-restart}
  - {type: wait, duration: 8s}
  - {type: exec_command, command: echo after-restart}
  - {type: wait, duration: 4s}
  - {type: exec_command, command: echo done}
"""


def watch(run_id, user, after, until_seq=None, until_type="run_finished", timeout=60):
    """Connect ws/runs/<id>/?after=N and collect events until ``until_type`` (or seq)."""
    from runs.routing import websocket_urlpatterns

    async def main():
        comm = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/runs/{run_id}/?after={after}"
        )
        comm.scope["user"] = user
        connected, _ = await comm.connect(timeout=10)
        assert connected
        got = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                ev = await comm.receive_json_from(timeout=deadline - time.monotonic())
                got.append((ev["seq"], ev["type"]))
                if ev["type"] == until_type or (until_seq and ev["seq"] >= until_seq):
                    break
        finally:
            await comm.disconnect()
        return got

    return asyncio.run(main())


def test_redis_restart_mid_run(dist_processes, two_hosts, own_redis, layer_on, monkeypatch):
    from atp_site.celery import app, run_task_options
    from runs.tasks import execute_run

    env = {"REDIS_URL": own_redis.url, "CELERY_BROKER_URL": own_redis.url}
    worker = dist_processes.worker("hd-wr", "host.hd-a", env=env)
    layer_on(own_redis.url)

    def send_run(run):  # launch_run's send, to our own broker
        with app.connection_for_write(own_redis.url) as conn:
            sent = execute_run.apply_async(args=[run.pk], connection=conn, **run_task_options(run))
        Run.objects.filter(pk=run.pk).update(task_id=sent.id)

    monkeypatch.setattr("runs.services.send_run", send_run)
    user = make_user("vera", "viewer")
    rev = make_scenario("redis-restart", STEPS)
    vm = two_hosts["hd-a"].vms.first().name
    run = launch_run(rev, [{"vm": vm, "host": "hd-a"}], {}, None)

    # a live viewer sees the start of the run
    wait_for(lambda: Run.objects.get(pk=run.pk).state == "running", 120, "the run to start")
    seen = watch(run.pk, user, after=0, until_type="step_started", timeout=60)
    wait_for(
        lambda: "wait" in str(Run.objects.get(pk=run.pk).steps.filter(status="running").first()),
        60,
        "the wait step",
    )

    own_redis.stop()
    time.sleep(3)  # the worker goes on without broker and channel layer
    own_redis.start()

    # the viewer reconnects after its last seq: replay from the database, then live
    last = seen[-1][0]
    rest = watch(run.pk, user, after=last, timeout=120)
    wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 60, "the run to finish")
    run.refresh_from_db()
    assert run.result == "passed", run.reason
    events = assert_full_event_sequence(run.pk)
    assert seen + rest == events, "the live view missed or repeated events"
    assert [t for _, t in events].count("step_finished") == 6
    assert events_of(run.pk) == events

    # the worker reconnected to the restarted broker and takes the next run
    assert worker.alive()
    assert "Unrecoverable error" not in worker.text()
    again = launch_run(rev, [{"vm": vm, "host": "hd-a"}], {}, None)
    wait_for(lambda: Run.objects.get(pk=again.pk).state == "finished", 120, "a run after")
    again.refresh_from_db()
    assert again.result == "passed" and again.worker == run.worker
    # both messages were acknowledged (the first on a new connection): nothing to re-deliver
    import redis

    client = redis.Redis.from_url(own_redis.url)
    assert client.hlen("unacked") == 0
    client.close()
