"""NUL characters in what a run stores (events, step output and errors, reasons) are replaced,
so PostgreSQL keeps every event and no step stays "running" in a finished run."""

from __future__ import annotations

import pytest

from atp_core.status import Result
from runs.event_sink import RunEventSink
from runs.event_store import record_event
from runs.lifecycle import finish
from runs.models import RunEvent, StepResult
from runs.services import launch_run
from tests.web.runs_core_data import PLAN, event, inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)
UTF16_AS_UTF8 = "N\x00a\x00m\x00e\x00"  # UTF-16 output of a Windows tool read as UTF-8


@pytest.fixture
def run(monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    monkeypatch.setattr("runs.event_store.broadcast", lambda run_id, payload: None)
    inventory()
    return launch_run(revision(), [{"tag": "demo"}], {}, None)


def test_events_with_nul_are_stored_and_the_step_finishes(run):
    sink = RunEventSink(run.pk)
    for ev in [
        event("run_started", target=None, run_id=str(run.pk), plan=PLAN, targets=[]),
        event("target_started"),
        event("step_started", step_id="2", name="wmic\x00", type="exec_command", attempt=1),
        event("step_output", step_id="2", stream="stdout", text=UTF16_AS_UTF8),
        event("step_log", step_id="2", level="info", message="got \x00"),
        event(
            "step_finished",
            step_id="2",
            status="failed",
            duration=0.5,
            error="stdout does not contain 'x' (stderr: \x00)",
            output={"stdout\x00": UTF16_AS_UTF8},
        ),
        event("target_finished", result="failed", totals={"failed": 1}),
        event("run_finished", target=None, result="failed", reason="step 2: \x00 failed"),
    ]:
        sink(ev)
    assert sink.flush(10)
    sink.close()
    types = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))
    assert types[-1] == "run_finished" and "step_finished" in types and "step_output" in types
    step = StepResult.objects.get(run=run, target__name="local/demo-1", step_id="2")
    assert step.status == "failed"
    assert step.name == "wmic\ufffd" and "\ufffd" in step.error and "\x00" not in step.output
    out = RunEvent.objects.get(run=run, type="step_output").payload["text"]
    assert out == UTF16_AS_UTF8.replace("\x00", "\ufffd")
    run.refresh_from_db()
    assert (run.state, run.result, run.reason) == ("finished", "failed", "step 2: \ufffd failed")


def test_a_reason_with_nul_ends_the_run(run):
    assert finish(run.pk, Result.ERROR, "ProtocolError: bad \x00 reply")
    run.refresh_from_db()
    assert run.state == "finished" and run.reason == "ProtocolError: bad \ufffd reply"
    finished = RunEvent.objects.get(run=run, type="run_finished")
    assert "\x00" not in str(finished.payload)


def test_rows_saved_directly_lose_their_nul(run):
    record_event(run, "worker_started", {"worker": "w\x00"})
    run.reason = "x\x00y"
    run.save()
    run.refresh_from_db()
    assert run.reason == "x\ufffdy"
    assert RunEvent.objects.get(run=run, type="worker_started").payload == {"worker": "w\ufffd"}
