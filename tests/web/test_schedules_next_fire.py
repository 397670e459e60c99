"""The schedules page shows when each schedule fires next (interval and crontab, as beat's
DatabaseScheduler computes it); a disabled schedule has no next time."""

import datetime as dt

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from schedules import services
from schedules.models import Schedule
from tests.dist import factories as f
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rev():
    rev = f.revision("smoke")
    f.vm(f.host("hd-a"), "vm1")
    return rev


def _schedule(rev, name, **kw):
    s = Schedule(name=name, scenario=rev.scenario, targets=[{"vm": "vm1", "host": "hd-a"}], **kw)
    return services.save_schedule(s)


def test_next_fire_of_interval_and_crontab(rev):
    now = timezone.now()
    every = _schedule(rev, "every-15m", kind="interval", every_seconds=900)
    last = now - dt.timedelta(minutes=5)
    PeriodicTask.objects.filter(pk=every.periodic_task_id).update(last_run_at=last)
    every.refresh_from_db()
    got = services.next_fire(every, now)  # celery reads its clock itself: equal to the second
    assert abs(got - (last + dt.timedelta(minutes=15))) < dt.timedelta(seconds=1)

    nightly = _schedule(rev, "nightly", kind="crontab", crontab="0 3 * * *")
    expected = now.replace(hour=3, minute=0, second=0, microsecond=0)
    if expected <= now:
        expected += dt.timedelta(days=1)
    got = services.next_fire(nightly, now)
    assert abs(got - expected) < dt.timedelta(seconds=1)

    services.set_enabled(every, False)
    assert services.next_fire(every, now) is None


def test_schedule_list_shows_the_next_run(client, rev):
    _schedule(rev, "every-15m", kind="interval", every_seconds=900)
    _schedule(rev, "off", kind="interval", every_seconds=900, enabled=False)
    client.force_login(make_user("vera", "viewer"))
    html = client.get("/schedules/").content.decode()
    assert "<th>Next run</th>" in html
    row = html.split('data-schedule="every-15m"')[1].split("</tr>")[0]
    cell = row.split('class="next-fire">')[1].split("</td>")[0]
    shown = dt.datetime.strptime(cell.split(">")[1].split("<")[0], "%Y-%m-%d %H:%M:%S")
    shown = shown.replace(tzinfo=dt.UTC)
    assert timezone.now() < shown <= timezone.now() + dt.timedelta(minutes=15, seconds=1)
    off = html.split('data-schedule="off"')[1].split("</tr>")[0]
    assert "— (disabled)" in off
