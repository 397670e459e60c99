"""RabbitMQ restarted mid-run (a node of this test's own, the broker of its worker, beat and
central worker), once with a clean stop and once with ``kill -9``: the running run finishes with
its events complete, a run sent before the outage to a host with no worker yet runs once (its
message kept by the broker, or sent again from its row by the reaper when the kill lost it), a
run launched during the outage is not lost silently (it ends ``error``, "could not be queued",
as ``runs.services.send_run`` decides), the worker reconnects and takes the next runs, each run
ends once with one notification, and no run message is left waiting on the broker."""

import pytest

from runs.models import Run
from runs.services import launch_run
from schedules.models import Notification, NotificationHook
from tests.dist.conftest import (
    DIST_ENV,
    assert_full_event_sequence,
    make_scenario,
    point_app_at,
    wait_for,
)
from tests.dist.test_notify_webhook import Hook

pytestmark = [pytest.mark.rig, pytest.mark.redis, pytest.mark.amqp]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo before-restart}
  - {type: wait, duration: 8s}
  - {type: exec_command, command: echo after-restart}
"""
QUICK = """\
  - type: guest_ping
  - {type: exec_command, command: echo quick}
"""
ALLOW_HOOK = {"ATP_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32"}


@pytest.fixture
def hook_server():
    server = Hook()
    yield server
    server.close()


def _state(run) -> str:
    return Run.objects.get(pk=run.pk).state


@pytest.mark.parametrize("outage", ["clean stop", "kill -9"])
def test_rabbitmq_restart_mid_run(
    outage, own_rabbitmq, dist_processes, two_hosts, hook_server, settings
):
    # own_rabbitmq first: the processes are stopped before their node at the end
    from atp_site.celery import app

    before = app.conf.broker_url  # (read before the settings change: conf reads through)
    env = {"CELERY_BROKER_URL": own_rabbitmq.url, "ATP_QUEUED_LOST_AFTER": "8", **ALLOW_HOOK}
    settings.CELERY_BROKER_URL = own_rabbitmq.url
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ALLOW_HOOK["ATP_WEBHOOK_ALLOW_NETWORKS"].split(",")
    point_app_at(own_rabbitmq.url)  # launch_run sends to the node of this test
    try:
        _restart_mid_run(outage, dist_processes, two_hosts, own_rabbitmq, hook_server, env)
    finally:
        point_app_at(before)


def _restart_mid_run(outage, dist_processes, two_hosts, node, hook_server, env):
    NotificationHook.objects.create(name="restart", url=hook_server.url)
    dist_processes.worker("hd-central", DIST_ENV["ATP_DEFAULT_QUEUE"], env=env)
    dist_processes.beat(env=env)
    worker = dist_processes.worker("hd-wr", "host.hd-a", env=env)
    rev = make_scenario("rabbitmq-restart", STEPS)
    quick = make_scenario("rabbitmq-restart-quick", QUICK)
    vm_a = two_hosts["hd-a"].vms.first().name
    vm_b = two_hosts["hd-b"].vms.first().name

    run = launch_run(rev, [{"vm": vm_a, "host": "hd-a"}], {}, None)
    wait_for(
        lambda: Run.objects.get(pk=run.pk).steps.filter(type="wait", status="running").exists(),
        180,
        "the run to be in its wait step",
    )
    # sent before the outage to hd-b, whose worker starts after it: in the queue meanwhile
    waiting = launch_run(quick, [{"vm": vm_b, "host": "hd-b"}], {}, None)
    wait_for(lambda: node.queues().get("host.hd-b", (0, 0))[0] == 1, 30, "hd-b's message")

    if outage == "clean stop":
        node.stop()
    else:
        node.kill9()
    during = launch_run(quick, [{"vm": vm_a, "host": "hd-a"}], {}, None)
    node.start()

    # the run launched while the broker was away ended at once, with the reason
    during.refresh_from_db()
    assert (during.state, during.result) == ("finished", "error"), during.reason
    assert during.reason.startswith("could not be queued: "), during.reason

    # the running run went on without its broker and finished
    wait_for(lambda: _state(run) == "finished", 120, "the run to finish")
    run.refresh_from_db()
    assert run.result == "passed", run.reason
    types = [t for _, t in assert_full_event_sequence(run.pk)]
    assert types.count("step_finished") == 4 and "resent" not in types

    # the run queued before the outage runs once, on hd-b's worker started now
    dist_processes.worker("hd-wb", "host.hd-b", env=env)
    wait_for(lambda: _state(waiting) == "finished", 120, "the run queued before the outage")
    waiting.refresh_from_db()
    assert waiting.result == "passed", waiting.reason
    assert waiting.worker.startswith("hd-wb@")
    assert_full_event_sequence(waiting.pk)

    # the worker reconnected to the restarted node and takes the next run
    assert worker.alive()
    assert "Unrecoverable error" not in worker.text()
    # (more runs than its prefetch of 2, the stale copy counted: it keeps consuming)
    after = []
    for _ in range(2):
        again = launch_run(quick, [{"vm": vm_a, "host": "hd-a"}], {}, None)
        wait_for(lambda: _state(again) == "finished", 120, "a run after the restart")  # noqa: B023
        again.refresh_from_db()
        assert again.result == "passed" and again.worker == run.worker
        assert_full_event_sequence(again.pk)
        after.append(again)

    # one notification per run, each delivered once
    ended = [run, waiting, during, *after]
    wait_for(
        lambda: Notification.objects.filter(run__in=ended, ok=True).count() == len(ended),
        60,
        "the notifications of the five runs",
    )
    for one in ended:
        assert Notification.objects.filter(run=one).count() == 1, one.pk
        posts = [r for r in hook_server.received if r["body"]["run_id"] == one.pk]
        assert len(posts) == 1, (one.pk, posts)

    # no run message is left waiting on the node (a copy of the run's message that the
    # restarted node handed out again was dropped as stale). Not asserted: the messages the
    # worker holds. In 1 of 4 runs (clean stop) two messages delivered after the restart and
    # acknowledged by the worker ("succeeded") stayed unacknowledged on the node while it kept
    # taking runs; they go back to the queue when its connection closes and are then dropped
    # as stale (Celery 5.7 / py-amqp, thread pool; not diagnosed further).
    left: dict = {}

    def drained() -> bool:
        queues = node.queues()
        assert {"host.hd-a", "host.hd-b"} <= set(queues), queues
        left.clear()
        left.update({q: n for q, n in queues.items() if q.startswith("host.") and n[0]})
        return not left

    try:
        wait_for(drained, 60, "the host queues to drain")
    except pytest.fail.Exception:
        pytest.fail(f"(ready, unacknowledged) messages left on the node: {left}")
