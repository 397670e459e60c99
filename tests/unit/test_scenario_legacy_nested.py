"""The earlier executor's dialect (nested ``action: {type: ...}``) loads and means version 1."""

from __future__ import annotations

import pytest

from atp_core.orchestrator import ScenarioValidationError, load_scenario
from atp_core.orchestrator.legacy import NESTED, detect
from atp_core.orchestrator.loader import load_data

KEYBOARD = """\
name: "01 basic keyboard"
description: "type and press"
target_host: "qemu:///system"
target_domain: "test-vm"
tags: [keyboard]
steps:
  - name: "press enter"
    action:
      type: send_key
      key: ret
    verify: false
    timeout: 10
  - name: "wait 1s"
    action:
      type: wait
      duration: 1
  - action:
      type: send_text
      text: "Hello World"
  - action: {type: send_key, key: ctrl-d}
  - action: {type: exec_command, command: "echo ok && exit 0"}
    timeout: 45
  - action: {type: mouse_click, x: 100, y: 200, button: right}
  - action: {type: custom, data: {anything: 1}}
"""

EQUIVALENT_V1 = """\
version: 1
name: "01 basic keyboard"
description: "type and press"
tags: [keyboard]
targets:
  - vm: test-vm
steps:
  - {type: send_key, name: "press enter", key: ret, timeout: 10s}
  - {type: wait, name: "wait 1s", duration: 1s}
  - {type: send_text, text: "Hello World"}
  - {type: send_key, key: ctrl-d}
  - {type: exec_command, command: "echo ok && exit 0", timeout: 45s}
  - {type: mouse_click, x: 100, y: 200, button: right}
  - {type: wait, name: "custom action (no-op)", duration: 0}
"""

VDI = """\
name: "vdi-lifecycle"
tags: [vdi]
steps:
  - name: "create pool"
    action: {type: vdi_create_desk_pool, name: "pool-1", template_id: "tmpl-001", count: 2}
  - action: {type: vdi_enable_desk_pool, pool_id: "pool-001"}
  - action: {type: vdi_start_domain, domain_id: "vm-001"}
  - action: {type: vdi_bind_user, domain_id: "vm-001", user_id: "u-1"}
  - action: {type: vdi_get_desk_pool_domains, pool_id: "pool-001"}
  - action:
      {type: verify_domain_status, domain_id: "vm-001", expected_status: running, timeout_secs: 60}
    timeout: 90
  - action: {type: verify_all_domains_running, pool_id: "pool-001", timeout_secs: 120}
  - action: {type: verify_command_success}
"""


def test_detected_as_nested():
    assert detect(load_data(KEYBOARD)) == NESTED
    assert detect(load_data(VDI)) == NESTED


def test_keyboard_file_means_the_same_as_its_v1_form():
    legacy = load_scenario(KEYBOARD)
    assert legacy.model_dump() == load_scenario(EQUIVALENT_V1).model_dump()
    assert [t.vm for t in legacy.targets] == ["test-vm"]
    assert legacy.targets[0].host is None  # a URI is not a host name of the inventory
    assert legacy.steps[1].duration == 1.0 and legacy.steps[0].timeout == 10.0


def test_target_host_name_is_kept():
    scenario = load_scenario(KEYBOARD.replace('"qemu:///system"', "lab-2"))
    assert (scenario.targets[0].vm, scenario.targets[0].host) == ("test-vm", "lab-2")


def test_vdi_actions_map_to_vdi_kinds():
    scenario = load_scenario(VDI)
    kinds = [s.type for s in scenario.steps]
    assert kinds == [
        "vdi_create_desk_pool",
        "vdi_enable_desk_pool",
        "vdi_start_domain",
        "vdi_bind_user",
        "vdi_get_desk_pool_domains",
        "verify_domain_status",
        "verify_vdi_domains_running",
        "guest_ping",
    ]
    create = scenario.steps[0]
    assert (create.name, create.template, create.count) == ("pool-1", "tmpl-001", 2)
    assert scenario.steps[1].pool == "pool-001"
    assert (scenario.steps[3].domain, scenario.steps[3].user) == ("vm-001", "u-1")
    status = scenario.steps[5]
    assert (status.expected, status.target) == ("running", "vm-001")
    assert status.timeout == 90.0  # the step's timeout wins over timeout_secs
    assert scenario.steps[6].timeout == 120.0


def test_errors_point_at_the_legacy_lines():
    text = KEYBOARD.replace("type: send_text", "type: send_texts").replace(
        "{type: send_key, key: ctrl-d}", "{type: send_key, key: ctrl-nokey}"
    )
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(text)
    issues = {i.line: i for i in info.value.issues}
    assert set(issues) == {18, 20}
    assert issues[18].message == "unknown legacy action type 'send_texts'"
    assert "send_text" in issues[18].allowed
    assert issues[18].path == "steps[2].action.type"
    assert "nokey" in issues[20].message
    assert "legacy steps[3].action.key" in issues[20].path


def test_unknown_legacy_fields_are_named():
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario("name: x\ntarget_domain: vm\nsteps:\n  - action: {type: wait, duraton: 1}\n")
    messages = [i.message for i in info.value.issues]
    assert "unknown field 'duraton'" in messages
    assert any(i.allowed == ["duration"] for i in info.value.issues)
    assert info.value.issues[0].line == 4


def test_version_1_files_are_never_treated_as_legacy():
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario("version: 1\nname: x\nsteps:\n  - action: {type: wait, duration: 1}\n")
    assert any("a step needs a 'type'" in i.message for i in info.value.issues)
