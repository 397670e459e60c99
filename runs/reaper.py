"""The reaper: runs whose worker vanished, cancels that were ignored, queued runs whose task
message was lost. Celery beat calls ``runs.reap`` every ATP_REAPER_INTERVAL seconds (15 s).

It decides from the database only, never from the broker's internals, so the same code holds on
Redis and on RabbitMQ: the broker only carries wake-ups. A run ends through
``runs.lifecycle.finish`` (which refuses a second end and sends the one notification).

Decisions are pure functions (``judge_running``, ``judge_cancel``, ``judge_queued``) so they are
unit-tested without a worker; ``reap`` applies them under row locks, re-checking each run's state
inside the transaction so a worker that wakes up at the same moment never loses its run twice.

Worker death. A running run's worker updates ``Run.heartbeat`` every ATP_HEARTBEAT_INTERVAL
(5 s). When the heartbeat is older than ATP_HEARTBEAT_WINDOW (30 s) the run ends ``error`` with
the reason "worker <name> stopped sending heartbeats at <time>", an event ``worker_lost`` is
recorded and every stored event is kept. If ``attempt < max_attempts`` a NEW run is launched,
linked by ``rerun_of``, with ``attempt + 1`` (event ``requeued`` on the old run). A new run
rather than the same one with attempt+1 because: the dead attempt's steps, events and
artifacts stay exactly as they were (step results are unique per target and step, a second
attempt on the same run would overwrite them); the new run's events start again at seq 1, so
a live view of the new run never mixes two attempts; and a late redelivery of the dead
attempt's task message finds its run finished and does nothing.

Time limits. Thread and solo pools do not enforce Celery's time limits; a run still running
past its hard limit (``atp_site.celery.time_limits``) is ended ``timed_out`` and its task revoked.

Lost messages. Every send of a run's task stores ``Run.dispatched_at`` and the task id first
(``runs.tasks.dispatch``). A run still ``queued`` ATP_QUEUED_LOST_AFTER (120 s) after its last
send was not taken by any worker (its message was lost with a broker that restarted without
persistence, or held by a worker that died): it is sent again from its row (event ``resent``).
A copy that was only late does no harm: the first message claims the run and any other finds it
running and is dropped; a message that is not the run's latest send does not re-queue itself
while the host is full, so copies never multiply.

Parts. A run on several hosts (``RunPart`` per host) is judged part by part: a running part
whose heartbeat stopped (event ``worker_lost`` naming its host) starts again as its next
attempt in the same run when the run has attempts left (``lifecycle.retry_part``: the part is
queued again on its host's queue, event ``part_requeued``), else it ends ``error`` through
``lifecycle.finish_part`` and the run ends when its other parts end. A queued part of a running
run whose send is old is sent again. The run's hard time limit and an ignored cancel are judged
on the run as a whole and terminate every part's task.

No worker on a host. A queued part whose host queue showed no worker for
ATP_PART_WORKER_DEADLINE (600 s) — no worker took its task since it was queued and none sent
a heartbeat of anything from that queue (``runs.part_status``) — ends its targets ``error``
with "no worker consumed host.<name> within N s" (event ``no_worker``): an infrastructure
error, not a product failure; the run ends when its other parts end. A part that a worker
took but that waits for a free slot of its host is not ended (its worker is there).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from atp_core.status import Result, RunState

log = logging.getLogger(__name__)

OK = "ok"
LOST = "lost"
OVERDUE = "overdue"
ESCALATE = "escalate"
RESEND = "resend"
NO_WORKER = "no_worker"


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str = ""


def _fmt(ts: datetime | None) -> str:
    if ts is None:
        return "never"
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- pure decisions ----------------------------------------------------------------------------


def judge_running(
    *,
    worker: str,
    started: datetime | None,
    heartbeat: datetime | None,
    now: datetime,
    window: float,
    hard_limit: float,
) -> Decision:
    """What to do with a running run: OK, LOST (no heartbeat within ``window`` s) or OVERDUE
    (alive but past its hard time limit, which thread/solo pools do not enforce)."""
    last = heartbeat or started
    who = worker or "(unknown)"
    if last is None:
        return Decision(LOST, f"worker {who} never sent a heartbeat")
    if (now - last).total_seconds() > window:
        if started is not None and (last - started).total_seconds() >= hard_limit:
            return Decision(
                LOST,
                f"worker {who} stopped sending heartbeats at {_fmt(last)}, after the run's "
                f"hard time limit of {int(hard_limit)} s",
            )
        return Decision(LOST, f"worker {who} stopped sending heartbeats at {_fmt(last)}")
    if started is not None and (now - started).total_seconds() > hard_limit + window:
        return Decision(
            OVERDUE,
            f"still running {int((now - started).total_seconds())} s after it started, past "
            f"its hard time limit of {int(hard_limit)} s; the task was terminated",
        )
    return Decision(OK)


def judge_cancel(*, requested_at: datetime | None, now: datetime, grace: float) -> Decision:
    """ESCALATE when a cancel was requested more than ``grace`` s ago and the run still runs."""
    if requested_at is None:
        return Decision(OK)
    waited = (now - requested_at).total_seconds()
    if waited > grace:
        return Decision(
            ESCALATE,
            f"cancel requested at {_fmt(requested_at)}; the run did not stop within "
            f"{int(grace)} s, so its task was terminated",
        )
    return Decision(OK)


def judge_queued(*, dispatched_at: datetime, now: datetime, lost_after: float) -> Decision:
    """RESEND a queued run whose last send is more than ``lost_after`` s old: no worker took
    it (decided from the database alone; a duplicate is dropped by the task)."""
    waited = (now - dispatched_at).total_seconds()
    if waited <= lost_after:
        return Decision(OK)
    return Decision(
        RESEND, f"queued {int(waited)} s after its task was sent and no worker has taken it"
    )


def judge_waiting_part(
    *, queue: str, quiet_since: datetime, now: datetime, deadline: float, seen=None
) -> Decision:
    """NO_WORKER when nothing on ``queue`` saw a worker for more than ``deadline`` s since
    ``quiet_since`` (``runs.part_status.quiet_since``); ``seen``: the queue's last sign."""
    if (now - quiet_since).total_seconds() <= deadline:
        return Decision(OK)
    if seen is None:
        last = f"no worker has ever taken work from {queue}"
    else:
        last = f"last worker seen on {queue}: {seen.worker or '?'} at {_fmt(seen.at)}"
    return Decision(NO_WORKER, f"no worker consumed {queue} within {int(deadline)} s ({last})")


