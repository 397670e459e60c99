"""On a real guest: a failing check stops the target, later steps are skipped and finally runs;
a guest agent that does not answer makes the step error (not failed); cancel mid-wait ends the
run within a second."""

from __future__ import annotations

import threading
import time

import pytest

from atp_core.cancel import CancelToken
from atp_core.orchestrator import Target, load_scenario, run_scenario
from tests.waiting import wait_for

pytestmark = pytest.mark.rig


def run(text: str, vm, tmp_path, **kwargs):
    events = []
    report = run_scenario(
        load_scenario(text),
        [Target(f"local/{vm.name}", vm.uri, vm.name)],
        sink=events.append,
        artifact_dir=tmp_path,
        **kwargs,
    )
    return report, events


def test_failing_check_stops_skips_and_runs_finally(rig_vm, tmp_path):
    rig_vm.shell("rm -f /tmp/atp-sem-*")
    report, events = run(
        """
name: failure-semantics
steps:
  - type: exec_command
    command: echo first > /tmp/atp-sem-first
  - type: verify_command
    command: test -e /tmp/atp-sem-does-not-exist
  - type: exec_command
    command: echo never > /tmp/atp-sem-never
  - type: screenshot
finally:
  - type: exec_command
    command: echo teardown > /tmp/atp-sem-finally
""",
        rig_vm,
        tmp_path,
    )
    target = report.targets[0]
    assert [(s.id, s.status) for s in target.steps] == [
        ("1", "passed"),
        ("2", "failed"),
        ("3", "skipped"),
        ("4", "skipped"),
        ("F1", "passed"),
    ]
    assert report.result == "failed" and "exit code 1" in target.steps[1].error
    code, out, _ = rig_vm.shell("ls /tmp/atp-sem-* | sort")
    assert out.split() == ["/tmp/atp-sem-finally", "/tmp/atp-sem-first"]
    ends = [e.step_id for e in events if e.type == "step_finished"]
    assert ends == ["1", "2", "3", "4", "F1"]


def test_agent_not_answering_is_error(rig_vm, tmp_path):
    # freeze the guest agent for 25 s (a background job thaws it), then ask it something
    rig_vm.shell(
        "(sleep 25; kill -CONT $(pidof qemu-ga)) >/dev/null 2>&1 & "
        "(sleep 0.3; kill -STOP $(pidof qemu-ga)) >/dev/null 2>&1 &"
    )
    wait_for(lambda: not rig_vm.agent_answers(), 30, "the guest agent to freeze")
    report, _ = run(
        """
name: agent-gone
defaults: {continue_on_error: true}
steps:
  - type: guest_ping
    timeout: 3s
  - type: verify_command
    command: "true"
    timeout: 3s
""",
        rig_vm,
        tmp_path,
    )
    statuses = [s.status for s in report.targets[0].steps]
    assert statuses == ["error", "error"], [(s.status, s.error) for s in report.targets[0].steps]
    assert report.result == "error"
    # the steps did not wait for the agent to thaw (25 s): they would have passed; how far
    # past its timeout a hung agent holds a step is bench material
    rig_vm.wait_agent(60)


def test_cancel_mid_wait_ends_the_wait(rig_vm, tmp_path):
    """A cancel ends a 10 min wait; the deadline only tells a cut wait from a whole one (how
    soon the cancel lands is bench material)."""
    token = CancelToken()
    threading.Timer(1.0, token.cancel).start()
    started = time.monotonic()
    report, _ = run(
        """
name: cancel
steps:
  - type: guest_ping
  - type: wait
    duration: 10m
  - type: guest_ping
finally:
  - type: guest_ping
""",
        rig_vm,
        tmp_path,
        cancel=token,
    )
    assert time.monotonic() - started < 120, "the 10 min wait was not cut by the cancel"
    assert [s.status for s in report.targets[0].steps] == [
        "passed",
        "cancelled",
        "skipped",
        "passed",
    ]
    assert report.result == "cancelled"
