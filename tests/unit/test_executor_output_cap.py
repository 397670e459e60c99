"""A command's output is cut to max_output before it is shown or becomes a variable; file_read
refuses files over max_bytes (the rig test reads /dev/zero on a real guest)."""

from __future__ import annotations

from atp_core.protocol.qga import ExecResult
from tests.unit.fake_vm import FakeRig, run_yaml

MIB = 1024 * 1024


def test_command_output_is_cut_before_it_becomes_a_variable():
    rig = FakeRig()
    rig.vm("a").commands["big"] = ExecResult(0, "x" * (3 * MIB), "e" * 100, 0.1)
    report, events, _ = run_yaml(
        """
name: cap
steps:
  - {type: exec_command, command: big, capture: out}
  - {type: exec_command, command: big, capture: small, max_output: 10}
  - {type: set, values: {n: "${out.stdout}"}}
""",
        rig=rig,
    )
    steps = report.targets[0].steps
    assert [s.status for s in steps] == ["passed", "passed", "passed"]
    outputs = [e for e in events if e.type == "step_output" and e.step_id == "1"]
    stdout = "".join(e.data["text"] for e in outputs if e.data["stream"] == "stdout")
    assert stdout == "x" * MIB + f"\n[... {2 * MIB} bytes cut]"
    warnings = [e.data["message"] for e in events if e.type == "step_log"]
    assert f"stdout: {3 * MIB} bytes, kept the first {MIB} (max_output)" in warnings
    assert "stdout: 3145728 bytes, kept the first 10 (max_output)" in warnings
    assert "stderr: 100 bytes, kept the first 10 (max_output)" in warnings


def test_file_read_refuses_a_file_over_max_bytes():
    rig = FakeRig()
    rig.vm("a").files["/big"] = b"z" * (MIB + 1)
    rig.vm("a").files["/small"] = b"z" * 10
    report, _, _ = run_yaml(
        """
name: cap
steps:
  - {type: file_read, path: /big, continue_on_error: true}
  - {type: file_read, path: /big, max_bytes: 2097152, capture: whole}
  - {type: file_read, path: /small, max_bytes: 9, continue_on_error: true}
""",
        rig=rig,
    )
    steps = report.targets[0].steps
    assert [s.status for s in steps] == ["error", "passed", "error"]
    assert f"larger than {MIB} bytes" in steps[0].error
    assert "larger than 9 bytes" in steps[2].error
