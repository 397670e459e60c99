"""The event sink stores each event with the next seq, projects it, then broadcasts it on the
real Redis channel layer; logs are coalesced without losing text; artifacts are copied."""

from __future__ import annotations

import pytest

import runs.event_store as events_module
from runs.broadcast import group_name
from runs.event_sink import RunEventSink
from runs.event_store import record_event
from runs.models import Artifact, Run, RunEvent, StepResult
from runs.services import launch_run
from tests.layer_listener import GroupListener
from tests.web.runs_core_data import PLAN, event, inventory, revision

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(redis_url, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr("runs.services.send_run", lambda run: None)  # no worker here
    inventory()
    return launch_run(revision(), [{"tag": "demo"}], {}, None)


class Listener(GroupListener):
    """A channel in the run's group, read with a timeout."""

    def __init__(self, run_id: int):
        super().__init__(group_name(run_id))


def test_store_then_broadcast_consecutive_seqs_and_projection(run, monkeypatch):
    seen_in_db_at_broadcast = []
    original = events_module.broadcast

    def checking(run_id, payload):
        seen_in_db_at_broadcast.append(
            RunEvent.objects.filter(run_id=run_id, seq=payload["seq"]).exists()
        )
        original(run_id, payload)

    monkeypatch.setattr(events_module, "broadcast", checking)
    listener = Listener(run.pk)
    sink = RunEventSink(run.pk)
    feed = [
        event("run_started", target=None, run_id=str(run.pk), plan=PLAN, targets=[]),
        event("target_started"),
        event("step_started", step_id="1", name="guest ping", type="guest_ping", attempt=1),
        event("step_finished", step_id="1", status="passed", duration=0.25, output={"ok": 1}),
        event("step_started", step_id="2", name="echo hi", type="exec_command", attempt=1),
        event("step_finished", step_id="2", status="failed", duration=1.5, error="exit 1"),
        event("target_finished", result="failed", totals={"passed": 1, "failed": 1}),
    ]
    for ev in feed:
        sink(ev)
    assert sink.flush(10)
    sink.close()
    # seq 1 is the "queued" event of launch_run
    messages = listener.receive_all(len(feed))
    listener.close()
    assert [m["type"] for m in messages] == ["run.event"] * len(feed)
    got = [m["event"] for m in messages]
    assert [e["seq"] for e in got] == list(range(2, 2 + len(feed)))
    assert [e["type"] for e in got] == [e.type for e in feed]
    assert all(seen_in_db_at_broadcast) and len(seen_in_db_at_broadcast) == len(feed)
    stored = list(RunEvent.objects.filter(run=run).values_list("seq", "type"))
    assert stored == [(1, "queued")] + [(e["seq"], e["type"]) for e in got]
    assert Run.objects.get(pk=run.pk).last_seq == 1 + len(feed)
    # projection: the plan for both targets, the statuses of the one that ran
    steps = {
        (s.target.name, s.step_id): s for s in StepResult.objects.filter(run=run).select_related()
    }
    assert len(steps) == 4
    one, two = steps[("local/demo-1", "1")], steps[("local/demo-1", "2")]
    assert (one.status, one.duration, one.name, one.iteration) == ("passed", 0.25, "guest ping", -1)
    assert '"ok": 1' in one.output
    assert (two.status, two.error, two.attempt) == ("failed", "exit 1", 1)
    assert steps[("local/demo-2", "1")].status == "pending"
    target = run.run_targets.get(name="local/demo-1")
    assert (target.result, target.state, target.totals["failed"]) == ("failed", "finished", 1)


def test_output_is_coalesced_but_never_lost(run):
    sink = RunEventSink(run.pk, log_rate=2)  # at most 2 output events per second per step
    sink(event("step_started", step_id="2", name="echo", type="exec_command", attempt=1))
    lines = [f"line {i}\n" for i in range(200)]
    for line in lines:
        sink(event("step_output", step_id="2", stream="stdout", text=line))
    sink(event("step_log", step_id="2", level="info", message="first"))
    sink(event("step_log", step_id="2", level="error", message="second"))
    sink(event("step_finished", step_id="2", status="passed", duration=0.1))
    sink.close()
    stored = list(RunEvent.objects.filter(run=run).order_by("seq"))
    outputs = [e for e in stored if e.type == "step_output"]
    assert 1 <= len(outputs) <= 3, "200 lines in well under a second: a few events, not 200"
    assert "".join(e.payload["text"] for e in outputs) == "".join(lines)
    assert sum(e.payload.get("coalesced", 1) for e in outputs) == 200
    logs = [e for e in stored if e.type == "step_log"]
    assert "\n".join(e.payload["message"] for e in logs) == "first\nsecond"
    assert any(e.payload["level"] == "error" for e in logs)
    # whatever was pending is written before the event that follows it
    assert stored[-1].type == "step_finished"
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))


def test_pending_output_is_flushed_by_time_without_a_next_event(run):
    sink = RunEventSink(run.pk, log_rate=5)
    sink(event("step_output", step_id="2", stream="stdout", text="a"))
    sink(event("step_output", step_id="2", stream="stdout", text="b"))
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        texts = list(
            RunEvent.objects.filter(run=run, type="step_output").values_list(
                "payload__text", flat=True
            )
        )
        if "".join(texts) == "ab":
            break
        time.sleep(0.05)
    sink.close()
    assert "".join(texts) == "ab"


def test_artifacts_are_copied_and_screenshots_throttled(run, tmp_path):
    engine_dir = tmp_path / "engine"
    engine_dir.mkdir()
    sink = RunEventSink(run.pk, screenshot_rate=1)
    paths = []
    for i in range(5):
        path = engine_dir / f"shot{i}.png"
        path.write_bytes(b"\x89PNG fake " + bytes([i]) * 100)
        paths.append(path)
        sink(
            event("artifact", step_id="3", name=f"shot{i}", path=str(path), kind="screenshot",
                  mime="image/png")
        )  # fmt: skip
    log = engine_dir / "agent.txt"
    log.write_text("log text")
    sink(event("artifact", step_id="3", name="agent.txt", path=str(log), kind="file", mime=""))
    sink.close()
    for p in engine_dir.iterdir():
        p.unlink()  # the engine's temporary directory goes away; the copies stay
    artifacts = list(Artifact.objects.filter(run=run).order_by("id"))
    assert [a.name for a in artifacts] == [f"shot{i}" for i in range(5)] + ["agent.txt"]
    assert artifacts[2].file.read() == b"\x89PNG fake " + bytes([2]) * 100
    assert artifacts[2].target.name == "local/demo-1" and artifacts[2].kind == "screenshot"
    assert artifacts[-1].mime == "text/plain" and artifacts[-1].size == 8
    announced = [
        e.payload for e in RunEvent.objects.filter(run=run, type="artifact").order_by("seq")
    ]
    shots = [p for p in announced if p["kind"] == "screenshot"]
    assert shots[0]["name"] == "shot0" and shots[-1]["name"] == "shot4", "first and newest"
    assert len(shots) == 2 and shots[-1]["coalesced"] == 4
    assert all("path" not in p and p["url"].startswith("/media/") for p in announced)


def test_record_event_from_the_web_layer_shares_the_numbering(run):
    listener = Listener(run.pk)
    ev = record_event(run, "cancel_requested", {"by": "olga"})
    assert ev.seq == 2
    message = listener.receive()
    listener.close()
    assert message["event"]["seq"] == 2 and message["event"]["data"] == {"by": "olga"}
