"""Reports: JSON has every step with totals; JUnit XML has a testsuite per target and a
testcase per step with failure/error/skipped elements, and survives control characters."""

import json
import xml.etree.ElementTree as ET

from atp_core.protocol.qga import ExecResult
from tests.unit.fake_vm import FakeRig, run_yaml

SCENARIO = """
name: junit
defaults: {continue_on_error: true}
steps:
  - type: exec_command
    command: echo ok
  - type: verify_command
    command: nope
  - type: exec_command
    command: nope
  - type: exec_command
    command: ctrl
    continue_on_error: false
  - type: wait
    duration: 0
"""


def test_json_and_junit():
    rig = FakeRig()
    for name in ("a", "b"):
        rig.vm(name).commands["ctrl"] = ExecResult(1, "bell\x07 and nul\x00\n", "", 0.0)
    report, _, _ = run_yaml(SCENARIO, vms=("a", "b"), rig=rig)
    data = json.loads(report.to_json())
    assert data["result"] == "failed"  # the first problem decides: a check
    assert data["totals"] == {"passed": 2, "failed": 2, "error": 4, "skipped": 2, "cancelled": 0}
    assert [s["status"] for s in data["targets"][0]["steps"]] == [
        "passed",
        "failed",
        "error",
        "error",
        "skipped",
    ]
    root = ET.fromstring(report.to_junit_xml())
    assert root.tag == "testsuites" and root.get("tests") == "10"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["junit [local/a]", "junit [local/b]"]
    cases = suites[0].findall("testcase")
    assert len(cases) == 5
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    assert (
        cases[1].find("failure").get("message")
        == "exit code 127, expected 0 (stderr: sh: nope: not found)"
    )
    assert cases[2].find("error") is not None
    assert "bell" in cases[3].find("system-out").text
    assert cases[4].find("skipped") is not None
    assert suites[0].get("failures") == "1" and suites[0].get("errors") == "2"
