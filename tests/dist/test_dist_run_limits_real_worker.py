"""A run's time limits on a real prefork worker and a real guest.

The scenario's own timeout: the run ends ``timed out``, its ``finally`` steps ran on the guest,
and the guest takes the next run. Celery's hard time limit (sent here below the scenario's
timeout, standing for an engine that did not stop by its own timeout): the worker kills the
pool process running the task, its main process ends the run ``error`` with the reason
(``runs.tasks.RunTask.on_failure``) before any heartbeat is missed, the run ends once with one
notification while the reaper runs too, and the host's only slot is free for the next run on a
new pool process."""

import re

import pytest

from hosts.models import Host
from runs.models import Run
from runs.services import launch_run
from schedules.models import Notification, NotificationHook
from tests.dist.conftest import (
    DIST_ENV,
    assert_full_event_sequence,
    make_scenario,
    wait_for,
)
from tests.dist.test_notify_webhook import Hook

pytestmark = [pytest.mark.rig, pytest.mark.redis]

ALLOW_HOOK = {"ATP_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32"}
NEXT = """\
  - type: guest_ping
  - {type: exec_command, command: echo still-usable}
"""
HARD_LIMIT = 12


@pytest.fixture
def hook_server(settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ALLOW_HOOK["ATP_WEBHOOK_ALLOW_NETWORKS"].split(",")
    server = Hook()
    NotificationHook.objects.create(name="limits", url=server.url)
    yield server
    server.close()


@pytest.fixture
def one_slot(two_hosts):
    Host.objects.filter(name="hd-a").update(slots=1)
    return two_hosts["hd-a"].vms.first().name


def _finished(run) -> Run:
    wait_for(lambda: Run.objects.get(pk=run.pk).state == "finished", 150, f"run {run.pk} to end")
    return Run.objects.get(pk=run.pk)


def _next_run_passes(vm, worker) -> Run:
    """The guest and the host's slot take another run, on the same worker."""
    nxt = _finished(
        launch_run(make_scenario("after-the-limit", NEXT), [{"vm": vm, "host": "hd-a"}], {}, None)
    )
    assert nxt.result == "passed", nxt.reason
    assert nxt.worker.startswith("hd-limits@")
    assert "still-usable" in nxt.steps.get(type="exec_command").output
    assert worker.alive()
    return nxt


def _one_end_one_notification(run, hook_server) -> list[str]:
    types = [t for _, t in assert_full_event_sequence(run.pk)]
    wait_for(lambda: Notification.objects.filter(run=run, ok=True).exists(), 60, "the notification")
    assert Notification.objects.filter(run=run).count() == 1
    assert [r["body"]["run_id"] for r in hook_server.received].count(run.pk) == 1
    return types


def test_scenario_timeout_ends_timed_out_after_teardown(dist_processes, one_slot, hook_server):
    env = ALLOW_HOOK
    dist_processes.worker("hd-central", DIST_ENV["ATP_DEFAULT_QUEUE"], env=env)
    dist_processes.beat(env=env)
    worker = dist_processes.worker("hd-limits", "host.hd-a", env=env, concurrency=1, pool="prefork")
    rev = make_scenario(
        "run-timeout",
        """\
  - type: guest_ping
  - {type: wait, duration: 120s}
finally:
  - {type: exec_command, command: echo teardown-ran}
""",
        timeout="15s",
    )
    run = _finished(launch_run(rev, [{"vm": one_slot, "host": "hd-a"}], {}, None))
    assert run.result == "timed_out", run.reason
    wait_step = run.steps.get(type="wait")
    assert wait_step.status == "error"
    assert "run timeout" in wait_step.error, wait_step.error
    teardown = run.steps.get(phase="finally")
    assert teardown.status == "passed", teardown.error
    assert "teardown-ran" in teardown.output
    _one_end_one_notification(run, hook_server)
    _next_run_passes(one_slot, worker)


def test_celery_hard_limit_kills_the_task_and_the_worker_ends_the_run(
    dist_processes, one_slot, hook_server, monkeypatch
):
    import atp_site.celery as atp_celery

    plain = atp_celery.run_task_options

    def hard_limit_only(run):  # the engine's own timeout (5 min) never comes first here
        options = plain(run)
        options.pop("soft_time_limit")
        return {**options, "time_limit": HARD_LIMIT}

    monkeypatch.setattr(atp_celery, "run_task_options", hard_limit_only)
    env = ALLOW_HOOK
    dist_processes.worker("hd-central", DIST_ENV["ATP_DEFAULT_QUEUE"], env=env)
    dist_processes.beat(env=env)
    worker = dist_processes.worker("hd-limits", "host.hd-a", env=env, concurrency=1, pool="prefork")
    rev = make_scenario(
        "hard-limit",
        """\
  - type: guest_ping
  - {type: wait, duration: 120s}
""",
        timeout="5m",
    )
    run = launch_run(rev, [{"vm": one_slot, "host": "hd-a"}], {}, None)
    wait_for(lambda: Run.objects.get(pk=run.pk).state == "running", 120, "the run to start")
    monkeypatch.setattr(atp_celery, "run_task_options", plain)  # the next run: usual limits
    run = _finished(run)

    assert run.result == "error"
    assert run.reason == (
        f"the worker killed the run's task at its hard time limit of {HARD_LIMIT} s: "
        "the run did not end by its own timeout"
    )
    log = worker.text()
    assert re.search(
        rf"Hard time limit \({HARD_LIMIT}(\.0)?s\) exceeded for runs\.execute_run\[{run.task_id}\]",
        log,
    ), log[-3000:]
    types = _one_end_one_notification(run, hook_server)
    assert "worker_lost" not in types  # ended by the worker's hook, not the reaper
    assert run.steps.get(type="wait").status == "error"  # closed by lifecycle.finish
    _next_run_passes(one_slot, worker)
