"""A budgeted worker ends a call that spends more than its CPU budget and starts afresh."""

from __future__ import annotations

import pytest

from atp_core.orchestrator.budget import BudgetedWorker, BudgetExceeded
from tests.unit.yaml_bombs import merge_bomb


def burn(seconds: float | str, _filename: str | None = None) -> str:
    """Spins for ``seconds`` of CPU (a text, when called in place of the validation)."""
    import time

    end = time.process_time() + float(seconds)
    while time.process_time() < end:
        pass
    return "done"


@pytest.fixture
def burner():
    worker = BudgetedWorker("tests.unit.test_validation_cpu_budget:burn", cpu_seconds=1)
    yield worker
    worker.close()


def test_a_call_within_the_budget_answers(burner):
    assert burner.call(0.05) == "done"


def test_a_call_over_the_cpu_budget_is_ended_and_the_next_one_works(burner):
    burner.call(0.01)
    first = burner._proc.pid
    with pytest.raises(BudgetExceeded, match="more than 1 s of CPU"):
        burner.call(30)
    assert burner._proc is None  # the child was ended (by the kernel's SIGXCPU)
    assert burner.call(0.01) == "done"
    assert burner._proc.pid != first


def test_errors_of_the_target_come_back_and_the_child_stays(burner):
    burner.call(0.01)
    pid = burner._proc.pid
    with pytest.raises(RuntimeError, match="TypeError"):
        burner.call([1])
    assert burner.call(0.01) == "done" and burner._proc.pid == pid


def test_the_validation_target_loads_scenarios():
    worker = BudgetedWorker("atp_core.orchestrator.budget:validate_text", cpu_seconds=2)
    try:
        ok = worker.call(merge_bomb(depth=10), "bomb.yaml")
        bad = worker.call("name: x\nsteps: 3\n", None)
    finally:
        worker.close()
    assert ok["ok"] and ok["name"] == "merge-bomb" and ok["parsed"]["variables"]["l10"]["m10"] == 10
    assert not bad["ok"] and bad["issues"][0]["path"] == "steps"