# --- actions -----------------------------------------------------------------------------------


def _record(run, type_: str, data: dict) -> None:
    from runs.event_store import record_event

    record_event(run, type_, data)


def _hard_limit(run) -> float:
    from atp_site.celery import run_timeout, time_limits

    return float(time_limits(run_timeout(run))[1])


def _revoke(task_id: str) -> None:
    """Revoke ``task_id`` and kill the pool process running it (prefork pools; thread and solo
    pools cannot terminate a task, the engine stops on its own when it sees its run ended).

    SIGKILL, not SIGTERM: a prefork child handles SIGTERM by raising SystemExit in its main
    thread, which then waits for the engine's target threads; an engine stuck in a blocking
    call (a hung guest agent, a teardown that retries it) keeps the child alive and busy after
    the run was ended. Only SIGKILL ends it at once; the pool starts a new child.
    """
    if not task_id:
        return
    try:
        from atp_site.celery import app

        app.control.revoke(task_id, terminate=True, signal="SIGKILL")
    except Exception:  # noqa: BLE001 - the run is ended in the database either way
        log.warning("reaper: revoke of %s failed", task_id, exc_info=True)


def mark_lost(run_id: int, *, now: datetime | None = None, window: float | None = None) -> bool:
    """End a running run whose worker stopped sending heartbeats (re-checked under lock) and
    re-queue it as a new attempt when it has attempts left. True if it was ended."""
    from runs import lifecycle
    from runs.models import Run

    window = settings.ATP_HEARTBEAT_WINDOW if window is None else window
    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("revision").get(pk=run_id)
        now = now or timezone.now()
        if run.state != RunState.RUNNING:
            return False
        decision = judge_running(
            worker=run.worker,
            started=run.started,
            heartbeat=run.heartbeat,
            now=now,
            window=window,
            hard_limit=_hard_limit(run),
        )
        if decision.action != LOST:
            return False
        _record(
            run,
            "worker_lost",
            {
                "worker": run.worker,
                "last_heartbeat": run.heartbeat.isoformat() if run.heartbeat else None,
                "reason": decision.reason,
                "attempt": run.attempt,
                "max_attempts": run.max_attempts,
            },
        )
        log.warning("run %s: %s", run.pk, decision.reason)
        if run.attempt < run.max_attempts and "hard time limit" not in decision.reason:
            # launched in this transaction (its task is sent after commit), recorded before
            # run_finished so that run_finished stays the last event of the run
            requeue_attempt(run)
        lifecycle.finish(run.pk, Result.ERROR, decision.reason)
    return True


