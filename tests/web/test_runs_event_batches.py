"""The event writer stores what queued up while it was busy as one batch: one transaction, one
reservation of sequence numbers, consecutive numbers even with the web's own events in between,
each broadcast on its own; a batch that cannot be stored is stored event by event."""

from __future__ import annotations

import threading

import pytest

import runs.event_store as event_store
import runs.projection as projection
from runs.event_sink import RunEventSink
from runs.event_store import record_event
from runs.models import RunEvent
from runs.services import launch_run
from tests.web.runs_core_data import PLAN, event, inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(redis_url, monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)  # no worker here
    inventory()
    return launch_run(revision(), [{"tag": "demo"}], {}, None)


@pytest.fixture
def broadcasts(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(event_store, "broadcast", lambda run_id, ev: sent.append(ev["seq"]))
    return sent


def _steps(count: int) -> list:
    feed = []
    for i in range(count):
        sid = str(i % 2 + 1)
        feed.append(event("step_started", step_id=sid, name=f"s{sid}", type="exec_command"))
        feed.append(event("step_finished", step_id=sid, status="passed", duration=0.1))
    return feed


def _held(sink: RunEventSink) -> threading.Event:
    """Keep the writer busy until the returned event is set (as a slow commit would)."""
    release = threading.Event()
    sink.call_last(lambda: release.wait(10))
    return release


def test_events_queued_while_the_writer_is_busy_go_in_one_transaction(run, broadcasts):
    sink = RunEventSink(run.pk)
    sink(event("run_started", target=None, run_id=str(run.pk), plan=PLAN, targets=[]))
    assert sink.flush(10)
    release = _held(sink)
    feed = _steps(25)
    for ev in feed:
        sink(ev)
    release.set()
    assert sink.flush(10)
    sink.close()
    assert (sink.stored, sink.batches) == (1 + len(feed), 2)
    stored = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "type"))
    assert [seq for seq, _ in stored] == list(range(1, 2 + len(feed) + 1))  # seq 1: "queued"
    assert [t for _, t in stored[2:]] == [e.type for e in feed]
    assert broadcasts == list(range(2, 2 + len(feed) + 1))  # one broadcast each, in order
    assert run.steps.get(step_id="2", target__name="local/demo-1").status == "passed"


def test_the_webs_own_events_keep_the_numbers_consecutive(run, broadcasts):
    sink = RunEventSink(run.pk)
    release = _held(sink)
    feed = _steps(5)
    for ev in feed:
        sink(ev)
    record_event(run, "cancel_requested", {"by": "test"})  # the web, while the batch waits
    release.set()
    assert sink.flush(10)
    sink.close()
    stored = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "type"))
    assert [seq for seq, _ in stored] == list(range(1, len(feed) + 3))
    assert [t for _, t in stored] == ["queued", "cancel_requested"] + [e.type for e in feed]
    run.refresh_from_db()
    assert run.last_seq == len(feed) + 2


def test_a_batch_that_cannot_be_stored_is_stored_event_by_event(run, broadcasts, monkeypatch):
    real_project = projection.project

    def refusing(run_id, ev, *args):
        if ev.payload.get("poison"):
            raise ValueError("this event cannot be projected")
        real_project(run_id, ev, *args)

    monkeypatch.setattr(event_store, "project", refusing)
    sink = RunEventSink(run.pk)
    release = _held(sink)
    # a projected type: a batch of unprojected events needs no projection at all
    poison = event("step_started", step_id="1", name="s1", type="exec_command", poison=True)
    feed = [event("worker_note", n=1), poison, *_steps(2)]
    for ev in feed:
        sink(ev)
    release.set()
    assert sink.flush(10)
    sink.close()
    assert (sink.stored, sink.errors) == (len(feed) - 1, 1)
    stored = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [e.seq for e in stored] == list(range(1, len(feed) + 1))
    assert [e.type for e in stored] == [
        "queued",
        "worker_note",
        "step_started",
        "step_finished",
        "step_started",
        "step_finished",
    ]
    assert not any(e.payload.get("poison") for e in stored)
