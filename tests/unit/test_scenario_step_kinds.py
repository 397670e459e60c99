"""Every step kind of the format validates in its minimal form and rejects a bad field."""

from __future__ import annotations

import json

import pytest

from atp_core.orchestrator import (
    STEP_KINDS,
    STEP_TYPES,
    ScenarioValidationError,
    describe,
    display_name,
    load_scenario,
)

# kind → (minimal valid step, (field, bad value, message fragment))
MINIMAL: dict[str, tuple[dict, tuple[str, object, str]]] = {
    "send_key": ({"key": "ctrl+alt+del"}, ("key", "ctrl+nokey", "nokey")),
    "send_text": ({"text": "Hello, World!\n"}, ("text", "naïve", "U+00EF")),
    "mouse_move": ({"x": 10, "y": 20}, ("x", "left", "integer")),
    "mouse_click": ({}, ("button", "centre", "not allowed")),
    "mouse_drag": ({"from": [1, 2], "to": [3, 4]}, ("to", [1], "")),
    "mouse_scroll": ({"delta": -3}, ("delta", 0, "scrolls nothing")),
    "exec_command": ({"command": "uname -a"}, ("shell", "bash", "not allowed")),
    "file_write": ({"path": "/tmp/a", "content": "x"}, ("path", ["a"], "string")),
    "file_read": ({"path": "/tmp/a"}, ("path", None, "string")),
    "wait": ({"duration": "2s"}, ("duration", "soon", "duration")),
    "wait_until": (
        {"check": {"type": "guest_ping"}, "timeout": "1m"},
        ("check", {"type": "send_key", "key": "a"}, "cannot be polled"),
    ),
    "screenshot": ({}, ("label", {"a": 1}, "string")),
    "verify_domain_status": ({"expected": "running"}, ("expected", "up", "not allowed")),
    "verify_command": ({"argv": ["true"]}, ("argv", [], "at least 1")),
    "verify_screen": ({"reference": "login"}, ("threshold", 1.5, "less than or equal to 1")),
    "verify_input": ({"keys": ["ret", ["ctrl", "c"]]}, ("keys", ["nokey"], "nokey")),
    "click_image": ({"reference": "ok-button"}, ("offset", [1], "")),
    "logon": (
        {"username": "atp", "password": "${secret.desk}", "desktop": {"text": "Programs"}},
        ("desktop", {"reference": "a", "text": "b"}, "exactly one of"),
    ),
    "wait_screen_change": ({}, ("threshold", 2, "less than or equal to 1")),
    "wait_screen_still": ({"duration": "2s"}, ("duration", 0, "longer than 0")),
    "verify_text": ({"text": "Welcome"}, ("regex", "(", "invalid regular expression")),
    "wait_text": ({"regex": "[0-9]+"}, ("fuzzy", 0, "greater than 0")),
    "read_text": ({"area": {"x": 0, "y": 0, "width": 10, "height": 10}}, ("area", {"x": 1}, "")),
    "vm_start": ({}, ("wait", "maybe", "true or false")),
    "vm_shutdown": ({"force": True}, ("force", "maybe", "true or false")),
    "vm_reboot": ({}, ("force", [1], "true or false")),
    "vm_reset": ({}, ("wait", {"x": 1}, "true or false")),
    "vm_destroy": ({}, ("force", "maybe", "true or false")),
    "guest_ping": ({}, ("retries", -1, "greater than or equal to 0")),
    "vdi_login": ({"endpoint": "lab"}, ("username", ["u"], "string")),
    "vdi_start_domain": ({"domain": "vm-1"}, ("domain", {"id": 1}, "")),
    "vdi_shutdown_domain": ({"domain": ["vm-1", "vm-2"]}, ("force", "x", "true or false")),
    "vdi_reboot_domain": ({"domain": "vm-1"}, ("wait", "x", "true or false")),
    "vdi_suspend_domain": ({"domain": "vm-1"}, ("domain", None, "")),
    "vdi_resume_domain": ({"domain": "vm-1"}, ("domain", None, "")),
    "vdi_delete_domain": ({"domain": "vm-1"}, ("domain", None, "")),
    "vdi_create_desk_pool": (
        {"name": "pool-1", "template": "tmpl", "count": 2},
        ("count", 0, "greater than or equal to 1"),
    ),
    "vdi_enable_desk_pool": ({"pool": "p"}, ("pool", None, "string")),
    "vdi_disable_desk_pool": ({"pool": "p"}, ("pool", None, "string")),
    "vdi_delete_desk_pool": ({"pool": "p"}, ("pool", None, "string")),
    "vdi_get_desk_pool_domains": ({"pool": "${pool.id}"}, ("pool", [], "string")),
    "vdi_bind_user": ({"domain": "vm-1", "user": "alice"}, ("user", None, "string")),
    "verify_vdi_domain_status": (
        {"domain": "vm-1", "expected": "running"},
        ("interval", "x", "duration"),
    ),
    "verify_vdi_domains_running": ({"pool": "p"}, ("interval", "x", "duration")),
    "set": ({"values": {"a": 1}}, ("values", {"not a name": 1}, "should match pattern")),
    "loop": (
        {"count": 2, "steps": [{"type": "send_key", "key": "a"}]},
        ("count", -1, "greater than or equal to 0"),
    ),
    "parallel": (
        {"for_each": "${domains}", "steps": [{"type": "guest_ping"}]},
        ("max_concurrency", 0, "greater than or equal to 1"),
    ),
    "group": ({"steps": [{"type": "guest_ping"}]}, ("steps", [], "at least 1")),
}


