"""Loader errors carry line, column, field path and allowed values; several at once."""

from __future__ import annotations

import pytest

from atp_core.orchestrator import STEP_KINDS, Issue, ScenarioValidationError, load_scenario

BROKEN = """\
version: 1
name: many-problems
steps:
  - type: send_key
    kee: ret
  - type: sendtext
    text: hi
  - type: loop
    count: 2
    steps:
      - type: send_text
        text: "Grüße"
      - type: exec_command
        command: ls
        expect: {exit_code: nope}
  - type: mouse_click
    button: centre
finally:
  - type: group
"""


def _issues(text: str) -> list[Issue]:
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(text, filename="s.yaml")
    return info.value.issues


def _by_path(issues: list[Issue]) -> dict[str, Issue]:
    return {i.path: i for i in issues}


def test_several_issues_at_once_with_positions():
    issues = _by_path(_issues(BROKEN))
    assert set(issues) == {
        "steps[0].key",
        "steps[0].kee",
        "steps[1].type",
        "steps[2].steps[0].text",
        "steps[2].steps[1].expect.exit_code",
        "steps[3].button",
        "finally[0].steps",
    }
    # unknown field: at its key, with the kind's fields
    kee = issues["steps[0].kee"]
    assert (kee.line, kee.column) == (5, 5)
    assert "did you mean 'key'" in kee.message and "key" in kee.allowed
    # missing field: at the parent mapping
    assert (issues["steps[0].key"].line, issues["steps[0].key"].column) == (4, 5)
    assert issues["steps[0].key"].message == "missing required field 'key'"
    # nested steps: the value node
    text = issues["steps[2].steps[0].text"]
    assert (text.line, text.column) == (12, 15)
    assert "U+00FC" in text.message
    code = issues["steps[2].steps[1].expect.exit_code"]
    assert (code.line, code.column) == (15, 29)
    assert code.message == "expected an integer or one of 'any', got 'nope'"
    button = issues["steps[3].button"]
    assert (button.line, button.allowed) == (17, ["left", "right", "middle"])
    assert (issues["finally[0].steps"].line, issues["finally[0].steps"].column) == (19, 5)


def test_issues_are_sorted_by_position_and_formatted():
    issues = _issues(BROKEN)
    lines = [i.line for i in issues]
    assert lines == sorted(lines)
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(BROKEN, filename="s.yaml")
    text = str(info.value).splitlines()
    assert len(text) == len(issues)
    assert text[0] == "s.yaml:4:5: steps[0].key: missing required field 'key'"
    assert (
        "s.yaml:17:13: steps[3].button: 'centre' is not allowed (allowed: left, right, middle)"
        in text
    )


def test_unknown_type_lists_the_step_kinds():
    issue = _by_path(_issues(BROKEN))["steps[1].type"]
    assert (issue.line, issue.column) == (6, 11)
    assert issue.message == "unknown step type 'sendtext' (did you mean 'send_text'?)"
    assert issue.allowed == STEP_KINDS


def test_missing_type_and_non_mapping_step():
    issues = _by_path(_issues("name: x\nsteps:\n  - key: ret\n  - just text\n"))
    assert issues["steps[0]"].message == "a step needs a 'type'"
    assert issues["steps[0]"].allowed == STEP_KINDS
    assert (issues["steps[0]"].line, issues["steps[0]"].column) == (3, 5)
    assert issues["steps[1]"].message == "a step must be a mapping with a 'type', got 'just text'"
    assert issues["steps[1]"].line == 4


def test_to_dict_shape():
    issue = _issues("name: x\nsteps:\n  - {type: wait}\n")[0]
    assert issue.to_dict() == {
        "line": 3,
        "column": 5,
        "path": "steps[0].duration",
        "message": "missing required field 'duration'",
        "allowed": None,
    }


def test_yaml_syntax_error_has_line_and_column():
    (issue,) = _issues("name: x\nsteps:\n  - type: wait\n   duration: 1\n")
    assert issue.line == 4 and issue.column is not None
    assert issue.message.startswith("YAML syntax error")


def test_duplicate_keys_are_an_error():
    issues = _issues("name: a\nsteps:\n  - type: wait\n    duration: 1\n    duration: 2\nname: b\n")
    messages = {(i.line, i.message) for i in issues}
    assert (5, "duplicate key 'duration' (first at line 4)") in messages
    assert (6, "duplicate key 'name' (first at line 1)") in messages


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the scenario is empty"),
        ("   \n# only a comment\n", "the scenario is empty"),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("just a string", "the top level must be a mapping"),
        ("42", "the top level must be a mapping"),
    ],
)
def test_empty_and_non_mapping_top_level(text, fragment):
    (issue,) = _issues(text)
    assert fragment in issue.message
    assert issue.line == 1


def test_top_level_unknown_field_and_missing_name():
    issues = _by_path(_issues("stepz: []\n"))
    assert issues["stepz"].message == "unknown field 'stepz' (did you mean 'steps'?)"
    assert "finally" in issues["stepz"].allowed and "finally_" not in issues["stepz"].allowed
    assert issues["name"].message == "missing required field 'name'"
    assert issues["steps"].message == "missing required field 'steps'"


def test_json_input_with_positions():
    text = '{\n  "name": "j",\n  "steps": [\n    {"type": "send_key", "kee": "ret"}\n  ]\n}\n'
    issues = _by_path(_issues(text))
    assert issues["steps[0].kee"].line == 4


def test_json_with_tabs_still_loads():
    text = '{\n\t"name": "j",\n\t"steps": [{"type": "guest_ping"}]\n}\n'
    assert load_scenario(text).name == "j"


def test_wait_until_check_must_be_a_check():
    (issue,) = _issues(
        "name: x\nsteps:\n  - type: wait_until\n    check:\n      type: send_text\n      text: a\n"
    )
    assert issue.path == "steps[0].check.type"
    assert "cannot be polled" in issue.message
    assert "verify_command" in issue.allowed and "send_text" not in issue.allowed


def test_limits_are_clear_errors():
    deep = "name: x\nsteps: " + "[" * 60 + "]" * 60 + "\n"
    (issue,) = _issues(deep)
    assert "nested deeper" in issue.message
    (issue,) = _issues("name: x\nsteps: []\n" + "#" * 1_100_000)
    assert "too large" in issue.message
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for index in range(1, 8):
        prev = "a" if index == 1 else f"a{index - 1}"
        bomb += f"a{index}: &a{index} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    (issue,) = _issues(bomb)
    assert "more than" in issue.message


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\x00bad", b"name: x\x00\nsteps: []", "name: x\x07\nsteps: []", b"\x89PNG\r\n\x1a\n"],
)
def test_binary_input_is_a_validation_error(raw):
    issues = _issues(raw)
    assert issues and all(isinstance(i, Issue) for i in issues)
