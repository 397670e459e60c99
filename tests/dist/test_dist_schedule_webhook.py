"""A schedule runs on time through real beat and workers, and the webhook (a local HTTP server)
receives each finished run's result."""

import pytest
from django.utils import timezone

from runs.models import Run
from schedules import services
from schedules.models import NotificationHook, Schedule
from tests.dist.conftest import DIST_ENV, assert_full_event_sequence, make_scenario, wait_for
from tests.dist.test_notify_webhook import Hook

pytestmark = [pytest.mark.rig, pytest.mark.redis]

STEPS = """\
  - type: guest_ping
  - {type: exec_command, command: echo scheduled}
"""
EVERY = 15


@pytest.fixture
def hook_server():
    server = Hook()
    yield server
    server.close()


def test_schedule_runs_on_time_and_webhook_gets_the_result(dist_processes, two_hosts, hook_server):
    # notifications are sent from the default queue; the receiver listens on 127.0.0.1
    dist_processes.worker(
        "hd-central",
        DIST_ENV["ATP_DEFAULT_QUEUE"],
        env={"ATP_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32"},
    )
    dist_processes.worker("hd-wa", "host.hd-a")
    rev = make_scenario("scheduled-probe", STEPS)
    NotificationHook.objects.create(name="e2e", url=hook_server.url)
    vm = two_hosts["hd-a"].vms.first().name
    schedule = services.save_schedule(
        Schedule(
            name="every-15s",
            scenario=rev.scenario,
            targets=[{"vm": vm, "host": "hd-a"}],
            variables={},
            every_seconds=EVERY,
        )
    )
    created = timezone.now()
    dist_processes.beat()

    runs = wait_for(
        lambda: (
            list(Run.objects.filter(schedule_name="every-15s").order_by("created")[:2])
            if Run.objects.filter(schedule_name="every-15s").count() >= 2
            else None
        ),
        3 * EVERY + 60,
        "two scheduled runs",
        interval=0.5,
    )
    services.set_enabled(schedule, False)
    first, second = runs
    # on time: the first at its first due time and the next one period later, none skipped
    # (bounds of a whole period; how late beat fires is bench material)
    assert (first.created - created).total_seconds() < 2 * EVERY
    gap = (second.created - first.created).total_seconds()
    assert EVERY - 2 <= gap < 2 * EVERY, f"runs {gap:.1f} s apart, every {EVERY} s"
    schedule.refresh_from_db()
    assert schedule.last_run_id in (first.pk, second.pk) and not schedule.last_error

    wait_for(
        lambda: Run.objects.get(pk=first.pk).state == "finished", 120, "the first run to finish"
    )
    first.refresh_from_db()
    assert first.result == "passed", first.reason
    assert_full_event_sequence(first.pk)
    body = wait_for(
        lambda: next(
            (r["body"] for r in hook_server.received if r["body"]["run_id"] == first.pk), None
        ),
        60,
        "the webhook call of the first run",
    )
    assert body["result"] == "passed" and body["scenario"] == "scheduled-probe"
    assert body["schedule"] == "every-15s"
    assert body["url"].endswith(f"/runs/{first.pk}/")
    assert body["totals"] == first.totals
