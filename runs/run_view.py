"""The one reducer of a run's stored rows and events into what the run page shows.

The projection (``runs.projection``) keeps the step and target rows; this module adds what only
the events hold — each step's log lines, outputs and artifacts, attributed to the loop
iteration that was running when they were emitted — and prints output and error once. The
page's first render (``runs.presenters.page_run``) and every live update
(``runs.live_updates``) are built with it and rendered with the same templates
(``runs/_step.html``, ``runs/_target_head.html``, ``runs/_run_head.html``), so a row pushed live
is the row a reload renders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .models import NOT_IN_LOOP

STEP_EVENT_TYPES = ("step_started", "step_log", "step_output", "artifact")
"""The events whose content (not status) belongs to a step row."""

NOT_RUN_LOG_TYPES = (
    *STEP_EVENT_TYPES,
    "step_finished",
    "target_started",
    "target_finished",
    "run_started",
    "run_finished",
)
"""Events the page shows as state, not as a line of "Run events"."""

LINE_TYPES = ("step_log", "step_output")


def step_dom_id(target_id: int, step_id: str, iteration: int) -> str:
    """The id of a step row's element: the live view swaps rows by it."""
    return f"step-{target_id}-{step_id}-{iteration}"


def target_head_id(target_id: int) -> str:
    return f"target-head-{target_id}"


def target_steps_id(target_id: int) -> str:
    return f"target-steps-{target_id}"


def log_line(type_: str, data: dict) -> tuple[str, str]:
    """A ``step_log``/``step_output`` event as the (css class, text) of its line."""
    if type_ == "step_log":
        level = data.get("level") or "info"
        return f"log-{level}", f"[{level}] {data.get('message', '')}"
    return f"out-{data.get('stream') or 'stdout'}", data.get("text", "")


class Cursor:
    """Which iteration of a step is running: the latest ``step_started`` of (target, step)."""

    def __init__(self) -> None:
        self.current: dict[tuple[str, str], int] = {}

    def start(self, target: str, step_id: str, data: dict) -> None:
        it = data.get("iteration")
        self.current[(target, step_id)] = NOT_IN_LOOP if it is None else int(it)

    def iteration(self, target: str, step_id: str) -> int | None:
        return self.current.get((target, step_id))


