"""A run's report for downloads and the API: JSON (metadata, targets, steps, artifacts, and the
engine's own report when the worker stored one) and JUnit XML (the engine's when stored, else
built from the stored steps)."""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET

from atp_core.orchestrator.latency import summarize, summarize_logon

from .models import Artifact, Run

log = logging.getLogger(__name__)


def _stored(run: Run, name: str) -> str | None:
    items = getattr(run, "all_artifacts", None)
    if items is None:
        items = list(run.artifacts.filter(kind="report"))
    for artifact in items:
        if artifact.kind == "report" and artifact.name == name and artifact.file:
            try:
                with artifact.file.open("rb") as fh:
                    return fh.read().decode("utf-8")
            except OSError:
                log.warning("run %s: report %s is missing from storage", run.pk, name)
    return None


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _artifact(a: Artifact) -> dict:
    return {
        "id": a.pk,
        "name": a.name,
        "kind": a.kind,
        "mime": a.mime,
        "size": a.size,
        "step_id": a.step_id,
        "url": a.file.url if a.file else "",
    }


def report_dict(run: Run) -> dict:
    """``run`` as loaded by ``selectors.run_detail``, as a JSON-ready dict."""
    engine = None
    text = _stored(run, "report.json")
    if text:
        try:
            engine = json.loads(text)
        except ValueError:
            engine = None
    return {
        "id": run.pk,
        "scenario": run.scenario.name,
        "revision": run.revision.number,
        "state": run.state,
        "result": run.result,
        "reason": run.reason,
        "launched_by": run.launched_by.username if run.launched_by_id else None,
        "created": _iso(run.created),
        "started": _iso(run.started),
        "finished": _iso(run.finished),
        "duration": run.duration,
        "worker": run.worker,
        "attempt": run.attempt,
        "variables": run.variables,
        "totals": run.totals,
        "latency": summarize(run.steps.all()),
        "logon": summarize_logon(run.steps.all()),
        "targets": [
            {
                "name": t.name,
                "host": t.host.name if t.host_id else None,
                "vm": t.vm_name,
                "result": t.result,
                "started": _iso(t.started),
                "finished": _iso(t.finished),
                "totals": t.totals,
                "steps": [
                    {
                        "id": s.step_id,
                        "iteration": None if s.iteration < 0 else s.iteration,
                        "name": s.name,
                        "type": s.type,
                        "depth": s.depth,
                        "phase": s.phase,
                        "status": s.status,
                        "attempt": s.attempt,
                        "duration": s.duration,
                        "error": s.error,
                        "output": s.output,
                        "metrics": s.metrics,
                    }
                    for s in t.steps.all()
                ],
                "latency": summarize(t.steps.all()),
                "artifacts": [_artifact(a) for a in t.artifacts.all()],
            }
            for t in run.run_targets.all()
        ],
        "artifacts": [_artifact(a) for a in getattr(run, "all_artifacts", run.artifacts.all())],
        "engine_report": engine,
    }


def report_junit(run: Run) -> str:
    """JUnit XML: the engine's when the worker stored it, else one testsuite per target."""
    stored = _stored(run, "junit.xml")
    if stored:
        return stored
    suites = ET.Element("testsuites", name=run.name)
    for target in run.run_targets.all():
        steps = list(target.steps.all())
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"{run.name}@{target.name}",
            tests=str(len(steps)),
            failures=str(sum(s.status == "failed" for s in steps)),
            errors=str(sum(s.status == "error" for s in steps)),
            skipped=str(sum(s.status in ("skipped", "cancelled", "pending") for s in steps)),
        )
        for s in steps:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{run.name}.{target.name}",
                name=f"{s.step_id} {s.name}".strip(),
                time=f"{s.duration or 0:.3f}",
            )
            if s.status in ("failed", "error"):
                tag = "failure" if s.status == "failed" else "error"
                ET.SubElement(case, tag, message=s.error[:500]).text = s.error
            elif s.status in ("skipped", "cancelled", "pending"):
                ET.SubElement(case, "skipped", message=s.status)
            if s.metrics:
                props = ET.SubElement(case, "properties")
                for key, value in sorted(s.metrics.items()):
                    if value is not None:
                        ET.SubElement(props, "property", name=key, value=str(value))
            if s.output:
                ET.SubElement(case, "system-out").text = s.output
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
