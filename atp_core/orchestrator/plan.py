"""The plan of a scenario: every step with a stable id, as the live view and the report list it.

Ids are paths: ``"1"``, ``"2"``, ``"3.1"`` (first child of step 3), ``"F1"`` (first ``finally``
step), ``"3.F1"`` (first step of group 3's own ``finally``). They depend only on the scenario's
structure, so they never change between runs of the same revision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .schema import CONTAINER_KINDS, Scenario, display_name


@dataclass(frozen=True)
class PlannedStep:
    id: str
    name: str
    type: str
    depth: int
    phase: str  # "main" | "finally"
    parent: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def as_scenario(obj: Any) -> Any:
    """A ``Scenario`` model (a mapping is validated into one)."""
    if isinstance(obj, Scenario):
        return obj
    if isinstance(obj, dict):
        return Scenario.model_validate(obj)
    raise TypeError(f"expected a Scenario, got {type(obj).__name__}")


def children(step: Any) -> list[Any]:
    return list(getattr(step, "steps", None) or [])


def finally_children(step: Any) -> list[Any]:
    return list(getattr(step, "finally_", None) or [])


def step_name(step: Any) -> str:
    return display_name(step)


def _walk(
    steps: list[Any],
    prefix: str,
    depth: int,
    phase: str,
    parent: str | None,
    out: list[PlannedStep],
    finally_mark: str = "",
) -> None:
    for index, step in enumerate(steps, start=1):
        sid = f"{prefix}{finally_mark}{index}"
        out.append(PlannedStep(sid, step_name(step), step.type, depth, phase, parent))
        if step.type in CONTAINER_KINDS:
            _walk(children(step), sid + ".", depth + 1, phase, sid, out)
            _walk(finally_children(step), sid + ".", depth + 1, "finally", sid, out, "F")


def plan_steps(scenario: Any) -> list[PlannedStep]:
    """Every step of ``scenario`` (main steps, then ``finally``) in execution order."""
    data = as_scenario(scenario)
    out: list[PlannedStep] = []
    _walk(list(data.steps), "", 0, "main", None, out)
    _walk(finally_children(data), "", 0, "finally", None, out, "F")
    return out
