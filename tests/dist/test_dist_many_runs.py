"""20 runs over 4 inventory VMs (two hosts) with 2 workers: all finish, each with its full event
sequence (1..n, no gap, no duplicate), and no host ever runs more runs at once than its slots,
although both workers serve both hosts."""

import pytest

from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import assert_full_event_sequence, make_scenario, wait_for

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo many-runs}
  - {type: wait, duration: 1s}
"""


def max_overlap(intervals):
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    current = peak = 0
    for _, delta in points:  # an end sorts before a start at the same instant
        current += delta
        peak = max(peak, current)
    return peak


def test_twenty_runs_two_workers_all_finish_in_order(dist_processes, two_hosts):
    from hosts.models import Host

    Host.objects.filter(name__in=["hd-a", "hd-b"]).update(slots=1)
    for name in ("hd-w1", "hd-w2"):
        dist_processes.worker(name, "host.hd-a,host.hd-b", concurrency=2)
    rev = make_scenario("many-runs", STEPS)
    vms = [(h, vm.name) for h in ("hd-a", "hd-b") for vm in two_hosts[h].vms.order_by("name")]
    assert len(vms) == 4
    ids = []
    for i in range(20):
        host, vm = vms[i % 4]
        ids.append(launch_run(rev, [{"vm": vm, "host": host}], {}, None).pk)

    wait_for(
        lambda: Run.objects.filter(pk__in=ids, state="finished").count() == 20,
        900,
        "20 runs to finish",
        interval=1,
    )
    runs = list(Run.objects.filter(pk__in=ids))
    assert [r.result for r in runs] == ["passed"] * 20, [(r.pk, r.reason) for r in runs]
    for run in runs:
        assert_full_event_sequence(run.pk)
    workers = {r.worker.split("@")[0] for r in runs}
    assert workers == {"hd-w1", "hd-w2"}, workers
    for host in ("hd-a", "hd-b"):
        spans = [(r.started, r.finished) for r in runs if r.queue == f"host.{host}"]
        assert len(spans) == 10
        assert max_overlap(spans) <= 1, f"{host} ran more runs at once than its 1 slot"
