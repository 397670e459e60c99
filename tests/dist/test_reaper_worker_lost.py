"""The reaper on the database: a run whose heartbeats stopped ends `error` with the reason, its
events stay, and with attempts left a new attempt is queued (a new run linked by rerun_of)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs import reaper
from runs.event_store import record_event
from runs.models import Run, RunEvent
from tests.dist import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def vm1():
    return f.vm(f.host("hd-a", slots=2), "vm1")


def test_lost_run_ends_error_with_reason_and_keeps_events(vm1, django_capture_on_commit_callbacks):
    run = f.run(f.revision(), [vm1], state="running", age=120, heartbeat_age=45, worker="w1@a")
    for i in range(3):
        record_event(run, "step_log", {"line": f"line {i}"})
    done = reaper.reap()
    assert done["lost"] == [run.pk]
    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "error")
    assert run.reason.startswith("worker w1@a stopped sending heartbeats at ")
    assert run.finished is not None
    events = list(run.events.order_by("seq").values_list("seq", "type"))
    assert [s for s, _ in events] == list(range(1, len(events) + 1))
    assert [t for _, t in events][:3] == ["step_log"] * 3
    assert [t for _, t in events][3:] == ["worker_lost", "run_finished"]
    lost = run.events.get(type="worker_lost").payload
    assert lost["worker"] == "w1@a" and lost["reason"] == run.reason
    assert not Run.objects.filter(rerun_of=run).exists()  # max_attempts 1: no retry
    assert run.run_targets.get().result == "error"


def test_lost_run_with_attempts_left_is_requeued_as_a_new_attempt(
    vm1, django_capture_on_commit_callbacks
):
    rev = f.revision()
    run = f.run(rev, [vm1], state="running", age=100, heartbeat_age=40, max_attempts=3, worker="w1")
    with django_capture_on_commit_callbacks() as callbacks:
        reaper.reap()
    retry = Run.objects.get(rerun_of=run)
    assert (retry.state, retry.attempt, retry.max_attempts) == ("queued", 2, 3)
    assert retry.queue == "host.hd-a" and retry.targets == run.targets
    assert list(retry.events.values_list("seq", "type")) == [(1, "queued")]
    requeued = RunEvent.objects.get(run=run, type="requeued").payload
    assert requeued == {"run": retry.pk, "attempt": 2, "max_attempts": 3}
    types = list(run.events.order_by("seq").values_list("type", flat=True))
    assert types == ["worker_lost", "requeued", "run_finished"]
    assert callbacks, "the new attempt's task is sent after commit"


def test_last_attempt_is_not_requeued(vm1):
    run = f.run(
        f.revision(), [vm1], state="running", age=100, heartbeat_age=40, attempt=2, max_attempts=2
    )
    reaper.reap()
    run.refresh_from_db()
    assert run.result == "error"
    assert not Run.objects.filter(rerun_of=run).exists()


def test_fresh_heartbeat_is_left_alone(vm1):
    run = f.run(f.revision(), [vm1], state="running", age=400, heartbeat_age=2)
    assert reaper.reap()["lost"] == []
    run.refresh_from_db()
    assert run.state == "running" and not run.events.exists()


def test_heartbeat_refreshed_just_before_the_lock_is_not_reaped(vm1):
    run = f.run(f.revision(), [vm1], state="running", age=100, heartbeat_age=40)
    Run.objects.filter(pk=run.pk).update(heartbeat=timezone.now())  # the worker woke up
    assert reaper.mark_lost(run.pk) is False
    run.refresh_from_db()
    assert run.state == "running"


def test_queued_and_finished_runs_are_not_reaped(vm1):
    rev = f.revision()
    q = f.run(rev, [vm1], state="queued", age=5)
    done = f.run(rev, [vm1], state="finished", result="passed", heartbeat_age=500)
    assert reaper.reap()["lost"] == []
    assert Run.objects.get(pk=q.pk).state == "queued"
    assert Run.objects.get(pk=done.pk).result == "passed"


def test_window_comes_from_settings(vm1, settings):
    settings.ATP_HEARTBEAT_WINDOW = 300
    run = f.run(f.revision(), [vm1], state="running", age=200, heartbeat_age=100)
    assert reaper.reap()["lost"] == []
    now = timezone.now() + timedelta(seconds=250)
    assert reaper.reap(now=now)["lost"] == [run.pk]


def test_overdue_run_is_timed_out(vm1, settings):
    settings.ATP_RUN_TIME_LIMIT_MARGIN = 10
    settings.ATP_RUN_HARD_LIMIT_GRACE = 5
    rev = f.revision(timeout=30)  # hard limit 45 s
    run = f.run(rev, [vm1], state="running", age=90, heartbeat_age=1)
    assert reaper.reap()["overdue"] == [run.pk]
    run.refresh_from_db()
    assert run.result == "timed_out" and "hard time limit of 45 s" in run.reason
