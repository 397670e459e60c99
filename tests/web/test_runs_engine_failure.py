"""Whatever fails outside the engine — the engine missing, an exception, a scenario that no
longer loads — the run ends ``error`` with the reason; it never stays running."""

from __future__ import annotations

import sys

import pytest

from runs.models import Run, RunEvent
from runs.services import launch_run
from runs.tasks import execute_run
from tests.web.runs_core_data import event, inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(redis_url, monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    return launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)


def _ended_error(run) -> Run:
    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "error")
    assert run.finished is not None and run.started is not None
    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type == "run_finished" and events[-1].payload["reason"] == run.reason
    return run


def test_engine_exception_ends_the_run_error_with_the_reason(run, monkeypatch):
    def broken_engine(scenario, targets, *, sink, **kwargs):
        sink(event("run_started", target=None, plan=[{"id": "1", "name": "ping"}]))
        sink(event("step_started", step_id="1", name="ping", type="guest_ping", attempt=1))
        raise RuntimeError("the executor fell over")

    monkeypatch.setattr("atp_core.orchestrator.run_scenario", broken_engine)
    assert execute_run.apply(args=[run.pk]).get() == "error"
    run = _ended_error(run)
    assert run.reason == "RuntimeError: the executor fell over"
    step = run.steps.get(step_id="1")
    assert (step.status, step.error) == ("error", run.reason), "the open step is closed too"
    assert run.run_targets.get().result == "error"
    assert "worker_started" in set(run.events.values_list("type", flat=True))


def test_engine_not_importable(run, monkeypatch):
    monkeypatch.setitem(sys.modules, "atp_core.orchestrator", None)
    assert execute_run.apply(args=[run.pk]).get() == "error"
    run = _ended_error(run)
    # no guard of its own: the import error itself ends the run, named in the reason
    assert run.reason.startswith("ModuleNotFoundError") and "atp_core.orchestrator" in run.reason


def test_scenario_that_no_longer_loads(run):
    Run.objects.filter(pk=run.pk).update(source="version: 1\nname: x\nsteps:\n  - type: nope\n")
    assert execute_run.apply(args=[run.pk]).get() == "error"
    run = _ended_error(run)
    assert "ScenarioValidationError" in run.reason and "steps[0]" in run.reason


def test_a_missing_run_is_dropped():
    assert execute_run.apply(args=[987654]).get() == "stale"
