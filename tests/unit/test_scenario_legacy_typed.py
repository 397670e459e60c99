"""The earlier orchestrator's dialect (typed actions) and the development guide's example."""

from __future__ import annotations

import pytest

from atp_core.orchestrator import ScenarioValidationError, load_scenario
from atp_core.orchestrator.legacy import TYPED, detect
from atp_core.orchestrator.loader import load_data

# The development guide's example, exactly as the format spec quotes it (no name).
DEV_GUIDE = """\
steps:
  - type: virtualization_action
    action: connect
    domain_id: "vm-001"
  - type: virtualization_action
    action: send_keyboard
    text: "Hello World"
  - type: wait
    duration: 2s
  - type: verify
    condition: command_success
    domain_id: "vm-001"
"""

DEV_GUIDE_V1 = """\
version: 1
name: devguide
targets:
  - vm: vm-001
steps:
  - type: send_text
    text: Hello World
  - type: wait
    duration: 2s
  - type: guest_ping
"""

START_DOMAIN = """\
# 基础场景：启动虚拟机
name: "启动虚拟机"
description: "启动指定的虚拟机"

steps:
  - type: vdi_action
    action: start_domain
    domain_id: "vm-001"

  - type: wait
    duration: 10s

  - type: verify
    condition: domain_status
    domain_id: "vm-001"
    expected_status: "running"
    timeout: 30s
"""

LOOP = """\
name: "循环创建删除桌面池"
timeout: 600
steps:
  - type: loop
    count: 10
    steps:
      - type: vdi_action
        action: create_desk_pool
        name: "循环测试桌面池-${loop.index}"
        template_id: "template-001"
        count: 5
        capture_output: "desk_pool"
      - type: wait
        duration: 10s
      - type: vdi_action
        action: enable_desk_pool
        pool_id: "${desk_pool.id}"
      - type: vdi_action
        action: get_desk_pool_domains
        pool_id: "${desk_pool.id}"
        capture_output: domains
      - type: verify
        condition:
          condition: all_domains_running
          pool_id: "${desk_pool.id}"
        timeout: 300s
      - type: vdi_action
        action: delete_desk_pool
        pool_id: "${desk_pool.id}"
"""

KEYS_AND_VMS = """\
name: two-vms
steps:
  - type: virtualization_action
    action: connect
    domain_id: vm-a
  - type: virtualization_action
    action: send_keyboard
    keys: ["win+r", "enter"]
  - type: virtualization_action
    action: connect
    domain_id: vm-b
  - type: virtualization_action
    action: send_keyboard
    key: "ctrl+s"
  - type: virtualization_action
    action: execute_command
    command: "uname -a"
  - type: virtualization_action
    action: send_mouse_click
    button: left
    x: 5
    y: 6
  - type: verify
    condition: {condition: domain_status, domain_id: vm-b, expected_status: running}
  - type: virtualization_action
    action: connect
    domain_id: vm-a
  - type: virtualization_action
    action: send_mouse_move
    x: 1
    y: 2
"""


def test_detected_as_typed():
    for text in (DEV_GUIDE, START_DOMAIN, LOOP, KEYS_AND_VMS):
        assert detect(load_data(text)) == TYPED


def test_dev_guide_example_loads_unchanged_and_means_its_v1_form():
    legacy = load_scenario(DEV_GUIDE, filename="devguide.yaml")
    assert legacy.model_dump() == load_scenario(DEV_GUIDE_V1).model_dump()
    assert legacy.name == "devguide"  # the excerpt has no name: the file's stem
    assert load_scenario(DEV_GUIDE).name == "legacy scenario"


def test_flat_verify_condition_and_string_durations():
    scenario = load_scenario(START_DOMAIN)
    start, wait, verify = scenario.steps
    assert (start.type, start.domain) == ("vdi_start_domain", "vm-001")
    assert wait.duration == 10.0
    # vm-001 was never chosen with connect: it is a platform VM, checked through the platform
    assert (verify.type, verify.domain, verify.expected) == (
        "verify_vdi_domain_status",
        "vm-001",
        "running",
    )
    assert verify.timeout == 30.0


def test_loop_capture_output_and_nested_condition():
    scenario = load_scenario(LOOP)
    assert scenario.timeout == 600.0
    (loop,) = scenario.steps
    assert (loop.type, loop.count) == ("loop", 10)
    kinds = [s.type for s in loop.steps]
    assert kinds == [
        "vdi_create_desk_pool",
        "wait",
        "vdi_enable_desk_pool",
        "vdi_get_desk_pool_domains",
        "verify_vdi_domains_running",
        "vdi_delete_desk_pool",
    ]
    create = loop.steps[0]
    assert (create.name, create.template, create.capture) == (
        "循环测试桌面池-${loop.index}",
        "template-001",
        "desk_pool",
    )
    assert loop.steps[2].pool == "${desk_pool.id}"
    assert loop.steps[3].capture == "domains"
    assert loop.steps[4].timeout == 300.0


def test_connect_selects_the_target_of_later_steps():
    scenario = load_scenario(KEYS_AND_VMS)
    assert [t.vm for t in scenario.targets] == ["vm-a"]
    steps = [(s.type, s.target) for s in scenario.steps]
    assert steps == [
        ("send_key", None),
        ("send_key", None),
        ("send_key", "vm-b"),
        ("exec_command", "vm-b"),
        ("mouse_click", "vm-b"),
        ("verify_domain_status", "vm-b"),  # vm-b was connected: a libvirt check on it
        ("mouse_move", None),
    ]
    assert [scenario.steps[0].key, scenario.steps[1].key] == ["win+r", "enter"]
    assert scenario.steps[2].key == "ctrl+s"
    assert (scenario.steps[4].x, scenario.steps[4].y, scenario.steps[4].button) == (5, 6, "left")


def test_errors_point_at_the_legacy_lines():
    text = START_DOMAIN.replace("action: start_domain", "action: start_domian").replace(
        "duration: 10s", "duration: 10 fortnights"
    )
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(text)
    issues = {i.line: i for i in info.value.issues}
    assert set(issues) == {7, 11}
    assert issues[7].message == "unknown action 'start_domian'"
    assert "start_domain" in issues[7].allowed
    assert "fortnights" in issues[11].message


def test_unknown_verify_condition_and_missing_keyboard_input():
    text = (
        "name: x\nsteps:\n  - type: verify\n    condition: desk_pool_created\n"
        "  - type: virtualization_action\n    action: send_keyboard\n"
    )
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(text)
    first, second = info.value.issues
    assert (first.line, first.message) == (4, "unknown verify condition 'desk_pool_created'")
    assert first.allowed == ["domain_status", "all_domains_running", "command_success"]
    assert second.line == 5 and "send_keyboard needs 'text', 'key' or 'keys'" in second.message
