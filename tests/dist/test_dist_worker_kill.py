"""`kill -9` of a worker mid-run: the reaper (run by beat) ends the run `error` with the reason
within the heartbeat window, the stored events remain, and the retry runs to completion on
another worker; on Redis and on RabbitMQ (the reaper decides from the database alone)."""

import re
import time

import pytest

from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import (
    BROKERS,
    DIST_ENV,
    assert_full_event_sequence,
    events_of,
    make_scenario,
    wait_for,
)

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo before-the-kill}
  - {type: wait, duration: 12s}
  - {type: exec_command, command: echo after-the-wait}
"""


@pytest.mark.parametrize("broker", BROKERS, indirect=True)
def test_killed_worker_run_errors_then_retry_completes_elsewhere(
    broker, dist_processes, two_hosts
):
    dist_processes.worker("hd-central", DIST_ENV["ATP_DEFAULT_QUEUE"], concurrency=2)
    dist_processes.beat()
    w1 = dist_processes.worker("hd-w1", "host.hd-a")
    rev = make_scenario("kill-probe", STEPS)
    vm = two_hosts["hd-a"].vms.first().name
    run = launch_run(rev, [{"vm": vm, "host": "hd-a"}], {}, None, retries=1)
    assert run.max_attempts == 2

    def mid_run():
        r = Run.objects.get(pk=run.pk)
        types = [t for _, t in events_of(run.pk)]
        return r.state == "running" and "step_finished" in types and r.heartbeat

    wait_for(mid_run, 120, "the run to be running with a finished step")
    wait_for(
        lambda: run.steps.filter(type="wait", status="running").exists(),
        60,
        "the 12 s wait step (the kill lands inside it)",
    )
    before = events_of(run.pk)
    w1.kill9()
    w2 = dist_processes.worker("hd-w2", "host.hd-a")

    window = float(DIST_ENV["ATP_HEARTBEAT_WINDOW"]) + float(DIST_ENV["ATP_REAPER_INTERVAL"])
    # a condition with a generous deadline (how fast the reaper notices is bench material)
    wait_for(
        lambda: Run.objects.get(pk=run.pk).state == "finished",
        window + 60,
        "the reaper to end the killed run",
    )
    run.refresh_from_db()
    assert run.result == "error"
    assert re.fullmatch(
        r"worker hd-w1@\S+ stopped sending heartbeats at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
        run.reason,
    ), run.reason
    after = events_of(run.pk)
    assert after[: len(before)] == before, "stored events were lost"
    tail = [t for _, t in after[len(before) :]]
    assert tail[:1] == ["worker_lost"] and "run_finished" in tail and "requeued" in tail
    assert_full_event_sequence(run.pk)

    retry = wait_for(lambda: Run.objects.filter(rerun_of=run).first(), 30, "the retry run")
    assert (retry.attempt, retry.max_attempts) == (2, 2)
    wait_for(lambda: Run.objects.get(pk=retry.pk).state == "finished", 180, "the retry to finish")
    retry.refresh_from_db()
    assert retry.result == "passed", retry.reason
    assert retry.worker.startswith("hd-w2@")
    assert_full_event_sequence(retry.pk)
    assert "runs.execute_run" in w2.text()
