"""Celery options of a run's task: its host queue and time limits above the scenario timeout,
always below the broker's visibility timeout."""

import pytest
from django.conf import settings as django_settings

from atp_site import celery as atp_celery
from tests.dist import factories as f


def test_limits_follow_the_scenario_timeout(settings):
    settings.ATP_RUN_TIME_LIMIT_MARGIN = 300
    settings.ATP_RUN_HARD_LIMIT_GRACE = 120
    assert atp_celery.time_limits(600) == (900, 1020)


def test_missing_or_bad_timeout_uses_the_default(settings):
    settings.ATP_RUN_DEFAULT_TIMEOUT = 3600
    assert atp_celery.scenario_timeout(None) == 3600
    assert atp_celery.scenario_timeout({}) == 3600
    assert atp_celery.scenario_timeout({"timeout": "soon"}) == 3600
    assert atp_celery.scenario_timeout({"timeout": 0}) == 3600
    assert atp_celery.scenario_timeout({"timeout": 90.5}) == 90.5


def test_huge_timeout_is_clamped_below_the_visibility_timeout(settings):
    soft, hard = atp_celery.time_limits(10**9)
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert soft < hard < visibility
    assert soft == int(settings.ATP_RUN_MAX_SECONDS + settings.ATP_RUN_TIME_LIMIT_MARGIN)


def test_long_run_settings():
    assert django_settings.CELERY_TASK_ACKS_LATE is True
    assert django_settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert django_settings.CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS is False
    assert "runs-reaper" in django_settings.CELERY_BEAT_SCHEDULE
    assert atp_celery.queue_for_host("lab-3") == "host.lab-3"


@pytest.mark.django_db
def test_run_task_options_of_a_run():
    rev = f.revision(timeout=120)
    run = f.run(rev, [f.vm(f.host("hd-a"), "vm1")])
    opts = atp_celery.run_task_options(run)
    soft, hard = atp_celery.time_limits(120)
    assert opts == {"queue": "host.hd-a", "soft_time_limit": soft, "time_limit": hard}


@pytest.mark.django_db
def test_launch_sends_to_the_host_queue_with_limits(monkeypatch, admin_user):
    """launch_run → execute_run.apply_async(queue=host.<first target's host>, limits)."""
    from runs import tasks
    from runs.services import launch_run

    calls = []

    class Sent:
        id = "t-1"

    monkeypatch.setattr(tasks.execute_run, "apply_async", lambda **kw: calls.append(kw) or Sent())
    rev = f.revision(timeout=200)
    f.vm(f.host("hd-b"), "vm9")
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        run = launch_run(rev, [{"vm": "vm9", "host": "hd-b"}], {}, admin_user)
    soft, hard = atp_celery.time_limits(200)
    run.refresh_from_db()
    assert calls == [
        {
            "args": [run.pk],
            "task_id": run.task_id,
            "queue": "host.hd-b",
            "soft_time_limit": soft,
            "time_limit": hard,
        }
    ]
    assert run.task_id and run.dispatched_at is not None
