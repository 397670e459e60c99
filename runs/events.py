"""The one event path: store each RunEvent with the next sequence number, then broadcast it.

``RunEventSink(run_id)`` is the engine's sink inside the worker. The engine calls it from its
own threads; the sink only queues the event, and one writer thread per run stores it (the
run's ``last_seq`` + 1, the RunEvent, its projection onto StepResult/RunTarget/Run, artifact
files copied into storage) and, after the commit, sends it to the channel group ``run_<id>``.
Websocket clients and the polling endpoint read the same rows, so nothing is seen live that
is not stored, and a client that reconnects asks for what came after the last ``seq`` it saw.

``step_output``/``step_log`` events of one step are coalesced to at most ``ATP_EVENT_LOG_RATE``
per second (texts joined, nothing dropped) and screenshot events of one target to
``ATP_EVENT_SCREENSHOT_RATE`` per second (every screenshot is still stored as an Artifact;
only the newest pending one is announced). Whatever is pending is written before any other
event, and at the latest one interval later, so the last output is never lost.

``record_event(run, type, data)`` is for events of the web/worker layer itself (``queued``,
``cancel_requested``, ``worker_lost``, ``requeued``, ...): stored and broadcast the same way.
"""

from __future__ import annotations

import logging
import mimetypes
import queue
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from atp_core.status import RunState, StepStatus
from atp_core.text import without_nul
from atp_site.channel_send import close_thread_loop, group_send

from .models import NOT_IN_LOOP, Artifact, Run, RunEvent, RunTarget, StepResult

log = logging.getLogger(__name__)

THROTTLED = ("step_output", "step_log")
TEXT_CAP = 64 * 1024
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}


def group_name(run_id: int) -> str:
    return f"run_{run_id}"


def event_dict(ev: RunEvent) -> dict:
    """An event as sent to clients: ``{seq, type, ts, target, step_id, data}``."""
    return ev.to_client()


# ---------------------------------------------------------------------------- broadcast


def broadcast(run_id: int, event: dict) -> None:
    """Send one stored event to the run's group; a channel-layer failure is logged only
    (clients catch up from the database by sequence number)."""
    try:
        group_send(group_name(run_id), {"type": "run.event", "event": event})
    except Exception:
        log.warning("run %s: broadcast of #%s failed", run_id, event.get("seq"), exc_info=True)


# ---------------------------------------------------------------------------- storing


def _ts(value: float | None) -> datetime:
    if not value:
        return timezone.now()
    return datetime.fromtimestamp(float(value), tz=UTC)


