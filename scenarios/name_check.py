"""Warnings for names a scenario uses that this installation does not know.

The engine's loader checks the shape of a scenario; whether ``vm: atp-demo-9``, a host, a
reference image or a VDI endpoint exists is only known here, against the inventory and the
library. An unknown name is a *warning* (line, column, what is known): the scenario may be
meant for another installation, or the VM may appear later, so saving is never blocked.
Names built from ``${...}`` variables are left alone: their value is known only at run time.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator

from atp_core.orchestrator.yamlpos import PosDict, PosList, parse_text

# keys whose value is a list of steps, and the one key whose value is a single (check) step
_STEP_LISTS = ("steps", "finally")
_STEP_ONE = ("check",)
_MAX_ALLOWED_SHOWN = 8


def _args(step: PosDict) -> tuple[PosDict, str]:
    """A step's fields and type: ``{type: x, ...}`` or the short form ``{x: {...}}``."""
    if "type" not in step and len(step) == 1:
        (kind, fields), *_ = step.items()
        if isinstance(fields, PosDict):
            return fields, str(kind)
    return step, str(step.get("type", ""))


def _steps(items: object, path: str) -> Iterator[tuple[PosDict, str, str]]:
    """Every step under ``items`` (containers and checks included): (fields, type, path)."""
    if not isinstance(items, list):
        return
    for i, step in enumerate(items):
        if not isinstance(step, PosDict):
            continue
        fields, kind = _args(step)
        here = f"{path}[{i}]"
        yield fields, kind, here
        for key in _STEP_LISTS:
            yield from _steps(fields.get(key), f"{here}.{key}")
        for key in _STEP_ONE:
            if isinstance(fields.get(key), PosDict):
                yield from _steps(PosList([fields[key]]), f"{here}.{key}")


class _Known:
    """The installation's names, each kind read from the database once, when first needed."""

    def __init__(self) -> None:
        self._cache: dict[str, list[str]] = {}

    def names(self, kind: str) -> list[str]:
        if kind not in self._cache:
            self._cache[kind] = sorted(set(_LOADERS[kind]()))
        return self._cache[kind]


def _vm_names() -> list[str]:
    from hosts.models import VirtualMachine

    return list(VirtualMachine.objects.exclude(state="gone").values_list("name", flat=True))


def _host_names() -> list[str]:
    from hosts.models import Host

    return list(Host.objects.values_list("name", flat=True))


def _reference_names() -> list[str]:
    from .models import ReferenceImage

    return list(ReferenceImage.objects.values_list("name", flat=True))


def _endpoint_names() -> list[str]:
    from hosts.models import VdiEndpoint

    return list(VdiEndpoint.objects.values_list("name", flat=True))


_LOADERS: dict[str, Callable[[], list[str]]] = {
    "VM": _vm_names,
    "host": _host_names,
    "reference image": _reference_names,
    "VDI endpoint": _endpoint_names,
}


def _warning(container: PosDict, key: str, path: str, kind: str, value: str, known: list[str]):
    line, column = container.vpos.get(key) or container.pos or (None, None)
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if not known:
        hint = f"; there is no {kind} yet"
    return {
        "line": line,
        "column": column,
        "path": f"{path}.{key}" if path else key,
        "message": f"no {kind} named {value!r} here{hint} (saving is allowed; the run would fail)",
        "allowed": known[:_MAX_ALLOWED_SHOWN] or None,
        "severity": "warning",
    }


def unknown_name_warnings(text: str) -> list[dict]:
    """Warnings (issue dicts with ``severity: "warning"``) for VM, host, reference-image and
    VDI-endpoint names in ``text`` that do not exist; [] for text the loader cannot read."""
    data, problems = parse_text(text)
    if problems or not isinstance(data, PosDict):
        return []
    known = _Known()
    found: list[dict] = []

    def check(container: PosDict, key: str, path: str, kind: str, value: object = None) -> None:
        value = container.get(key) if value is None else value
        if not isinstance(value, str) or not value or "${" in value:
            return
        names = known.names(kind)
        if value not in names:
            found.append(_warning(container, key, path, kind, value, names))

    targets = data.get("targets")
    if isinstance(targets, PosList):
        for i, target in enumerate(targets):
            if isinstance(target, PosDict):
                check(target, "vm", f"targets[{i}]", "VM")
                check(target, "host", f"targets[{i}]", "host")
    for key in _STEP_LISTS:
        for step, kind, path in _steps(data.get(key), key):
            if "reference" in step:
                check(step, "reference", path, "reference image")
            if kind == "vdi_login":
                check(step, "endpoint", path, "VDI endpoint")
            target = step.get("target")
            if isinstance(target, str) and "${" not in target:
                # "vm" or "host/vm": the VM named by the step's target
                check(step, "target", path, "VM", target.rsplit("/", 1)[-1])
    return sorted(found, key=lambda w: (w["line"] or 0, w["column"] or 0))
