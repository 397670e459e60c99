"""A run whose task message is lost before any worker took it (its queue emptied, as a broker
restarted without persistence leaves it) is sent again from its row by the reaper, decided from
the database alone, and runs to the end: on Redis and on RabbitMQ."""

import pytest

from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import (
    BROKERS,
    DIST_ENV,
    assert_full_event_sequence,
    make_scenario,
    wait_for,
)

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo sent-again}
"""
LOST_AFTER = {"ATP_QUEUED_LOST_AFTER": "4"}


@pytest.mark.parametrize("broker", BROKERS, indirect=True)
def test_lost_message_is_sent_again_from_the_row_and_the_run_passes(
    broker, dist_processes, two_hosts
):
    dist_processes.worker("hd-central", DIST_ENV["ATP_DEFAULT_QUEUE"], env=LOST_AFTER)
    rev = make_scenario("lost-message", STEPS)
    vm = two_hosts["hd-a"].vms.first().name
    run = launch_run(rev, [{"vm": vm, "host": "hd-a"}], {}, None)
    first_task = Run.objects.get(pk=run.pk).task_id
    assert first_task
    wait_for(lambda: broker.waiting("host.hd-a") == 1, 30, "the run's message in host.hd-a")
    assert broker.purge("host.hd-a") == 1  # the message is lost; no worker of hd-a saw it
    assert broker.waiting("host.hd-a") == 0

    dist_processes.beat(env=LOST_AFTER)
    wait_for(
        lambda: Run.objects.get(pk=run.pk).events.filter(type="resent").exists(),
        90,
        "the reaper to send the run again",
    )
    resent = Run.objects.get(pk=run.pk).events.filter(type="resent").first().payload
    assert resent["previous_task_id"] == first_task
    assert "no worker has taken it" in resent["reason"]

    dist_processes.worker("hd-w1", "host.hd-a")
    wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 180, "the run to finish")
    run.refresh_from_db()
    assert run.result == "passed", run.reason
    assert run.worker.startswith("hd-w1@") and run.task_id != first_task
    types = [t for _, t in assert_full_event_sequence(run.pk)]
    assert "resent" in types and types.index("resent") < types.index("worker_started")
