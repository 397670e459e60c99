"""What the live view is sent: each stored event, with the page fragments it changed.

A message is the event as stored (``{seq, type, ts, target, step_id, data}``) plus ``view``:

- ``lines``: ``[[box, seq, css class, text]]``, log lines to append: ``box`` is a step row's id
  (the line goes into its log) or ``"run-log"`` ("Run events");
- ``html``: ``[[id, html]]``, elements to put in place of the element with that id: step rows
  (``runs/_step.html``), target headings (``runs/_target_head.html``), the run's heading
  (``runs/_run_head.html``), rendered from the stored rows by the reducer of the first render
  (``runs.run_view``) with the same templates, so a row pushed live is the row a reload shows;
- ``order``: ``[[list id, [row ids]]]``, the step rows of a target's list in plan order (rows
  that appeared, like loop iterations, take their place; rows no longer shown go).

Fragments are rendered once per stored batch, not per event and not per viewer: the writer
renders what its batch changed after the commit and hangs it on the batch's last message
(``messages``); a viewer that reconnects or fills a gap gets what the events after its last seq
changed, rendered from the database as of one moment (``replay``). A fragment is a state, not
a change: applying one that is newer than its message's seq is harmless, and the consumer never
sends a seq twice, so a late older one never lands after a newer one.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import nullcontext
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.template.loader import render_to_string

from atp_site.context_processors import status_words

from .models import NOT_IN_LOOP, Artifact, Run, RunEvent, RunTarget, StepResult
from .run_view import (
    LINE_TYPES,
    NOT_RUN_LOG_TYPES,
    STEP_EVENT_TYPES,
    Cursor,
    StepsView,
    log_line,
    step_dom_id,
)
from .templatetags.run_pages import run_event_text

log = logging.getLogger(__name__)

RUN_LOG = "run-log"
WHOLE_RUN_TYPES = ("run_started", "run_finished", "part_finished")
"""Events after which every target is rendered again (the plan's rows made; what was still
open closed by ``runs.lifecycle``)."""
STEP_STATE_TYPES = ("step_started", "step_finished")


class _Event:
    """A client event dict read like a RunEvent (what ``StepsView`` and the filters take)."""

    __slots__ = ("seq", "type", "target", "step_id", "payload")

    def __init__(self, d: dict) -> None:
        self.seq = d["seq"]
        self.type = d["type"]
        self.target = d.get("target") or ""
        self.step_id = d.get("step_id") or ""
        self.payload = d.get("data") or {}


def _iteration(data: dict) -> int:
    it = data.get("iteration")
    return NOT_IN_LOOP if it is None else int(it)


class _Stored(NamedTuple):
    """A stored step event as the fold reads it (no model instance: cheaper to read)."""

    seq: int
    type: str
    target: str
    step_id: str
    payload: dict


class _RunMemo:
    """What the storing process knows of a run between its batches: the targets' ids by name
    (a run's targets never change) and which iteration of each step runs now (the events of a
    step are stored by the one writer that runs it, ``step_started`` first)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.target_ids: dict[str, int] | None = None
        self.cursor = Cursor()
        # (target, step_id) -> its stored step events in seq order, once read from the
        # database: the writer's later batches add theirs, so a step's change reads its rows
        # but not its events again
        self.step_events: dict[tuple[str, str], dict[int, _Stored]] = {}
        self.unkept = 0  # step events stored meanwhile for steps not kept (not in a read yet)
        self.lock = threading.Lock()  # one writer per target; parts of a run may share a memo

    def target_id(self, name: str) -> int | None:
        if not self.target_ids:
            rows = RunTarget.objects.filter(run_id=self.run_id).values_list("name", "pk")
            self.target_ids = dict(rows)
        return self.target_ids.get(name)

    def iteration(self, target: str, step_id: str, before_seq: int) -> int:
        it = self.cursor.iteration(target, step_id)
        if it is None:
            started = (
                RunEvent.objects.filter(
                    run_id=self.run_id,
                    type="step_started",
                    target=target,
                    step_id=step_id,
                    seq__lt=before_seq,
                )
                .order_by("-seq")
                .values_list("payload", flat=True)
                .first()
            )
            self.cursor.start(target, step_id, started or {})
            it = self.cursor.iteration(target, step_id)
        return it


