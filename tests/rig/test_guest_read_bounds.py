"""On a real guest: reading /dev/zero (a file without end) stops at the size cap, at the
deadline or at a cancel, and a command's huge output is cut to the cap before it becomes a
variable; the run finishes and the worker stays small."""

from __future__ import annotations

import threading

import pytest

from atp_core.cancel import CancelToken
from atp_core.errors import Cancelled, InvalidInput, OperationTimeout
from atp_core.orchestrator import Target, load_scenario, run_scenario

pytestmark = pytest.mark.rig
MIB = 1024 * 1024


def test_dev_zero_stops_at_the_cap(vm_session):
    with pytest.raises(InvalidInput, match=r"larger than 65536 bytes \(the step's max_bytes\)"):
        vm_session.agent.file_read("/dev/zero", max_bytes=64 * 1024)


def test_dev_zero_stops_at_the_deadline(vm_session):
    with pytest.raises(OperationTimeout, match="not read within 1 s"):
        vm_session.agent.file_read("/dev/zero", max_bytes=64 * MIB, timeout=1.0)


def test_dev_zero_stops_at_a_cancel(vm_session):
    token = CancelToken()
    threading.Timer(0.5, token.cancel).start()
    with pytest.raises(Cancelled):
        vm_session.agent.file_read("/dev/zero", max_bytes=64 * MIB, cancel=token)


def test_a_scenario_reading_dev_zero_ends_with_a_clear_error(rig_vm, tmp_path):
    text = """
name: read-bounds
steps:
  - type: file_read
    path: /dev/zero
    continue_on_error: true
  - type: file_read
    path: /dev/zero
    max_bytes: 4096
    continue_on_error: true
  - type: exec_command
    command: head -c 3000000 /dev/zero | tr '\\0' a
    capture: big
  - type: file_write
    path: /tmp/atp-read-bounds
    content: "${big.stdout}"
  - type: exec_command
    command: wc -c < /tmp/atp-read-bounds; rm -f /tmp/atp-read-bounds
"""
    report = run_scenario(
        load_scenario(text),
        [Target(f"local/{rig_vm.name}", rig_vm.uri, rig_vm.name)],
        sink=lambda event: None,
        artifact_dir=tmp_path,
    )
    steps = report.targets[0].steps
    assert [s.status for s in steps] == ["error", "error", "passed", "passed", "passed"]
    assert f"larger than {MIB} bytes" in steps[0].error
    assert "larger than 4096 bytes" in steps[1].error
    # 3,000,000 bytes came back; the variable kept 1 MiB and a note of the cut
    note = f"\n[... {3_000_000 - MIB} bytes cut]"
    assert int(steps[4].output.strip()) == MIB + len(note)
