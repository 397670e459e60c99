"""The beat task ``schedules.launch``: launches the scenario's current revision with the
schedule's targets, variables and retries, named after the schedule; refusals are kept, not raised."""

import pytest

from runs.models import Run
from schedules import services, tasks
from schedules.models import Schedule
from tests.dist import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule():
    rev = f.revision("sched-probe")
    f.vm(f.host("hd-a"), "vm1")
    s = Schedule(
        name="every-hour",
        scenario=rev.scenario,
        targets=[{"vm": "vm1", "host": "hd-a"}],
        variables={"who": "beat"},
        retries=2,
        every_seconds=3600,
    )
    return services.save_schedule(s)


def test_launch_creates_a_run_named_after_the_schedule(schedule):
    run_id = tasks.launch(schedule.pk)
    run = Run.objects.get(pk=run_id)
    assert run.schedule == schedule and run.schedule_name == "every-hour" and run.state == "queued"
    assert run.variables == {"who": "beat"} and run.max_attempts == 3
    assert run.queue == "host.hd-a"
    schedule.refresh_from_db()
    assert schedule.last_run_id == run.pk and schedule.last_launched and not schedule.last_error


def test_disabled_schedule_does_not_launch(schedule):
    services.set_enabled(schedule, False)
    assert tasks.launch(schedule.pk) is None
    assert not Run.objects.exists()


def test_refused_launch_is_recorded(schedule):
    from hosts.models import VirtualMachine

    VirtualMachine.objects.all().delete()
    Schedule.objects.filter(pk=schedule.pk).update(targets=[{"vm": "vm1"}])
    assert tasks.launch(schedule.pk) is None
    schedule.refresh_from_db()
    assert "no VM named 'vm1'" in schedule.last_error


def test_deleted_schedule_is_ignored(schedule):
    pk = schedule.pk
    services.delete_schedule(schedule)
    assert tasks.launch(pk) is None


def test_editing_a_stale_copy_keeps_the_launch_record(schedule):
    stale = Schedule.objects.get(pk=schedule.pk)
    run_id = tasks.launch(schedule.pk)  # beat launches meanwhile
    services.set_enabled(stale, False)  # an operator disables from an older page
    schedule.refresh_from_db()
    assert schedule.last_run_id == run_id and not schedule.enabled
