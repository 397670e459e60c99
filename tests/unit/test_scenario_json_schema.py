"""The JSON Schema for the editor: valid draft 2020-12, every step kind with const and text."""

from __future__ import annotations

import json

import jsonschema
import pytest

from atp_core.orchestrator import STEP_KINDS, STEP_TYPES, scenario_json_schema
from tests.unit.test_scenario_convert import EVERYTHING


@pytest.fixture(scope="module")
def schema():
    return scenario_json_schema()


def _step_defs(schema: dict) -> dict[str, dict]:
    out = {}
    for definition in schema["$defs"].values():
        const = definition.get("properties", {}).get("type", {}).get("const")
        if const:
            out[const] = definition
    return out


def test_valid_draft_2020_12(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    json.dumps(schema)  # serialisable as is


def test_every_kind_has_const_type_description_and_fields(schema):
    defs = _step_defs(schema)
    assert set(defs) == set(STEP_KINDS)
    for kind, definition in defs.items():
        assert definition["properties"]["type"]["const"] == kind
        assert "type" in definition["required"]
        first_line = STEP_TYPES[kind].__doc__.strip().splitlines()[0]
        assert definition["description"].startswith(first_line)
        assert definition.get("additionalProperties") is False
        names = {f.alias or n for n, f in STEP_TYPES[kind].model_fields.items()}
        assert set(definition["properties"]) == names


def test_aliases_in_the_schema(schema):
    defs = _step_defs(schema)
    assert "finally" in schema["properties"] and "finally_" not in schema["properties"]
    assert "from" in defs["mouse_drag"]["properties"]
    assert "as" in defs["loop"]["properties"]
    assert "finally" in defs["group"]["properties"]


def test_schema_accepts_valid_and_rejects_invalid_documents(schema):
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(EVERYTHING)
    validator.validate({"name": "x", "steps": [{"type": "wait", "duration": "1.5m"}]})
    bad = [
        {"name": "x", "steps": [{"type": "wait", "duration": "3 days"}]},
        {"name": "x", "steps": [{"type": "send_key", "kee": "ret"}]},
        {"name": "x", "steps": [{"type": "nope"}]},
        {"steps": []},
    ]
    for document in bad:
        assert list(validator.iter_errors(document)), document


def test_durations_are_numbers_or_unit_strings(schema):
    wait = _step_defs(schema)["wait"]["properties"]["duration"]
    kinds = {alt["type"] for alt in wait["anyOf"]}
    assert kinds == {"number", "string"}
