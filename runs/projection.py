"""The one reducer of stored events onto the report's tables: StepResult and RunTarget rows.

``project(run_id, event)`` runs inside the transaction that stores the event
(``runs.event_store``). The Run's state, result, reason and finish time are not written here:
``runs.lifecycle`` is their only writer (it also calls ``drop_planned_loop_rows`` at the end).
"""

from __future__ import annotations

from typing import Any

from atp_core.status import RunState, StepStatus

from .models import NOT_IN_LOOP, RunEvent, RunTarget, StepResult


def _iteration(value: Any) -> int:
    return NOT_IN_LOOP if value is None else int(value)


def _target(run_id: int, name: str) -> RunTarget | None:
    qs = RunTarget.objects.filter(run_id=run_id)
    found = qs.filter(name=name).first() if name else None
    return found or qs.order_by("ordinal").first()


def _step_row(run_id: int, target: RunTarget, step_id: str, iteration: int) -> StepResult:
    row = StepResult.objects.filter(target=target, step_id=step_id, iteration=iteration).first()
    if row is not None:
        return row
    planned = StepResult.objects.filter(
        target=target, step_id=step_id, iteration=NOT_IN_LOOP
    ).first()
    return StepResult.objects.create(
        run_id=run_id,
        target=target,
        step_id=step_id,
        iteration=iteration,
        ordinal=planned.ordinal if planned else _next_ordinal(target),
        name=planned.name if planned else "",
        type=planned.type if planned else "",
        depth=planned.depth if planned else 0,
        phase=planned.phase if planned else ("finally" if "F" in step_id else "main"),
    )


def _next_ordinal(target: RunTarget) -> int:
    last = StepResult.objects.filter(target=target).order_by("-ordinal").first()
    return (last.ordinal + 1) if last else 0


def project(run_id: int, ev: RunEvent) -> None:
    """What an event changes on a run's targets and steps (the report's tables); the Run's own
    fields are written by ``runs.lifecycle`` only."""
    data, now = ev.payload or {}, ev.created
    kind = ev.type
    if kind == "run_started":
        plan = data.get("plan") or []
        targets = list(RunTarget.objects.filter(run_id=run_id))
        StepResult.objects.bulk_create(
            [
                StepResult(
                    run_id=run_id,
                    target=t,
                    step_id=str(p.get("id")),
                    iteration=NOT_IN_LOOP,
                    ordinal=i,
                    name=str(p.get("name") or "")[:255],
                    type=str(p.get("type") or "")[:64],
                    depth=int(p.get("depth") or 0),
                    phase=p.get("phase") or "main",
                )
                for t in targets
                for i, p in enumerate(plan)
            ],
            ignore_conflicts=True,
        )
    elif kind == "target_started":
        target = _target(run_id, ev.target)
        if target:
            RunTarget.objects.filter(pk=target.pk).update(state=RunState.RUNNING, started=now)
    elif kind in ("step_started", "step_finished") and ev.step_id:
        target = _target(run_id, ev.target)
        if target is None:
            return
        row = _step_row(run_id, target, ev.step_id, _iteration(data.get("iteration")))
        if data.get("name"):
            row.name = str(data["name"])[:255]
        if data.get("type"):
            row.type = str(data["type"])[:64]
        if kind == "step_started":
            row.status = StepStatus.RUNNING
            row.attempt = int(data.get("attempt") or 1)
            row.started = row.started or now
            row.finished = None
        else:
            row.status = data.get("status") or StepStatus.ERROR
            row.finished = now
            row.duration = data.get("duration")
            row.error = str(data.get("error") or "")
            metrics = data.get("metrics")
            row.metrics = _metrics(metrics) if isinstance(metrics, dict) else {}
            output = data.get("output")
            if output not in (None, ""):
                row.output = StepResult.cap_output(
                    output if isinstance(output, str) else _text(output)
                )
        row.save()
    elif kind == "target_finished":
        target = _target(run_id, ev.target)
        if target:
            RunTarget.objects.filter(pk=target.pk).update(
                state=RunState.FINISHED,
                result=data.get("result"),
                finished=now,
                totals=data.get("totals") or {},
            )


def drop_planned_loop_rows(run_id: int) -> None:
    """Loop children: the planned row (iteration -1) is replaced by the iteration rows."""
    looped = (
        StepResult.objects.filter(run_id=run_id)
        .exclude(iteration=NOT_IN_LOOP)
        .values_list("target_id", "step_id")
        .distinct()
    )
    for target_id, step_id in looped:
        StepResult.objects.filter(
            target_id=target_id,
            step_id=step_id,
            iteration=NOT_IN_LOOP,
            status__in=(StepStatus.PENDING, StepStatus.SKIPPED),
        ).delete()


def _text(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False, indent=2)
    except (TypeError, ValueError):
        return str(value)


def _metrics(metrics: dict) -> dict:
    """A step's metrics as stored: plain numbers and short strings, at most 32 of them."""
    kept: dict = {}
    for key, value in list(metrics.items())[:32]:
        if value is None or isinstance(value, bool | int | float):
            kept[str(key)[:64]] = value
        else:
            kept[str(key)[:64]] = str(value)[:200]
    return kept