def _scenario(step: dict) -> str:
    return json.dumps({"name": "kinds", "steps": [step]})


def test_table_covers_every_kind():
    assert set(MINIMAL) == set(STEP_KINDS)
    assert len(STEP_KINDS) == 48


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_minimal_step_validates(kind):
    fields, _ = MINIMAL[kind]
    scenario = load_scenario(_scenario({"type": kind, **fields}))
    (step,) = scenario.steps
    assert type(step) is STEP_TYPES[kind]
    assert step.type == kind and step.kind == kind
    assert describe(step).startswith(kind)
    assert display_name(step)


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_bad_value_is_reported_at_the_field(kind):
    fields, (field, bad, fragment) = MINIMAL[kind]
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(_scenario({"type": kind, **fields, field: bad}))
    paths = [i.path for i in info.value.issues]
    assert any(p == f"steps[0].{field}" or p.startswith(f"steps[0].{field}") for p in paths), paths
    assert any(fragment in i.message for i in info.value.issues), info.value.issues


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_unknown_field_names_the_allowed_fields(kind):
    fields, _ = MINIMAL[kind]
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(_scenario({"type": kind, **fields, "bogus": 1}))
    (issue,) = info.value.issues
    assert issue.path == "steps[0].bogus"
    assert issue.message.startswith("unknown field 'bogus'")
    expected = {f.alias or n for n, f in STEP_TYPES[kind].model_fields.items()}
    assert set(issue.allowed) == expected
    assert {"type", "name", "timeout", "retries", "capture", "target"} <= set(issue.allowed)


def test_exec_command_needs_exactly_one_of_command_or_argv():
    for step, which in (({}, "none"), ({"command": "ls", "argv": ["ls"]}, "both")):
        with pytest.raises(
            ScenarioValidationError, match=f"exactly one of 'command' or 'argv' \\({which}"
        ):
            load_scenario(_scenario({"type": "exec_command", **step}))


def test_expect_defaults_and_any():
    scenario = load_scenario(
        _scenario(
            {
                "type": "verify_command",
                "command": "grep x /f",
                "expect": {"exit_code": "any", "stdout_regex": "^a+$", "stderr_contains": "w"},
            }
        )
    )
    assert scenario.steps[0].expect.exit_code == "any"
    plain = load_scenario(_scenario({"type": "exec_command", "argv": ["true"]}))
    assert plain.steps[0].expect.exit_code == 0
    with pytest.raises(ScenarioValidationError, match="invalid regular expression"):
        load_scenario(
            _scenario({"type": "exec_command", "command": "x", "expect": {"stdout_regex": "("}})
        )


def test_text_and_key_with_variables_are_checked_at_run_time_only():
    scenario = load_scenario(
        _scenario({"type": "send_text", "text": "user ${name} ok"}),
    )
    assert scenario.steps[0].text == "user ${name} ok"
    load_scenario(_scenario({"type": "send_key", "key": "${the_key}"}))
    with pytest.raises(ScenarioValidationError, match="U\\+00E9"):  # literal part still checked
        load_scenario(_scenario({"type": "send_text", "text": "${a} é"}))


