"""${secret.NAME} renders the run's secrets; their values, and the text of steps marked
sensitive, are masked (***) in every event, error and report."""

from __future__ import annotations

import json

import pytest

from tests.unit.fake_vm import run_yaml

PASSWORD = "Hunter2-s3cr3t"


def _everything(report, events) -> str:
    return (
        json.dumps([e.to_dict() for e in events], default=str)
        + report.to_json()
        + (report.to_junit_xml())
    )


def test_secret_values_never_reach_events_or_reports():
    report, events, rig = run_yaml(
        """
name: login
steps:
  - {type: send_text, text: "${secret.vdi_password}\\n"}
  - {type: exec_command, command: "echo ${secret.vdi_password}", capture: out}
  - {type: set, values: {copy: "${secret.vdi_password}", other: visible}}
  - {type: exec_command, command: "echo ${copy}"}
  - type: verify_command
    command: "echo nope"
    expect: {stdout_contains: "${secret.vdi_password}"}
""",
        secrets={"vdi_password": PASSWORD},
    )
    assert rig.vm("a").typed == PASSWORD + "\n"  # the guest got the real text
    steps = report.targets[0].steps
    assert [s.status for s in steps] == ["passed", "passed", "passed", "passed", "failed"]
    text = _everything(report, events)
    assert PASSWORD not in text
    assert json.dumps(PASSWORD)[1:-1] not in text and "Hunter2" not in text
    assert "***" in steps[1].output and "other=visible" in steps[2].output
    assert "copy=***" in steps[2].output
    assert "stdout does not contain '***'" in steps[4].error


def test_unknown_secret_is_a_clear_error_naming_the_known_ones():
    report, _, _ = run_yaml(
        "name: x\nsteps:\n  - {type: exec_command, command: 'echo ${secret.nope}'}\n",
        secrets={"known": "v"},
    )
    step = report.targets[0].steps[0]
    assert step.status == "error"
    assert "no secret named 'nope' (secrets: known)" in step.error


def test_a_sensitive_step_masks_its_own_text():
    report, events, rig = run_yaml(
        """
name: login
steps:
  - {type: send_text, text: "literal-pass\\n", sensitive: true}
  - {type: exec_command, command: "echo literal-pass"}
  - {type: exec_command, command: "echo shown"}
"""
    )
    assert rig.vm("a").typed == "literal-pass\n"
    plan = events[0].data["plan"]
    assert plan[0]["name"] == "send_text (sensitive)"  # the plan does not show its text
    # (the second step has the text in its own source: only what runs after is masked)
    later = [e.to_dict() for e in events if e.type != "run_started"]
    text = json.dumps(later, default=str) + report.to_json()
    assert "literal-pass" not in text and "echo ***" in text
    assert "shown" in report.targets[0].steps[2].output


@pytest.mark.parametrize("allowed, ok", [({"ATP_DEMO_USER": "bob"}, True), ({}, False)])
def test_env_names_come_from_the_allow_list(allowed, ok):
    report, _, _ = run_yaml(
        "name: x\nsteps:\n  - {type: exec_command, command: 'echo ${env.ATP_DEMO_USER}'}\n",
        env_allowed=allowed,
    )
    step = report.targets[0].steps[0]
    if ok:
        assert step.status == "passed" and step.output == "bob"
    else:
        assert "not allowed by the operator (allowed: none)" in step.error
