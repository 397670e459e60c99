"""A finished capacity run on a host, stored through the lifecycle as the worker stores one:
3 steps, the third past the stop line (capacity 2)."""

from __future__ import annotations

from runs import capacity_lifecycle
from runs.models import CapacityRun

STEPS = [
    {"desks": 1, "inputs": 6, "p50": 0.050, "p95": 0.060, "ratio": 1.0},
    {"desks": 2, "inputs": 12, "p50": 0.052, "p95": 0.066, "ratio": 1.1},
    {"desks": 3, "inputs": 18, "p50": 0.070, "p95": 0.090, "ratio": 1.5},
]


def finished_run(host, template: str = "desk-template") -> CapacityRun:
    run = CapacityRun.objects.create(
        host=host,
        host_name=host.name,
        host_uri=host.uri,
        template=template,
        max_desks=4,
        keys=6,
        queue=f"host.{host.name}",
    )
    assert capacity_lifecycle.claim(run.pk, worker="w1@test")
    for step in STEPS:
        assert capacity_lifecycle.record_step(run.pk, step)
    outcome = {
        "capacity": 2,
        "at_least": False,
        "baseline_p95": 0.060,
        "reason": "p95 90 ms at 3 desks is more than 15% above the baseline 60 ms",
        "summary": f"capacity: 2 desks on host {host.name} (p95 90 ms at 3 desks is ...)",
        "steps": STEPS,
    }
    assert capacity_lifecycle.finish(run.pk, "passed", outcome["reason"], outcome=outcome)
    run.refresh_from_db()
    return run
