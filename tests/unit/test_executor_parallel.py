"""Parallel: targets run as their own branches, at most max_parallel at once; a parallel step
fans out over items or named VMs (also VMs outside the run's targets, on the same host), each
branch reported separately; events stay numbered in order."""

import threading
import time

from atp_core.protocol.qga import ExecResult
from tests.unit.fake_vm import FakeRig, run_yaml


def test_targets_run_in_parallel_bounded_by_max_parallel():
    rig = FakeRig()
    live = {"now": 0, "peak": 0}
    lock = threading.Lock()

    def slow():
        with lock:
            live["now"] += 1
            live["peak"] = max(live["peak"], live["now"])
        time.sleep(0.2)  # a slow command holds its slot, so the bound can be seen
        with lock:
            live["now"] -= 1
        return ExecResult(0, "", "", 0.2)

    for name in "abcd":
        rig.vm(name).commands["slow"] = slow
    report, events, _ = run_yaml(
        "name: p\nsteps:\n  - type: exec_command\n    command: slow\n",
        vms=tuple("abcd"),
        rig=rig,
        max_parallel=2,
    )
    assert report.result == "passed" and len(report.targets) == 4
    assert live["peak"] == 2
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    per_target = [e.target for e in events if e.type == "target_finished"]
    assert sorted(per_target) == [f"local/{n}" for n in "abcd"]


def test_parallel_for_each_with_targets_outside_the_run():
    rig = FakeRig()
    report, _, rig = run_yaml(
        """
name: fan
variables:
  pool: [{name: pool-1, id: x1}, {name: pool-2, id: x2}, {name: pool-3, id: x3}]
steps:
  - type: parallel
    for_each: ${pool}
    max_concurrency: 3
    steps:
      - type: send_text
        target: ${item.name}
        text: "hi ${item.id}"
      - type: verify_input
        target: ${item.name}
        text: "hi ${item.id}"
        capture: seen
""",
        rig=rig,
    )
    steps = report.targets[0].steps
    assert report.result == "passed", [(s.id, s.status, s.error) for s in steps]
    branches = sorted((s.id, s.branch) for s in steps if s.id == "1.2")
    assert branches == [("1.2", "pool-1"), ("1.2", "pool-2"), ("1.2", "pool-3")]
    for n in (1, 2, 3):
        assert rig.vm(f"pool-{n}").typed == f"hi x{n}"
    assert ("test:///fake", "pool-2") in rig.opened  # connected on the target's host


def test_parallel_branch_failure_marks_the_step_and_stops_after():
    rig = FakeRig()
    report, _, _ = run_yaml(
        """
name: fan
steps:
  - type: parallel
    for_each: [ok, nope, ok]
    steps:
      - type: verify_command
        command: echo ${item}
      - type: verify_command
        command: ${item}
  - type: exec_command
    command: echo after
""",
        rig=rig,
    )
    steps = report.targets[0].steps
    assert steps[0].status == "failed"
    assert sorted(s.status for s in steps if s.id == "1.2") == ["failed", "failed", "failed"]
    assert steps[-1].id == "2" and steps[-1].status == "skipped"


def test_parallel_over_named_targets():
    report, _, rig = run_yaml(
        """
name: t
steps:
  - type: parallel
    targets: [local/b, c]
    steps:
      - type: exec_command
        command: echo on ${branch.name}
""",
        vms=("a", "b"),
    )
    assert report.result == "passed"
    assert ("exec", "echo on local/b") in rig.vm("b").calls
    assert ("exec", "echo on c") in rig.vm("c").calls
