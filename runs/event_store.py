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

from django.db import connection, transaction
from django.utils import timezone

from atp_core.text import without_nul

from . import broadcast as _broadcast
from .models import Run, RunEvent
from .projection import Targets, project

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


def _reserve(run_id: int, count: int) -> int:
    """Add ``count`` to the run's ``last_seq`` and answer the new value, in one round trip
    (``UPDATE ... RETURNING``: PostgreSQL, SQLite >= 3.35; Django's ``update()`` answers a row
    count only, so the number would cost a second query). The row stays locked until the
    transaction ends."""
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(Run._meta.db_table)} SET {quote('last_seq')} = {quote('last_seq')} + %s"
        f" WHERE {quote('id')} = %s RETURNING {quote('last_seq')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, run_id])
        row = cursor.fetchone()
    if row is None:
        raise Run.DoesNotExist(f"run {run_id} does not exist")
    return int(row[0])


def store_events(
    run_id: int, events: Sequence[NewEvent], targets: Targets | None = None
) -> list[RunEvent]:
    """The next ``len(events)`` seqs, the RunEvent rows and their projections, in one
    transaction; each broadcast on commit, in order. Raises ``Run.DoesNotExist``.
    ``targets``: the writer's kept map of the run's targets (``projection.Targets``)."""
    if not events:
        return []
    targets = targets if targets is not None else Targets(run_id)
    with transaction.atomic():
        count = len(events)
        last = _reserve(run_id, count)
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
            project(run_id, ev, targets)
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
    targets: Targets | None = None,
) -> RunEvent:
    """One event: ``store_events`` with a batch of one."""
    return store_events(run_id, [NewEvent(type, data, target, step_id, ts)], targets)[0]


def record_event(run: Run | int, type: str, data: dict | None = None, target="", step_id=""):
    """Store and broadcast an event the web or worker layer emits itself; returns the RunEvent."""
    if type == FINISHED_EVENT:
        raise ValueError("a run ends through runs.lifecycle.finish, not a recorded run_finished")
    run_id = run if isinstance(run, int) else run.pk
    return store_event(run_id, type, dict(data or {}), target=target, step_id=step_id)
