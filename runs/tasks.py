"""The worker side of a run: claim a slot, run the engine, end the run. Thin on purpose:
the engine call lives in ``runs.engine_runner``, the run's state in ``runs.lifecycle``.

A run on several hosts is sent as one ``runs.execute_part`` per host, each to its host's
queue; the same steps apply to each part."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from celery.utils import uuid
from django.conf import settings

from atp_core.status import Result, RunState

from . import slots

if TYPE_CHECKING:
    from django.db.models import QuerySet

log = logging.getLogger(__name__)


def hard_limit_reason(exc: TimeLimitExceeded) -> str:
    """The reason of a run (or part) whose task Celery's hard time limit killed."""
    limit = exc.args[0] if exc.args else None
    at = f" of {int(float(limit))} s" if isinstance(limit, int | float) else ""
    return (
        f"the worker killed the run's task at its hard time limit{at}: the run did not end "
        "by its own timeout"
    )


class RunTask(Task):
    """The task of a run or a part: when Celery's hard time limit kills the pool process that
    ran it (prefork pools), the worker's main process calls ``on_failure`` with
    ``TimeLimitExceeded``; the run (the part) is ended ``error`` there and then, rather than by
    the reaper once its heartbeats are missed. Its slot is free from that moment."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if not isinstance(exc, TimeLimitExceeded) or not args:
            return
        from . import lifecycle
        from .models import Run, RunPart

        reason = hard_limit_reason(exc)
        try:
            if self.name == "runs.execute_part":
                part = RunPart.objects.filter(pk=args[0], task_id=task_id).first()
                if part is not None and part.state == RunState.RUNNING:
                    log.error("run %s part %s: %s", part.run_id, part.host_name, reason)
                    if lifecycle.finish_part(part.pk, Result.ERROR, reason) == lifecycle.RUN_ENDED:
                        from .engine_runner import store_run_reports

                        store_run_reports(part.run_id)
                return
            run = Run.objects.filter(pk=args[0], task_id=task_id).only("state").first()
            if run is not None and run.state == RunState.RUNNING:
                log.error("run %s: %s", run.pk, reason)
                lifecycle.finish(run.pk, Result.ERROR, reason)
        except Exception:  # the reaper ends it once its heartbeats are missed
            log.exception("run task %s: the end after its hard time limit failed", task_id)


@shared_task(name="runs.execute_run", bind=True, acks_late=True, base=RunTask)
def execute_run(self, run_id: int) -> str:
    """Run ``run_id`` if it is still queued and its hosts have a free slot; returns the result
    (or ``stale``/``requeued``). Never raises for a run's problems."""
    from . import engine_runner, lifecycle
    from .models import Run

    run = Run.objects.filter(pk=run_id).only("state", "cancel_requested").first()
    if run is None or run.state != RunState.QUEUED:
        log.info("run %s: not queued (%s), task dropped", run_id, run and run.state)
        return "stale"
    return _claim_and_execute(
        self.request,
        f"run {run_id}",
        cancelled=run.cancel_requested,
        end_cancelled=lambda: lifecycle.finish(run_id, Result.CANCELLED, CANCELLED_BEFORE),
        claim=lambda **who: lifecycle.claim(run_id, **who),
        row=Run.objects.filter(pk=run_id),
        send_again=lambda countdown: dispatch(
            Run.objects.select_related("revision").get(pk=run_id), countdown=countdown
        ),
        execute=lambda worker: engine_runner.execute(run_id, worker=worker),
    )


@shared_task(name="runs.execute_part", bind=True, acks_late=True, base=RunTask)
def execute_part(self, part_id: int) -> str:
    """Run the part ``part_id`` of a run on several hosts (its host's targets) if it is still
    queued and its host has a free slot; returns its result (or ``stale``/``requeued``)."""
    from . import engine_runner, lifecycle
    from .models import RunPart

    part = RunPart.objects.filter(pk=part_id).select_related("run").first()
    if part is None or part.state != RunState.QUEUED or part.run.state == RunState.FINISHED:
        log.info("part %s: not queued, task dropped", part_id)
        return "stale"
    return _claim_and_execute(
        self.request,
        f"part {part_id}",
        cancelled=part.run.cancel_requested,
        end_cancelled=lambda: lifecycle.finish_part(part_id, Result.CANCELLED, CANCELLED_BEFORE),
        claim=lambda **who: lifecycle.claim_part(part_id, **who),
        row=RunPart.objects.filter(pk=part_id),
        send_again=lambda countdown: dispatch_part(part, countdown=countdown),
        execute=lambda worker: engine_runner.execute_part(part_id, worker=worker),
    )


CANCELLED_BEFORE = "cancelled before it started"


