"""A run's webhook that fails retryably is tried again by Celery's own retry (the task
``runs.retry_webhook`` after a jittered exponential pause), not by a worker sleeping; the
Notification row counts every attempt and a final answer stops the retries."""

import pytest

from runs import notify
from schedules.models import Notification
from tests.dist import factories as f
from tests.dist.test_notify_webhook import Hook

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_webhooks_allowed(settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def server(settings):
    made = []

    def make(statuses):
        made.append(Hook(statuses=statuses))
        settings.ATP_WEBHOOK_URLS = [made[-1].url]
        return made[-1]

    yield make
    for hook in made:
        hook.close()


@pytest.fixture
def finished_run(db):
    rev = f.revision("retry-smoke")
    return f.run(rev, [f.vm(f.host("hd-a"), "vm1")], state="finished", age=30, result="failed")


def test_the_first_attempt_is_inline_and_the_next_are_queued_with_a_pause(
    server, finished_run, monkeypatch, settings
):
    settings.ATP_WEBHOOK_BACKOFF = 4
    queued = []
    monkeypatch.setattr(
        notify.retry_webhook, "apply_async", lambda **kwargs: queued.append(kwargs)
    )
    hook = server([503])
    assert notify.notify_run_finished(finished_run.pk) == {hook.url: False}
    row = Notification.objects.get(run=finished_run)
    assert (row.ok, row.attempts, row.status_code) == (False, 1, 503)
    ((sent),) = queued
    assert sent["args"] == [row.pk] and 0 <= sent["countdown"] <= 4, "jittered, at most 4 s"
    assert sent["queue"] == settings.CELERY_TASK_DEFAULT_QUEUE


def test_celery_retries_until_the_webhook_answers(server, finished_run, eager_tasks):
    hook = server([503, 500])
    notify.notify_run_finished(finished_run.pk)
    row = Notification.objects.get(run=finished_run)
    assert (row.ok, row.attempts, row.status_code) == (True, 3, 200)
    assert len(hook.received) == 3
    assert {r["body"]["run_id"] for r in hook.received} == {finished_run.pk}


def test_the_retries_stop_when_none_are_left(server, finished_run, eager_tasks, settings):
    settings.ATP_WEBHOOK_RETRIES = 2
    hook = server([503] * 10)
    notify.notify_run_finished(finished_run.pk)
    row = Notification.objects.get(run=finished_run)
    assert (row.ok, row.attempts, row.status_code) == (False, 3, 503)
    assert len(hook.received) == 3
    assert notify.retry_webhook.apply(args=[row.pk]).get() is None, "no attempt left"
    assert len(hook.received) == 3


def test_a_final_answer_is_not_retried(server, finished_run, eager_tasks):
    hook = server([404])
    notify.notify_run_finished(finished_run.pk)
    row = Notification.objects.get(run=finished_run)
    assert (row.ok, row.attempts, row.status_code) == (False, 1, 404)
    assert len(hook.received) == 1


def test_no_task_of_the_notifications_sleeps():
    import inspect

    for task in (notify.notify_run_finished, notify.retry_webhook.run, notify.post_attempt):
        assert "sleep" not in inspect.getsource(task), task