_MEMOS: OrderedDict[int, _RunMemo] = OrderedDict()
_MEMOS_MAX = 256
_STEP_EVENTS_MAX = 2000
"""A step with more stored events than this is read from the database each time instead."""


_MEMOS_LOCK = threading.Lock()  # one writer thread per run, and the web's request threads


def _memo(run_id: int) -> _RunMemo:
    with _MEMOS_LOCK:
        memo = _MEMOS.get(run_id)
        if memo is None:
            memo = _MEMOS[run_id] = _RunMemo(run_id)
            while len(_MEMOS) > _MEMOS_MAX:
                _MEMOS.popitem(last=False)
        else:
            _MEMOS.move_to_end(run_id)
        return memo


def forget(run_id: int) -> None:
    """Drop what this process kept of a run (its writer is done)."""
    with _MEMOS_LOCK:
        _MEMOS.pop(run_id, None)


class _Changes:
    """What a list of events changed on the page."""

    def __init__(self) -> None:
        self.whole = False
        self.run_head = False
        self.targets: set[str] = set()
        self.rows: set[tuple[str, str, int]] = set()

    def note(self, ev: _Event, row_iteration) -> None:
        kind = ev.type
        if kind in WHOLE_RUN_TYPES:
            self.whole = self.run_head = True
        elif kind in ("target_started", "target_finished"):
            self.targets.add(ev.target)
        elif kind in STEP_STATE_TYPES or kind == "artifact":
            self.targets.add(ev.target)
            self.rows.add((ev.target, ev.step_id, row_iteration()))
        elif kind not in NOT_RUN_LOG_TYPES:
            self.run_head = True  # worker, attempt, cancel requested ...

    @property
    def any(self) -> bool:
        return self.whole or self.run_head or bool(self.targets)


def messages(run_id: int, events: list[dict]) -> list[dict]:
    """The messages of a batch the calling process has just stored (``events`` in seq order,
    as client dicts); fragments rendered once, on the last message."""
    memo = _memo(run_id)
    changes = _Changes()
    out = []
    for d in events:
        ev = _Event(d)
        lines = []
        if ev.type == "step_started":
            memo.cursor.start(ev.target, ev.step_id, ev.payload)
        if ev.type in STEP_STATE_TYPES:
            changes.note(ev, lambda ev=ev: _iteration(ev.payload))
        elif ev.type in LINE_TYPES or ev.type == "artifact":
            target_id = memo.target_id(ev.target)
            if target_id is not None:
                it = memo.iteration(ev.target, ev.step_id, ev.seq)
                if ev.type == "artifact":
                    changes.note(ev, lambda it=it: it)
                else:
                    cls, text = log_line(ev.type, ev.payload)
                    lines.append([step_dom_id(target_id, ev.step_id, it), ev.seq, cls, text])
        else:
            changes.note(ev, lambda: NOT_IN_LOOP)
            if ev.type not in NOT_RUN_LOG_TYPES:
                lines.append([RUN_LOG, ev.seq, f"run-log-{ev.type}", run_event_text(ev)])
        out.append({**d, "view": {"lines": lines} if lines else {}})
    _add_events(memo, events)
    if out and changes.any:
        view = _read(run_id, changes, memo=memo)
        out[-1]["view"].update(_render(view, changes))
    if any(d["type"] == "run_finished" for d in events):
        forget(run_id)
    return out