def test_loop_exactly_one_of_count_or_for_each_and_as():
    scenario = load_scenario(
        _scenario(
            {"type": "loop", "for_each": [1, 2], "as": "n", "steps": [{"type": "guest_ping"}]}
        )
    )
    loop = scenario.steps[0]
    assert loop.as_ == "n" and loop.for_each == [1, 2]
    assert loop.model_dump()["as"] == "n"
    with pytest.raises(ScenarioValidationError, match="none given"):
        load_scenario(_scenario({"type": "loop", "steps": [{"type": "guest_ping"}]}))


def test_group_finally_alias_and_nesting():
    scenario = load_scenario(
        "name: g\nsteps:\n  - type: group\n    steps:\n      - type: loop\n        count: 1\n"
        "        steps: [{type: wait, duration: 1}]\n    finally:\n      - type: screenshot\n"
        "finally:\n  - type: vm_destroy\n"
    )
    group = scenario.steps[0]
    assert group.finally_[0].type == "screenshot"
    assert group.steps[0].steps[0].duration == 1.0
    dumped = scenario.model_dump()
    assert "finally" in dumped and "finally_" not in dumped
    assert dumped["steps"][0]["finally"][0]["type"] == "screenshot"


def test_mouse_click_needs_both_coordinates():
    with pytest.raises(ScenarioValidationError, match="both 'x' and 'y'"):
        load_scenario(_scenario({"type": "mouse_click", "x": 3}))


def test_targets_and_defaults():
    scenario = load_scenario(
        "name: t\ntargets:\n  - vm: demo-1\n  - {vm: demo-2, host: local}\n  - tag: win10\n"
        "  - desk_pool: '${pool.id}'\ndefaults: {retries: 2, continue_on_error: true}\n"
        "steps: [{type: guest_ping}]\n"
    )
    assert [t.vm for t in scenario.targets] == ["demo-1", "demo-2", None, None]
    assert scenario.targets[1].host == "local"
    assert scenario.defaults.retries == 2 and scenario.defaults.continue_on_error is True
    with pytest.raises(ScenarioValidationError, match="exactly one of 'vm', 'tag' or 'desk_pool'"):
        load_scenario("name: t\ntargets: [{host: local}]\nsteps: [{type: guest_ping}]\n")


def test_describe_gives_readable_default_names():
    scenario = load_scenario(
        json.dumps(
            {
                "name": "d",
                "steps": [
                    {"type": "send_text", "text": "Hello"},
                    {"type": "exec_command", "command": "uname -a"},
                    {"type": "send_key", "key": ["ctrl", "c"]},
                    {"type": "wait", "duration": 90},
                    {"type": "loop", "count": 3, "steps": [{"type": "guest_ping"}]},
                    {"type": "send_text", "text": "x" * 100, "name": "long"},
                    {"type": "vdi_create_desk_pool", "name": "pool-1", "template": "t"},
                ],
            }
        )
    )
    names = [describe(s) for s in scenario.steps]
    assert names[:5] == [
        "send_text 'Hello'",
        "exec_command 'uname -a'",
        "send_key 'ctrl+c'",
        "wait 1.5m",
        "loop ×3",
    ]
    assert len(names[5]) < 60 and names[5].endswith("…'")
    assert display_name(scenario.steps[5]) == "long"
    assert display_name(scenario.steps[6]) == "vdi_create_desk_pool 'pool-1'"


def test_timeouts_must_be_positive():
    for text in (
        "name: x\nsteps: [{type: wait, duration: 1, timeout: 0}]\n",
        "name: x\ntimeout: 0s\nsteps: [{type: guest_ping}]\n",
        "name: x\ndefaults: {timeout: 0}\nsteps: [{type: guest_ping}]\n",
    ):
        with pytest.raises(ScenarioValidationError, match="longer than 0"):
            load_scenario(text)


def test_for_each_string_must_be_a_variable():
    with pytest.raises(ScenarioValidationError, match="a list or a \\$\\{variable\\}"):
        load_scenario(
            _scenario(
                {"type": "loop", "for_each": "abc", "steps": [{"type": "set", "values": {"a": 1}}]}
            )
        )
    loop = load_scenario(
        _scenario(
            {"type": "parallel", "for_each": " ${pool.domains} ", "steps": [{"type": "guest_ping"}]}
        )
    ).steps[0]
    assert loop.for_each == " ${pool.domains} "
