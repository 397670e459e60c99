"""Input-to-display latency of the input steps, from the SPICE client's own timestamps.

An input step's latency runs from the moment its first *acting* input event left the client
(the key press, the button press, the wheel notch; the pointer move of ``mouse_move``) to the
first display update the client received after it (in ``area`` when the step gives one), or
to the first update whose frame shows the step's ``until`` reference or text. Both ends are
``time.monotonic()`` stamps taken on the client's GLib thread, so the resolution is one display
update. Nothing runs in the guest.

The hypervisor display path (libvirt ``sendKey`` and screenshots) has no update stream: its
latency is not measured (the step says so); a step that asks for it there (``max_latency``,
``until``, ``area``) is an error naming ``display: spice``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from atp_core.errors import CheckFailed, InvalidInput, OperationTimeout

if TYPE_CHECKING:
    from .runtime import StepCall

# the action kind of each input step, and the input events that start its latency
ACTION_KINDS = {
    "send_key": "key",
    "send_text": "text",
    "mouse_click": "click",
    "click_image": "click",
    "mouse_drag": "drag",
    "mouse_scroll": "scroll",
    "mouse_move": "move",
}
TRIGGERS = {
    "key": ("key_down",),
    "text": ("key_down",),
    "click": ("button_down",),
    "drag": ("button_down",),
    "scroll": ("button_down",),
    "move": ("move", "motion"),
}
# how long to wait for the first display update when the step has no ``until``: an input that
# changes nothing on the screen costs at most this
UPDATE_WAIT = 2.0
UNTIL_POLL = 0.05


def _box(area: Any) -> tuple[int, int, int, int] | None:
    if not area:
        return None
    return int(area["x"]), int(area["y"]), int(area["width"]), int(area["height"])


def _max_latency(call: StepCall) -> float | None:
    value = call.args.get("max_latency")
    if value is None:
        value = getattr(call.branch.run.defaults, "max_latency", None)
    return None if value is None else float(value)


def measured(handler: Callable[[StepCall], None]) -> Callable[[StepCall], None]:
    """Wrap an input step's handler: after it ran, measure and judge its latency."""

    @functools.wraps(handler)
    def run(call: StepCall) -> None:
        kind = ACTION_KINDS[call.kind]
        call.report.metrics.clear()  # a retry measures anew
        asked = any(call.args.get(k) for k in ("until", "area", "max_latency"))
        if kind == "move" and not asked:
            handler(call)  # a pointer move draws nothing on a hardware-cursor desktop
            return
        spice = getattr(call.session(), "spice", None) if call.vm_name() else None
        if spice is None:
            handler(call)
            if asked:
                raise InvalidInput(
                    f"step {call.step_id} ({call.kind}): 'max_latency', 'until' and 'area' need "
                    "the SPICE display (display: spice); the hypervisor path has no display "
                    "update stream to time"
                )
            call.report.metrics["latency"] = None
            call.report.metrics["latency_note"] = "not measured on the hypervisor display path"
            return
        mark = time.monotonic()
        handler(call)
        measure(call, spice, kind, mark)

    return run


def measure(call: StepCall, spice: Any, kind: str, mark: float) -> float | None:
    """Find the step's first acting input after ``mark``, time it to the display, store it in
    the step's metrics, and fail the step past ``max_latency``. Returns seconds (or None)."""
    metrics = call.report.metrics
    metrics["action"] = kind
    sent = [i for i in spice.inputs_since(mark) if i.kind in TRIGGERS[kind]]
    limit = _max_latency(call)
    if not sent:
        metrics["latency"] = None
        metrics["latency_note"] = "no input event was sent"
        return None
    start = sent[0].time
    metrics["inputs"] = len(sent)
    until = call.args.get("until")
    region = _box(call.args.get("area"))
    if until:
        end, what = _until(call, spice, start, until)
    else:
        wait = max(0.1, min(UPDATE_WAIT, call.remaining() - 0.2))
        if limit is not None:
            wait = max(wait, min(call.remaining() - 0.2, limit * 3))
        try:
            update = spice.wait_update(after=start, region=region, timeout=wait, cancel=call.token)
        except OperationTimeout:
            metrics["latency"] = None
            where = f" in area {region}" if region else ""
            metrics["latency_note"] = f"no display update{where} within {wait:g} s"
            if limit is not None:
                raise CheckFailed(
                    f"latency: no display update{where} within {wait:g} s of the input "
                    f"(max_latency {_ms(limit)})"
                ) from None
            call.say(f"latency: not measured, no display update{where} within {wait:g} s")
            return None
        end, what = update.time, f"first display update{' in area' if region else ''}"
    latency = max(0.0, end - start)
    metrics["latency"] = round(latency, 4)
    metrics["latency_to"] = what
    if limit is not None:
        metrics["max_latency"] = limit
    call.say(f"latency {_ms(latency)} ({kind}: input sent -> {what})")
    if limit is not None and latency > limit:
        raise CheckFailed(f"latency {_ms(latency)} > max_latency {_ms(limit)} ({what})")
    return latency


