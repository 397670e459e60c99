"""The one owner of a capacity run's life: the only writer of ``CapacityRun.state``,
``result``, ``reason``, its steps, its verdict and its start and finish times.

    launch (capacity_services) ──> queued ──claim()──> running ──finish()──> finished
                                      │       record_step() per step          ▲
                                      └─────────────── finish() ──────────────┘
                                        (cancelled before it started, could not be queued)

``finish`` ends a capacity run once (under its row lock; a second call is refused).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from atp_core.status import Result, RunState
from atp_core.text import without_nul

from .models import CapacityRun

log = logging.getLogger(__name__)


def claim(capacity_id: int, *, worker: str = "", task_id: str = "") -> bool:
    """Mark a queued capacity run running; False when it is not queued (a late or duplicate
    message)."""
    now = timezone.now()
    return bool(
        CapacityRun.objects.filter(pk=capacity_id, state=RunState.QUEUED).update(
            state=RunState.RUNNING, started=now, heartbeat=now, worker=worker, task_id=task_id
        )
    )


def record_step(capacity_id: int, step: dict) -> bool:
    """Store one measured step (``CapacityResult.to_dict()['steps']`` item) of a running
    capacity run; False when it is not running any more."""
    with transaction.atomic():
        capacity_run = CapacityRun.objects.select_for_update().filter(pk=capacity_id).first()
        if capacity_run is None or capacity_run.state != RunState.RUNNING:
            return False
        capacity_run.steps = [*capacity_run.steps, step]
        capacity_run.heartbeat = timezone.now()
        capacity_run.save(update_fields=["steps", "heartbeat"])
    return True


def cancel_reason(capacity_id: int) -> str | None:
    """``run_capacity``'s ``should_stop``: the reason when a cancel was asked for."""
    if CapacityRun.objects.filter(pk=capacity_id, cancel_requested=True).exists():
        return "cancelled"
    return None


def finish(capacity_id: int, result: str, reason: str, *, outcome: dict | None = None) -> bool:
    """End the capacity run with ``result`` and ``reason``; ``outcome`` is the controller's
    ``CapacityResult.to_dict()`` (capacity, verdict, baseline, steps). False, and nothing
    written, when it had already finished."""
    outcome = outcome or {}
    with transaction.atomic():
        capacity_run = CapacityRun.objects.select_for_update().filter(pk=capacity_id).first()
        if capacity_run is None or capacity_run.state == RunState.FINISHED:
            log.info("capacity run %s: finish(%s) refused", capacity_id, result)
            return False
        capacity_run.state = RunState.FINISHED
        capacity_run.result = result
        capacity_run.reason = without_nul(str(reason or outcome.get("reason") or ""))[:4000]
        capacity_run.finished = timezone.now()
        fields = ["state", "result", "reason", "finished"]
        if outcome:
            capacity_run.capacity = outcome.get("capacity")
            capacity_run.at_least = bool(outcome.get("at_least"))
            capacity_run.baseline_p95 = outcome.get("baseline_p95")
            capacity_run.steps = list(outcome.get("steps") or capacity_run.steps)
            capacity_run.verdict = (
                str(outcome.get("summary") or "")[:255] if capacity_run.capacity else ""
            )
            fields += ["capacity", "at_least", "baseline_p95", "steps", "verdict"]
        capacity_run.save(update_fields=fields)
    return True


def result_of(outcome: dict) -> str:
    """passed when a capacity was measured (at least one step held), cancelled on a cancel,
    else error: the host's trouble, never a product failure."""
    if outcome.get("reason") == "cancelled":
        return Result.CANCELLED
    return Result.PASSED if outcome.get("capacity") else Result.ERROR