def requeue_attempt(run):
    """Launch the next attempt of ``run`` as a new run linked by ``rerun_of``."""
    from atp_core.errors import InvalidInput
    from runs.models import Run
    from runs.services import launch_run

    try:
        with transaction.atomic():
            new = launch_run(
                run.revision,
                list(run.targets or []),
                dict(run.variables or {}),
                run.launched_by,
                schedule=run.schedule,
                rerun_of=run,
                retries=max(0, run.max_attempts - 1),
                build=run.build,
            )
            Run.objects.filter(pk=new.pk).update(
                attempt=run.attempt + 1,
                max_attempts=run.max_attempts,
                schedule_name=run.schedule_name,  # kept when its schedule was deleted since
            )
            new.attempt, new.max_attempts = run.attempt + 1, run.max_attempts
            _record(
                run,
                "requeued",
                {"run": new.pk, "attempt": new.attempt, "max_attempts": new.max_attempts},
            )
    except InvalidInput as exc:
        _record(run, "requeue_failed", {"reason": str(exc)})
        log.warning("run %s: could not re-queue: %s", run.pk, exc)
        return None
    log.warning("run %s: re-queued as run %s (attempt %s)", run.pk, new.pk, new.attempt)
    return new


def _task_ids(run) -> list[str]:
    """The run's task id and those of its running parts (a run on several hosts)."""
    parts = run.parts.filter(state=RunState.RUNNING).values_list("task_id", flat=True)
    return [tid for tid in [run.task_id, *parts] if tid]


def mark_part_lost(part_id: int, *, now: datetime | None = None, window: float | None = None):
    """A running part whose worker stopped sending heartbeats (re-checked under lock): its next
    attempt is queued when the run has attempts left, else its targets end ``error`` and the
    run ends when it was its last open part. True if it was re-queued or ended."""
    from runs import lifecycle
    from runs.models import Run, RunPart

    window = settings.ATP_HEARTBEAT_WINDOW if window is None else window
    run_id = RunPart.objects.values_list("run_id", flat=True).get(pk=part_id)
    with transaction.atomic():
        # the run's row first, then the part's: the order of lifecycle's locks
        run = Run.objects.select_for_update().select_related("revision").get(pk=run_id)
        part = RunPart.objects.select_for_update().get(pk=part_id)
        part.run = run
        now = now or timezone.now()
        if part.state != RunState.RUNNING or run.state != RunState.RUNNING:
            return False
        decision = judge_running(
            worker=part.worker,
            started=part.started,
            heartbeat=part.heartbeat,
            now=now,
            window=window,
            hard_limit=_hard_limit(part.run),
        )
        if decision.action != LOST:
            return False
        reason = f"{decision.reason} (host {part.host_name})"
        _record(
            part.run,
            "worker_lost",
            {
                "worker": part.worker,
                "host": part.host_name,
                "last_heartbeat": part.heartbeat.isoformat() if part.heartbeat else None,
                "reason": reason,
                "attempt": part.attempt,
                "max_attempts": run.max_attempts,
            },
        )
        log.warning("run %s part %s: %s", part.run_id, part.host_name, decision.reason)
        if "hard time limit" not in decision.reason and lifecycle.retry_part(part.pk, reason):
            from runs.tasks import dispatch_part

            # its next attempt waits on its host's queue
            transaction.on_commit(lambda: dispatch_part(RunPart.objects.get(pk=part_id)))
            return True
        ended = lifecycle.finish_part(part.pk, Result.ERROR, reason)
    if ended == lifecycle.RUN_ENDED:
        from runs.engine_runner import store_run_reports

        store_run_reports(part.run_id)
    return bool(ended)


