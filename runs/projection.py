"""The one reducer of stored events onto the report's tables: StepResult and RunTarget rows.

``project(run_id, event)`` runs inside the transaction that stores the event
(``runs.event_store``). The Run's state, result, reason and finish time are not written here:
``runs.lifecycle`` is their only writer (it also calls ``drop_planned_loop_rows`` at the end).
"""

from __future__ import annotations

from typing import Any

from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce

from atp_core.status import RunState, StepStatus

from .models import NOT_IN_LOOP, RunEvent, RunTarget, StepResult


def _iteration(value: Any) -> int:
    return NOT_IN_LOOP if value is None else int(value)


def _target(run_id: int, name: str) -> RunTarget | None:
    qs = RunTarget.objects.filter(run_id=run_id)
    found = qs.filter(name=name).first() if name else None
    return found or qs.order_by("ordinal").first()


class Targets:
    """A run's targets by name, read once: what ``_target`` answers, without a query per event.

    A run's targets are made at launch and never change, so the event writer keeps one of these
    for the whole run (``RunEventSink``); an empty answer is not kept (asked again next time).
    """

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self._by_name: dict[str, RunTarget] = {}
        self._first: RunTarget | None = None

    def get(self, name: str) -> RunTarget | None:
        if self._first is None:
            rows = list(RunTarget.objects.filter(run_id=self.run_id).order_by("ordinal"))
            if not rows:
                return None
            self._by_name = {t.name: t for t in rows}
            self._first = rows[0]
        return self._by_name.get(name, self._first) if name else self._first


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


def _step_fields(kind: str, data: dict, now) -> dict:
    """The columns a step_started/step_finished event sets on its step row."""
    fields: dict[str, Any] = {}
    if data.get("name"):
        fields["name"] = str(data["name"])[:255]
    if data.get("type"):
        fields["type"] = str(data["type"])[:64]
    if kind == "step_started":
        fields["status"] = StepStatus.RUNNING
        fields["attempt"] = int(data.get("attempt") or 1)
        # the first attempt's start stays (a retry does not move it)
        fields["started"] = Coalesce(F("started"), Value(now, output_field=DateTimeField()))
        fields["finished"] = None
        return fields
    fields["status"] = data.get("status") or StepStatus.ERROR
    fields["finished"] = now
    fields["duration"] = data.get("duration")
    fields["error"] = str(data.get("error") or "")
    metrics = data.get("metrics")
    fields["metrics"] = _metrics(metrics) if isinstance(metrics, dict) else {}
    output = data.get("output")
    if output not in (None, ""):
        fields["output"] = StepResult.cap_output(
            output if isinstance(output, str) else _text(output)
        )
    return fields


def _project_step(run_id: int, target: RunTarget, ev: RunEvent, data: dict) -> None:
    """One ``UPDATE`` of the step's row; the row is made first when it is not there yet (a
    loop iteration, a step the plan did not list)."""
    iteration = _iteration(data.get("iteration"))
    fields = _step_fields(ev.type, data, ev.created)
    rows = StepResult.objects.filter(target=target, step_id=ev.step_id, iteration=iteration)
    if not rows.update(**fields):
        _step_row(run_id, target, ev.step_id, iteration)
        rows.update(**fields)


# the event types ``project`` writes anything for; a batch of none of them (log lines, outputs,
# screenshots) needs no transaction around its one statement (runs.event_store)
PROJECTED = frozenset(
    {"run_started", "target_started", "step_started", "step_finished", "target_finished"}
)


def project(run_id: int, ev: RunEvent, targets: Targets | None = None) -> None:
    """What an event changes on a run's targets and steps (the report's tables); the Run's own
    fields are written by ``runs.lifecycle`` only. ``targets``: the writer's kept answers of
    which target an event names (one query per event without it)."""
    data, now = ev.payload or {}, ev.created
    kind = ev.type
    if targets is None:
        targets = Targets(run_id)
    if kind == "run_started":
        plan = data.get("plan") or []
        run_targets = list(RunTarget.objects.filter(run_id=run_id))
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
                for t in run_targets
                for i, p in enumerate(plan)
            ],
            ignore_conflicts=True,
        )
    elif kind == "target_started":
        target = targets.get(ev.target)
        if target:
            RunTarget.objects.filter(pk=target.pk).update(state=RunState.RUNNING, started=now)
    elif kind in ("step_started", "step_finished") and ev.step_id:
        target = targets.get(ev.target)
        if target is None:
            return
        _project_step(run_id, target, ev, data)
    elif kind == "target_finished":
        target = targets.get(ev.target)
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
