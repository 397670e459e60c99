"""Runs on the rig's remote libvirt hosts (rig/remote-hosts.sh), each taken by the worker of its
host's queue: one host over qemu+tcp://, the other over qemu+ssh://; a link pulled mid-run for
longer than libvirt's keepalive window and put back: the engine reconnects, the run goes on."""

import time

import pytest

from hosts.models import VirtualMachine
from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import assert_full_event_sequence, make_scenario, wait_for

# remote transports, not the database: once (SQLite pass), not again on PostgreSQL
pytestmark = [pytest.mark.rig, pytest.mark.redis, pytest.mark.long_once]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: "echo remote-$((6 * 7))", expect: {stdout_regex: remote-42}}
  - {type: screenshot, label: remote}
"""

# longer than the engine connection's keepalive window (5 s x 3): libvirt closes it, the next
# step reconnects
CUT_SECONDS = 24
CUT_STEPS = """\
  - type: guest_ping
  - {type: wait, duration: 30s}
  - type: guest_ping
  - {type: exec_command, command: echo back}
"""


def _inventory(records, remote_vms):
    """The remote guests as inventory VMs: rh1's under its tcp host, rh2's under its ssh host."""
    tcp = records["atp-rh1-tcp"]
    ssh = records["atp-rh2-ssh"]
    VirtualMachine.objects.create(host=tcp, name=remote_vms[0].name, state="running")
    VirtualMachine.objects.create(host=ssh, name=remote_vms[1].name, state="running")
    return tcp, ssh


def test_each_remote_host_runs_on_its_own_worker(dist_processes, remote_host_records, remote_vms):
    tcp, ssh = _inventory(remote_host_records, remote_vms)
    dist_processes.worker("rh-tcp", f"host.{tcp.name}")
    dist_processes.worker("rh-ssh", f"host.{ssh.name}")
    rev = make_scenario("remote-probe", STEPS)
    runs = {
        tcp.name: launch_run(rev, [{"vm": remote_vms[0].name, "host": tcp.name}], {}, None),
        ssh.name: launch_run(rev, [{"vm": remote_vms[1].name, "host": ssh.name}], {}, None),
    }
    ids = [r.pk for r in runs.values()]
    wait_for(
        lambda: Run.objects.filter(pk__in=ids, state="finished").count() == 2,
        240,
        "both remote runs to finish",
    )
    for host_name, run in runs.items():
        run.refresh_from_db()
        assert run.result == "passed", (host_name, run.result, run.reason)
        assert run.queue == f"host.{host_name}"
        expected = "rh-tcp@" if host_name.endswith("-tcp") else "rh-ssh@"
        assert run.worker.startswith(expected), (host_name, run.worker)
        shots = run.artifacts.filter(kind="screenshot")
        assert shots.exists(), list(run.artifacts.values_list("name", "kind"))
        assert_full_event_sequence(run.pk)


def test_a_link_pulled_mid_run_and_put_back_the_run_goes_on(
    dist_processes, remote_hosts, remote_host_records, remote_vms
):
    tcp, _ = _inventory(remote_host_records, remote_vms)
    worker = dist_processes.worker("rh-tcp", f"host.{tcp.name}")
    rev = make_scenario("remote-link-cut", CUT_STEPS, timeout="4m")
    run = launch_run(rev, [{"vm": remote_vms[0].name, "host": tcp.name}], {}, None)
    wait_for(lambda: run.steps.filter(type="wait", status="running").exists(), 120, "the wait step")
    host = remote_hosts[0]
    with host.link_cut():  # during the wait: the engine's connection is idle, then dead
        time.sleep(CUT_SECONDS)
    wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 200, "the run to end")
    run.refresh_from_db()
    assert run.result == "passed", (run.result, run.reason)
    assert list(run.steps.order_by("ordinal").values_list("status", flat=True)) == ["passed"] * 4
    assert_full_event_sequence(run.pk)
    assert "reconnected after" in worker.text(), "the engine's connection was never cut"
