"""Two workers on different host queues each take only their host's runs (real Celery workers,
real Redis broker, the rig's guests under two Host rows)."""

import pytest

from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import assert_full_event_sequence, make_scenario, wait_for

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo queue-probe}
"""


def test_each_worker_takes_only_its_hosts_runs(dist_processes, two_hosts):
    wa = dist_processes.worker("hd-wa", "host.hd-a")
    wb = dist_processes.worker("hd-wb", "host.hd-b")
    rev = make_scenario("queue-probe", STEPS)
    runs = []
    for host in ("hd-a", "hd-b", "hd-a", "hd-b"):
        vm = two_hosts[host].vms.first()
        runs.append(launch_run(rev, [{"vm": vm.name, "host": host}], {}, None))

    def all_finished():
        return Run.objects.filter(pk__in=[r.pk for r in runs], state="finished").count() == 4

    wait_for(all_finished, 240, "4 runs to finish")
    for run in Run.objects.filter(pk__in=[r.pk for r in runs]):
        assert run.result == "passed", (run.pk, run.result, run.reason)
        expected = "hd-wa@" if run.queue == "host.hd-a" else "hd-wb@"
        assert run.worker.startswith(expected), (run.queue, run.worker)
        assert run.task_id
        assert_full_event_sequence(run.pk)
    assert "runs.execute_run" in wa.text() and "runs.execute_run" in wb.text()