def _store(
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
        if type == "run_finished":
            # A run finishes once. The reaper (or a cancel escalation) may have ended it while
            # a cut-off worker was about to send its own run_finished: under the run's row lock,
            # keep the first and drop the late one, so clients never see two.
            Run.objects.select_for_update().filter(pk=run_id).values_list("pk").first()
            first = RunEvent.objects.filter(run_id=run_id, type="run_finished").first()
            if first is not None:
                log.info("run %s: late run_finished dropped (#%s stands)", run_id, first.seq)
                return first
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
        _project(run_id, ev)
        payload = ev.to_client()
        transaction.on_commit(lambda: broadcast(run_id, payload))
    return ev


def record_event(run: Run | int, type: str, data: dict | None = None, target="", step_id=""):
    """Store and broadcast an event the web or worker layer emits itself; returns the RunEvent."""
    run_id = run if isinstance(run, int) else run.pk
    return _store(run_id, type, dict(data or {}), target=target, step_id=step_id)


# ---------------------------------------------------------------------------- projection


def _iteration(value: Any) -> int:
    return NOT_IN_LOOP if value is None else int(value)


def _target(run_id: int, name: str) -> RunTarget | None:
    qs = RunTarget.objects.filter(run_id=run_id)
    found = qs.filter(name=name).first() if name else None
    return found or qs.order_by("ordinal").first()


def _step_row(run_id: int, target: RunTarget, step_id: str, iteration: int) -> StepResult:
    row = StepResult.objects.filter(target=target, step_id=step_id, iteration=iteration).first()
    if row is not None:
        return row
    planned = StepResult.objects.filter(
        target=target, step_id=step_id, iteration=NOT_IN_LOOP
    ).first()
    return StepResult.objects.create(
        run_id=run_id,
        target=target,
        step_id=step_id,
        iteration=iteration,
        ordinal=planned.ordinal if planned else _next_ordinal(target),
        name=planned.name if planned else "",
        type=planned.type if planned else "",
        depth=planned.depth if planned else 0,
        phase=planned.phase if planned else ("finally" if "F" in step_id else "main"),
    )


def _next_ordinal(target: RunTarget) -> int:
    last = StepResult.objects.filter(target=target).order_by("-ordinal").first()
    return (last.ordinal + 1) if last else 0


def _project(run_id: int, ev: RunEvent) -> None:
    """What an event changes on the Run, its targets and steps (the report's tables)."""
    data, now = ev.payload or {}, ev.created
    kind = ev.type
    if kind == "run_started":
        plan = data.get("plan") or []
        targets = list(RunTarget.objects.filter(run_id=run_id))
        StepResult.objects.bulk_create(
            [
                StepResult(
                    run_id=run_id,
                    target=t,
                    step_id=str(p.get("id")),
                    iteration=NOT_IN_LOOP,
                    ordinal=i,
                    name=str(p.get("name") or "")[:255],
                    type=str(p.get("type") or "")[:64],
                    depth=int(p.get("depth") or 0),
                    phase=p.get("phase") or "main",
                )
                for t in targets
                for i, p in enumerate(plan)
            ],
            ignore_conflicts=True,
        )
    elif kind == "target_started":
        target = _target(run_id, ev.target)
        if target:
            RunTarget.objects.filter(pk=target.pk).update(state=RunState.RUNNING, started=now)
    elif kind in ("step_started", "step_finished") and ev.step_id:
        target = _target(run_id, ev.target)
        if target is None:
            return
        row = _step_row(run_id, target, ev.step_id, _iteration(data.get("iteration")))
        if data.get("name"):
            row.name = str(data["name"])[:255]
        if data.get("type"):
            row.type = str(data["type"])[:64]
        if kind == "step_started":
            row.status = StepStatus.RUNNING
            row.attempt = int(data.get("attempt") or 1)
            row.started = row.started or now
            row.finished = None
        else:
            row.status = data.get("status") or StepStatus.ERROR
            row.finished = now
            row.duration = data.get("duration")
            row.error = str(data.get("error") or "")
            metrics = data.get("metrics")
            row.metrics = _metrics(metrics) if isinstance(metrics, dict) else {}
            output = data.get("output")
            if output not in (None, ""):
                row.output = StepResult.cap_output(
                    output if isinstance(output, str) else _text(output)
                )
        row.save()
    elif kind == "target_finished":
        target = _target(run_id, ev.target)
        if target:
            RunTarget.objects.filter(pk=target.pk).update(
                state=RunState.FINISHED,
                result=data.get("result"),
                finished=now,
                totals=data.get("totals") or {},
            )
    elif kind == "run_finished":
        # loop children: the planned row (iteration -1) is replaced by the iteration rows
        looped = (
            StepResult.objects.filter(run_id=run_id)
            .exclude(iteration=NOT_IN_LOOP)
            .values_list("target_id", "step_id")
            .distinct()
        )
        for target_id, step_id in looped:
            StepResult.objects.filter(
                target_id=target_id,
                step_id=step_id,
                iteration=NOT_IN_LOOP,
                status__in=(StepStatus.PENDING, StepStatus.SKIPPED),
            ).delete()
        # the last event of every run (the runner stores the engine's once reports are written).
        # A run already ended elsewhere (reaped, cancel escalated, finish_without_engine, which
        # sets its fields before recording this event) keeps its result and reason.
        fields = {"state": RunState.FINISHED, "finished": now}
        if data.get("totals"):
            fields["totals"] = data["totals"]
        if data.get("result"):
            fields["result"] = data["result"]
        if data.get("reason"):
            fields["reason"] = data["reason"]
        Run.objects.filter(pk=run_id).exclude(state=RunState.FINISHED).update(**fields)
        _notify_finished(run_id)


def _notify_finished(run_id: int) -> None:
    """Webhooks/e-mail of a finished run (runs.notify, deduplicated, sent after the commit)."""
    try:
        from runs import notify

        notify.on_run_finished(run_id)
    except Exception:  # notifications never break the event path
        log.warning("run %s: notification not queued", run_id, exc_info=True)


def _text(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False, indent=2)
    except (TypeError, ValueError):
        return str(value)


# ---------------------------------------------------------------------------- artifacts


def store_artifact(
    run_id: int,
    path: str | Path,
    *,
    name: str = "",
    kind: str = "file",
    mime: str = "",
    target: str = "",
    step_id: str = "",
) -> Artifact:
    """Copy the engine's file at ``path`` into storage as an Artifact of the run."""
    path = Path(path)
    name = name or path.name
    mime = mime or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    run_target = _target(run_id, target) if target else None
    if kind not in {k for k, _ in Artifact.KIND_CHOICES}:
        kind = "file"
    artifact = Artifact(
        run_id=run_id,
        target=run_target,
        step_id=step_id or "",
        name=name[:255],
        kind=kind,
        mime=mime[:100],
    )
    with path.open("rb") as fh:
        artifact.file.save(f"run{run_id}-{path.name}", File(fh), save=False)
    artifact.size = artifact.file.size
    artifact.save()
    return artifact


def artifact_event_data(artifact: Artifact) -> dict:
    return {
        "artifact_id": artifact.pk,
        "name": artifact.name,
        "kind": artifact.kind,
        "mime": artifact.mime,
        "size": artifact.size,
        "url": artifact.file.url if artifact.file else "",
    }


# ---------------------------------------------------------------------------- the sink


class _Pending:
    """A coalesced event waiting for its slot."""

    __slots__ = ("type", "target", "step_id", "data", "ts", "count")

    def __init__(self, type: str, target: str, step_id: str, data: dict, ts: float) -> None:
        self.type, self.target, self.step_id = type, target, step_id
        self.data, self.ts, self.count = dict(data), ts, 1

    def merge(self, data: dict, ts: float) -> None:
        self.count += 1
        self.ts = ts
        if self.type == "step_output":
            self.data["text"] = _cap(f"{self.data.get('text', '')}{data.get('text', '')}")
        elif self.type == "step_log":
            joined = f"{self.data.get('message', '')}\n{data.get('message', '')}"
            self.data["message"] = _cap(joined)
            old, new = self.data.get("level", "info"), data.get("level", "info")
            if _LEVELS.get(str(new).lower(), 20) > _LEVELS.get(str(old).lower(), 20):
                self.data["level"] = new
        else:  # screenshot: the newest one is announced (all of them are stored)
            self.data = dict(data)
        self.data["coalesced"] = self.count


def _cap(text: str) -> str:
    if len(text) <= TEXT_CAP:
        return text
    return "[... earlier output cut]\n" + text[-TEXT_CAP:]


def _capped(type: str, data: dict) -> dict:
    """Output and log texts are cut to TEXT_CAP, the first of each interval as well."""
    field = {"step_output": "text", "step_log": "message"}.get(type)
    if field and isinstance(data.get(field), str) and len(data[field]) > TEXT_CAP:
        return {**data, field: _cap(data[field])}
    return data


_STOP = object()


class RunEventSink:
    """The engine's ``sink`` for one run: queue, coalesce, store, project, broadcast.

    Call it with engine ``Event`` objects (any thread). ``flush()`` waits until everything
    given so far is stored; ``close()`` flushes and stops the writer thread. ``hold`` names
    event types kept back instead of stored (the runner stores ``run_finished`` itself once the
    reports are written); held events are in ``held``.
    """

    def __init__(
        self,
        run_id: int,
        *,
        log_rate: float | None = None,
        screenshot_rate: float | None = None,
        hold: tuple[str, ...] = (),
    ) -> None:
        self.run_id = run_id
        log_rate = log_rate or float(getattr(settings, "ATP_EVENT_LOG_RATE", 5))
        shot_rate = screenshot_rate or float(getattr(settings, "ATP_EVENT_SCREENSHOT_RATE", 1))
        self._log_interval = 1.0 / log_rate if log_rate > 0 else 0.0
        self._shot_interval = 1.0 / shot_rate if shot_rate > 0 else 0.0
        self.hold = hold
        self.held: list[Any] = []
        self.stored = 0
        self.errors = 0
        self._queue: queue.Queue = queue.Queue()
        self._pending: dict[tuple, _Pending] = {}
        self._last: dict[tuple, float] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    # -- engine side
    def __call__(self, event) -> None:
        if self._closed:
            raise RuntimeError(f"run {self.run_id}: event sink is closed")
        if event.type in self.hold:
            self.held.append(event)
            return
        self._ensure_thread()
        self._queue.put(event)

    def store_last(self, type: str, data: dict) -> None:
        """Store ``type`` (``run_finished``) through the writer, after everything given so far:
        the run's events are always stored, in order, before its end, even when the writer is
        behind (a slow database) and ``close`` gives up waiting."""
        self._ensure_thread()
        self._queue.put(("store", type, dict(data)))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every event given so far (and anything pending) is stored."""
        if self._thread is None:
            return True
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    def close(self, timeout: float = 60.0) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("run %s: event writer did not finish within %ss", self.run_id, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writer thread
    def _ensure_thread(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._writer, name=f"run-{self.run_id}-events", daemon=True
                )
                self._thread.start()

    def _writer(self) -> None:
        try:
            while True:
                timeout = self._next_due()
                try:
                    item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    self._flush_due()
                    continue
                if item is _STOP:
                    self._flush_all()
                    return
                if isinstance(item, tuple) and item and item[0] == "flush":
                    self._flush_all()
                    item[1].set()
                    continue
                if isinstance(item, tuple) and item and item[0] == "store":
                    self._flush_all()
                    self._write(item[1], item[2], "", "", None)
                    continue
                self._handle(item)
        finally:
            close_thread_loop()
            connection.close()

    def _next_due(self) -> float | None:
        if not self._pending:
            return None
        now = time.monotonic()
        due = min(self._last.get(key, 0.0) + self._interval(key) for key in self._pending)
        return max(0.0, due - now)

    def _interval(self, key: tuple) -> float:
        return self._shot_interval if key[0] == "screenshot" else self._log_interval

    def _flush_due(self) -> None:
        now = time.monotonic()
        for key in list(self._pending):
            if now >= self._last.get(key, 0.0) + self._interval(key):
                self._emit_pending(key, now)

    def _flush_all(self) -> None:
        now = time.monotonic()
        for key in list(self._pending):
            self._emit_pending(key, now)

    def _emit_pending(self, key: tuple, now: float) -> None:
        p = self._pending.pop(key)
        self._last[key] = now
        self._write(p.type, p.data, p.target, p.step_id, p.ts)

    def _handle(self, event) -> None:
        data = event.to_dict()["data"] if hasattr(event, "to_dict") else dict(event.data)
        target, step_id = event.target or "", event.step_id or ""
        if event.type == "artifact":
            data = self._artifact(data, target, step_id)
            if data is None:
                return
            if data.get("kind") == "screenshot" and self._shot_interval:
                self._throttled(("screenshot", target), event.type, data, target, step_id, event.ts)
                return
        elif event.type in THROTTLED and self._log_interval:
            key = (event.type, target, step_id, data.get("stream", ""))
            self._throttled(key, event.type, data, target, step_id, event.ts)
            return
        self._flush_all()  # order: pending output comes before whatever follows it
        self._write(event.type, data, target, step_id, event.ts)

    def _throttled(self, key, type, data, target, step_id, ts) -> None:
        now = time.monotonic()
        pending = self._pending.get(key)
        if pending is not None:
            pending.merge(data, ts)
            return
        data = _capped(type, data)
        if now >= self._last.get(key, 0.0) + self._interval(key):
            self._last[key] = now
            self._write(type, data, target, step_id, ts)
        else:
            self._pending[key] = _Pending(type, target, step_id, data, ts)

    def _artifact(self, data: dict, target: str, step_id: str) -> dict | None:
        path = data.get("path")
        try:
            for attempt in range(2):
                try:
                    artifact = store_artifact(
                        self.run_id,
                        path,
                        name=data.get("name") or "",
                        kind=data.get("kind") or "file",
                        mime=data.get("mime") or "",
                        target=target,
                        step_id=step_id,
                    )
                    return artifact_event_data(artifact)
                except Exception:
                    if attempt:
                        raise
                    close_old_connections()
        except Exception as exc:
            self.errors += 1
            log.exception("run %s: artifact %s could not be stored", self.run_id, path)
            return {**{k: v for k, v in data.items() if k != "path"}, "error": str(exc)}
        return None

    def _write(self, type, data, target, step_id, ts) -> None:
        for attempt in range(2):
            try:
                _store(self.run_id, type, data, target=target, step_id=step_id, ts=ts)
                self.stored += 1
                return
            except Run.DoesNotExist:
                self.errors += 1
                log.error("run %s: gone, event %s not stored", self.run_id, type)
                return
            except Exception:
                if attempt:
                    self.errors += 1
                    log.exception("run %s: event %s could not be stored", self.run_id, type)
                    return
                # a dropped database connection: reconnect once and retry
                connection.close()


def _metrics(metrics: dict) -> dict:
    """A step's metrics as stored: plain numbers and short strings, at most 32 of them."""
    kept: dict = {}
    for key, value in list(metrics.items())[:32]:
        if value is None or isinstance(value, bool | int | float):
            kept[str(key)[:64]] = value
        else:
            kept[str(key)[:64]] = str(value)[:200]
    return kept
