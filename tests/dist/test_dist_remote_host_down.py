"""A run on two remote hosts whose second host goes down mid-run (its link pulled and left
down): that host's target ends with an error naming it, the other target passes, the run ends
``error`` (infrastructure, not a product failure) instead of hanging. Each host's target runs
on that host's worker (a part of the run per host)."""

import pytest

from hosts.models import VirtualMachine
from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import assert_full_event_sequence, make_scenario, wait_for

# remote transports, not the database: once (SQLite pass), not again on PostgreSQL
pytestmark = [pytest.mark.rig, pytest.mark.redis, pytest.mark.long_once]

STEPS = """\
  - type: guest_ping
  - {type: wait, duration: 4s}
  - {type: guest_ping, timeout: 20s}
  - {type: exec_command, command: echo after, timeout: 20s}
"""


def test_a_host_down_ends_its_target_with_error_and_the_other_finishes(
    dist_processes, remote_hosts, remote_host_records, remote_vms
):
    up, down = remote_host_records["atp-rh1-tcp"], remote_host_records["atp-rh2-tcp"]
    VirtualMachine.objects.create(host=up, name=remote_vms[0].name, state="running")
    VirtualMachine.objects.create(host=down, name=remote_vms[1].name, state="running")
    dist_processes.worker("rh-two", f"host.{up.name}")
    dist_processes.worker("rh-down", f"host.{down.name}")
    rev = make_scenario("remote-host-down", STEPS, timeout="4m")
    targets = [
        {"vm": remote_vms[0].name, "host": up.name},
        {"vm": remote_vms[1].name, "host": down.name},
    ]
    run = launch_run(rev, targets, {}, None)
    # the down host's target reached its wait (the other one may be anywhere by now)
    second_waits = run.steps.filter(type="wait", status="running", target__host=down)
    wait_for(second_waits.exists, 120, "the second host's wait step")
    with remote_hosts[1].link_cut():
        wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 200, "the run to end")
    run.refresh_from_db()
    assert run.result == "error" and run.reason, (run.result, run.reason)
    by_host = {t.host.name: t for t in run.run_targets.select_related("host")}
    assert by_host[up.name].result == "passed"
    assert by_host[down.name].result in ("error", "timed_out"), by_host[down.name].result
    failed = run.steps.filter(target=by_host[down.name]).exclude(status="passed")
    assert failed.exists() and all(s.error for s in failed if s.status == "error")
    parts = {p.host_name: p.worker for p in run.parts.all()}
    assert parts[up.name].startswith("rh-two@") and parts[down.name].startswith("rh-down@"), parts
    assert_full_event_sequence(run.pk)
