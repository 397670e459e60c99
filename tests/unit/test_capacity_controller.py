"""The capacity controller's stop rules (the rig run is bench/p15_capacity.py and its short
version tests/rig/test_capacity_short.py): the baseline is the p95 at one desk; the run stops
at the first step more than 15 % above it, at a desk that does not start, or at a workload that
fails; the capacity is the last step that held; every desk of a step runs at the same time."""

import threading

import pytest

from atp_core.orchestrator.capacity import run_capacity

# latency of every input at n desks: flat, then it degrades at 4
BY_DESKS = {1: 0.100, 2: 0.105, 3: 0.114, 4: 0.130, 5: 0.2}


def test_stops_at_the_first_step_past_the_threshold():
    seen = []
    result = run_capacity(
        lambda n: f"desk{n}",
        lambda desk, n: [BY_DESKS[n]] * 5,
        host="h1",
        max_desks=5,
        on_step=seen.append,
    )
    assert result.capacity == 3 and not result.at_least
    assert [s.desks for s in result.steps] == [1, 2, 3, 4] == [s.desks for s in seen]
    assert [len(s.samples) for s in result.steps] == [5, 10, 15, 20], "every desk measures"
    assert result.baseline_p95 == pytest.approx(0.1)
    assert "p95 130 ms at 4 desks is more than 15% above the baseline 100 ms" in result.reason
    assert result.summary().startswith("capacity: 3 desks on host h1")
    assert result.curve()[4].split()[:4] == ["4", "20", "130", "130"]
    step = {"desks": 2, "inputs": 10, "p50": 0.105, "p95": 0.105, "ratio": 1.05}
    assert result.to_dict()["steps"][1] == step


def test_a_host_that_holds_up_to_max_desks_carries_at_least_that():
    result = run_capacity(lambda n: n, lambda d, n: [0.1], host="h", max_desks=2)
    assert (result.capacity, result.at_least) == (2, True)
    assert result.summary() == (
        "capacity: at least 2 desks on host h (p95 stayed within 15% of the baseline up to 2 desks)"
    )


def test_a_desk_that_does_not_start_or_fails_ends_the_run():
    def start(n):
        if n == 3:
            raise RuntimeError("no memory left")
        return n

    result = run_capacity(start, lambda d, n: [0.1], host="h", max_desks=5)
    assert result.capacity == 2 and result.reason == "desk 3 did not start: no memory left"

    def workload(desk, n):
        if desk == 2:
            raise TimeoutError("no display update within 2 s")
        return [0.1]

    result = run_capacity(lambda n: n, workload, host="h", max_desks=5)
    assert result.capacity == 1
    assert result.reason == "a workload failed at 2 desks: desk 2: no display update within 2 s"


def test_the_desks_of_a_step_run_at_the_same_time():
    running, peak, lock = [0], [0], threading.Lock()
    barrier = threading.Barrier(3, timeout=10)

    def workload(desk, n):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        if n == 3:
            barrier.wait()  # only returns when all three desks are inside at once
        with lock:
            running[0] -= 1
        return [0.1]

    run_capacity(lambda n: n, workload, host="h", max_desks=3)
    assert peak[0] == 3
    with pytest.raises(ValueError, match="max_desks must be at least 1"):
        run_capacity(lambda n: n, workload, host="h", max_desks=0)
