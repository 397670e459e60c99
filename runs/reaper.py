"""The reaper: runs whose worker vanished, cancels that were ignored, queued runs whose task
message was lost. Celery beat calls ``runs.reap`` every ATP_REAPER_INTERVAL seconds (15 s).

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
"""

from __future__ import annotations

import base64
import json
import logging
import time
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


def judge_queued(
    *,
    queued_since: datetime,
    last_resent: datetime | None,
    now: datetime,
    lost_after: float,
    in_broker: bool | None,
) -> Decision:
    """RESEND a queued run whose task message is gone.

    ``in_broker`` is True/False when the broker can be inspected (Redis), None when it cannot
    (then a run queued for ``lost_after`` s is re-sent; the task ignores duplicates). Never more
    often than every ``lost_after`` s.
    """
    since = max(queued_since, last_resent) if last_resent else queued_since
    waited = (now - since).total_seconds()
    if waited <= lost_after or in_broker:
        return Decision(OK)
    where = "is in no queue" if in_broker is False else "was not taken by any worker"
    return Decision(RESEND, f"queued for {int(waited)} s and its task message {where}")


# --- broker inspection -------------------------------------------------------------------------


def _decode_run_id(raw: bytes | str) -> int | None:
    """The run id of a Redis-transport message of ``runs.execute_run``, else None."""
    try:
        message = json.loads(raw)
        if isinstance(message, list):  # unacked entries: [message, exchange, routing_key]
            message = message[0]
        headers = message.get("headers") or {}
        if headers.get("task") != "runs.execute_run":
            return None
        body = message.get("body")
        if message.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        decoded = json.loads(body)
        args = decoded[0] if isinstance(decoded, list) else decoded.get("args")
        return int(args[0])
    except Exception:  # noqa: BLE001 - anything else in the queues is not ours
        return None


def broker_run_ids() -> set[int] | None:
    """Ids of the runs whose task message is waiting in a queue or held by a worker (unacked),
    read straight from a Redis broker; None if the broker is not Redis or cannot be read."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        ids: set[int] = set()
        keys = {b"atp"}
        for pattern in ("host.*", "atp*"):
            keys.update(client.scan_iter(match=pattern, count=500))
        for key in keys:
            if client.type(key) != b"list":
                continue
            for raw in client.lrange(key, 0, -1):
                rid = _decode_run_id(raw)
                if rid is not None:
                    ids.add(rid)
        # a message a worker took but never acknowledged counts while it is fresh; one held for
        # longer than ATP_QUEUED_LOST_AFTER by a run that is still queued lost its worker
        fresh_after = time.time() - float(settings.ATP_QUEUED_LOST_AFTER)
        delivered = dict(client.zrange("unacked_index", 0, -1, withscores=True))
        for tag, raw in client.hgetall("unacked").items():
            if delivered.get(tag, fresh_after + 1) < fresh_after:
                continue
            rid = _decode_run_id(raw)
            if rid is not None:
                ids.add(rid)
        client.close()
        return ids
    except Exception:  # noqa: BLE001 - an unreadable broker: fall back to the time rule
        log.warning("reaper: could not inspect the Redis broker", exc_info=True)
        return None


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

    variables = dict(run.variables or {})
    variables["run_retries"] = max(0, run.max_attempts - 1)
    try:
        with transaction.atomic():
            new = launch_run(
                run.revision,
                list(run.targets or []),
                variables,
                run.launched_by,
                schedule=run.schedule,
                rerun_of=run,
            )
            Run.objects.filter(pk=new.pk).update(
                attempt=run.attempt + 1, max_attempts=run.max_attempts
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


def end_overdue(run_id: int, reason: str) -> bool:
    from runs import lifecycle
    from runs.models import Run

    run = Run.objects.get(pk=run_id)
    _revoke(run.task_id)
    return lifecycle.finish(run_id, Result.TIMED_OUT, reason)


def escalate_cancel(run_id: int, reason: str) -> bool:
    """Terminate the task of a run that ignored its cancel flag; the run ends ``cancelled``."""
    from runs import lifecycle
    from runs.models import Run

    run = Run.objects.get(pk=run_id)
    if run.state != RunState.RUNNING:
        return False
    _record(run, "cancel_escalated", {"task_id": run.task_id, "worker": run.worker})
    _revoke(run.task_id)
    return lifecycle.finish(run_id, Result.CANCELLED, reason)


def resend(run_id: int, reason: str) -> bool:
    from runs.models import Run
    from runs.services import send_run

    run = Run.objects.select_related("revision").get(pk=run_id)
    if run.state != RunState.QUEUED:
        return False
    _record(run, "resent", {"reason": reason, "previous_task_id": run.task_id})
    send_run(run)
    log.warning("run %s: task re-sent (%s)", run_id, reason)
    return True


def reap(now: datetime | None = None) -> dict:
    """One pass over active runs; returns what was done, by run id."""
    from django.db.models import Max

    from runs.models import Run, RunEvent

    now = now or timezone.now()
    window = settings.ATP_HEARTBEAT_WINDOW
    done: dict[str, list[int]] = {"lost": [], "overdue": [], "cancelled": [], "resent": []}

    running = list(
        Run.objects.filter(state=RunState.RUNNING).select_related("revision").order_by("pk")
    )
    cancel_times = dict(
        RunEvent.objects.filter(
            run__in=[r.pk for r in running if r.cancel_requested], type="cancel_requested"
        )
        .values_list("run_id")
        .annotate(at=Max("created"))
    )
    for run in running:
        decision = judge_running(
            worker=run.worker,
            started=run.started,
            heartbeat=run.heartbeat,
            now=now,
            window=window,
            hard_limit=_hard_limit(run),
        )
        try:
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

    lost_after = settings.ATP_QUEUED_LOST_AFTER
    queued = list(
        Run.objects.filter(
            state=RunState.QUEUED, created__lt=now - timedelta(seconds=lost_after)
        ).order_by("pk")
    )
    if queued:
        resent_at = dict(
            RunEvent.objects.filter(run__in=[r.pk for r in queued], type="resent")
            .values_list("run_id")
            .annotate(at=Max("created"))
        )
        present = broker_run_ids()
        if present is not None:
            # a worker may hold a message between taking it from the list and recording it as
            # unacknowledged: look twice before calling a message lost
            missing = [r.pk for r in queued if r.pk not in present]
            if missing:
                time.sleep(1.0)
                again = broker_run_ids()
                present = present | (set(missing) if again is None else again)
        for run in queued:
            decision = judge_queued(
                queued_since=run.created,
                last_resent=resent_at.get(run.pk),
                now=now,
                lost_after=lost_after,
                in_broker=None if present is None else run.pk in present,
            )
            if decision.action == RESEND:
                try:
                    if resend(run.pk, decision.reason):
                        done["resent"].append(run.pk)
                except Exception:  # noqa: BLE001
                    log.exception("reaper: re-send of run %s", run.pk)
    if any(done.values()):
        log.info("reaper: %s", done)
    return done


@shared_task(name="runs.reap", ignore_result=True)
def reap_task() -> dict:
    return reap()
