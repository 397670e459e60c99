"""Queued runs whose task message was lost (broker flushed or restarted without persistence, a
worker that died holding it) are sent again from their row, decided from the database alone:
a run still queued ATP_QUEUED_LOST_AFTER after its last send. A copy that was only late does no
harm: it is dropped instead of re-queueing itself while the host is full."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from runs import reaper, tasks
from runs.models import Run
from tests.dist import factories as f

pytestmark = pytest.mark.django_db


class Sent:
    def __init__(self, task_id):
        self.id = task_id


@pytest.fixture
def sent(monkeypatch):
    """The task sends (run id, task id), the row's bookkeeping left real."""
    calls = []

    def apply_async(args, task_id=None, **_options):
        calls.append((args[0], task_id))
        return Sent(task_id)

    monkeypatch.setattr(tasks.execute_run, "apply_async", apply_async)
    return calls


@pytest.fixture
def vm1():
    return f.vm(f.host("hd-a"), "vm1")


def reap():
    with TestCase.captureOnCommitCallbacks(execute=True):
        return reaper.reap()


def test_a_run_no_worker_took_is_sent_again_once_per_period(vm1, sent, settings):
    settings.ATP_QUEUED_LOST_AFTER = 60
    run = f.run(f.revision(), [vm1], state="queued", age=90, task_id="lost-1")
    young = f.run(f.revision("young"), [vm1], state="queued", age=10)
    assert reap()["resent"] == [run.pk]
    run.refresh_from_db()
    assert [pk for pk, _ in sent] == [run.pk] and sent[0][1] == run.task_id != "lost-1"
    assert run.dispatched_at is not None
    resent = run.events.get(type="resent").payload
    assert resent["previous_task_id"] == "lost-1"
    assert resent["reason"].endswith("after its task was sent and no worker has taken it")
    assert reap()["resent"] == []  # just sent again: wait another period
    assert Run.objects.get(pk=young.pk).events.count() == 0


def test_a_run_sent_recently_is_not_sent_again(vm1, sent, settings):
    """Created long ago, but its task was sent again lately (it waits for a free slot)."""
    settings.ATP_QUEUED_LOST_AFTER = 60
    f.run(
        f.revision(),
        [vm1],
        state="queued",
        age=600,
        dispatched_at=timezone.now() - timedelta(seconds=5),
    )
    assert reap()["resent"] == []
    assert sent == []


def test_running_and_finished_runs_are_never_sent_again(vm1, sent, settings):
    settings.ATP_QUEUED_LOST_AFTER = 60
    f.run(f.revision(), [vm1], state="running", age=90, heartbeat_age=1)
    f.run(f.revision("done"), [vm1], state="finished", age=90, result="passed")
    assert reap()["resent"] == []
    assert sent == []


def test_a_late_copy_does_not_requeue_itself_while_the_host_is_full(vm1, sent, settings):
    settings.ATP_SLOT_RETRY_COUNTDOWN = 1
    host = vm1.host
    host.slots = 1
    host.save()
    f.run(f.revision("busy"), [vm1], state="running", heartbeat_age=1)
    waiting = f.run(f.revision(), [vm1], state="queued", task_id="latest")
    assert tasks.execute_run.apply(args=[waiting.pk], task_id="an-older-copy").get() == "stale"
    assert sent == []
    assert tasks.execute_run.apply(args=[waiting.pk], task_id="latest").get() == "requeued"
    waiting.refresh_from_db()
    assert [pk for pk, _ in sent] == [waiting.pk] and waiting.task_id == sent[0][1]
    assert waiting.state == "queued" and waiting.dispatched_at is not None
