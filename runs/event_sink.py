"""The engine's event sink inside the worker: queue, coalesce, store, broadcast.

``RunEventSink(run_id)`` is called by the engine from its own threads; it only queues the event,
and one writer thread per run stores it (``runs.event_store``: the next seq, the RunEvent, its
projection; artifact files copied into storage first). The writer stores in batches: whatever
queued up while it was storing the last batch goes into the next one (at most ``BATCH_MAX``
events, one transaction, one seq reservation), and a batch is written as soon as the queue is
empty, so an event never waits for company. A ``run_finished`` from the engine ends
the run through ``runs.lifecycle.finish``, behind every event given before it.

``step_output``/``step_log`` events of one step are coalesced to at most ``ATP_EVENT_LOG_RATE``
per second (texts joined, nothing dropped) and screenshot events of one target to
``ATP_EVENT_SCREENSHOT_RATE`` per second (every screenshot is still stored as an Artifact;
only the newest pending one is announced). Whatever is pending is written before any other
event, and at the latest one interval later, so the last output is never lost.
"""

from __future__ import annotations

import logging
import mimetypes
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import close_old_connections, connection

from atp_site.channel_send import close_thread_loop

from . import lifecycle
from .event_store import FINISHED_EVENT, NewEvent, store_event, store_events
from .models import Artifact, Run
from .projection import Targets, _target

log = logging.getLogger(__name__)

THROTTLED = ("step_output", "step_log")
TEXT_CAP = 64 * 1024
BATCH_MAX = 200  # events per transaction when the writer is behind
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50}


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
        self.batches = 0  # transactions that stored them (fewer than ``stored`` when behind)
        self.errors = 0
        self._queue: queue.Queue = queue.Queue()
        self._targets = Targets(run_id)  # read once per run, not once per event
        self._batch: list[NewEvent] = []
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

    def call_last(self, fn: Callable[[], Any]) -> None:
        """Call ``fn`` in the writer thread after everything given so far is stored: the
        runner ends the run this way, so its events always come before its end, in order,
        even when the writer is behind (a slow database) and ``close`` gives up waiting."""
        self._ensure_thread()
        self._queue.put(("call", fn))

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
                # what queued up meanwhile joins the batch; an idle queue writes it now
                if self._batch and (self._queue.empty() or len(self._batch) >= BATCH_MAX):
                    self._store_batch()
                timeout = self._next_due()
                try:
                    item = self._queue.get(timeout=timeout)
                except queue.Empty:
                    self._flush_due()
                    continue
                if item is _STOP:
                    self._flush_all()
                    self._store_batch()
                    return
                if isinstance(item, tuple) and item and item[0] == "flush":
                    self._flush_all()
                    self._store_batch()
                    item[1].set()
                    continue
                if isinstance(item, tuple) and item and item[0] == "call":
                    self._flush_all()
                    self._store_batch()
                    self._call(item[1])
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
            self._store_batch()  # the events before it do not wait for the file copy
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

    def _call(self, fn: Callable[[], Any]) -> None:
        for attempt in range(2):
            try:
                fn()
                return
            except Exception:
                if attempt:
                    self.errors += 1
                    log.exception("run %s: end of the run could not be stored", self.run_id)
                    return
                connection.close()  # a dropped database connection: reconnect once, retry

    def _write(self, type, data, target, step_id, ts) -> None:
        if type == FINISHED_EVENT:  # the engine's own end (no runner holding it back)
            self._store_batch()
            self._call(lambda: lifecycle.finish(self.run_id, data.get("result"), data=data))
            return
        self._batch.append(NewEvent(type, data, target, step_id, ts))

    def _store_batch(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        for attempt in range(2):
            try:
                store_events(self.run_id, batch, self._targets)
                self.stored += len(batch)
                self.batches += 1
                return
            except Run.DoesNotExist:
                self.errors += len(batch)
                log.error("run %s: gone, %d events not stored", self.run_id, len(batch))
                return
            except Exception:
                if attempt:
                    log.warning(
                        "run %s: a batch of %d events failed twice; storing them one by one",
                        self.run_id,
                        len(batch),
                        exc_info=True,
                    )
                    break
                # a dropped database connection: reconnect once and retry
                connection.close()
        for e in batch:  # one bad event does not take the others with it
            try:
                store_event(
                    self.run_id,
                    e.type,
                    e.data,
                    target=e.target,
                    step_id=e.step_id,
                    ts=e.ts,
                    targets=self._targets,
                )
                self.stored += 1
            except Exception:
                self.errors += 1
                log.exception("run %s: event %s could not be stored", self.run_id, e.type)
