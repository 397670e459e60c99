"""atp_core.orchestrator: the scenario language, its loader and (below) its executor.

Contract: ``var/briefs/api_orchestrator.md``.
"""

# -- loading (schema helper) -------------------------------------------------------------------
from atp_core.orchestrator.convert import convert_to_v1, scenario_json_schema
from atp_core.orchestrator.durations import format_duration, parse_duration
from atp_core.orchestrator.loader import load_scenario, load_scenario_file
from atp_core.orchestrator.schema import (
    STEP_KINDS,
    STEP_TYPES,
    Scenario,
    Step,
    StepBase,
    StepDefaults,
    TargetRef,
    describe,
    display_name,
)
from atp_core.orchestrator.yamlpos import Issue, ScenarioValidationError

__all__ = [
    "STEP_KINDS",
    "STEP_TYPES",
    "Issue",
    "Scenario",
    "ScenarioValidationError",
    "Step",
    "StepBase",
    "StepDefaults",
    "TargetRef",
    "convert_to_v1",
    "describe",
    "display_name",
    "format_duration",
    "load_scenario",
    "load_scenario_file",
    "parse_duration",
    "scenario_json_schema",
]

# -- planning and running (executor helper): append imports and `__all__ += [...]` below --
from atp_core.orchestrator.events import Event, EventEmitter  # noqa: E402
from atp_core.orchestrator.executor import run_scenario  # noqa: E402
from atp_core.orchestrator.plan import PlannedStep, plan_steps  # noqa: E402
from atp_core.orchestrator.report import RunReport, StepReport, TargetReport  # noqa: E402
from atp_core.orchestrator.runtime import ReferenceSpec, Target, VdiSettings  # noqa: E402
from atp_core.orchestrator.variables import VariableError, Variables  # noqa: E402

__all__ += [
    "Event",
    "EventEmitter",
    "PlannedStep",
    "ReferenceSpec",
    "RunReport",
    "StepReport",
    "Target",
    "TargetReport",
    "VariableError",
    "Variables",
    "VdiSettings",
    "plan_steps",
    "run_scenario",
]
