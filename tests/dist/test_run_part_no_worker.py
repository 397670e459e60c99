"""A queued part whose host queue no worker consumes does not wait forever: after
ATP_PART_WORKER_DEADLINE without a sign of a worker on ``host.<name>`` (no take of its task,
no heartbeat of anything from that queue) the reaper ends its targets ``error`` with "no worker
consumed host.X within N s" and the run ends when its other parts end; a part a worker took
(waiting for a free slot) or a queue with a live worker is left alone. What the run page and
the API say about a waiting part (``runs.part_status``) is checked here too."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs import lifecycle, part_status, reaper, slots
from runs.models import Run, RunEvent, RunPart
from tests.dist import factories as f
from tests.dist.test_run_parts_lifecycle import parted_run, parts_of

pytestmark = pytest.mark.django_db

DEADLINE = 300


@pytest.fixture
def deadline(settings):
    settings.ATP_PART_WORKER_DEADLINE = DEADLINE
    settings.ATP_QUEUED_LOST_AFTER = 10 * DEADLINE  # no re-send in these tests
    return DEADLINE


def _age(run, seconds: float) -> None:
    """The run (and its parts' queueing) ``seconds`` old."""
    then = timezone.now() - timedelta(seconds=seconds)
    Run.objects.filter(pk=run.pk).update(created=then)
    RunPart.objects.filter(run=run).update(queued_at=then)
    run.refresh_from_db()


def test_a_part_no_worker_took_ends_error_after_the_deadline(deadline):
    ha, hb = f.host("nw-a"), f.host("nw-b")
    run = parted_run(f.revision(), [f.vm(ha, "a1"), f.vm(hb, "b1")])
    parts = parts_of(run)
    assert lifecycle.claim_part(parts["nw-a"].pk, worker="wa@x").ok
    _age(run, deadline - 30)
    assert reaper.reap()["no_worker"] == []  # not yet
    (waiting,) = [s for s in part_status.describe(run) if s.waiting_for]
    assert waiting.part.host_name == "nw-b" and waiting.waiting_for == "worker"
    assert "waiting for a worker on host.nw-b since" in waiting.note, waiting.note
    assert "no worker has taken work from host.nw-b yet" in waiting.note, waiting.note
    assert waiting.deadline_at == waiting.waiting_since + timedelta(seconds=deadline)

    _age(run, deadline + 5)
    lifecycle.heartbeat_part(parts["nw-a"].pk)
    assert reaper.reap()["no_worker"] == [run.pk]
    part = RunPart.objects.get(pk=parts["nw-b"].pk)
    assert (part.state, part.result) == ("finished", "error")
    assert part.reason == (
        f"no worker consumed host.nw-b within {deadline} s "
        "(no worker has ever taken work from host.nw-b)"
    ), part.reason
    target = part.targets.get()
    assert (target.state, target.result) == ("finished", "error")
    event = RunEvent.objects.get(run=run, type="no_worker").payload
    assert event["queue"] == "host.nw-b" and event["reason"] == part.reason
    run.refresh_from_db()
    assert run.state == "running"  # its other part goes on
    assert reaper.reap()["no_worker"] == []  # once
    assert lifecycle.finish_part(parts["nw-a"].pk, "passed") == lifecycle.RUN_ENDED
    run.refresh_from_db()
    assert run.result == "error" and run.reason == f"nw-b: {part.reason}", run.reason


def test_a_run_whose_parts_no_worker_took_ends_error(deadline):
    ha, hb = f.host("nw-a"), f.host("nw-b")
    run = parted_run(f.revision(), [f.vm(ha, "a1"), f.vm(hb, "b1")])
    _age(run, deadline + 5)
    assert reaper.reap()["no_worker"] == [run.pk, run.pk]
    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "error")
    assert "nw-a: no worker consumed host.nw-a" in run.reason, run.reason
    assert "nw-b: no worker consumed host.nw-b" in run.reason, run.reason
    types = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))
    assert types[-1] == "run_finished" and types.count("no_worker") == 2, types


def test_a_part_a_worker_took_waits_for_its_slot_and_is_left_alone(deadline):
    ha, hb = f.host("nw-a"), f.host("nw-b", slots=1)
    rev = f.revision()
    f.run(rev, [f.vm(hb, "b0")], state="running", heartbeat_age=1)  # holds nw-b's slot
    run = parted_run(rev, [f.vm(ha, "a1"), f.vm(hb, "b1")])
    parts = parts_of(run)
    assert lifecycle.claim_part(parts["nw-a"].pk, worker="wa@x").ok
    refused = lifecycle.claim_part(parts["nw-b"].pk, worker="wb@x")
    assert refused.outcome == slots.NO_SLOT
    statuses = {s.part.host_name: s for s in part_status.describe(run)}
    assert statuses["nw-b"].waiting_for == "slot", statuses["nw-b"]
    assert "taken by wb@x at" in statuses["nw-b"].note
    assert "waiting for a free slot on host nw-b" in statuses["nw-b"].note
    assert statuses["nw-a"].waiting_for == "" and statuses["nw-a"].note == ""
    # long after: the take is old, but the blocker's worker beats on host.nw-b
    then = timezone.now() - timedelta(seconds=deadline + 60)
    Run.objects.filter(pk=run.pk).update(created=then)
    RunPart.objects.filter(pk=parts["nw-b"].pk).update(queued_at=then, taken_at=then)
    lifecycle.heartbeat_part(parts["nw-a"].pk)
    assert reaper.reap()["no_worker"] == []
    assert RunPart.objects.get(pk=parts["nw-b"].pk).state == "queued"


def test_a_queue_whose_worker_was_seen_long_ago_is_named_in_the_reason(deadline):
    ha, hb = f.host("nw-a"), f.host("nw-b")
    rev = f.revision()
    old = f.run(rev, [f.vm(hb, "b0")], state="running", heartbeat_age=deadline + 100)
    Run.objects.filter(pk=old.pk).update(worker="gone@x")
    lifecycle.finish(old.pk, "passed", close_open=False)
    run = parted_run(rev, [f.vm(ha, "a1"), f.vm(hb, "b1")])
    parts = parts_of(run)
    assert lifecycle.claim_part(parts["nw-a"].pk, worker="wa@x").ok
    _age(run, deadline + 5)
    (waiting,) = [s for s in part_status.describe(run) if s.waiting_for]
    assert "last worker seen on host.nw-b: gone@x at" in waiting.note, waiting.note
    lifecycle.heartbeat_part(parts["nw-a"].pk)
    assert reaper.reap()["no_worker"] == [run.pk]
    reason = RunPart.objects.get(pk=parts["nw-b"].pk).reason
    assert reason.startswith("no worker consumed host.nw-b within 300 s (last worker seen on ")
    assert "gone@x at" in reason, reason
