"""Cancelling: a queued run ends at once; a running run gets the flag, the worker's watcher
sees it and the engine's CancelToken stops the run, which ends ``cancelled`` with its events."""

from __future__ import annotations

import time

import pytest

from atp_core.errors import Cancelled, InvalidInput
from runs.engine_runner import RunWatcher
from runs.models import Run, RunEvent
from runs.services import launch_run, request_cancel
from runs.tasks import execute_run
from tests.fixtures.web import make_user
from tests.waiting import wait_for
from tests.web.runs_core_data import event, inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(redis_url, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    return launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)


def test_cancel_while_queued_ends_the_run_and_the_late_task_does_nothing(run):
    request_cancel(run, make_user("olga", "operator"))
    run.refresh_from_db()
    assert (run.state, run.result, run.cancel_requested) == ("finished", "cancelled", True)
    assert run.reason == "cancelled by olga before it started"
    types = list(RunEvent.objects.filter(run=run).values_list("type", flat=True))
    assert types == ["queued", "cancel_requested", "run_finished"]
    assert execute_run.apply(args=[run.pk]).get() == "stale"
    with pytest.raises(InvalidInput, match="already finished"):
        request_cancel(run, None)


def test_cancel_flag_reaches_a_running_run(run):
    Run.objects.filter(pk=run.pk).update(state="running")
    watcher = RunWatcher(run.pk, poll=0.1).start()
    try:
        assert not watcher.cancelled()
        request_cancel(run, None)
        run.refresh_from_db()
        assert (run.state, run.cancel_requested) == ("running", True), "the worker ends it"
        wait_for(watcher.cancelled, 30, "the watcher to see the cancel flag", interval=0.05)
    finally:
        watcher.stop()
    assert watcher.beats >= 1 and Run.objects.get(pk=run.pk).heartbeat is not None


def test_engine_stops_on_cancel_and_run_ends_cancelled(run, monkeypatch):
    from atp_core.orchestrator.report import RunReport, TargetReport

    def waiting_engine(scenario, targets, *, sink, cancel, **kwargs):
        sink(event("run_started", target=None, plan=[]))
        sink(event("step_started", step_id="1", name="wait", type="wait", attempt=1))
        request_cancel(Run.objects.get(pk=run.pk), None)  # someone presses cancel
        started = time.monotonic()
        try:
            cancel.wait(120)
        except Cancelled:
            woken.append("by the cancel")
        took = time.monotonic() - started
        sink(event("step_finished", step_id="1", status="cancelled", duration=took))
        sink(event("run_finished", target=None, result="cancelled", totals={}))
        target = TargetReport(name=targets[0].name, vm=targets[0].vm, result="cancelled")
        return RunReport(scenario="demo", result="cancelled", duration=took, targets=[target])

    woken: list[str] = []
    monkeypatch.setattr("atp_core.orchestrator.run_scenario", waiting_engine)
    assert execute_run.apply(args=[run.pk]).get() == "cancelled"
    assert woken == ["by the cancel"], "the engine's wait was not ended by the cancel"
    run.refresh_from_db()
    assert (run.state, run.result, run.reason) == ("finished", "cancelled", "cancelled on request")
    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type == "run_finished" and events[-1].payload["result"] == "cancelled"
    assert [e.type for e in events].count("run_finished") == 1
    assert {a.name for a in run.artifacts.all()} == {"report.json", "junit.xml"}


def test_a_run_ended_elsewhere_stops_the_engine_and_keeps_its_result(run, monkeypatch):
    """The reaper ended the run while its worker was cut off: the worker's engine is stopped
    through the CancelToken and its late result does not overwrite the reaper's."""
    from atp_core.orchestrator.report import RunReport
    from runs.lifecycle import finish

    def engine(scenario, targets, *, sink, cancel, **kwargs):
        sink(event("step_started", step_id="1", name="wait", type="wait", attempt=1))
        finish(run.pk, "error", "worker w1 stopped sending heartbeats")
        try:
            cancel.wait(120)
        except Cancelled:
            woken.append("by the cancel")
        sink(event("step_finished", step_id="1", status="cancelled", duration=0.1))
        sink(event("run_finished", target=None, result="cancelled", totals={}))
        return RunReport(scenario="demo", result="cancelled")

    woken: list[str] = []
    monkeypatch.setattr("atp_core.orchestrator.run_scenario", engine)
    assert execute_run.apply(args=[run.pk]).get() == "error"
    assert woken == ["by the cancel"], "the engine was not stopped through its CancelToken"
    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "error")
    assert run.reason == "worker w1 stopped sending heartbeats"
    types = list(run.events.order_by("seq").values_list("type", flat=True))
    assert types.count("run_finished") == 1 and types[-1] == "worker_stopped"
