"""The "Run" form's side: turn a target selection and variable overrides into a launch.

The launch itself belongs to the runs app (``runs.services.launch_run``); it is imported lazily
so the scenario library works on its own.
"""

from __future__ import annotations

import yaml

from atp_core.errors import InvalidInput
from hosts.models import VirtualMachine

from .models import ScenarioRevision


def parse_variables(text: str) -> dict:
    """Overrides as YAML/JSON mapping or ``name=value`` lines; values are scalars."""
    text = (text or "").strip()
    if not text:
        return {}
    if "=" in text and ":" not in text.split("=", 1)[0]:
        result = {}
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "=" not in line:
                raise InvalidInput(f"variables line {n}: expected name=value, got {line!r}")
            key, value = line.split("=", 1)
            result[key.strip()] = value.strip()
    else:
        try:
            result = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise InvalidInput(f"variables: not valid YAML{where}") from None
        if not isinstance(result, dict):
            raise InvalidInput("variables: give a mapping (name: value) or name=value lines")
    for key, value in result.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidInput(f"variables: {key!r} is not a valid name (letters, digits, _)")
        if isinstance(value, dict | list):
            raise InvalidInput(f"variables.{key}: only scalar values can be overridden")
    return result


def parse_targets(vm_ids: list[str], tags: str) -> list[dict]:
    """Targets in the scenario format: ``{"vm": name, "host": host}`` and ``{"tag": tag}``."""
    targets: list[dict] = []
    ids = []
    for raw in vm_ids:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise InvalidInput(f"targets: {raw!r} is not a VM id") from None
    if ids:
        found = {
            vm.pk: vm for vm in VirtualMachine.objects.filter(pk__in=ids).select_related("host")
        }
        missing = sorted(set(ids) - set(found))
        if missing:
            raise InvalidInput(f"targets: no VM with id {missing[0]}")
        for pk in ids:
            vm = found[pk]
            target = {"vm": vm.name}
            if vm.host_id:
                target["host"] = vm.host.name
            targets.append(target)
    for tag in [t.strip() for t in (tags or "").split(",") if t.strip()]:
        targets.append({"tag": tag})
    return targets


def parse_pause_on(choice: str, step: str = "") -> str:
    """The run form's pause: a step id typed in wins over the chosen failure/mismatch."""
    step = (step or "").strip().removeprefix("step:")
    return f"step:{step}" if step else (choice or "").strip()


def launch(
    revision: ScenarioRevision,
    targets: list[dict],
    variables: dict,
    user,
    vdi_endpoint: str | None = None,
    pause_on: str | None = None,
    build: str | None = None,
):
    """Start a run of ``revision`` through the runs app; returns the Run. ``vdi_endpoint``
    (a name) picks the VDI endpoint; empty: the one the scenario names, or the first.
    ``build``: the build under test, a label the runs are grouped by."""
    if not revision.runnable:
        raise InvalidInput(f"revision {revision.number} did not validate and cannot run")
    try:
        from runs.services import launch_run
    except ImportError:
        raise InvalidInput("runs cannot be launched: the runs app has no launch service") from None
    return launch_run(
        revision,
        targets,
        variables,
        user,
        vdi_endpoint=vdi_endpoint or None,
        pause_on=pause_on or None,
        build=build or None,
    )
