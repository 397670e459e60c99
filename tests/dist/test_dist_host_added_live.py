"""A host added while everything runs: its Host row is registered, a running worker is told to
take its queue (``celery control add_consumer``, as docs/deployment.md says) and runs a scenario
on it, without any process being restarted. On the rig's remote hosts (rig/remote-hosts.sh)."""

import socket
import subprocess
import sys

import pytest

from hosts.models import VirtualMachine
from hosts.services import add_host
from runs.models import Run
from runs.services import launch_run
from tests.dist.conftest import DIST_ENV, assert_full_event_sequence, make_scenario, wait_for
from tests.fixtures.web import ROOT, _child_env

# remote transports, not the database: once (SQLite pass), not again on PostgreSQL
pytestmark = [pytest.mark.rig, pytest.mark.redis, pytest.mark.long_once]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo added-live}
"""


def test_a_host_added_later_is_served_by_a_running_worker(dist_processes, remote_hosts, remote_vms):
    first = add_host("live-a", remote_hosts[0].tcp_uri, slots=1)
    VirtualMachine.objects.create(host=first, name=remote_vms[0].name, state="running")
    worker = dist_processes.worker("live", f"host.{first.name}")
    rev = make_scenario("added-live", STEPS)
    before = launch_run(rev, [{"vm": remote_vms[0].name, "host": first.name}], {}, None)
    wait_for(lambda: Run.objects.get(pk=before.pk).state == "finished", 180, "the first run")

    # the second host arrives: a row, then the running worker takes its queue
    later = add_host("live-b", remote_hosts[1].ssh_uri, slots=1)
    VirtualMachine.objects.create(host=later, name=remote_vms[1].name, state="running")
    control = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "atp_site", "control", "add_consumer"]
        + [f"host.{later.name}", "-d", f"live@{socket.gethostname()}", "-t", "20"],
        cwd=ROOT,
        env={**_child_env(), **DIST_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert control.returncode == 0, control.stdout + control.stderr
    assert f"host.{later.name}" in control.stdout, control.stdout
    run = launch_run(rev, [{"vm": remote_vms[1].name, "host": later.name}], {}, None)
    wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 180, "the run on live-b")

    for row in Run.objects.filter(pk__in=[before.pk, run.pk]):
        assert row.result == "passed", (row.queue, row.result, row.reason)
        assert row.worker.startswith("live@"), row.worker
        assert_full_event_sequence(row.pk)
    assert worker.alive()  # the same process all along
    assert Run.objects.get(pk=run.pk).queue == "host.live-b"
