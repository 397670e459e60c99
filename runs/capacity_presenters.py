"""What the capacity pages and the API show of a ``CapacityRun``: steps in ms, the stop line,
the curve's SVG (``charts.capacity_curve_svg``)."""

from __future__ import annotations

from .charts import capacity_curve_svg
from .models import CapacityRun


def _ms(seconds) -> float | None:
    return None if seconds is None else round(float(seconds) * 1000, 1)


def step_rows(run: CapacityRun) -> list[dict]:
    """Per step: desks, inputs, p50/p95 (ms), ratio to the baseline, and whether its p95
    crossed the stop line."""
    limit = stop_line_ms(run)
    rows = []
    for step in run.steps or []:
        p95 = _ms(step.get("p95"))
        rows.append(
            {
                "desks": int(step.get("desks") or 0),
                "inputs": int(step.get("inputs") or 0),
                "p50": _ms(step.get("p50")),
                "p95": p95,
                "ratio": step.get("ratio"),
                "over": limit is not None and p95 is not None and p95 > limit,
            }
        )
    return rows


def stop_line_ms(run: CapacityRun) -> float | None:
    """The p95 (ms) above which a step stops the run: the baseline plus the threshold."""
    base = run.baseline_p95
    if base is None and run.steps and run.steps[0].get("p95") is not None:
        base = run.steps[0]["p95"]  # still running: the first step is the baseline
    return None if base is None else round(float(base) * (1 + run.threshold) * 1000, 1)


def capacity_page(run: CapacityRun) -> dict:
    rows = step_rows(run)
    return {
        "run": run,
        "rows": rows,
        "stop_line_ms": stop_line_ms(run),
        "curve": capacity_curve_svg(rows, limit_ms=stop_line_ms(run), capacity=run.capacity),
    }