def resend_part(part_id: int, reason: str, *, now: datetime, lost_after: float) -> bool:
    """Send a queued part of a running run again from its row (re-checked under lock)."""
    from runs.models import Run, RunPart
    from runs.tasks import dispatch_part

    with transaction.atomic():
        part = RunPart.objects.select_for_update().get(pk=part_id)
        part.run = Run.objects.select_related("revision").get(pk=part.run_id)
        sent_at = part.dispatched_at or part.run.created
        if part.state != RunState.QUEUED or (now - sent_at).total_seconds() <= lost_after:
            return False
        _record(
            part.run,
            "resent",
            {"reason": reason, "previous_task_id": part.task_id, "host": part.host_name},
        )
        transaction.on_commit(lambda: dispatch_part(part))
    log.warning("run %s part %s: task re-sent (%s)", part.run_id, part.host_name, reason)
    return True


def end_part_without_worker(part_id: int, *, now: datetime, deadline: float) -> bool:
    """End a queued part whose host queue showed no worker for ``deadline`` s (re-checked
    under lock): its targets end ``error``, event ``no_worker``. True if it was ended."""
    from runs import lifecycle, part_status
    from runs.models import Run, RunPart

    run_id = RunPart.objects.values_list("run_id", flat=True).get(pk=part_id)
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        part = RunPart.objects.select_for_update().get(pk=part_id)
        if part.state != RunState.QUEUED or run.state == RunState.FINISHED:
            return False
        seen = part_status.last_seen_on_queues([part.queue]).get(part.queue)
        decision = judge_waiting_part(
            queue=part.queue,
            quiet_since=part_status.quiet_since(part, run.created, seen),
            now=now,
            deadline=deadline,
            seen=seen,
        )
        if decision.action != NO_WORKER:
            return False
        _record(
            run,
            "no_worker",
            {"host": part.host_name, "queue": part.queue, "reason": decision.reason},
        )
        log.warning("run %s part %s: %s", run_id, part.host_name, decision.reason)
        ended = lifecycle.finish_part(part.pk, Result.ERROR, decision.reason)
    _revoke_queued(part.task_id)
    if ended == lifecycle.RUN_ENDED:
        from runs.engine_runner import store_run_reports

        store_run_reports(run_id)
    return bool(ended)


def _revoke_queued(task_id: str) -> None:
    """Revoke a task that no worker runs (a worker that starts later drops it)."""
    if not task_id:
        return
    try:
        from atp_site.celery import app

        app.control.revoke(task_id)
    except Exception:  # noqa: BLE001 - the part ended in the database; a late task finds that
        log.warning("reaper: revoke of %s failed", task_id, exc_info=True)


def end_overdue(run_id: int, reason: str) -> bool:
    from runs import lifecycle
    from runs.models import Run

    run = Run.objects.get(pk=run_id)
    for task_id in _task_ids(run):
        _revoke(task_id)
    return lifecycle.finish(run_id, Result.TIMED_OUT, reason)


def escalate_cancel(run_id: int, reason: str) -> bool:
    """Terminate the task of a run that ignored its cancel flag; the run ends ``cancelled``."""
    from runs import lifecycle
    from runs.models import Run

    run = Run.objects.get(pk=run_id)
    if run.state != RunState.RUNNING:
        return False
    _record(run, "cancel_escalated", {"task_id": run.task_id, "worker": run.worker})
    for task_id in _task_ids(run):
        _revoke(task_id)
    return lifecycle.finish(run_id, Result.CANCELLED, reason)


def resend(run_id: int, reason: str, *, now: datetime, lost_after: float) -> bool:
    """Send a queued run's task again from its row (re-checked under the row lock)."""
    from runs.models import Run
    from runs.services import send_run

    with transaction.atomic():
        run = Run.objects.select_for_update().select_related("revision").get(pk=run_id)
        sent_at = run.dispatched_at or run.created
        if run.state != RunState.QUEUED or (now - sent_at).total_seconds() <= lost_after:
            return False
        _record(run, "resent", {"reason": reason, "previous_task_id": run.task_id})
        transaction.on_commit(lambda: send_run(run))
    log.warning("run %s: task re-sent (%s)", run_id, reason)
    return True


