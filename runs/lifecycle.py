"""The one owner of a run's life: the only writer of ``Run.state``, ``result``, ``reason`` and
the start and finish times.

    launch (services) ──> queued ──claim()──> running ──finish()──> finished
                             │      heartbeat() while running          ▲
                             └────────────── finish() ─────────────────┘
                               (cancelled before it started, could not be queued)

``claim`` marks a queued run running when its hosts have a free slot (``runs.slots`` counts
them). ``heartbeat`` tells the reaper the worker is alive. ``finish`` ends a run once: under the
run's row lock it refuses a run already finished (a late worker after the reaper, a second
cancel), otherwise it writes the result, closes what is still open, stores the one
``run_finished`` event (the last of the run) and queues the one notification after the commit.
Everything that ends a run (the worker, the reaper, a cancel, a broker that refused the task)
calls ``finish``; nothing else writes these fields
(``tests/unit/test_runs_lifecycle_single_writer.py``).

A run whose targets sit on several hosts runs as parts (``RunPart``, one per host), and each
part has the same small life, written here only: ``claim_part`` (a slot of its host; the first
part claimed marks the run running), ``heartbeat_part``, ``finish_part`` (event
``part_finished``). The part that ends last ends the run through ``finish`` with the worst of
the parts' results (``atp_core.status.combine_results``): still one ``run_finished``, one
notification. ``finish`` of the whole run (a cancel before it started, the reaper) ends its
open parts with it (``tests/dist/test_dist_run_parts.py``).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from atp_core.status import Result, RunState, StepStatus, combine_results
from atp_core.text import without_nul

from . import notify, slots
from .event_store import FINISHED_EVENT, store_event
from .models import NOT_IN_LOOP, Run, RunPart, StepResult
from .projection import drop_planned_loop_rows

log = logging.getLogger(__name__)


def claim(
    run_id: int, *, worker: str = "", task_id: str = "", worker_env_id: int | None = None
) -> slots.Claim:
    """Mark a queued run ``running`` if every host of its targets has a free slot.

    Returns ``Claim(CLAIMED)`` (the run is now running: started, heartbeat, worker, task_id
    set), ``Claim(NO_SLOT)`` (still queued: re-send the task with a countdown) or
    ``Claim(STALE)`` (the run is not queued any more: a duplicate or late message; drop it).
    ``worker_env_id``: the claiming worker's WorkerEnvironment (``runs.run_facts``).
    """
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None:
            return slots.Claim(slots.STALE, f"run {run_id} does not exist")
        if run.state != RunState.QUEUED:
            return slots.Claim(slots.STALE, f"run {run_id} is {run.state}, not queued")
        if run.parts.exists():  # a run on several hosts is claimed part by part
            return slots.Claim(slots.STALE, f"run {run_id} runs as parts, one per host")
        refused = slots.take_slots(run)
        if refused is not None:
            return refused
        now = timezone.now()
        run.state = RunState.RUNNING
        run.started = now
        run.heartbeat = now
        run.worker = worker or run.worker
        run.task_id = task_id or run.task_id
        run.worker_env_id = worker_env_id or run.worker_env_id
        run.save(update_fields=["state", "started", "heartbeat", "worker", "task_id", "worker_env"])
        return slots.Claim(slots.CLAIMED)


def heartbeat(run_id: int) -> bool:
    """The worker of a running run is alive; False when the run is not running any more."""
    return bool(
        Run.objects.filter(pk=run_id, state=RunState.RUNNING).update(heartbeat=timezone.now())
    )


def finish(
    run: Run | int,
    result: str | None,
    reason: str = "",
    *,
    data: dict | None = None,
    close_open: bool = True,
) -> bool:
    """End the run with ``result`` (``error`` when none) and ``reason``; False, and nothing
    stored or sent, when it had already finished or does not exist.

    ``data`` is the engine's ``run_finished`` payload (totals, duration); its ``reason`` is
    used when none is given. ``close_open``: steps still running end ``error`` (``cancelled``
    for a cancel), pending ones ``skipped``, unfinished targets take the run's result; the
    engine, which closes its own, passes False.
    """
    run_id = run if isinstance(run, int) else run.pk
    data = dict(data or {})
    result = result or Result.ERROR
    # PostgreSQL refuses NUL in text
    reason = without_nul(str(reason or data.get("reason") or ""))
    now = timezone.now()
    with transaction.atomic():
        locked = Run.objects.select_for_update().filter(pk=run_id).first()
        if locked is None:
            log.warning("run %s: finish(%s) of a run that does not exist", run_id, result)
            return False
        if locked.state == RunState.FINISHED:
            log.info(
                "run %s: finish(%s) refused, it already ended %s", run_id, result, locked.result
            )
            return False
        if close_open:
            _close_open(
                StepResult.objects.filter(run_id=run_id), locked.run_targets, result, reason, now
            )
        # a run on several hosts ended as a whole (a cancel, the reaper): its open parts end too
        locked.parts.exclude(state=RunState.FINISHED).update(
            state=RunState.FINISHED, result=result, reason=reason[:4000], finished=now
        )
        drop_planned_loop_rows(run_id)
        locked.state = RunState.FINISHED
        locked.result = result
        locked.reason = reason
        locked.finished = now
        fields = ["state", "result", "reason", "finished"]
        if data.get("totals"):
            locked.totals = data["totals"]
            fields.append("totals")
        locked.save(update_fields=fields)
        payload = {**data, "result": result, "reason": reason}
        payload.setdefault("duration", locked.duration)
        payload.setdefault("totals", locked.totals)
        store_event(run_id, FINISHED_EVENT, payload)
        _queue_notification(run_id)
    return True


PART_ENDED = "part"  # finish_part: the part ended, other parts still run
RUN_ENDED = "run"  # finish_part: it was the last part, the run ended with it


def claim_part(
    part_id: int, *, worker: str = "", task_id: str = "", worker_env_id: int | None = None
) -> slots.Claim:
    """Mark a queued part ``running`` if its host has a free slot; the first part claimed
    marks its run ``running`` too (started, worker, worker environment). Outcomes as
    ``claim``: STALE when the part or its run is not queued/running any more."""
    run_id = RunPart.objects.filter(pk=part_id).values_list("run_id", flat=True).first()
    if run_id is None:
        return slots.Claim(slots.STALE, f"part {part_id} does not exist")
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        part = RunPart.objects.select_for_update().filter(pk=part_id).first()
        if run is None or part is None or run.state == RunState.FINISHED:
            return slots.Claim(slots.STALE, f"run {run_id} has ended")
        if part.state != RunState.QUEUED:
            return slots.Claim(slots.STALE, f"part {part_id} is {part.state}, not queued")
        refused = slots.take_slots(run, part=part)
        now = timezone.now()
        # a worker of the part's host took its task: the host queue has a consumer (the
        # reaper's "no worker" deadline and the page's "waiting for a worker" read this)
        part.taken_at = now
        part.worker = worker or part.worker
        if refused is not None:
            part.save(update_fields=["taken_at", "worker"])
            return refused
        part.state = RunState.RUNNING
        part.started = part.heartbeat = now
        part.task_id = task_id or part.task_id
        part.save(update_fields=["state", "started", "heartbeat", "worker", "task_id", "taken_at"])
        if run.state == RunState.QUEUED:
            run.state = RunState.RUNNING
            run.started = run.heartbeat = now
            run.worker = worker or run.worker
            run.worker_env_id = worker_env_id or run.worker_env_id
            run.save(update_fields=["state", "started", "heartbeat", "worker", "worker_env"])
        return slots.Claim(slots.CLAIMED)


def heartbeat_part(part_id: int, attempt: int | None = None) -> bool:
    """The worker of a running part is alive (its run's heartbeat too); False when the part
    is not running any more (or runs another ``attempt`` than this worker's)."""
    now = timezone.now()
    rows = RunPart.objects.filter(pk=part_id, state=RunState.RUNNING)
    if attempt is not None:
        rows = rows.filter(attempt=attempt)
    alive = rows.update(heartbeat=now)
    if alive:
        Run.objects.filter(parts=part_id, state=RunState.RUNNING).update(heartbeat=now)
    return bool(alive)


def finish_part(
    part_id: int,
    result: str | None,
    reason: str = "",
    *,
    data: dict | None = None,
    close_open: bool = True,
    attempt: int | None = None,
) -> str:
    """End one part with ``result`` (``error`` when none): event ``part_finished``; when it was
    the last open part the run ends through ``finish`` with the worst result of its parts, the
    parts' reasons (host: reason) and their totals summed. Returns ``RUN_ENDED``,
    ``PART_ENDED``, or "" (refused: the part or its run had already ended, or the part runs
    another ``attempt`` than the caller's: a worker cut off while its part started again).

    ``close_open`` as in ``finish``, for this part's targets only."""
    data = dict(data or {})
    result = result or Result.ERROR
    reason = without_nul(str(reason or data.get("reason") or ""))
    run_id = RunPart.objects.filter(pk=part_id).values_list("run_id", flat=True).first()
    if run_id is None:
        return ""
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        part = RunPart.objects.select_for_update().filter(pk=part_id).first()
        if run is None or part is None or run.state == RunState.FINISHED:
            return ""
        if part.state == RunState.FINISHED:
            log.info("part %s: finish(%s) refused, it already ended", part_id, result)
            return ""
        if attempt is not None and attempt != part.attempt:
            log.info("part %s: attempt %s ended, it runs %s", part_id, attempt, part.attempt)
            return ""
        if close_open:
            _close_open(
                StepResult.objects.filter(target__part=part), part.targets, result, reason, now
            )
        part.state = RunState.FINISHED
        part.result = result
        part.reason = reason[:4000]
        part.finished = now
        part.totals = data.get("totals") or {}
        part.save(update_fields=["state", "result", "reason", "finished", "totals"])
        store_event(
            run_id,
            "part_finished",
            {
                "host": part.host_name,
                "worker": part.worker,
                "attempt": part.attempt,
                "result": result,
                "reason": reason,
            },
        )
        parts = list(run.parts.order_by("pk"))
        if any(p.state != RunState.FINISHED for p in parts):
            return PART_ENDED
        totals: dict = {}
        for p in parts:
            for key, value in (p.totals or {}).items():
                if isinstance(value, int | float):
                    totals[key] = totals.get(key, 0) + value
        reasons = "; ".join(
            f"{p.host_name}: {p.reason}" for p in parts if p.reason and p.result != Result.PASSED
        )
        run_result = combine_results([p.result for p in parts])
        # each part closed its own targets (its engine, or close_open above)
        data = {"totals": totals} if totals else None
        finish(run_id, run_result, reasons, data=data, close_open=False)
        return RUN_ENDED


def retry_part(part_id: int, reason: str) -> bool:
    """Start a running part again as its next attempt (its worker died and the run has
    attempts left, ``Run.max_attempts``): the part is ``queued`` again with ``attempt + 1``,
    its targets and steps are as before their first start (the dead attempt's events stay in
    the run's stream), event ``part_requeued``; the caller sends its task after the commit
    (``runs.tasks.dispatch_part``). False (nothing changed) when the part is not running or has
    no attempt left. A late word of the dead attempt's worker is refused by its attempt number
    (``finish_part``, ``heartbeat_part``)."""
    run_id = RunPart.objects.filter(pk=part_id).values_list("run_id", flat=True).first()
    if run_id is None:
        return False
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("revision").filter(pk=run_id).first()
        part = RunPart.objects.select_for_update().filter(pk=part_id).first()
        if run is None or part is None or run.state != RunState.RUNNING:
            return False
        if part.state != RunState.RUNNING or part.attempt >= run.max_attempts:
            return False
        now = timezone.now()
        lost = {"attempt": part.attempt, "worker": part.worker}
        steps = StepResult.objects.filter(target__part=part)
        steps.exclude(iteration=NOT_IN_LOOP).delete()
        steps.update(
            status=StepStatus.PENDING,
            attempt=0,
            started=None,
            finished=None,
            duration=None,
            error="",
            output="",
            metrics={},
        )
        part.targets.update(
            state=RunState.QUEUED, result=None, started=None, finished=None, totals={}
        )
        part.state = RunState.QUEUED
        part.attempt += 1
        part.reason = without_nul(f"attempt {lost['attempt']}: {reason}")[:4000]
        part.queued_at = now
        part.started = part.heartbeat = part.taken_at = None
        part.worker = ""
        part.save(
            update_fields=[
                "state",
                "attempt",
                "reason",
                "queued_at",
                "started",
                "heartbeat",
                "taken_at",
                "worker",
            ]
        )
        store_event(
            run_id,
            "part_requeued",
            {
                "host": part.host_name,
                "attempt": part.attempt,
                "max_attempts": run.max_attempts,
                "lost_attempt": lost["attempt"],
                "lost_worker": lost["worker"],
                "reason": reason,
            },
        )
    log.warning(
        "run %s part %s: attempt %s queued (%s)", run_id, part.host_name, part.attempt, reason
    )
    return True


def finish_bare(run_id: int, result: str, reason: str) -> bool:
    """Last resort when ``finish`` itself failed (a database hiccup mid-way): the fields only,
    so a run never stays ``running``; its notification still goes out once."""
    with transaction.atomic():
        RunPart.objects.filter(run_id=run_id).exclude(state=RunState.FINISHED).update(
            state=RunState.FINISHED, result=result, finished=timezone.now()
        )
        ended = (
            Run.objects.filter(pk=run_id)
            .exclude(state=RunState.FINISHED)
            .update(
                state=RunState.FINISHED,
                result=result,
                reason=without_nul(reason)[:4000],
                finished=timezone.now(),
            )
        )
        if ended:
            _queue_notification(run_id)
    return bool(ended)


def _close_open(steps, targets, result: str, reason: str, now) -> None:
    """What is still open when a run or a part ends: running steps end ``error`` (``cancelled``
    for a cancel), pending ones ``skipped``, unfinished targets take the ``result``."""
    cancelled = result == Result.CANCELLED
    steps.filter(status=StepStatus.RUNNING).update(
        status=StepStatus.CANCELLED if cancelled else StepStatus.ERROR,
        finished=now,
        error=reason,
    )
    steps.filter(status=StepStatus.PENDING).update(status=StepStatus.SKIPPED)
    targets.filter(finished__isnull=True).update(
        state=RunState.FINISHED, result=result, finished=now
    )


def _queue_notification(run_id: int) -> None:
    """Webhooks/e-mail of the finished run, sent after the commit (``runs.notify``)."""
    try:
        notify.on_run_finished(run_id)
    except Exception:  # a notification never breaks a run's end
        log.warning("run %s: notification not queued", run_id, exc_info=True)
