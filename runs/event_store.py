"""The event store: each RunEvent with the next sequence number, projected, then broadcast.

``store_event`` numbers the event with the run's ``last_seq`` + 1, stores it and its projection
(``runs.projection``) in one transaction, and broadcasts it after the commit
(``runs.broadcast``). Websocket clients and the polling endpoint read the same rows, so nothing
is seen live that is not stored, and a client that reconnects asks for what came after the last
``seq`` it saw.

``record_event(run, type, data)`` is for events of the web/worker layer itself (``queued``,
``cancel_requested``, ``worker_lost``, ``requeued``, ...). ``run_finished`` is not one of
them: a run ends through ``runs.lifecycle.finish`` only.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from atp_core.text import without_nul

from . import broadcast as _broadcast
from .models import Run, RunEvent
from .projection import project

FINISHED_EVENT = "run_finished"


def event_dict(ev: RunEvent) -> dict:
    """An event as sent to clients: ``{seq, type, ts, target, step_id, data}``."""
    return ev.to_client()


def broadcast(run_id: int, event: dict) -> None:
    _broadcast.broadcast(run_id, event)


def _ts(value: float | None) -> datetime:
    if not value:
        return timezone.now()
    return datetime.fromtimestamp(float(value), tz=UTC)


def store_event(
    run_id: int,
    type: str,
    data: dict,
    *,
    target: str = "",
    step_id: str = "",
    ts: float | None = None,
) -> RunEvent:
    """Next seq, the RunEvent row and its projection, in one transaction; broadcast on commit.

    The ``UPDATE ... last_seq = last_seq + 1`` takes the run's row lock until the commit, so
    writers in several processes (worker, web) still get consecutive numbers.
    """
    # PostgreSQL refuses NUL in text and JSON: an event holding one would be lost
    data, target, step_id = without_nul(data), without_nul(target), without_nul(step_id)
    with transaction.atomic():
        updated = Run.objects.filter(pk=run_id).update(last_seq=F("last_seq") + 1)
        if not updated:
            raise Run.DoesNotExist(f"run {run_id} does not exist")
        seq = Run.objects.filter(pk=run_id).values_list("last_seq", flat=True).get()
        ev = RunEvent.objects.create(
            run_id=run_id,
            seq=seq,
            type=type,
            target=target or "",
            step_id=step_id or "",
            payload=data,
            created=_ts(ts),
        )
        project(run_id, ev)
        payload = ev.to_client()
        transaction.on_commit(lambda: broadcast(run_id, payload))
    return ev


def record_event(run: Run | int, type: str, data: dict | None = None, target="", step_id=""):
    """Store and broadcast an event the web or worker layer emits itself; returns the RunEvent."""
    if type == FINISHED_EVENT:
        raise ValueError("a run ends through runs.lifecycle.finish, not a recorded run_finished")
    run_id = run if isinstance(run, int) else run.pk
    return store_event(run_id, type, dict(data or {}), target=target, step_id=step_id)
