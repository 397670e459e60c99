"""A part whose worker died starts again as its next attempt in the same run when the run was
launched with retries (``runs.lifecycle.retry_part`` through the reaper), on the database
alone: the part is queued again with its targets and steps as before their start, the dead
attempt's late word (heartbeat, end) is refused, the new attempt's end ends the run; the last
attempt lost ends the part ``error``. (The real worker kill: test_dist_run_part_retry.py.)"""

from datetime import timedelta

import pytest
from django.utils import timezone

from atp_core.status import StepStatus
from runs import lifecycle, reaper
from runs.models import RunEvent, RunPart, StepResult
from tests.dist import factories as f
from tests.dist.test_run_parts_lifecycle import parted_run, parts_of

pytestmark = pytest.mark.django_db


def _lose(part, settings):
    stale = timezone.now() - timedelta(seconds=settings.ATP_HEARTBEAT_WINDOW + 5)
    RunPart.objects.filter(pk=part.pk).update(heartbeat=stale)


def test_a_lost_part_with_attempts_left_is_queued_again_and_its_old_word_refused(settings):
    ha, hb = f.host("ha-a"), f.host("ha-b")
    run = parted_run(f.revision(), [f.vm(ha, "a1"), f.vm(hb, "b1")])
    run.max_attempts = 2
    run.save(update_fields=["max_attempts"])
    parts = parts_of(run)
    for part in parts.values():
        assert lifecycle.claim_part(part.pk, worker=f"w-{part.host_name}@x").ok
    lost = parts["ha-b"]
    target = lost.targets.get()
    StepResult.objects.create(run=run, target=target, step_id="1", status=StepStatus.PASSED)
    StepResult.objects.create(run=run, target=target, step_id="2", status=StepStatus.RUNNING)
    _lose(lost, settings)
    lifecycle.heartbeat_part(parts["ha-a"].pk)

    done = reaper.reap()
    assert done["lost"] == [run.pk], done
    lost.refresh_from_db()
    assert (lost.state, lost.attempt, lost.worker, lost.started) == ("queued", 2, "", None)
    assert lost.reason.startswith("attempt 1: worker w-ha-b@x stopped sending heartbeats")
    target.refresh_from_db()
    assert (target.state, target.result, target.finished) == ("queued", None, None)
    assert set(target.steps.values_list("status", flat=True)) == {StepStatus.PENDING}
    run.refresh_from_db()
    assert run.state == "running"
    requeued = RunEvent.objects.get(run=run, type="part_requeued").payload
    assert requeued["host"] == "ha-b" and (requeued["attempt"], requeued["max_attempts"]) == (2, 2)
    assert requeued["lost_worker"] == "w-ha-b@x"
    assert RunEvent.objects.get(run=run, type="worker_lost").payload["attempt"] == 1
    assert reaper.reap()["lost"] == []  # once: queued, not running

    # the dead attempt's worker speaks late: refused, the new attempt stands
    assert not lifecycle.heartbeat_part(lost.pk, attempt=1)
    assert lifecycle.finish_part(lost.pk, "passed", attempt=1) == ""
    assert lifecycle.claim_part(lost.pk, worker="w2-ha-b@x").ok
    assert not lifecycle.heartbeat_part(lost.pk, attempt=1)
    assert lifecycle.heartbeat_part(lost.pk, attempt=2)
    assert lifecycle.finish_part(lost.pk, "passed", attempt=1) == ""
    assert lifecycle.finish_part(parts["ha-a"].pk, "passed", attempt=1) == lifecycle.PART_ENDED
    assert lifecycle.finish_part(lost.pk, "passed", attempt=2) == lifecycle.RUN_ENDED
    run.refresh_from_db()
    assert (run.state, run.result, run.reason) == ("finished", "passed", "")


def test_the_last_attempt_lost_ends_the_part_with_error(settings):
    ha, hb = f.host("ha-a"), f.host("ha-b")
    run = parted_run(f.revision(), [f.vm(ha, "a1"), f.vm(hb, "b1")])
    run.max_attempts = 2
    run.save(update_fields=["max_attempts"])
    parts = parts_of(run)
    RunPart.objects.filter(pk=parts["ha-b"].pk).update(attempt=2)
    for part in parts.values():
        assert lifecycle.claim_part(part.pk, worker=f"w-{part.host_name}@x").ok
    _lose(parts["ha-b"], settings)
    lifecycle.heartbeat_part(parts["ha-a"].pk)
    assert reaper.reap()["lost"] == [run.pk]
    lost = RunPart.objects.get(pk=parts["ha-b"].pk)
    assert (lost.state, lost.result, lost.attempt) == ("finished", "error", 2)
    assert not RunEvent.objects.filter(run=run, type="part_requeued").exists()
    assert lifecycle.finish_part(parts["ha-a"].pk, "passed") == lifecycle.RUN_ENDED
    run.refresh_from_db()
    assert run.result == "error" and "ha-b: worker w-ha-b@x stopped" in run.reason, run.reason


def test_a_run_without_retries_starts_no_new_attempt_of_a_part(settings):
    ha, hb = f.host("ha-a"), f.host("ha-b")
    run = parted_run(f.revision(), [f.vm(ha, "a1"), f.vm(hb, "b1")])
    parts = parts_of(run)
    for part in parts.values():
        assert lifecycle.claim_part(part.pk).ok
    assert not lifecycle.retry_part(parts["ha-b"].pk, "lost")  # max_attempts 1
    assert RunPart.objects.get(pk=parts["ha-b"].pk).state == "running"
