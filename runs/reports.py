"""A run's report, from its stored rows: one builder, the engine's writers.

``build_report`` turns a run as stored (``Run``, ``RunTarget``, ``StepResult``, ``Artifact``)
into the engine's ``RunReport``; its ``to_dict()`` and ``to_junit_xml()`` are the one JSON
report and the one JUnit writer, the same the engine's CLI (``python -m atp_core run --json
--junit``) and the worker's stored ``report.json``/``junit.xml`` use. Every download (the
report page's ``report.json``/``junit.xml``, the API's ``/api/runs/<id>/report/``) goes through
``report_json``/``report_junit`` here.
"""

from __future__ import annotations

from bisect import bisect_right

from django.urls import reverse

from atp_core.orchestrator.report import RunReport, StepReport, TargetReport

from .models import Artifact, Run, RunTarget, StepResult
from .selectors import run_detail


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
        "url": reverse("runs:artifact", args=[a.run_id, a.pk]),
    }


def _step_rows(target: RunTarget) -> list[StepResult]:
    """The target's steps in plan order. A step inside a loop is planned as one row
    (iteration -1) until its iterations run; then the iteration rows stand for it (as on
    the report page)."""
    steps = list(target.steps.all())
    with_iterations = {s.step_id for s in steps if s.iteration >= 0}
    return [s for s in steps if s.iteration >= 0 or s.step_id not in with_iterations]


def _step_artifacts(rows: list[StepResult], artifacts: list[Artifact]) -> dict[int, list[dict]]:
    """Artifacts per step row: by step id, and among a loop's iterations the one that had
    started when the artifact was stored."""
    by_step: dict[str, list[StepResult]] = {}
    for row in rows:
        by_step.setdefault(row.step_id, []).append(row)
    out: dict[int, list[dict]] = {row.pk: [] for row in rows}
    for art in artifacts:
        candidates = by_step.get(art.step_id)
        if not candidates:
            continue
        row = candidates[0]
        if len(candidates) > 1 and art.created:
            starts = [c.started.timestamp() if c.started else 0.0 for c in candidates]
            row = candidates[max(0, bisect_right(starts, art.created.timestamp()) - 1)]
        out[row.pk].append(_artifact(art))
    return out


def build_report(run: Run) -> RunReport:
    """``run`` (as loaded by ``selectors.run_detail``) as the engine's ``RunReport``."""
    report = RunReport(
        scenario=run.name,
        run_id=str(run.pk),
        result=run.result or "",
        duration=run.duration or 0.0,
        started_at=run.started.timestamp() if run.started else 0.0,
        error=run.reason or None,
    )
    for t in run.run_targets.all():
        rows = _step_rows(t)
        artifacts = _step_artifacts(rows, list(t.artifacts.all()))
        target = TargetReport(
            name=t.name,
            vm=t.vm_name,
            host_uri=t.host_uri,
            display="",  # not stored per target
            result=t.result or "",
            duration=t.duration or 0.0,
        )
        for s in rows:
            target.steps.append(
                StepReport(
                    id=s.step_id,
                    name=s.name,
                    type=s.type,
                    status=s.status,
                    duration=s.duration or 0.0,
                    error=s.error,
                    output=s.output,
                    artifacts=artifacts[s.pk],
                    iteration=None if s.iteration < 0 else s.iteration,
                    attempts=s.attempt,
                    depth=s.depth,
                    phase=s.phase,
                    started_at=s.started.timestamp() if s.started else None,
                    metrics=dict(s.metrics or {}),
                )
            )
        report.targets.append(target)
    return report


def report_json(run_id: int) -> dict:
    """The run's JSON report: the engine's report of the stored rows plus what only the web
    knows (revision, state, reason, who launched it, times, variables, artifacts)."""
    run = run_detail(run_id)
    report = build_report(run)
    data = report.to_dict()
    data.update(
        run_id=run.pk,
        revision=run.revision.number if run.revision_id else None,
        state=run.state,
        result=run.result,
        reason=run.reason,
        launched_by=run.launched_by.username if run.launched_by_id else None,
        created=_iso(run.created),
        started=_iso(run.started),
        finished=_iso(run.finished),
        duration=run.duration,
        worker=run.worker,
        attempt=run.attempt,
        variables=run.variables,
        artifacts=[_artifact(a) for a in run.all_artifacts],
    )
    for entry, t in zip(data["targets"], run.run_targets.all(), strict=True):
        entry.update(
            host=t.host.name if t.host_id else None,
            result=t.result,
            started=_iso(t.started),
            finished=_iso(t.finished),
        )
    return data


def report_junit(run_id: int) -> str:
    """The run's JUnit XML: a ``testsuite`` per target, a ``testcase`` per step execution."""
    return build_report(run_detail(run_id)).to_junit_xml()
