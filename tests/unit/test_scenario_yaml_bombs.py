"""Alias and merge-key bombs load or are refused at once, with a clear issue; so does any
text with more values (after expansion) or more nesting than the loader's limits."""

from __future__ import annotations

import json

import pytest

from atp_core.orchestrator import ScenarioValidationError, load_scenario
from atp_core.orchestrator.yamlpos import MAX_DEPTH, MAX_NODES
from tests.unit.yaml_bombs import (
    SELF_ALIAS,
    SELF_MERGE,
    alias_bomb,
    mapping_alias_bomb,
    merge_bomb,
)


def _issues(text: str) -> list:
    with pytest.raises(ScenarioValidationError) as caught:
        load_scenario(text)
    return caught.value.issues


def test_ten_deep_merge_bomb_loads_each_mapping_merged_once():
    scenario = load_scenario(merge_bomb(depth=10, width=10))
    top = scenario.variables["l10"]
    assert top == {"k0": 0, "k1": 1, **{f"m{i}": i for i in range(1, 11)}}


def test_wide_merge_bomb_counts_every_merged_key_against_the_limit():
    (issue,) = _issues(merge_bomb(depth=12, width=12, keys=2000))
    assert f"more than {MAX_NODES} values" in issue.message
    assert issue.line is not None


@pytest.mark.parametrize("bomb", [alias_bomb, mapping_alias_bomb])
def test_alias_bomb_is_refused_with_a_position(bomb):
    (issue,) = _issues(bomb(depth=9, width=10))
    assert f"more than {MAX_NODES} values" in issue.message
    assert "aliases" in issue.message
    assert issue.line >= 4 and issue.column >= 1


def test_a_mapping_merging_itself_is_an_issue():
    issues = _issues(SELF_MERGE)
    assert any("cannot merge its own mapping" in i.message for i in issues)


def test_a_list_holding_itself_is_refused_as_too_deep():
    (issue,) = _issues(SELF_ALIAS)
    assert f"deeper than {MAX_DEPTH} levels" in issue.message


def test_too_many_plain_values_are_refused_before_composing():
    (issue,) = _issues("- a\n" * (MAX_NODES + 10))
    assert f"more than {MAX_NODES} values" in issue.message
    assert issue.line == MAX_NODES  # the list itself is the first value


def test_too_deep_nesting_is_refused():
    (issue,) = _issues("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert f"deeper than {MAX_DEPTH} levels" in issue.message


def test_json_fallback_has_the_same_limits():
    # tabs make it JSON-only (YAML refuses tabs as indentation)
    values = ",\t".join(["1"] * (MAX_NODES + 10))
    text = '{\t"name": "x",\t"steps": [],\t"variables": {"v": [' + values + "]}}"
    json.loads(text)  # valid JSON
    issues = _issues(text)
    assert issues and not any(i.message.startswith("internal") for i in issues)


def test_many_problems_are_listed_up_to_a_limit():
    text = "version: 1\nname: x\nsteps:\n" + "  - {type: wat, duration: x}\n" * 500
    issues = _issues(text)
    assert len(issues) <= 101
    assert issues[-1].message.endswith("more problems not listed")


def test_cli_validate_answers_a_ten_deep_merge_bomb(tmp_path):
    """Before the bound, ``python -m atp_core validate`` spun for hours on this file."""
    import subprocess
    import sys
    from pathlib import Path

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(merge_bomb(depth=10, width=10))
    laughs = tmp_path / "laughs.yaml"
    laughs.write_text(alias_bomb(depth=10, width=10))
    done = subprocess.run(
        [sys.executable, "-m", "atp_core", "validate", str(bomb), str(laughs)],
        capture_output=True,
        text=True,
        timeout=120,  # a bound against a hang, not a speed check (bench/ has no place for it)
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 1, done.stderr
    assert f"{bomb}: ok ('merge-bomb'" in done.stdout
    assert f"{laughs}:4:" in done.stdout and f"more than {MAX_NODES} values" in done.stdout
