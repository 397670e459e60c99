"""``convert_to_v1`` (the version-1 YAML of any accepted scenario) and the JSON Schema."""

from __future__ import annotations

from typing import Any

import yaml

from atp_core.orchestrator.durations import format_duration
from atp_core.orchestrator.loader import load_scenario
from atp_core.orchestrator.schema import STEP_TYPES, Scenario, StepBase

TOP_ORDER = (
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
)
# common step fields after the kind's own ones, in this order
_COMMON_ORDER = ("timeout", "retries", "retry_delay", "continue_on_error", "capture", "target")
_DURATION_FIELDS = {"timeout", "retry_delay", "hold", "interval", "duration"}


def _step_dict(step: StepBase) -> dict[str, Any]:
    cls = type(step)
    fields_set = step.model_fields_set
    out: dict[str, Any] = {"type": step.kind}
    if step.name is not None and "name" in cls.model_fields:
        out["name"] = step.name
    own = [n for n in cls.model_fields if n not in StepBase.model_fields and n != "type"]
    for name in [*own, *_COMMON_ORDER]:
        info = cls.model_fields[name]
        value = getattr(step, name)
        if value is None:
            continue
        if name not in fields_set and value == info.get_default(call_default_factory=True):
            continue  # a default: leave it out
        key = info.alias or name
        out[key] = _value(name, value)
    return out


def _value(name: str, value: Any) -> Any:
    if isinstance(value, StepBase):
        return _step_dict(value)
    if isinstance(value, list) and value and isinstance(value[0], StepBase):
        return [_step_dict(s) for s in value]
    if name in ("steps", "finally_") and isinstance(value, list):
        return [_step_dict(s) for s in value]
    if name in _DURATION_FIELDS and isinstance(value, float):
        return format_duration(value)
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "model_dump"):
        dumped = value.model_dump(exclude_defaults=True, exclude_none=True)
        return dumped or value.model_dump(exclude_none=True)
    return value


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The canonical version-1 mapping of a scenario, in the documented key order, without
    defaults, durations as strings (``2s``)."""
    out: dict[str, Any] = {"version": 1, "name": scenario.name}
    if scenario.description:
        out["description"] = scenario.description
    if scenario.tags:
        out["tags"] = list(scenario.tags)
    if "timeout" in scenario.model_fields_set or scenario.timeout != 3600.0:
        out["timeout"] = format_duration(scenario.timeout)
    if scenario.targets:
        out["targets"] = [t.model_dump(exclude_none=True) for t in scenario.targets]
    if scenario.variables:
        out["variables"] = dict(scenario.variables)
    defaults = scenario.defaults.model_dump(exclude_defaults=True, exclude_none=True)
    if defaults:
        out["defaults"] = {
            k: format_duration(v) if k in _DURATION_FIELDS else v for k, v in defaults.items()
        }
    out["steps"] = [_step_dict(s) for s in scenario.steps]
    if scenario.finally_:
        out["finally"] = [_step_dict(s) for s in scenario.finally_]
    return {k: out[k] for k in TOP_ORDER if k in out}


class _Dumper(yaml.SafeDumper):
    """Block style with list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data and not data.endswith((" ", "\t")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_v1(scenario: Scenario) -> str:
    return yaml.dump(
        scenario_to_dict(scenario),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def convert_to_v1(text: str | bytes, *, filename: str | None = None) -> str:
    """The version-1 YAML of a (legacy or version-1) scenario; raises
    :class:`ScenarioValidationError` when it does not load."""
    return dump_v1(load_scenario(text, filename=filename))


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of version 1, generated from the pydantic models."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    schema["$id"] = "https://ocloudview.example/atp/scenario-v1.schema.json"
    defs = schema.get("$defs", {})
    kinds = {cls.__name__: kind for kind, cls in STEP_TYPES.items()}
    for name, definition in defs.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        props = definition.setdefault("properties", {})
        props["type"] = {"const": kind, "type": "string", "description": "the step kind"}
        required = definition.setdefault("required", [])
        if "type" not in required:
            required.insert(0, "type")
    return schema
