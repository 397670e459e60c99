"""The web layer's one door to the scenario engine (atp_core.orchestrator).

Everything the pages and the API need from the loader goes through here, so the views never
see an engine exception: validation problems come back as plain issue dicts
``{line, column, path, message, allowed}`` that the editor can draw inline.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings

log = logging.getLogger(__name__)


@dataclass
class Validation:
    ok: bool
    issues: list[dict] = field(default_factory=list)
    parsed: dict | None = None
    name: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)


def _issue(message: str, line: int | None = 1, column: int | None = 1, path: str = "") -> dict:
    return {"line": line, "column": column, "path": path, "message": message, "allowed": None}


def _issue_dict(issue) -> dict:
    data = issue.to_dict() if hasattr(issue, "to_dict") else dict(vars(issue))
    path = data.get("path", "")
    if isinstance(path, list | tuple):
        path = ".".join(str(p) for p in path)
    return {
        "line": data.get("line"),
        "column": data.get("column"),
        "path": path or "",
        "message": str(data.get("message", "")),
        "allowed": data.get("allowed"),
    }


_worker = None
_worker_lock = threading.Lock()


def _budgeted_worker():
    """The process-wide validation child (started on first use)."""
    global _worker
    with _worker_lock:
        if _worker is None:
            from atp_core.orchestrator.budget import BudgetedWorker

            _worker = BudgetedWorker(
                "atp_core.orchestrator.budget:validate_text",
                cpu_seconds=settings.ATP_VALIDATE_CPU_SECONDS,
                wall_seconds=settings.ATP_VALIDATE_WALL_SECONDS,
            )
        return _worker


def validate(text: str, *, filename: str | None = None) -> Validation:
    """Load ``text`` with the engine's loader, in a child process under a CPU budget (a
    hostile text must never freeze the web server); never raises for bad content."""
    from atp_core.orchestrator.budget import BudgetExceeded

    if not text.strip():
        return Validation(ok=False, issues=[_issue("the scenario is empty")])
    try:
        outcome = _budgeted_worker().call(text, filename)
    except BudgetExceeded as exc:
        log.warning("scenario validation stopped: %s", exc)
        return Validation(
            ok=False,
            issues=[
                _issue(
                    "validating this scenario took too long (more than "
                    f"{settings.ATP_VALIDATE_CPU_SECONDS} s of CPU): it is too large or too"
                    " complex (aliases, merge keys)",
                    None,
                    None,
                )
            ],
        )
    except RuntimeError as exc:  # loader bug: report, don't crash
        log.warning("scenario loader raised %s", exc)
        return Validation(ok=False, issues=[_issue(str(exc))])
    if not outcome["ok"]:
        issues = [_issue_dict(_Plain(i)) for i in outcome["issues"]]
        return Validation(ok=False, issues=issues or [_issue("invalid scenario")])
    return Validation(
        ok=True,
        parsed=outcome["parsed"],
        name=outcome["name"],
        description=outcome["description"],
        tags=list(outcome["tags"]),
    )


class _Plain:
    def __init__(self, data: dict) -> None:
        self._data = data

    def to_dict(self) -> dict:
        return self._data


def convert(text: str) -> str:
    """The version-1 form of a (possibly legacy) scenario; raises ScenarioValidationError."""
    from atp_core.orchestrator import convert_to_v1

    return convert_to_v1(text)


@lru_cache(maxsize=1)
def json_schema() -> dict:
    from atp_core.orchestrator import scenario_json_schema

    return scenario_json_schema()


def _resolve(schema: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema.get("$defs", schema.get("definitions", {})).get(name, {})
    return node


def _type_const(props: dict) -> str | None:
    t = props.get("type")
    if not isinstance(t, dict):
        return None
    if "const" in t:
        return str(t["const"])
    if isinstance(t.get("enum"), list) and len(t["enum"]) == 1:
        return str(t["enum"][0])
    return None


@lru_cache(maxsize=1)
def completion_model() -> dict:
    """What the editor completes: top-level keys, step types and the fields of each."""
    schema = json_schema()
    defs = schema.get("$defs", schema.get("definitions", {}))
    step_types: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    for definition in defs.values():
        props = definition.get("properties", {}) if isinstance(definition, dict) else {}
        kind = _type_const(props)
        if kind:
            step_types[kind] = sorted(props)
            if definition.get("description"):
                descriptions[kind] = definition["description"].strip().splitlines()[0]
    top = sorted(_resolve(schema, schema).get("properties", {}))
    from atp_core.orchestrator.schema import StepBase

    return {
        "top_level": top,
        "step_types": dict(sorted(step_types.items())),
        "descriptions": descriptions,
        # the fields every step has (what a step without a type yet may hold)
        "step_common": [f.alias or n for n, f in StepBase.model_fields.items()],
    }


def dumps_json(parsed: dict) -> str:
    return json.dumps(parsed, indent=2, ensure_ascii=False)