def _until(
    call: StepCall, spice: Any, start: float, until: dict, *, already: bool = False
) -> tuple[float, str]:
    """The time of the first display update after ``start`` whose frame shows ``until``;
    ``already``: a frame that showed it before ``start`` counts, at ``start``."""
    from . import screen_match, screen_text

    reference, text = until.get("reference"), until.get("text")
    specs = _candidates(call, str(reference)) if reference is not None else None

    def holds(pixels) -> bool:
        frame = screen_match.Frame(np.ascontiguousarray(pixels[:, :, ::-1]))
        if specs is None:
            return screen_text.find_text(screen_text.read_text(frame), text=str(text)).matched
        for spec in specs:  # any candidate, anywhere on the screen
            result = screen_match.compare(
                spec.path,
                frame,
                areas=[tuple(int(v) for v in a) for a in spec.areas] or None,
                threshold=spec.threshold,
                method=spec.method or "template",
                exclude=[tuple(int(v) for v in a) for a in spec.exclude] or None,
            )
            if result.matched:
                return True
        return False

    what = f"reference {reference!r} shown" if specs is not None else f"text {text!r} shown"
    deadline = time.monotonic() + max(0.3, call.remaining() - 0.3)
    checked_seq = -1
    while True:
        frame = spice.frame()
        fresh = frame.time > start or already
        if frame.seq != checked_seq and fresh and holds(frame.pixels):
            # the frame holds every update up to frame.seq; the first one after the last
            # frame checked is the earliest the change can have arrived
            return max(frame.time, start), what
        checked_seq = frame.seq
        left = deadline - time.monotonic()
        if left <= 0:
            raise CheckFailed(
                f"until: {what.replace(' shown', '')} was not on the screen within "
                f"{call.timeout:g} s of the input"
            )
        try:
            spice.wait_update(after=frame.time, timeout=min(left, 1.0), cancel=call.token)
        except OperationTimeout:
            continue


wait_shown = _until


def _candidates(call: StepCall, name: str) -> list[Any]:
    references = call.branch.run.references
    spec = references.get(name)
    if spec is None:
        known = ", ".join(sorted(references)) or "none"
        raise InvalidInput(f"until: unknown reference image {name!r} (known: {known})")
    return list(spec) if isinstance(spec, list | tuple) else [spec]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def percentile(values: list[float], q: float) -> float:
    """The ``q`` (0-100) percentile by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


LOGON_PHASES = ("power_on", "agent", "login_screen", "credentials", "desktop", "app")


def summarize_logon(steps: list[Any]) -> dict[str, dict[str, float | int]]:
    """Per logon phase (and ``total``): count, median and p95 seconds over the logon steps."""
    by_phase: dict[str, list[float]] = {}
    for step in steps:
        metrics = getattr(step, "metrics", None) or {}
        for phase in (*LOGON_PHASES, "total"):
            value = metrics.get(f"logon.{phase}")
            if value is not None:
                by_phase.setdefault(phase, []).append(float(value))
    return {
        phase: {
            "count": len(values),
            "median": round(percentile(values, 50), 3),
            "p95": round(percentile(values, 95), 3),
        }
        for phase, values in by_phase.items()
    }


def summarize(steps: list[Any]) -> dict[str, dict[str, float | int]]:
    """Per action kind: count, p50, p95 and max latency (seconds) of the measured steps.

    ``steps``: anything with a ``metrics`` dict (engine step reports, stored step rows)."""
    by_kind: dict[str, list[float]] = {}
    for step in steps:
        metrics = getattr(step, "metrics", None) or {}
        if metrics.get("latency") is not None and metrics.get("action"):
            by_kind.setdefault(str(metrics["action"]), []).append(float(metrics["latency"]))
    return {
        kind: {
            "count": len(values),
            "p50": round(percentile(values, 50), 4),
            "p95": round(percentile(values, 95), 4),
            "max": round(max(values), 4),
        }
        for kind, values in sorted(by_kind.items())
    }


def summary_lines(steps: list[Any]) -> list[str]:
    """The latency and logon summary as plain text lines (for the command lines), or []."""
    lines = []
    latency = summarize(steps)
    if latency:
        lines.append("input-to-display latency (ms):  action  inputs  p50  p95  max")
        for kind, s in latency.items():
            ms = "  ".join(f"{s[k] * 1000:.0f}" for k in ("p50", "p95", "max"))
            lines.append(f"  {kind:<12} {s['count']:>5}  {ms}")
    logon = summarize_logon(steps)
    if logon:
        lines.append("logon time (s):  phase  logons  median  p95")
        for phase, s in logon.items():
            lines.append(f"  {phase:<12} {s['count']:>5}  {s['median']:.2f}  {s['p95']:.2f}")
    return lines
