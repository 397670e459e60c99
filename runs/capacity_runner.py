"""The worker side of a capacity run: its desks (copies of the template VM) and workload from
``atp_core.orchestrator.capacity_desks``, the controller ``capacity.run_capacity``; every step
and the end stored through ``runs.capacity_lifecycle``. The desks are destroyed at the end
whatever happened."""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from atp_core.errors import AtpError
from atp_core.orchestrator.capacity import CapacityResult, CapacityStep, run_capacity
from atp_core.status import Result

from . import capacity_lifecycle
from .models import CapacityRun

log = logging.getLogger(__name__)


def execute(capacity_id: int, *, worker: str = "", task_id: str = "") -> str:
    """Run the queued capacity run ``capacity_id``; its result (``stale`` when it was not
    queued). Never raises for the run's own problems: they end it ``error`` with the reason."""
    from atp_core.orchestrator.capacity_desks import TemplateDesks, typing_workload

    if not capacity_lifecycle.claim(capacity_id, worker=worker, task_id=task_id):
        return "stale"
    run = CapacityRun.objects.get(pk=capacity_id)
    artifacts = Path(tempfile.mkdtemp(prefix=f"atp-capacity{capacity_id}-"))
    desks = None
    result: CapacityResult | None = None
    seen: list[CapacityStep] = []
    try:
        desks = TemplateDesks(run.host_uri, run.template, tag=str(run.pk), artifacts=artifacts)
        result = run_capacity(
            desks.start,
            typing_workload(run.keys, artifacts),
            host=run.host_name,
            max_desks=run.max_desks,
            threshold=run.threshold,
            on_step=lambda step: capacity_lifecycle.record_step(capacity_id, _row(step, seen)),
            should_stop=lambda: capacity_lifecycle.cancel_reason(capacity_id),
        )
    except AtpError as exc:
        capacity_lifecycle.finish(capacity_id, Result.ERROR, str(exc))
        return Result.ERROR
    except Exception as exc:  # noqa: BLE001 — the run ends error with the reason, never stuck
        log.exception("capacity run %s: the controller failed", capacity_id)
        capacity_lifecycle.finish(capacity_id, Result.ERROR, f"{type(exc).__name__}: {exc}")
        return Result.ERROR
    finally:
        if desks is not None:
            desks.close()
        shutil.rmtree(artifacts, ignore_errors=True)
    outcome = result.to_dict()
    verdict = capacity_lifecycle.result_of(outcome)
    capacity_lifecycle.finish(capacity_id, verdict, result.reason, outcome=outcome)
    return verdict


def _row(step: CapacityStep, seen: list[CapacityStep]) -> dict:
    """The stored row of a step as it is measured: its ratio to the first step's p95."""
    seen.append(step)
    base = seen[0].p95 if seen[0].samples else None
    ratio = round(step.p95 / base, 3) if base and step.samples else None
    return {**step.to_dict(), "ratio": ratio}
