"""A VM destroyed while a run uses it (the run level of test_protocol_domain_destroyed): the step
that was waiting on the guest ends ``error`` naming the VM (infrastructure, not a product
failure) without waiting for its own timeout, the rest is skipped, teardown still runs (its
steps that need the VM end ``error`` too, one that does not passes), and the run ends
``error``."""

from __future__ import annotations

import threading
import time

import pytest

from atp_core.orchestrator import Target, load_scenario, run_scenario

pytestmark = pytest.mark.rig

SCENARIO = """
name: vm-destroyed
steps:
  - type: guest_ping
  - type: exec_command
    command: sleep 61
    timeout: 5m
  - type: guest_ping
finally:
  - type: wait
    duration: 10ms
  - type: guest_ping
    timeout: 10s
"""


@pytest.fixture
def destroyed_later(rig_vm):
    """The borrowed guest, booted again through the pool whatever the test did to it."""
    yield rig_vm
    rig_vm.ensure_running()
    assert rig_vm.agent_answers()


def _destroy_once_sleep_runs(vm, done: threading.Event) -> None:
    """Destroy the domain as soon as the guest runs the step's ``sleep 61``."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        code, out, _ = vm.shell(
            "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null; echo; done"
        )
        if code == 0 and any(line.startswith("sleep 61") for line in out.splitlines()):
            vm.domain.destroy()
            done.set()
            return
        time.sleep(0.2)


def test_a_vm_destroyed_mid_step_errors_the_run_and_teardown_runs(destroyed_later, tmp_path):
    vm = destroyed_later
    destroyed = threading.Event()
    events = []

    def sink(event):
        events.append(event)
        if event.type == "step_started" and event.step_id == "2":
            threading.Thread(target=_destroy_once_sleep_runs, args=(vm, destroyed)).start()

    finished = {}
    runner = threading.Thread(
        target=lambda: finished.update(
            report=run_scenario(
                load_scenario(SCENARIO),
                [Target(f"local/{vm.name}", vm.uri, vm.name)],
                sink=sink,
                artifact_dir=tmp_path,
            )
        ),
        daemon=True,
    )
    runner.start()
    runner.join(180)  # the sleep step's own timeout is 5 min: it must not be waited for
    assert not runner.is_alive(), [(e.type, e.step_id) for e in events]
    assert destroyed.is_set(), "the domain was destroyed while the step ran"
    report = finished["report"]
    steps = {s.id: s for s in report.targets[0].steps}
    assert [(s.id, s.status) for s in report.targets[0].steps] == [
        ("1", "passed"),
        ("2", "error"),
        ("3", "skipped"),
        ("F1", "passed"),
        ("F2", "error"),
    ]
    assert vm.name in steps["2"].error, steps["2"].error
    assert vm.name in steps["F2"].error, steps["F2"].error
    assert report.result == "error" and report.targets[0].result == "error"
    assert events[-1].type == "run_finished" and events[-1].data["result"] == "error"
