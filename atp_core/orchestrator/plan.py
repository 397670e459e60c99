"""The plan of a scenario: every step with a stable id, as the live view and the report list it.

Ids are paths: ``"1"``, ``"2"``, ``"3.1"`` (first child of step 3), ``"F1"`` (first ``finally``
step), ``"3.F1"`` (first step of group 3's own ``finally``). They depend only on the scenario's
structure, so they never change between runs of the same revision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

CONTAINER_TYPES = ("loop", "parallel", "group")


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


def as_dict(obj: Any) -> dict[str, Any]:
    """A scenario or step (pydantic model or mapping) as a plain dict with YAML key names."""
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "model_dump"):
        return obj.model_dump(by_alias=True, mode="python")
    raise TypeError(f"expected a scenario/step model or a dict, got {type(obj).__name__}")


def children(step: dict[str, Any]) -> list[dict[str, Any]]:
    return list(step.get("steps") or [])


def finally_children(step: dict[str, Any]) -> list[dict[str, Any]]:
    return list(step.get("finally") or step.get("finally_") or [])


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(step: dict[str, Any]) -> str:
    """A step's display name: its ``name``, else a description generated from its fields."""
    if step.get("name"):
        return str(step["name"])
    kind = str(step.get("type", "?"))
    for key in (
        "text",
        "key",
        "keys",
        "command",
        "argv",
        "path",
        "duration",
        "expected",
        "reference",
        "label",
        "domain",
        "pool",
        "count",
        "for_each",
    ):
        value = step.get(key)
        if value not in (None, "", []):
            return f"{kind} {_short(value)}"
    if kind == "set" and step.get("values"):
        return "set " + ", ".join(str(k) for k in step["values"])
    if kind == "wait_until" and isinstance(step.get("check"), dict):
        return f"wait until {describe(step['check'])}"
    if kind in ("mouse_move", "mouse_click") and step.get("x") is not None:
        return f"{kind} {step.get('x')},{step.get('y')}"
    return kind


def _walk(
    steps: list[dict[str, Any]],
    prefix: str,
    depth: int,
    phase: str,
    parent: str | None,
    out: list[PlannedStep],
    finally_mark: str = "",
) -> None:
    for index, step in enumerate(steps, start=1):
        sid = f"{prefix}{finally_mark}{index}"
        out.append(PlannedStep(sid, describe(step), str(step.get("type")), depth, phase, parent))
        if step.get("type") in CONTAINER_TYPES:
            _walk(children(step), sid + ".", depth + 1, phase, sid, out)
            _walk(finally_children(step), sid + ".", depth + 1, "finally", sid, out, "F")


def plan_steps(scenario: Any) -> list[PlannedStep]:
    """Every step of ``scenario`` (main steps, then ``finally``) in execution order."""
    data = as_dict(scenario)
    out: list[PlannedStep] = []
    _walk(list(data.get("steps") or []), "", 0, "main", None, out)
    _walk(finally_children(data), "", 0, "finally", None, out, "F")
    return out
