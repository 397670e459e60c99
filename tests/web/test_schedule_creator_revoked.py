"""A schedule whose creator is deactivated or demoted below operator stops launching and says
why, on the Schedules page and in /api/schedules/ (issue 11 item 12)."""

import pytest
from rest_framework.authtoken.models import Token

from accounts.services import set_role
from runs.models import Run
from schedules import services, tasks
from schedules.models import Schedule
from tests.dist import factories as f
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    rev = f.revision("sched-owner")
    f.vm(f.host("hd-a"), "vm1")
    owner = make_user("olga", "operator")
    s = Schedule(
        name="hourly",
        scenario=rev.scenario,
        targets=[{"vm": "vm1", "host": "hd-a"}],
        every_seconds=3600,
        created_by=owner,
    )
    return services.save_schedule(s), owner


def _shown(client, reason: str) -> None:
    viewer = make_user("vera", "viewer")
    key = Token.objects.create(user=viewer).key
    (row,) = client.get("/api/schedules/", HTTP_AUTHORIZATION=f"Token {key}").json()["results"]
    assert reason in row["blocked"] and reason in row["last_error"]
    client.force_login(viewer)
    assert reason in client.get("/schedules/").content.decode()


def test_operator_creator_launches(setup):
    schedule, _ = setup
    assert tasks.launch(schedule.pk) is not None


def test_deactivated_creator_stops_the_schedule(client, setup):
    schedule, owner = setup
    owner.is_active = False
    owner.save()
    assert tasks.launch(schedule.pk) is None
    assert not Run.objects.exists()
    _shown(client, "its creator olga is deactivated")


def test_demoted_creator_stops_the_schedule(client, setup):
    schedule, owner = setup
    set_role(owner, "viewer")
    assert services.launch_schedule(schedule, manual=True) is None
    assert not Run.objects.exists()
    _shown(client, "its creator olga is viewer now (operator needed)")
