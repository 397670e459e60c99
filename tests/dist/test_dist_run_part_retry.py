"""Real workers (``host.hd-a``, ``host.hd-b``, a central one running the reaper by beat, real
Redis, the rig's guests): a run on two hosts launched with a retry whose hd-b worker is killed
with -9 mid-run starts that part again as its next attempt on hd-b's new worker, in the same
run, and the run passes; a part whose host queue no worker consumes ends its targets ``error``
after ATP_PART_WORKER_DEADLINE ("no worker consumed host.hd-b within N s") while the other
part passes."""

import time

import pytest

from runs.models import Run, RunEvent
from runs.services import launch_run
from tests.dist.conftest import (
    DIST_ENV,
    assert_full_event_sequence,
    events_of,
    make_scenario,
    wait_for,
)
from tests.dist.test_dist_run_parts import STEPS, WAIT_STEPS, _finished, _parts, _targets

pytestmark = [pytest.mark.rig, pytest.mark.redis]


def test_a_killed_parts_next_attempt_runs_on_its_hosts_new_worker(dist_processes, two_hosts):
    dist_processes.worker("pr-central", DIST_ENV["ATP_DEFAULT_QUEUE"])
    dist_processes.beat()
    dist_processes.worker("pr-wa", "host.hd-a")
    wb = dist_processes.worker("pr-wb", "host.hd-b")
    rev = make_scenario("part-retry", WAIT_STEPS.replace("WAIT", "12s"))
    run = launch_run(rev, _targets(two_hosts), {}, None, retries=1)
    assert run.max_attempts == 2
    waiting = run.steps.filter(type="wait", status="running")
    wait_for(lambda: waiting.count() == 2, 150, "both targets' wait steps")
    wait_for(
        lambda: all(p.heartbeat for p in _parts(run).values()), 60, "both parts' heartbeats"
    )
    before = events_of(run.pk)
    wb.kill9()
    wb2 = dist_processes.worker("pr-wb2", "host.hd-b")

    run = _finished(run.pk, 300)
    assert run.result == "passed", (run.result, run.reason)
    assert run.rerun_of is None and not Run.objects.filter(rerun_of=run).exists()  # same run
    parts = _parts(run)
    assert (parts["hd-a"].attempt, parts["hd-a"].result) == (1, "passed")
    assert (parts["hd-b"].attempt, parts["hd-b"].result) == (2, "passed")
    assert parts["hd-b"].worker.startswith("pr-wb2@"), parts["hd-b"].worker
    for target in run.run_targets.all():
        assert target.result == "passed", (target.name, target.result)
        statuses = set(target.steps.values_list("status", flat=True))
        assert statuses == {"passed"}, (target.name, statuses)

    after = events_of(run.pk)
    assert after[: len(before)] == before, "stored events were lost"
    lost = RunEvent.objects.get(run=run, type="worker_lost").payload
    assert lost["host"] == "hd-b" and lost["worker"].startswith("pr-wb@"), lost
    assert (lost["attempt"], lost["max_attempts"]) == (1, 2), lost
    requeued = RunEvent.objects.get(run=run, type="part_requeued").payload
    assert (requeued["host"], requeued["attempt"]) == ("hd-b", 2), requeued
    started = [
        e.payload for e in RunEvent.objects.filter(run=run, type="worker_started").order_by("seq")
    ]
    assert [(s["host"], s["part_attempt"]) for s in started][-1] == ("hd-b", 2), started
    assert started[-1]["worker"].startswith("pr-wb2@"), started
    types = [t for _, t in assert_full_event_sequence(run.pk)]
    assert types.index("worker_lost") < types.index("part_requeued") < len(types) - 1, types
    assert "runs.execute_part" in wb2.text()


def test_a_part_no_worker_consumes_ends_error_and_the_other_passes(dist_processes, two_hosts):
    deadline = "20"
    env = {"ATP_PART_WORKER_DEADLINE": deadline}
    dist_processes.worker("pr-central", DIST_ENV["ATP_DEFAULT_QUEUE"], env=env)
    dist_processes.beat(env=env)
    dist_processes.worker("pr-wa", "host.hd-a", env=env)  # nobody reads host.hd-b
    run = launch_run(make_scenario("part-no-worker", STEPS), _targets(two_hosts), {}, None)
    run = _finished(run.pk, 240)
    assert run.result == "error", (run.result, run.reason)
    parts = _parts(run)
    assert (parts["hd-a"].result, parts["hd-b"].result) == ("passed", "error")
    reason = parts["hd-b"].reason
    assert reason.startswith(f"no worker consumed host.hd-b within {deadline} s ("), reason
    assert run.reason == f"hd-b: {reason}", run.reason
    assert parts["hd-b"].worker == "" and parts["hd-b"].started is None
    results = {t.host.name: t.result for t in run.run_targets.select_related("host")}
    assert results == {"hd-a": "passed", "hd-b": "error"}
    event = RunEvent.objects.get(run=run, type="no_worker").payload
    assert event["queue"] == "host.hd-b", event
    assert_full_event_sequence(run.pk)
