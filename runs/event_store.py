"""The event store: RunEvents numbered per run, stored in batches, projected, broadcast.

``store_events(run_id, events)`` stores a batch of events: the next ``n`` sequence numbers of
the run are reserved (``last_seq = last_seq + n``, which holds the run's row lock until the
commit), the events numbered from that block, inserted in one ``INSERT`` and projected in
order (``runs.projection``); after the commit each is broadcast, in seq order, with the page
fragments the batch changed (``runs.live_updates``, ``runs.broadcast``). On PostgreSQL the
reservation and the insert are one statement (a data-modifying ``WITH``), and a batch that
projects nothing (log lines, outputs, screenshots) runs it alone in autocommit: one round
trip, no ``BEGIN``/``COMMIT``. Elsewhere (SQLite) it is an ``UPDATE ... RETURNING`` and a
``bulk_create`` in one transaction. The worker's event writer (``runs.event_sink``) hands over
everything that queued up while it was busy as one batch (AWX batches its job events the same
way). ``store_event`` is the batch of one, for the few events written elsewhere.

The numbers stay consecutive per run and unique across every writer of the run (the parts of
a run on several hosts, the web's ``cancel_requested``): the reservation is serialised on the
run's row, so the events commit in seq order and a client that replays after the last ``seq``
it saw misses none. (A writer that numbered from a block of its own, reserved ahead, would
commit out of order with the other writers of the run: a client could see ``#105`` before
``#6`` is committed and never ask for ``#6``.) Websocket clients and the polling endpoint read
the same rows, so nothing is seen live that is not stored.

``record_event(run, type, data)`` is for events of the web/worker layer itself (``queued``,
``cancel_requested``, ``worker_lost``, ``requeued``, ...). ``run_finished`` is not one of
them: a run ends through ``runs.lifecycle.finish`` only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from atp_core.text import without_nul

from . import broadcast as _broadcast
from . import live_updates
from .models import Run, RunEvent
from .projection import PROJECTED, Targets, project

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


def _reserve_and_insert(run_id: int, rows: list[RunEvent]) -> None:
    """PostgreSQL: reserve ``len(rows)`` seqs and insert the rows numbered from them in one
    statement; sets each row's ``seq`` and ``pk``. The run's row stays locked until the
    transaction (or, in autocommit, the statement) ends."""
    quote = connection.ops.quote_name
    count = len(rows)
    columns = ["run_id", "seq", "type", "target", "step_id", "payload", "created"]
    values, params = [], []
    for i, ev in enumerate(rows):
        values.append("(%s::integer, %s, %s, %s, %s::jsonb, %s::timestamptz)")
        params += [i, ev.type, ev.target, ev.step_id, json.dumps(ev.payload), ev.created]
    sql = (
        f"WITH r AS (UPDATE {quote(Run._meta.db_table)}"
        f" SET {quote('last_seq')} = {quote('last_seq')} + %s WHERE {quote('id')} = %s"
        f" RETURNING {quote('last_seq')})"
        f" INSERT INTO {quote(RunEvent._meta.db_table)} ({', '.join(map(quote, columns))})"
        f" SELECT %s, r.{quote('last_seq')} - %s + 1 + v.i, v.type, v.target, v.step_id,"
        f" v.payload, v.created FROM r, (VALUES {', '.join(values)})"
        f" AS v (i, type, target, step_id, payload, created)"
        f" RETURNING {quote('id')}, {quote('seq')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, run_id, run_id, count, *params])
        stored = cursor.fetchall()
    if not stored:
        raise Run.DoesNotExist(f"run {run_id} does not exist")
    first = min(seq for _, seq in stored)
    ids = {seq: pk for pk, seq in stored}
    for i, ev in enumerate(rows):
        ev.seq = first + i
        ev.pk = ids[ev.seq]
        ev._state.adding, ev._state.db = False, connection.alias


def _insert(run_id: int, rows: list[RunEvent]) -> None:
    """Number ``rows`` from the run's next seqs and insert them (inside a transaction)."""
    if connection.vendor == "postgresql":
        _reserve_and_insert(run_id, rows)
        return
    count = len(rows)
    last = _reserve(run_id, count)
    for i, ev in enumerate(rows):
        ev.seq = last - count + 1 + i
    RunEvent.objects.bulk_create(rows)


def store_events(
    run_id: int, events: Sequence[NewEvent], targets: Targets | None = None
) -> list[RunEvent]:
    """The next ``len(events)`` seqs, the RunEvent rows and their projections, atomically;
    each broadcast after the commit, in order. Raises ``Run.DoesNotExist``.
    ``targets``: the writer's kept map of the run's targets (``projection.Targets``)."""
    if not events:
        return []
    rows = [
        RunEvent(
            run_id=run_id,
            type=e.type,
            # PostgreSQL refuses NUL in text and JSON: an event holding one would be lost
            target=without_nul(e.target or ""),
            step_id=without_nul(e.step_id or ""),
            payload=without_nul(e.data),
            created=_ts(e.ts),
        )
        for e in events
    ]
    alone = (
        connection.vendor == "postgresql"
        and connection.get_autocommit()
        and not any(ev.type in PROJECTED for ev in rows)
    )
    if alone:  # one statement, atomic by itself
        _reserve_and_insert(run_id, rows)
        _broadcast_all(run_id, [ev.to_client() for ev in rows])
        return rows
    targets = targets if targets is not None else Targets(run_id)
    with transaction.atomic():
        _insert(run_id, rows)
        for ev in rows:
            project(run_id, ev, targets)
        payloads = [ev.to_client() for ev in rows]
        transaction.on_commit(lambda: _broadcast_all(run_id, payloads))
    return rows


def _broadcast_all(run_id: int, payloads: list[dict]) -> None:
    """Each event with what it changed on the live page (``runs.live_updates``, rendered once
    for the batch, whatever the number of viewers)."""
    for message in live_updates.safe_messages(run_id, payloads):
        broadcast(run_id, message)


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
