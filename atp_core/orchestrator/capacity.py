"""Capacity (the VSImax question): how many desks a host carries before the user waits longer.

``run_capacity`` starts desks one step at a time; after each start every desk started so far
runs its workload once, all at the same time, and returns the input-to-display latencies it
measured. The p95 of the step with one desk is the baseline; the run stops at the first step
whose p95 is more than ``threshold`` (15 %) above it, or when a desk fails to start or its
workload fails. The capacity is the last step that held; when ``max_desks`` held, the host
carries at least that many (the result says so). The controller only starts desks and waits
for their workloads: it adds no work of its own to the desks while they measure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from atp_core.errors import InvalidInput

from .latency import percentile

# what one capacity run may ask for: each desk is a whole guest booted on the host, and each
# step runs every started desk's workload once, so both bound the run's length
MAX_DESKS_LIMIT = 12
MAX_KEYS_LIMIT = 40


@dataclass
class CapacityStep:
    desks: int
    samples: list[float] = field(default_factory=list)  # latencies, seconds

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95)

    def to_dict(self) -> dict[str, Any]:
        return {
            "desks": self.desks,
            "inputs": len(self.samples),
            "p50": round(self.p50, 4) if self.samples else None,
            "p95": round(self.p95, 4) if self.samples else None,
        }


@dataclass
class CapacityResult:
    host: str
    capacity: int
    reason: str
    threshold: float
    baseline_p95: float | None = None
    at_least: bool = False  # max_desks held: the host carries at least ``capacity``
    steps: list[CapacityStep] = field(default_factory=list)

    def summary(self) -> str:
        more = "at least " if self.at_least else ""
        return f"capacity: {more}{self.capacity} desks on host {self.host} ({self.reason})"

    def curve(self) -> list[str]:
        """The latency-vs-desks curve as text lines: desks, inputs, p50, p95 (ms), vs baseline."""
        lines = ["desks  inputs   p50 ms   p95 ms   p95 vs baseline"]
        for step in self.steps:
            ratio = f"{step.p95 / self.baseline_p95:.2f}" if self.baseline_p95 else "-"
            lines.append(
                f"{step.desks:>5}  {len(step.samples):>6}  {step.p50 * 1000:>7.0f}  "
                f"{step.p95 * 1000:>7.0f}   {ratio}"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "capacity": self.capacity,
            "at_least": self.at_least,
            "reason": self.reason,
            "threshold": self.threshold,
            "baseline_p95": None if self.baseline_p95 is None else round(self.baseline_p95, 4),
            "summary": self.summary(),
            "steps": [{**s.to_dict(), "ratio": self.ratio(s)} for s in self.steps],
        }

    def ratio(self, step: CapacityStep) -> float | None:
        """The step's p95 over the one-desk baseline (None before there is one)."""
        if not self.baseline_p95 or not step.samples:
            return None
        return round(step.p95 / self.baseline_p95, 3)


def check_capacity_inputs(
    max_desks: Any, keys: Any, threshold: Any = 0.15
) -> tuple[int, int, float]:
    """``(max_desks, keys, threshold)`` as numbers, or ``InvalidInput`` saying which one is
    wrong and what is allowed: 1-``MAX_DESKS_LIMIT`` desks, 1-``MAX_KEYS_LIMIT`` keys per desk
    and step, a threshold above 0 and at most 1 (100 %)."""

    def whole(name: str, value: Any, high: int) -> int:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise InvalidInput(f"{name}: {value!r} is not a whole number (1-{high})") from None
        if not 1 <= number <= high:
            raise InvalidInput(f"{name}: {number} is out of range (1-{high})")
        return number

    desks = whole("max_desks", max_desks, MAX_DESKS_LIMIT)
    count = whole("keys", keys, MAX_KEYS_LIMIT)
    try:
        limit = float(str(threshold).strip().rstrip("%")) / (100 if "%" in str(threshold) else 1)
    except (TypeError, ValueError):
        raise InvalidInput(f"threshold: {threshold!r} is not a number (e.g. 0.15 or 15%)") from None
    if not 0 < limit <= 1:
        raise InvalidInput(f"threshold: {threshold!r} is out of range (above 0, at most 1 = 100%)")
    return desks, count, limit


def _run_all(desks: list[Any], workload: Callable[[Any, int], list[float]], step: int):
    """Every desk's workload at once; (samples, first failure or None)."""
    results: dict[int, list[float]] = {}
    errors: dict[int, BaseException] = {}

    def one(index: int, desk: Any) -> None:
        try:
            results[index] = list(workload(desk, step))
        except Exception as exc:  # noqa: BLE001 — a failing desk ends the run, with its reason
            errors[index] = exc

    threads = [
        threading.Thread(target=one, args=(i, d), name=f"capacity-desk-{i + 1}", daemon=True)
        for i, d in enumerate(desks)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    samples = [v for i in sorted(results) for v in results[i]]
    if errors:
        index = min(errors)
        return samples, f"desk {index + 1}: {errors[index]}"
    return samples, None


def run_capacity(
    start_desk: Callable[[int], Any],
    workload: Callable[[Any, int], list[float]],
    *,
    host: str,
    max_desks: int,
    threshold: float = 0.15,
    on_step: Callable[[CapacityStep], None] | None = None,
    should_stop: Callable[[], str | None] | None = None,
) -> CapacityResult:
    """Start desks one by one (``start_desk(n)`` returns desk ``n``, 1-based) up to
    ``max_desks``; after each start run ``workload(desk, n)`` on every desk at once (it returns
    the latencies it measured, seconds) and stop as the module says. ``should_stop``, asked
    before each desk starts, ends the run early when it returns a reason (a cancel)."""
    if max_desks < 1:
        raise ValueError("max_desks must be at least 1")
    result = CapacityResult(host=host, capacity=0, reason="", threshold=threshold)
    desks: list[Any] = []
    for n in range(1, max_desks + 1):
        stop = should_stop() if should_stop is not None else None
        if stop:
            result.reason = stop
            return result
        try:
            desks.append(start_desk(n))
        except Exception as exc:  # noqa: BLE001 — a desk that cannot start ends the run
            result.reason = f"desk {n} did not start: {exc}"
            return result
        samples, failure = _run_all(desks, workload, n)
        step = CapacityStep(n, samples)
        result.steps.append(step)
        if on_step is not None:
            on_step(step)
        if failure is not None:
            result.reason = f"a workload failed at {n} desks: {failure}"
            return result
        if not samples:
            result.reason = f"no latency measured at {n} desks"
            return result
        if n == 1:
            result.baseline_p95 = step.p95
        elif step.p95 > result.baseline_p95 * (1 + threshold):
            result.reason = (
                f"p95 {step.p95 * 1000:.0f} ms at {n} desks is more than {threshold:.0%} above "
                f"the baseline {result.baseline_p95 * 1000:.0f} ms"
            )
            return result
        result.capacity = n
    result.at_least = True
    result.reason = f"p95 stayed within {threshold:.0%} of the baseline up to {max_desks} desks"
    return result