def replay(run_id: int, events: list[dict]) -> list[dict]:
    """Messages for stored ``events`` a viewer has not seen (a reconnect, a gap, a poll): log
    lines go to the row their event went to when it was stored; fragments of what the events
    changed, rendered from the database as of one moment, on the last message."""
    if not events:
        return []
    evs = [_Event(d) for d in events]
    everything = _Changes()
    everything.whole = everything.run_head = True
    view = _read(run_id, everything, one_moment=True)
    row_of = view.steps_view.row_of
    changes = _Changes()
    out = []
    for d, ev in zip(events, evs, strict=True):
        lines = []
        if ev.type in STEP_STATE_TYPES:
            changes.note(ev, lambda ev=ev: _iteration(ev.payload))
        elif ev.type == "artifact":
            row = row_of.get(ev.seq)
            changes.note(ev, lambda row=row: row.iteration if row else NOT_IN_LOOP)
        elif ev.type in LINE_TYPES:
            row = row_of.get(ev.seq)
            if row is not None:
                cls, text = log_line(ev.type, ev.payload)
                lines.append([row.dom_id, ev.seq, cls, text])
        else:
            changes.note(ev, lambda: NOT_IN_LOOP)
            if ev.type not in NOT_RUN_LOG_TYPES:
                lines.append([RUN_LOG, ev.seq, f"run-log-{ev.type}", run_event_text(ev)])
        out.append({**d, "view": {"lines": lines} if lines else {}})
    if changes.any:
        out[-1]["view"].update(_render(view, changes))
    return out


class _View:
    def __init__(self, run, steps_view: StepsView, run_head: bool) -> None:
        self.run = run
        self.steps_view = steps_view
        self.run_head = run_head


def _add_events(memo: _RunMemo, batch: list[dict]) -> None:
    """The batch's step events join the kept events of their steps (every batch, rendered or
    not: a log line changes no fragment, yet its row shows it at the next change)."""
    with memo.lock:
        for d in batch:
            if d["type"] not in STEP_EVENT_TYPES:
                continue
            key = (d.get("target") or "", d.get("step_id") or "")
            kept = memo.step_events.get(key)
            if kept is None:
                memo.unkept += 1
            else:
                kept[d["seq"]] = _Stored(d["seq"], d["type"], *key, d.get("data") or {})
                if len(kept) > _STEP_EVENTS_MAX:
                    del memo.step_events[key]


def _kept_events(memo: _RunMemo, keys: list[tuple[str, str]]) -> list[_Stored] | None:
    """The stored step events of the steps ``keys`` in seq order as the memo keeps them; None
    when one of the steps is not kept (then they are read)."""
    with memo.lock:
        if not set(keys) <= memo.step_events.keys():
            return None
        events = [e for k in keys for e in memo.step_events[k].values()]
    return sorted(events, key=lambda e: e.seq)


def _keep_events(memo: _RunMemo, keys, events: list[_Stored], unkept: int) -> None:
    """Keep the step events just read for the steps ``keys``, merged with what the memo has
    (a whole-run read may run while another writer of the run adds to its steps). A step not
    kept yet is kept only when no event of a step not kept was stored since the read began
    (``unkept``: the memo's count then): it could be one the read missed."""
    by_key: dict[tuple[str, str], dict[int, _Stored]] = {k: {} for k in keys}
    for e in events:
        if (e.target, e.step_id) in by_key:
            by_key[(e.target, e.step_id)][e.seq] = e
    with memo.lock:
        for k, read in by_key.items():
            kept = memo.step_events.get(k)
            if kept is None and memo.unkept != unkept:
                continue
            merged = {**(kept or {}), **read}
            if len(merged) <= _STEP_EVENTS_MAX:
                memo.step_events[k] = merged


