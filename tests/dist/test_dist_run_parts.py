"""A run whose targets sit on two hosts runs as two parts, each on its own host's worker (real
Celery workers on the ``host.hd-a`` and ``host.hd-b`` queues, real Redis, the rig's guests):
one ordered event stream, one ``run_finished``, one result, one report; a part waits for a
slot of its own host only; a host that cannot be reached ends its targets ``error`` while the
other finishes; a cancel reaches both parts; a part whose worker died is reaped."""

import time

import pytest

from hosts.models import Host
from runs.models import Run, RunEvent
from runs.services import launch_run, request_cancel
from tests.dist.conftest import (
    DIST_ENV,
    assert_full_event_sequence,
    events_of,
    make_scenario,
    wait_for,
)

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo part-probe}
"""

WAIT_STEPS = """\
  - type: guest_ping
  - {type: wait, duration: WAIT}
  - {type: exec_command, command: echo after-the-wait}
"""


def _targets(two_hosts) -> list[dict]:
    return [{"vm": two_hosts[h].vms.first().name, "host": h} for h in ("hd-a", "hd-b")]


def _finished(run_id: int, timeout: float = 240) -> Run:
    wait_for(lambda: Run.objects.get(pk=run_id).state == "finished", timeout, "the run to end")
    return Run.objects.get(pk=run_id)


def _parts(run: Run) -> dict:
    return {p.host_name: p for p in run.parts.all()}


def _results_by_host(run: Run) -> dict[str, str]:
    return {t.host.name: t.result for t in run.run_targets.select_related("host")}


def test_each_part_runs_on_its_hosts_worker_and_waits_for_its_hosts_slot(dist_processes, two_hosts):
    wa = dist_processes.worker("hp-wa", "host.hd-a")
    wb = dist_processes.worker("hp-wb", "host.hd-b")
    Host.objects.filter(name="hd-b").update(slots=1)
    vm_b = two_hosts["hd-b"].vms.first().name
    blocker = launch_run(
        make_scenario("part-blocker", WAIT_STEPS.replace("WAIT", "8s")),
        [{"vm": vm_b, "host": "hd-b"}],
        {},
        None,
    )
    wait_for(lambda: Run.objects.get(pk=blocker.pk).state == "running", 120, "the blocker to run")
    run = launch_run(make_scenario("part-probe", STEPS), _targets(two_hosts), {}, None)
    assert set(_parts(run)) == {"hd-a", "hd-b"}

    run = _finished(run.pk)
    blocker = _finished(blocker.pk)
    assert run.result == "passed", (run.result, run.reason)
    assert blocker.result == "passed", (blocker.result, blocker.reason)
    parts = _parts(run)
    # each host's targets ran on that host's worker
    assert parts["hd-a"].worker.startswith("hp-wa@"), parts["hd-a"].worker
    assert parts["hd-b"].worker.startswith("hp-wb@"), parts["hd-b"].worker
    for target in run.run_targets.select_related("part", "host"):
        assert target.part.host_name == target.host.name
        assert target.result == "passed", (target.name, target.result)
    assert {p.state for p in parts.values()} == {"finished"}
    assert {p.result for p in parts.values()} == {"passed"}
    # slots per host: hd-b (1 slot) held the part until the blocker ended; hd-a did not wait
    assert parts["hd-b"].started >= blocker.finished, (parts["hd-b"].started, blocker.finished)
    assert parts["hd-a"].started < blocker.finished, (parts["hd-a"].started, blocker.finished)

    types = [t for _, t in assert_full_event_sequence(run.pk)]
    assert types.count("part_finished") == 2 and types[-2] == "part_finished", types
    assert types.count("worker_started") == 2, types
    started_on = {
        e.payload["host"]: e.payload["worker"]
        for e in RunEvent.objects.filter(run=run, type="worker_started")
    }
    assert started_on["hd-a"].startswith("hp-wa@") and started_on["hd-b"].startswith("hp-wb@")
    finished = RunEvent.objects.get(run=run, type="run_finished").payload
    assert finished["result"] == "passed" and finished["totals"], finished
    # one report of the whole run, both targets in it
    reports = list(run.artifacts.filter(kind="report").values_list("name", flat=True))
    assert sorted(reports) == ["junit.xml", "report.json"], reports
    body = run.artifacts.get(name="report.json").file.read().decode()
    assert all(t.name in body for t in run.run_targets.all())
    assert "runs.execute_part" in wa.text() and "runs.execute_part" in wb.text()


def test_an_unreachable_host_ends_its_targets_with_error_and_the_other_passes(
    dist_processes, two_hosts
):
    dist_processes.worker("hp-wa", "host.hd-a")
    dist_processes.worker("hp-wb", "host.hd-b")
    # hd-b's hypervisor is down: nothing listens where its URI points
    Host.objects.filter(name="hd-b").update(uri="qemu+tcp://127.0.0.1:9/system")
    run = launch_run(make_scenario("part-host-down", STEPS), _targets(two_hosts), {}, None)
    run = _finished(run.pk, 300)
    assert run.result == "error" and "hd-b" in run.reason, (run.result, run.reason)
    assert _results_by_host(run) == {"hd-a": "passed", "hd-b": "error"}
    parts = _parts(run)
    assert (parts["hd-a"].result, parts["hd-b"].result) == ("passed", "error")
    assert parts["hd-b"].worker.startswith("hp-wb@")
    assert_full_event_sequence(run.pk)


def test_a_cancel_reaches_both_parts(dist_processes, two_hosts):
    dist_processes.worker("hp-wa", "host.hd-a")
    dist_processes.worker("hp-wb", "host.hd-b")
    rev = make_scenario("part-cancel", WAIT_STEPS.replace("WAIT", "90s"))
    run = launch_run(rev, _targets(two_hosts), {}, None)
    waiting = run.steps.filter(type="wait", status="running")
    wait_for(lambda: waiting.count() == 2, 150, "both targets' wait steps")
    request_cancel(run, None)
    run = _finished(run.pk, 60)
    assert run.result == "cancelled", (run.result, run.reason)
    assert _results_by_host(run) == {"hd-a": "cancelled", "hd-b": "cancelled"}
    assert {p.result for p in _parts(run).values()} == {"cancelled"}
    types = [t for _, t in assert_full_event_sequence(run.pk)]
    assert types.count("part_finished") == 2 and "cancel_escalated" not in types, types


def test_a_part_whose_worker_died_is_reaped_and_the_other_part_finishes(dist_processes, two_hosts):
    dist_processes.worker("hp-central", DIST_ENV["ATP_DEFAULT_QUEUE"])
    dist_processes.beat()
    dist_processes.worker("hp-wa", "host.hd-a")
    wb = dist_processes.worker("hp-wb", "host.hd-b")
    rev = make_scenario("part-lost", WAIT_STEPS.replace("WAIT", "15s"))
    run = launch_run(rev, _targets(two_hosts), {}, None)
    waiting = run.steps.filter(type="wait", status="running")
    wait_for(lambda: waiting.count() == 2, 150, "both targets' wait steps")
    wait_for(
        lambda: all(p.heartbeat for p in _parts(run).values()), 60, "both parts' heartbeats"
    )
    before = events_of(run.pk)
    wb.kill9()
    run = _finished(run.pk, 120)
    assert run.result == "error", (run.result, run.reason)
    assert "hp-wb@" in run.reason and "stopped sending heartbeats" in run.reason, run.reason
    assert _results_by_host(run) == {"hd-a": "passed", "hd-b": "error"}
    parts = _parts(run)
    assert (parts["hd-a"].result, parts["hd-b"].result) == ("passed", "error")
    after = events_of(run.pk)
    assert after[: len(before)] == before, "stored events were lost"
    lost = RunEvent.objects.get(run=run, type="worker_lost").payload
    assert lost["host"] == "hd-b" and lost["worker"].startswith("hp-wb@"), lost
    assert_full_event_sequence(run.pk)
