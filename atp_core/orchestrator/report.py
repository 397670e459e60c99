"""Run reports: every planned step with status, duration, output, error and artifacts.

The one JSON report (``to_dict``/``to_json``) and the one JUnit writer (one ``testsuite`` per
target, one ``testcase`` per step execution), used by the engine's CLI, by the worker for the
reports it stores and by the web for every download (``runs.reports`` builds a ``RunReport``
from the stored rows). In JUnit a ``failed`` step is a ``failure``, an ``error`` step an
``error``; every other status (``skipped``, ``cancelled``, and ``pending``/``running`` in the
report of a run still going) is ``skipped``, with the status as its message when the step has
no error: a cancelled step was stopped on purpose and says nothing about the product.
Each suite's ``properties`` carry its target's latency per action kind
(``latency.<kind>.<count|p50|p95|max>``, seconds) and logon phases
(``logon.<phase>.<count|median|p95>``); each testcase's, the step's own metrics.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from atp_core.status import FINAL_STATUSES, Result, StepStatus

from .latency import summarize, summarize_logon


def empty_totals() -> dict[str, int]:
    return {status.value: 0 for status in FINAL_STATUSES}


@dataclass
class StepReport:
    id: str
    name: str
    type: str
    status: str = StepStatus.SKIPPED
    duration: float = 0.0
    error: str | None = None
    output: str = ""
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    iteration: int | None = None
    attempts: int = 0
    depth: int = 0
    phase: str = "main"
    branch: str | None = None
    started_at: float | None = None
    # measured experience numbers: latency (s), action, latency_to, max_latency, ...
    metrics: dict[str, Any] = field(default_factory=dict)
    # the last attempt's screen mismatch (ScreenMismatch.details), for a pause; not reported
    check: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "duration": round(self.duration, 4),
            "error": self.error,
            "output": self.output,
            "artifacts": list(self.artifacts),
            "iteration": self.iteration,
            "attempts": self.attempts,
            "depth": self.depth,
            "phase": self.phase,
            "branch": self.branch,
            "metrics": dict(self.metrics),
        }


@dataclass
class TargetReport:
    name: str
    vm: str = ""
    host_uri: str = ""
    display: str = "hypervisor"  # the display path of keyboard, mouse and screen
    result: str = Result.PASSED
    duration: float = 0.0
    error: str | None = None
    steps: list[StepReport] = field(default_factory=list)
    video: dict[str, Any] | None = None  # what the recorder made (seconds, bytes, ...) or why not

    @property
    def totals(self) -> dict[str, int]:
        totals = empty_totals()
        for step in self.steps:
            totals[step.status] = totals.get(step.status, 0) + 1
        return totals

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "vm": self.vm,
            "host_uri": self.host_uri,
            "display": self.display,
            "result": self.result,
            "duration": round(self.duration, 4),
            "error": self.error,
            "totals": self.totals,
            "latency": summarize(self.steps),
            "logon": summarize_logon(self.steps),
            "video": self.video,
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass
class RunReport:
    scenario: str
    run_id: str = ""
    result: str = Result.PASSED
    duration: float = 0.0
    started_at: float = 0.0
    error: str | None = None
    targets: list[TargetReport] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        totals = empty_totals()
        for target in self.targets:
            for status, n in target.totals.items():
                totals[status] = totals.get(status, 0) + n
        return totals

    @property
    def steps(self) -> list[StepReport]:
        return [s for t in self.targets for s in t.steps]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "run_id": self.run_id,
            "result": self.result,
            "duration": round(self.duration, 4),
            "started_at": self.started_at,
            "error": self.error,
            "totals": self.totals,
            "latency": summarize(self.steps),
            "logon": summarize_logon(self.steps),
            "targets": [t.to_dict() for t in self.targets],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, default=str)

    def to_junit_xml(self) -> str:
        """JUnit XML: a ``testsuite`` per target, a ``testcase`` per step execution."""
        root = ET.Element("testsuites", name=self.scenario)
        for key, value in _junit_counts(self.steps).items():
            root.set(key, value)
        root.set("time", f"{self.duration:.3f}")
        for target in self.targets:
            suite = ET.SubElement(
                root,
                "testsuite",
                name=f"{self.scenario} [{target.name}]",
                **_junit_counts(target.steps),
                time=f"{target.duration:.3f}",
            )
            props = ET.SubElement(suite, "properties")
            for key, value in (
                ("target", target.name),
                ("vm", target.vm),
                ("display", target.display),
                ("result", target.result),
            ):
                if value:
                    ET.SubElement(props, "property", name=key, value=str(value))
            for kind, stats in summarize(target.steps).items():
                for stat, value in stats.items():
                    name = f"latency.{kind}.{stat}"
                    ET.SubElement(props, "property", name=name, value=str(value))
            for phase, stats in summarize_logon(target.steps).items():
                for stat, value in stats.items():
                    name = f"logon.{phase}.{stat}"
                    ET.SubElement(props, "property", name=name, value=str(value))
            for step in target.steps:
                # "3.1 [2] name": the label of the live view and the report page
                label = step.id if step.iteration is None else f"{step.id} [{step.iteration}]"
                name = f"{label} {step.name}".strip()
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=f"{_classname(self.scenario)}.{_classname(target.name)}",
                    name=name,
                    time=f"{step.duration:.3f}",
                )
                message = _xml_safe(step.error or "")
                if step.status == StepStatus.FAILED:
                    el = ET.SubElement(case, "failure", message=message, type=step.type)
                    el.text = message
                elif step.status == StepStatus.ERROR:
                    el = ET.SubElement(case, "error", message=message, type=step.type)
                    el.text = message
                elif step.status != StepStatus.PASSED:
                    ET.SubElement(case, "skipped", message=message or step.status)
                if step.metrics:
                    props = ET.SubElement(case, "properties")
                    for key, value in sorted(step.metrics.items()):
                        if value is not None:
                            ET.SubElement(props, "property", name=key, value=_xml_safe(str(value)))
                if step.output:
                    ET.SubElement(case, "system-out").text = _xml_safe(step.output)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _junit_counts(steps: list[StepReport]) -> dict[str, str]:
    statuses = [s.status for s in steps]
    failures = statuses.count(StepStatus.FAILED)
    errors = statuses.count(StepStatus.ERROR)
    passed = statuses.count(StepStatus.PASSED)
    return {
        "tests": str(len(statuses)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": str(len(statuses) - passed - failures - errors),
    }


def _classname(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text) or "_"


def _xml_safe(text: str) -> str:
    """Text without the control characters XML 1.0 cannot carry (guest output may have them)."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)
