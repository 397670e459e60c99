"""The event store: RunEvents numbered by their writer, stored in batches, projected, broadcast.

``store_events(run_id, events)`` stores a batch of events in one transaction: one
``UPDATE ... last_seq = last_seq + n`` reserves the next ``n`` sequence numbers, the writer
numbers its events itself from that block, inserts them in one ``INSERT`` (``bulk_create``)
and projects each in order (``runs.projection``); after the commit each is broadcast, in seq
order (``runs.broadcast``). The worker's event writer (``runs.event_sink``) hands over
everything that queued up while it was busy as one batch, so a burst costs one transaction, not
one row lock, one commit and one round trip per query per event (AWX batches its job events the
same way). ``store_event`` is the batch of one, for the few events written elsewhere.

The numbers stay consecutive per run and unique across processes (the reservation holds the
run's row lock until the commit). Websocket clients and the polling endpoint read the same rows,
so nothing is seen live that is not stored, and a client that reconnects asks for what came
after the last ``seq`` it saw.

``record_event(run, type, data)`` is for events of the web/worker layer itself (``queued``,
``cancel_requested``, ``worker_lost``, ``requeued``, ...). ``run_finished`` is not one of
them: a run ends through ``runs.lifecycle.finish`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class NewEvent:
    """An event to store: what ``store_events`` numbers and inserts."""

    type: str
    data: dict
    target: str = ""
    step_id: str = ""
    ts: float | None = None


def store_events(run_id: int, events: Sequence[NewEvent]) -> list[RunEvent]:
    """The next ``len(events)`` seqs, the RunEvent rows and their projections, in one
    transaction; each broadcast on commit, in order. Raises ``Run.DoesNotExist``."""
    if not events:
        return []
    with transaction.atomic():
        count = len(events)
        updated = Run.objects.filter(pk=run_id).update(last_seq=F("last_seq") + count)
        if not updated:
            raise Run.DoesNotExist(f"run {run_id} does not exist")
        last = Run.objects.filter(pk=run_id).values_list("last_seq", flat=True).get()
        rows = [
            RunEvent(
                run_id=run_id,
                seq=last - count + 1 + i,
                type=e.type,
                # PostgreSQL refuses NUL in text and JSON: an event holding one would be lost
                target=without_nul(e.target or ""),
                step_id=without_nul(e.step_id or ""),
                payload=without_nul(e.data),
                created=_ts(e.ts),
            )
            for i, e in enumerate(events)
        ]
        RunEvent.objects.bulk_create(rows)
        for ev in rows:
            project(run_id, ev)
        payloads = [ev.to_client() for ev in rows]
        transaction.on_commit(lambda: _broadcast_all(run_id, payloads))
    return rows


def _broadcast_all(run_id: int, payloads: list[dict]) -> None:
    for payload in payloads:
        broadcast(run_id, payload)


def store_event(
    run_id: int,
    type: str,
    data: dict,
    *,
    target: str = "",
    step_id: str = "",
    ts: float | None = None,
) -> RunEvent:
    """One event: ``store_events`` with a batch of one."""
    return store_events(run_id, [NewEvent(type, data, target, step_id, ts)])[0]


def record_event(run: Run | int, type: str, data: dict | None = None, target="", step_id=""):
    """Store and broadcast an event the web or worker layer emits itself; returns the RunEvent."""
    if type == FINISHED_EVENT:
        raise ValueError("a run ends through runs.lifecycle.finish, not a recorded run_finished")
    run_id = run if isinstance(run, int) else run.pk
    return store_event(run_id, type, dict(data or {}), target=target, step_id=step_id)