def reap(now: datetime | None = None) -> dict:
    """One pass over active runs; returns what was done, by run id."""
    from django.db.models import Max
    from django.db.models.functions import Coalesce

    from runs.models import Run, RunEvent

    now = now or timezone.now()
    window = settings.ATP_HEARTBEAT_WINDOW
    done: dict[str, list[int]] = {"lost": [], "overdue": [], "cancelled": [], "resent": []}

    running = list(
        Run.objects.filter(state=RunState.RUNNING)
        .select_related("revision")
        .prefetch_related("parts")
        .order_by("pk")
    )
    cancel_times = dict(
        RunEvent.objects.filter(
            run__in=[r.pk for r in running if r.cancel_requested], type="cancel_requested"
        )
        .values_list("run_id")
        .annotate(at=Max("created"))
    )
    lost_after = settings.ATP_QUEUED_LOST_AFTER
    for run in running:
        parts = list(run.parts.all())
        decision = judge_running(
            worker=run.worker,
            started=run.started,
            # a run on several hosts is lost part by part (below); as a whole it can only
            # be overdue or ignore its cancel
            heartbeat=now if parts else run.heartbeat,
            now=now,
            window=window,
            hard_limit=_hard_limit(run),
        )
        try:
            for part in parts if decision.action == OK else ():
                if part.state == RunState.RUNNING:
                    verdict = judge_running(
                        worker=part.worker,
                        started=part.started,
                        heartbeat=part.heartbeat,
                        now=now,
                        window=window,
                        hard_limit=_hard_limit(run),
                    )
                    if verdict.action == LOST and mark_part_lost(part.pk, now=now, window=window):
                        done["lost"].append(run.pk)
                elif part.state == RunState.QUEUED:
                    sent_at = part.dispatched_at or run.created
                    queued = judge_queued(dispatched_at=sent_at, now=now, lost_after=lost_after)
                    if queued.action == RESEND and resend_part(
                        part.pk, queued.reason, now=now, lost_after=lost_after
                    ):
                        done["resent"].append(run.pk)
            if decision.action == LOST:
                if mark_lost(run.pk, now=now, window=window):
                    done["lost"].append(run.pk)
            elif decision.action == OVERDUE:
                if end_overdue(run.pk, decision.reason):
                    done["overdue"].append(run.pk)
            elif run.cancel_requested:
                c = judge_cancel(
                    requested_at=cancel_times.get(run.pk, run.started),
                    now=now,
                    grace=settings.ATP_CANCEL_GRACE,
                )
                if c.action == ESCALATE and escalate_cancel(run.pk, c.reason):
                    done["cancelled"].append(run.pk)
        except Exception:  # noqa: BLE001 - one bad run never stops the reaper
            log.exception("reaper: run %s", run.pk)

    queued = (
        Run.objects.filter(state=RunState.QUEUED)
        .annotate(sent_at=Coalesce("dispatched_at", "created"))
        .filter(sent_at__lt=now - timedelta(seconds=lost_after))
        .order_by("pk")
    )
    for run in queued:
        decision = judge_queued(dispatched_at=run.sent_at, now=now, lost_after=lost_after)
        if decision.action == RESEND:
            try:
                if resend(run.pk, decision.reason, now=now, lost_after=lost_after):
                    done["resent"].append(run.pk)
            except Exception:  # noqa: BLE001
                log.exception("reaper: re-send of run %s", run.pk)
    done["no_worker"] = _reap_parts_without_worker(now)
    if any(done.values()):
        log.info("reaper: %s", done)
    return done


def _reap_parts_without_worker(now: datetime) -> list[int]:
    """Queued parts (of queued or running runs) whose host queue showed no worker for
    ATP_PART_WORKER_DEADLINE seconds end ``error``; returns their runs' ids."""
    from runs import part_status
    from runs.models import RunPart

    deadline = part_status.worker_deadline()
    horizon = now - timedelta(seconds=deadline)
    candidates = list(
        RunPart.objects.filter(state=RunState.QUEUED, run__created__lt=horizon)
        .exclude(run__state=RunState.FINISHED)
        .select_related("run")
        .order_by("pk")
    )
    if not candidates:
        return []
    seen = part_status.last_seen_on_queues([p.queue for p in candidates])
    ended = []
    for part in candidates:
        last = seen.get(part.queue)
        decision = judge_waiting_part(
            queue=part.queue,
            quiet_since=part_status.quiet_since(part, part.run.created, last),
            now=now,
            deadline=deadline,
            seen=last,
        )
        if decision.action != NO_WORKER:
            continue
        try:
            if end_part_without_worker(part.pk, now=now, deadline=deadline):
                ended.append(part.run_id)
        except Exception:  # noqa: BLE001 - one bad part never stops the reaper
            log.exception("reaper: part %s", part.pk)
    return ended


@shared_task(name="runs.reap", ignore_result=True)
def reap_task() -> dict:
    return reap()