class StepsView:
    """Step rows with their logs, shots and files, folded from the step events in seq order.

    ``targets``: RunTarget rows; ``steps``: their StepResult rows; ``artifacts``: the Artifact
    rows the artifact events may name. ``fold(events)`` takes RunEvents (or anything with
    ``seq, type, target, step_id, payload``); ``finish(keep)`` prints output and error once,
    pairs the sliders, keeps the last ``keep`` log lines and sets each target's ``step_rows``
    and ``counts``. ``row_of[seq]``: the row key a line or artifact went to.
    """

    def __init__(self, targets, steps, artifacts) -> None:
        self.targets = list(targets)
        self.by_name = {t.name: t for t in self.targets}
        self.first = self.targets[0] if self.targets else None
        # A step inside a loop is planned as one row (iteration -1) until its iterations run;
        # then the iteration rows stand for it and the planned row is left out.
        steps = list(steps)
        with_iterations = {(s.target_id, s.step_id) for s in steps if s.iteration >= 0}
        self.steps = [
            s for s in steps if s.iteration >= 0 or (s.target_id, s.step_id) not in with_iterations
        ]
        self.index: dict[tuple, Any] = {}
        for s in self.steps:
            s.logs, s.shots, s.files = [], [], []
            s.dom_id = step_dom_id(s.target_id, s.step_id, s.iteration)
            self.index[(s.target_id, s.step_id, s.iteration)] = s
        self.artifact_by_key = {(a.target_id, a.step_id, a.name): a for a in artifacts}
        self.artifact_by_id = {a.pk: a for a in artifacts}
        self.cursor = Cursor()
        self.row_of: dict[int, Any] = {}

    def target(self, name: str):
        """The target an event names (the first one for an event that names none)."""
        return self.by_name.get(name, self.first) if name else self.first

    def row(self, target, step_id: str, iteration: int | None):
        return self.index.get((target.pk, step_id, NOT_IN_LOOP if iteration is None else iteration))

    def fold(self, events: Iterable) -> StepsView:
        for ev in events:
            self.apply(ev)
        return self

    def apply(self, ev) -> None:
        if ev.type not in STEP_EVENT_TYPES:
            return
        target = self.by_name.get(ev.target)
        if target is None:
            return
        data = ev.payload or {}
        if ev.type == "step_started":
            self.cursor.start(ev.target, ev.step_id, data)
            return
        it = self.cursor.iteration(ev.target, ev.step_id)
        row = self.row(target, ev.step_id, it) or self.row(target, ev.step_id, NOT_IN_LOOP)
        if row is None:
            return
        self.row_of[ev.seq] = row
        if ev.type in LINE_TYPES:
            cls, text = log_line(ev.type, data)
            row.logs.append({"seq": ev.seq, "cls": cls, "text": text})
        else:
            item = self._artifact_item(target, ev, data)
            is_image = item["kind"] in ("screenshot", "diff") or item["mime"].startswith("image/")
            (row.shots if is_image else row.files).append(item)

    def _artifact_item(self, target, ev, data: dict) -> dict:
        art = None
        if data.get("artifact_id"):
            art = self.artifact_by_id.get(data["artifact_id"])
        if art is None:
            art = self.artifact_by_key.get((target.pk, ev.step_id, data.get("name", "")))
        return {
            "key": f"id:{data['artifact_id']}"
            if data.get("artifact_id")
            else f"name:{data.get('name', '')}",
            "name": data.get("name", ""),
            "kind": data.get("kind", "file"),
            "mime": data.get("mime", ""),
            "artifact": art,
            "target": target.name,
            "step_id": ev.step_id,
            "url": data.get("url", ""),
        }

    def finish(self, keep: int) -> StepsView:
        by_target: dict[int, list] = {t.pk: [] for t in self.targets}
        for s in self.steps:
            _print_once(s)
            _pair_sliders(s)
            # the last lines of a chatty step; the rest is in the JSON report (linked)
            s.logs_hidden = max(0, len(s.logs) - keep)
            if s.logs_hidden:
                s.logs = s.logs[-keep:] if keep else []
            by_target.setdefault(s.target_id, []).append(s)
        for t in self.targets:
            t.step_rows = by_target.get(t.pk, [])
            t.dom_id = target_head_id(t.pk)
            t.steps_dom_id = target_steps_id(t.pk)
            counts: dict[str, int] = {}
            for s in t.step_rows:
                counts[s.status] = counts.get(s.status, 0) + 1
            t.counts = sorted(counts.items())
        return self


_DIFF_NAME = re.compile(r"^(?P<stem>.+)-diff(?P<n>-\d+)?\.png$")


def _pair_sliders(step) -> None:
    """``step.sliders``: per failed screen check of the step, its reference as it was checked
    and the actual screen (the best screenshot), for the report's reference/actual slider. The
    engine names them ``<stem>-reference.png`` and ``<stem>-best.png`` next to
    ``<stem>-diff.png``; the reference is then shown in the slider, not as a thumbnail."""
    step.sliders = []
    by_name = {x["name"]: x for x in step.shots}
    paired = set()
    for shot in step.shots:
        match = _DIFF_NAME.match(shot["name"]) if shot["kind"] == "diff" else None
        if not match:
            continue
        n = match["n"] or ""
        reference = by_name.get(f"{match['stem']}-reference{n}.png")
        actual = by_name.get(f"{match['stem']}-best{n}.png")
        if reference and actual and reference["artifact"] and actual["artifact"]:
            named = re.search(r"did not match '([^']+)'", step.error or "")
            name = named[1] if named else match["stem"]
            step.sliders.append({"name": name, "reference": reference, "actual": actual})
            paired.add(reference["name"])
    if paired:
        step.shots = [x for x in step.shots if x["name"] not in paired]


def _print_once(step) -> None:
    """Output and error are printed once: the error line the engine also logs is left out of
    the log (it is shown as the step's error), and the stored output is hidden when its lines
    already are in the log (command output arrives as ``step_output`` events too)."""
    if step.error:
        echo = f"[error] {step.error}"
        step.logs = [entry for entry in step.logs if entry["text"] != echo]
    step.output_in_log = any(entry["cls"].startswith("out-") for entry in step.logs)