def _claim_and_execute(
    request,
    label: str,
    *,
    cancelled: bool,
    end_cancelled: Callable[[], object],
    claim: Callable[..., slots.Claim],
    row: QuerySet,
    send_again: Callable[[float], str],
    execute: Callable[[str], str],
) -> str:
    """The one shape of a run's or a part's task (``row``: its row, to read its latest send):
    a cancel asked before it started ends it; else it is claimed (``runs.lifecycle``) and run,
    dropped when stale, or sent again with a countdown when its host is full — by the latest
    send only, so copies never multiply."""
    from .run_facts import worker_environment_id

    worker = getattr(request, "hostname", "") or ""
    task_id = getattr(request, "id", "") or ""
    if cancelled:
        end_cancelled()
        return Result.CANCELLED
    claimed = claim(worker=worker, task_id=task_id, worker_env_id=worker_environment_id())
    if claimed.outcome == slots.STALE:
        return "stale"
    if not claimed.ok:
        latest = row.values_list("task_id", flat=True).first()
        if task_id and latest and task_id != latest:
            # a late copy (it was sent again since): the latest send re-queues, not this one
            log.info("%s: %s; superseded copy %s dropped", label, claimed.reason, task_id)
            return "stale"
        countdown = float(getattr(settings, "ATP_SLOT_RETRY_COUNTDOWN", 10))
        log.info("%s: %s; again in %ss", label, claimed.reason, countdown)
        send_again(countdown)
        return "requeued"
    return execute(worker)


def dispatch_part(part, *, countdown: float | None = None) -> str:
    """Send one part's task to its host's queue (as ``dispatch``: the row knows the id and the
    time before the message exists); returns its task id."""
    from django.utils import timezone

    from atp_site.celery import run_task_options

    from .models import RunPart

    task_id = uuid()
    RunPart.objects.filter(pk=part.pk, state=RunState.QUEUED).update(
        task_id=task_id, dispatched_at=timezone.now()
    )
    options = {**run_task_options(part.run), "queue": part.queue}
    if countdown:
        options["countdown"] = countdown
    execute_part.apply_async(args=[part.pk], task_id=task_id, **options)
    return task_id


def dispatch(run, *, countdown: float | None = None) -> str:
    """Send ``run``'s task to its queue, with time limits from the scenario timeout; returns its
    task id. The row records the id and the time first (the reaper re-sends a run still queued
    long after its last send), so the message never exists before the row knows it. A run on
    several hosts sends each of its queued parts (``dispatch_part``); the first's id is
    returned."""
    from django.utils import timezone

    from atp_site.celery import run_task_options

    from .models import Run

    parts = list(run.parts.select_related("run__revision"))
    if parts:
        Run.objects.filter(pk=run.pk, state=RunState.QUEUED).update(dispatched_at=timezone.now())
        queued = [p for p in parts if p.state == RunState.QUEUED]
        ids = [dispatch_part(part, countdown=countdown) for part in queued]
        return ids[0] if ids else ""

    task_id = uuid()
    Run.objects.filter(pk=run.pk, state=RunState.QUEUED).update(
        task_id=task_id, dispatched_at=timezone.now()
    )
    options = run_task_options(run)
    if countdown:
        options["countdown"] = countdown
    execute_run.apply_async(args=[run.pk], task_id=task_id, **options)
    return task_id


@shared_task(name="runs.execute_capacity", bind=True, acks_late=True)
def execute_capacity(self, capacity_id: int) -> str:
    """Run capacity run ``capacity_id`` on this host's worker (``runs.capacity_runner``)."""
    from . import capacity_runner

    return capacity_runner.execute(
        capacity_id,
        worker=getattr(self.request, "hostname", "") or "",
        task_id=getattr(self.request, "id", "") or "",
    )


def dispatch_capacity(run) -> str:
    """Send ``run``'s (a CapacityRun) task to its host's queue, with time limits that cover
    every desk's start and every step (``capacity_seconds``); returns the task id."""
    from atp_site.celery import time_limits

    from .models import CapacityRun

    task_id = uuid()
    CapacityRun.objects.filter(pk=run.pk, state=RunState.QUEUED).update(task_id=task_id)
    soft, hard = time_limits(capacity_seconds(run.max_desks, run.keys))
    execute_capacity.apply_async(
        args=[run.pk], task_id=task_id, queue=run.queue, soft_time_limit=soft, time_limit=hard
    )
    return task_id


def capacity_seconds(max_desks: int, keys: int) -> float:
    """The longest a capacity run may take: per desk a start and readiness (at most 400 s) and
    a step of its workload (per key at most its 20 s timeout and the pause), every step."""
    return max_desks * 400.0 + max_desks * (5 + keys * 21.0)
