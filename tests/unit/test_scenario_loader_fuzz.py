"""Hypothesis fuzzing of the loader: any input ends in a Scenario or a clean validation error.

In ``make test`` each property runs a bounded number of examples from a fixed seed
(``derandomize``), so a failure repeats; ``make fuzz`` sets ``ATP_FUZZ_EXAMPLES`` (10,000 or
more) and draws fresh examples. Alias and merge-key bombs are among the strategies: every one
of them must end (a bomb once spun for hours).
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atp_core.orchestrator import Scenario, ScenarioValidationError, convert_to_v1, load_scenario
from tests.unit.test_scenario_convert import EVERYTHING
from tests.unit.test_scenario_error_positions import BROKEN
from tests.unit.test_scenario_legacy_nested import KEYBOARD, VDI
from tests.unit.test_scenario_legacy_typed import DEV_GUIDE, KEYS_AND_VMS, LOOP, START_DOMAIN
from tests.unit.yaml_bombs import (
    SELF_ALIAS,
    SELF_MERGE,
    alias_bomb,
    mapping_alias_bomb,
    merge_bomb,
)

SEEDS = [
    convert_to_v1(json.dumps(EVERYTHING)),
    json.dumps(EVERYTHING, indent=2),
    BROKEN,
    KEYBOARD,
    VDI,
    DEV_GUIDE,
    KEYS_AND_VMS,
    LOOP,
    START_DOMAIN,
    merge_bomb(depth=4, width=3),
    alias_bomb(depth=3, width=3),
    SELF_MERGE,
]
EXAMPLES = int(os.environ.get("ATP_FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(
    max_examples=EXAMPLES or 300,
    derandomize=EXAMPLES is None,  # the suite: a fixed seed; make fuzz: fresh examples
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
YAML_BITS = [
    ":",
    "- ",
    "  ",
    "\n",
    "{",
    "}",
    "[",
    "]",
    "&a ",
    "*a",
    "<<: ",
    "!!python/object ",
    "#",
]
YAML_BITS += ['"', "'", "|", ">", "? ", "%YAML 1.1\n", "---\n", "...\n", "\t", "\x00", "\ufeff"]
YAML_BITS += ["type: ", "steps:", "loop", "finally:", "${", "1e9", "-1", "null", "~", "yes", "é"]


def _check(text: str | bytes) -> None:
    try:
        scenario = load_scenario(text, filename="fuzz.yaml")
    except ScenarioValidationError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert not issue.message.startswith("internal loader error"), issue
            assert issue.line is None or issue.line >= 1
            assert issue.column is None or issue.column >= 1
            assert isinstance(issue.path, str)
            issue.to_dict()
        str(exc)
        return
    assert isinstance(scenario, Scenario)
    # whatever loads must also convert and load again to the same thing
    converted = convert_to_v1(text, filename="fuzz.yaml")
    assert load_scenario(converted).model_dump() == scenario.model_dump()


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text):
    _check(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(raw):
    _check(raw)


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "dup_line", "drop_line"]))
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "insert":
            text = text[:pos] + draw(st.sampled_from(YAML_BITS) | st.text(max_size=3)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)) :]
        elif op == "replace":
            text = text[:pos] + draw(st.characters()) + text[pos + 1 :]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                index = draw(st.integers(0, len(lines) - 1))
                if op == "dup_line":
                    lines.insert(index, lines[index])
                else:
                    del lines[index]
                text = "".join(lines)
    return text


@FUZZ
@given(mutated())
def test_mutated_valid_yaml(text):
    _check(text)


_scalars = st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True)
_scalars |= st.sampled_from(["ret", "2s", "running", "${x}", "send_key", "loop", "é", ""])
_keys = st.sampled_from(
    [
        "type",
        "name",
        "steps",
        "finally",
        "key",
        "text",
        "count",
        "for_each",
        "check",
        "expect",
        "exit_code",
        "duration",
        "timeout",
        "targets",
        "vm",
        "as",
        "from",
        "values",
        "action",
    ]
) | st.text(max_size=5)
_kinds = st.sampled_from(
    [
        "send_key",
        "loop",
        "group",
        "parallel",
        "wait_until",
        "exec_command",
        "set",
        "verify",
        "vdi_action",
        "virtualization_action",
        "wait",
        "mouse_drag",
    ]
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_keys, inner, max_size=5)
        | st.builds(
            lambda k, d: {"type": k, **d}, _kinds, st.dictionaries(_keys, inner, max_size=4)
        )
    ),
    max_leaves=30,
)


@FUZZ
@given(_values, st.booleans())
def test_structured_documents(steps, legacy):
    document = {"name": "fuzz", "steps": steps}
    if not legacy:
        document["version"] = 1
    _check(json.dumps(document, allow_nan=True))


@st.composite
def bombs(draw):
    """Alias/merge-key bombs of random depth and width, sometimes mutated."""
    depth = draw(st.integers(1, 14))
    width = draw(st.integers(1, 14))
    kind = draw(st.sampled_from(["merge", "alias", "mapping", "self_merge", "self_alias"]))
    if kind == "merge":
        text = merge_bomb(depth=depth, width=width, keys=draw(st.integers(1, 300)))
    elif kind == "alias":
        text = alias_bomb(depth=depth, width=width)
    elif kind == "mapping":
        text = mapping_alias_bomb(depth=depth, width=width)
    else:
        text = SELF_MERGE if kind == "self_merge" else SELF_ALIAS
    if draw(st.booleans()):  # the bomb under steps (a step's fields) instead of variables
        text = text.replace("variables:", "x-anchors:", 1)
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(text) - 1))
        text = text[:pos] + draw(st.sampled_from(YAML_BITS)) + text[pos:]
    return text


@settings(FUZZ, max_examples=EXAMPLES or 60)  # each bomb is big: fewer of them in the suite
@given(bombs())
def test_bombs_end_in_a_scenario_or_a_clean_error(text):
    _check(text)
