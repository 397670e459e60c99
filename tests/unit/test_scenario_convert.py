"""convert_to_v1: canonical YAML whose load equals the original scenario."""

from __future__ import annotations

import json

import pytest
import yaml

from atp_core.orchestrator import ScenarioValidationError, convert_to_v1, load_scenario
from tests.unit.test_scenario_legacy_nested import KEYBOARD, VDI
from tests.unit.test_scenario_legacy_typed import DEV_GUIDE, KEYS_AND_VMS, LOOP, START_DOMAIN
from tests.unit.test_scenario_step_kinds import MINIMAL

EVERYTHING = {
    "finally": [{"type": "vm_destroy", "force": True}],
    "steps": [{"type": kind, **fields} for kind, (fields, _) in MINIMAL.items()]
    + [
        {
            "type": "exec_command",
            "name": "cmd",
            "argv": ["sh", "-c", "echo hi"],
            "env": {"A": "1"},
            "stdin": "x",
            "shell": "sh",
            "expect": {"exit_code": 3, "stdout_contains": "hi"},
            "timeout": 0.5,
            "retries": 2,
            "retry_delay": 90,
            "continue_on_error": True,
            "capture": "out",
            "target": "demo-2",
        },
        {"type": "send_key", "key": ["ctrl", "c"], "hold": "250ms"},
        {"type": "send_text", "text": "line one\nline two\n", "interval": 0.05},
        {
            "type": "verify_screen",
            "reference": "r",
            "area": {"x": 1, "y": 2, "width": 3, "height": 4},
        },
        {
            "type": "wait_until",
            "check": {"type": "verify_command", "command": "true"},
            "interval": 2,
        },
        {
            "type": "group",
            "name": "g",
            "steps": [{"type": "guest_ping"}],
            "finally": [{"type": "screenshot", "label": "end"}],
        },
    ],
    "name": "everything",
    "defaults": {"timeout": "30s", "retries": 1},
    "variables": {"greeting": "Hello", "n": 3, "list": [1, 2]},
    "targets": [{"vm": "demo-1"}, {"tag": "win10"}],
    "timeout": "10m",
    "tags": ["a", "b"],
    "description": "all kinds",
    "version": 1,
}


def _round_trip(text: str) -> str:
    original = load_scenario(text)
    converted = convert_to_v1(text)
    again = load_scenario(converted)
    assert again.model_dump() == original.model_dump()
    assert convert_to_v1(converted) == converted  # converting twice changes nothing
    return converted


def test_every_kind_round_trips_with_the_documented_key_order():
    converted = _round_trip(json.dumps(EVERYTHING))
    data = yaml.safe_load(converted)
    assert list(data) == [
        "version",
        "name",
        "description",
        "tags",
        "timeout",
        "targets",
        "variables",
        "defaults",
        "steps",
        "finally",
    ]
    assert data["timeout"] == "10m"
    assert data["defaults"] == {"timeout": "30s", "retries": 1}
    cmd = next(s for s in data["steps"] if s.get("name") == "cmd")
    assert list(cmd)[:2] == ["type", "name"]
    assert (cmd["timeout"], cmd["retry_delay"]) == ("500ms", "1.5m")
    assert any(s.get("hold") == "250ms" for s in data["steps"])
    group = data["steps"][-1]
    assert group["finally"] == [{"type": "screenshot", "label": "end"}]
    assert "line one\n" in converted or "|" in converted


@pytest.mark.parametrize(
    "text", [KEYBOARD, VDI, DEV_GUIDE, START_DOMAIN, LOOP, KEYS_AND_VMS], ids=lambda t: t[:20]
)
def test_legacy_files_convert_to_equal_v1(text):
    converted = _round_trip(text)
    data = yaml.safe_load(converted)
    assert data["version"] == 1
    assert not any("action" in step for step in data["steps"])
    assert all(isinstance(v, str) for s in data["steps"] for k, v in s.items() if k == "duration")


def test_dev_guide_conversion_text():
    assert convert_to_v1(DEV_GUIDE) == (
        "version: 1\n"
        "name: legacy scenario\n"
        "targets:\n"
        "  - vm: vm-001\n"
        "steps:\n"
        "  - type: send_text\n"
        "    text: Hello World\n"
        "  - type: wait\n"
        "    duration: 2s\n"
        "  - type: guest_ping\n"
    )


def test_defaults_are_left_out():
    converted = convert_to_v1("name: x\nsteps: [{type: mouse_click}]\n")
    assert converted == "version: 1\nname: x\nsteps:\n  - type: mouse_click\n"


def test_invalid_input_raises_validation_error():
    with pytest.raises(ScenarioValidationError):
        convert_to_v1("name: x\nsteps: [{type: nope}]\n")
