"""atp_core.orchestrator: the scenario language, its loader, the executor and its reports.

The names below are the public API. They are loaded on first use (PEP 562), so importing one
submodule (``atp_core.orchestrator.schema``) does not import the executor and every step
handler, and no submodule depends on this package's namespace.

>>> from atp_core.orchestrator import load_scenario, plan_steps
>>> scenario = load_scenario("name: demo\\nsteps:\\n  - type: wait\\n    duration: 1s\\n")
>>> [(p.id, p.name) for p in plan_steps(scenario)]
[('1', 'wait 1s')]
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# public name -> submodule that defines it
_EXPORTS = {
    # the scenario language
    "STEP_KINDS": "schema",
    "STEP_TYPES": "schema",
    "Scenario": "schema",
    "Step": "schema",
    "StepBase": "schema",
    "StepDefaults": "schema",
    "TargetRef": "schema",
    "describe": "schema",
    "display_name": "schema",
    "convert_to_v1": "convert",
    "scenario_json_schema": "convert",
    "format_duration": "durations",
    "parse_duration": "durations",
    "load_scenario": "loader",
    "load_scenario_file": "loader",
    "Issue": "yamlpos",
    "ScenarioValidationError": "yamlpos",
    # planning and running
    "Event": "events",
    "EventEmitter": "events",
    "run_scenario": "executor",
    "PlannedStep": "plan",
    "plan_steps": "plan",
    "RunReport": "report",
    "StepReport": "report",
    "TargetReport": "report",
    "ReferenceSpec": "runtime",
    "Target": "runtime",
    "VdiSettings": "runtime",
    "VariableError": "variables",
    "Variables": "variables",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
