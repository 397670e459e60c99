"""A cancel the engine cannot honour in time is escalated for real: the reaper (run by beat on
the central worker) revokes the run's task with ``terminate=True`` after ATP_CANCEL_GRACE
(5 s here); the prefork worker's child that ran it is killed, the run ends ``cancelled`` with
the reason, the stored events remain, and the worker takes the next run in a new child.

How the engine stays busy, with real parts only: the guest agent inside the rig guest is
frozen (``kill -STOP $(pidof qemu-ga)``, a background job in the guest thaws it after
THAW_AFTER s). The engine notices a cancel only between agent calls, and each call to a hung
agent blocks in libvirt for up to 10 s; after the cancel, teardown (``finally``) still runs,
and here it pings the same hung agent with retries, so the engine stays inside libvirt agent
calls for about a minute after the cancel, far past the grace. This is the situation the
escalation exists for (a guest that stopped answering while a run was being cancelled).
"""

from __future__ import annotations

import os
import re
import time

import pytest

from atp_core.status import Result, RunState
from runs.models import Run
from runs.services import launch_run, request_cancel
from tests.dist.conftest import (
    DIST_ENV,
    assert_full_event_sequence,
    events_of,
    make_scenario,
    wait_for,
)

pytestmark = [pytest.mark.rig, pytest.mark.redis]

THAW_AFTER = 40  # seconds the guest agent stays frozen

# Every agent call of these steps hangs while the agent is frozen; retries keep the engine in
# libvirt agent calls (up to 10 s each) for about a minute, in the steps and in teardown.
HUNG = """\
  - type: guest_ping
    timeout: 30s
    retries: 6
    retry_delay: 0s
"""
STEPS = HUNG + "finally:\n" + HUNG

NEXT_STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo after-the-escalation}
"""


def children(pid: int) -> set[int]:
    """Pids of the live child processes of ``pid`` (read from /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, split after its closing paren
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def test_ignored_cancel_terminates_the_prefork_child(dist_processes, two_hosts, vm_pool):
    dist_processes.worker("hc-central", DIST_ENV["ATP_DEFAULT_QUEUE"], concurrency=2)
    dist_processes.beat()
    worker = dist_processes.worker("hc-prefork", "host.hd-a", concurrency=1, pool="prefork")
    first_children = wait_for(lambda: children(worker.pid), 30, "the prefork worker's child")
    assert len(first_children) == 1, first_children

    vm_name = two_hosts["hd-a"].vms.first().name
    guest = next(v for v in vm_pool.vms if v.name == vm_name)
    hung_rev = make_scenario("cancel-hung-agent", STEPS)
    try:
        guest.shell(
            f"(sleep {THAW_AFTER}; kill -CONT $(pidof qemu-ga)) >/dev/null 2>&1 & "
            "(sleep 0.3; kill -STOP $(pidof qemu-ga)) >/dev/null 2>&1 &"
        )
        wait_for(lambda: not guest.agent_answers(), 30, "the guest agent to freeze")
        run = launch_run(hung_rev, [{"vm": vm_name, "host": "hd-a"}], {}, None)

        def in_hung_step():
            r = Run.objects.get(pk=run.pk)
            types = [t for _, t in events_of(run.pk)]
            return r.state == RunState.RUNNING and r.task_id and "step_started" in types

        wait_for(in_hung_step, 60, "the run to be inside the hung guest_ping step")
        # nothing outside shows the engine inside its agent call; step_started comes just before
        time.sleep(1.0)
        request_cancel(Run.objects.get(pk=run.pk), None)
        cancelled_at = time.monotonic()

        wait_for(
            lambda: Run.objects.get(pk=run.pk).state == RunState.FINISHED,
            40,
            "the reaper to escalate the ignored cancel",
        )
        ended_after = time.monotonic() - cancelled_at
        run.refresh_from_db()
        assert run.result == Result.CANCELLED, (run.result, run.reason)
        assert re.fullmatch(
            r"cancel requested at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; the run did not stop "
            r"within 5 s, so its task was terminated",
            run.reason,
        ), run.reason
        # not before the grace; the reason above says the task was terminated, not that the
        # engine stopped on its own (how soon after the grace: bench material)
        assert ended_after >= float(DIST_ENV["ATP_CANCEL_GRACE"]), f"ended after {ended_after}"

        # the child that ran the task was terminated by the worker, the worker lives on
        logged = rf"Terminating {run.task_id} \((Signals\.SIGKILL|9)\)"
        terminated = wait_for(
            lambda: re.search(logged, worker.text()),
            20,
            "the worker to log the termination of the run's task",
        )
        assert terminated
        (old_child,) = first_children
        wait_for(lambda: not os.path.exists(f"/proc/{old_child}"), 20, "the old child to exit")
        new_children = wait_for(
            lambda: children(worker.pid) - first_children, 30, "a new prefork child"
        )
        assert len(children(worker.pid)) == 1, children(worker.pid)
        assert worker.alive()

        events = assert_full_event_sequence(run.pk)
        types = [t for _, t in events]
        assert types.index("cancel_requested") < types.index("cancel_escalated")
        assert types.index("cancel_escalated") < types.index("run_finished")
        assert "step_started" in types
        stored = events_of(run.pk)
    finally:
        # the guest thaws itself THAW_AFTER s after the freeze; later tests need its agent
        guest.wait_agent(THAW_AFTER + 90)

    # nothing arrives after run_finished from the killed child (two heartbeat periods of quiet)
    time.sleep(2 * float(DIST_ENV["ATP_HEARTBEAT_INTERVAL"]))
    assert events_of(run.pk) == stored

    next_rev = make_scenario("after-escalation", NEXT_STEPS)
    nxt = launch_run(next_rev, [{"vm": vm_name, "host": "hd-a"}], {}, None)
    wait_for(lambda: Run.objects.get(pk=nxt.pk).state == RunState.FINISHED, 120, "the next run")
    nxt.refresh_from_db()
    assert nxt.result == Result.PASSED, nxt.reason
    assert nxt.worker.startswith("hc-prefork@"), nxt.worker
    assert_full_event_sequence(nxt.pk)
    assert worker.alive()
    assert children(worker.pid) == new_children