def _read(
    run_id: int,
    changes: _Changes,
    *,
    one_moment: bool = False,
    memo: _RunMemo | None = None,
) -> _View:
    """The rows the changes need, folded like the first render (``presenters.page_run``). A
    step's change reads its target's rows (with the target) and its step's events: two
    queries, and the artifacts when an artifact event is among them. The writer (``memo``:
    what its process kept of the run) reads a step's events once (or none: ``run_started``
    reads every step's): the memo keeps them, so a step's change is one query.

    ``one_moment``: in one transaction, repeatable read on PostgreSQL (a replay, read while
    writers go on). The writer reading after its own commit needs none: the rows it renders
    change only through its own next batch (the steps of a target are one writer's)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic() if one_moment else nullcontext():
        if one_moment and connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if changes.run_head:
            run = Run.objects.select_related("scenario", "revision", "launched_by", "rerun_of").get(
                pk=run_id
            )
        else:
            run = Run(pk=run_id)
        steps = StepResult.objects.filter(run_id=run_id).order_by(
            "target_id", "ordinal", "iteration"
        )
        events = RunEvent.objects.filter(run_id=run_id, type__in=STEP_EVENT_TYPES)
        artifacts = Artifact.objects.filter(run_id=run_id)
        if changes.whole:
            targets = list(
                RunTarget.objects.filter(run_id=run_id)
                .order_by("ordinal", "id")
                .defer("domain_xml")
            )
            steps = list(steps)
            names = {t.pk: t.name for t in targets}
            keys = sorted({(names.get(s.target_id, ""), s.step_id) for s in steps})
        else:
            steps = list(
                steps.filter(target__name__in=changes.targets)
                .select_related("target")
                .defer("target__domain_xml")
            )
            targets = {s.target_id: s.target for s in steps}
            if len(targets) < len(changes.targets):  # a target without steps
                targets = RunTarget.objects.filter(run_id=run_id, name__in=changes.targets)
                targets = {t.pk: t for t in targets.defer("domain_xml")}
            targets = sorted(targets.values(), key=lambda t: (t.ordinal, t.pk))
            step_ids = sorted({step_id for _, step_id, _ in changes.rows})
            events = events.filter(target__in=changes.targets, step_id__in=step_ids)
            artifacts = artifacts.filter(target__name__in=changes.targets, step_id__in=step_ids)
            keys = sorted({(t, step_id) for t in changes.targets for step_id in step_ids})
        # a whole-run change reads every step's events (and keeps them: after ``run_started``
        # a step's first change reads none); a step's change takes its steps' kept ones
        kept = None if memo is None or changes.whole else _kept_events(memo, keys)
        if kept is None:
            unkept = memo.unkept if memo is not None else 0
            events = [
                _Stored(*row)
                for row in events.order_by("seq").values_list(
                    "seq", "type", "target", "step_id", "payload"
                )
            ]
            if memo is not None:
                _keep_events(memo, keys, events, unkept)
        else:
            events = kept
        artifacts = list(artifacts) if any(e.type == "artifact" for e in events) else []
    steps_view = StepsView(targets, steps, artifacts).fold(events)
    steps_view.finish(int(settings.ATP_REPORT_STEP_LOG_LINES))
    return _View(run, steps_view, changes.run_head)


_WARM = threading.Event()
_WARM_LOCK = threading.Lock()


def _render(view: _View, changes: _Changes) -> dict:
    """The fragments; the process's first render alone: it costs ~150 ms CPU or more (the
    template engine, tag libraries, URL patterns), and the writers of runs that start
    together would each pay it at once, their events queued behind it."""
    if _WARM.is_set():
        return _render_now(view, changes)
    with _WARM_LOCK:
        html = _render_now(view, changes)
        _WARM.set()
    return html


def _render_now(view: _View, changes: _Changes) -> dict:
    words = status_words()
    sv = view.steps_view
    html: list[list[str]] = []
    order: list = []
    if changes.run_head and view.run_head:
        html.append(["run-head", render_to_string("runs/_run_head.html", {"run": view.run})])
    for t in sv.targets:
        if not (changes.whole or t.name in changes.targets):
            continue
        html.append([t.dom_id, render_to_string("runs/_target_head.html", {"t": t, **words})])
        for s in t.step_rows:
            key = (t.name, s.step_id, s.iteration)
            planned = (t.name, s.step_id, NOT_IN_LOOP)
            if changes.whole or key in changes.rows or planned in changes.rows:
                html.append([s.dom_id, _step_html(s, view.run, words)])
        order.append([t.steps_dom_id, [s.dom_id for s in t.step_rows]])
    return {"html": html, "order": order}


def _step_html(step, run, words: dict) -> str:
    return render_to_string(
        "runs/_step.html", {"s": step, "run": run, "can_operate": False, **words}
    )


def safe_messages(run_id: int, events: list[dict], make=messages) -> list[dict]:
    """``make(run_id, events)``, or the bare events when the view cannot be built (the page
    then asks the events endpoint for them): a broadcast never fails because of a render."""
    try:
        return make(run_id, events)
    except Exception:
        log.warning("run %s: live view of #%s failed", run_id, events[-1]["seq"], exc_info=True)
        return [dict(d) for d in events]


def with_views(run_id: int, events: Iterable[dict]) -> list[dict]:
    return safe_messages(run_id, list(events), replay)
