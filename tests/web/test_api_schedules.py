"""/api/schedules/: viewers read, operators create/update/delete/run; the beat entry follows;
bad timing or targets are a 400 naming the field; the OpenAPI schema lists the routes."""

import pytest
from django_celery_beat.models import PeriodicTask
from rest_framework.authtoken.models import Token

from schedules.models import Schedule
from tests.dist import factories as f
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _auth(role: str, name: str) -> dict:
    token = Token.objects.create(user=make_user(name, role))
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


@pytest.fixture
def rev():
    rev = f.revision("smoke")
    f.vm(f.host("hd-a"), "vm1")
    return rev


def test_operator_manages_schedules_through_the_api(client, rev):
    op, viewer = _auth("operator", "olga"), _auth("viewer", "vera")
    body = {
        "name": "nightly",
        "scenario": "smoke",
        "targets": [{"vm": "vm1", "host": "hd-a"}],
        "variables": {"greeting": "hi"},
        "kind": "interval",
        "every_seconds": 900,
    }
    assert client.post("/api/schedules/", body, "application/json", **viewer).status_code == 403
    created = client.post("/api/schedules/", body, "application/json", **op)
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["when"] == "every 15m" and data["next_fire"] and data["enabled"] is True
    schedule = Schedule.objects.get(name="nightly")
    assert schedule.periodic_task.interval.every == 900

    listed = client.get("/api/schedules/", **viewer).json()
    assert [s["name"] for s in listed["results"]] == ["nightly"]

    cron = client.patch(
        "/api/schedules/nightly/",
        {"kind": "crontab", "crontab": "0 3 * * 1-5"},
        "application/json",
        **op,
    )
    assert cron.status_code == 200, cron.content
    task = PeriodicTask.objects.get(pk=schedule.periodic_task_id)
    assert task.crontab.hour == "3" and task.interval is None
    off = client.patch("/api/schedules/nightly/", {"enabled": False}, "application/json", **op)
    assert off.json()["next_fire"] is None
    assert not PeriodicTask.objects.get(pk=task.pk).enabled

    assert client.delete("/api/schedules/nightly/", **op).status_code == 204
    assert not Schedule.objects.exists() and not PeriodicTask.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"every_seconds": 3}, "every_seconds"),
        ({"every_seconds": "15m"}, "every_seconds"),
        ({"kind": "crontab", "crontab": "61 * * * *"}, "crontab"),
        ({"targets": [{"vm": "no-such-vm"}]}, "targets"),
        ({"scenario": "missing"}, "scenario"),
    ],
)
def test_bad_schedule_is_a_400_naming_the_field(client, rev, changes, field):
    body = {"name": "n", "scenario": "smoke", "targets": [{"vm": "vm1"}], "every_seconds": 60}
    response = client.post(
        "/api/schedules/", body | changes, "application/json", **_auth("operator", "olga")
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_schema_lists_schedules_notifications_users(client):
    client.force_login(make_user("vera", "viewer"))
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/api/schedules/",
        "/api/schedules/{name}/",
        "/api/schedules/{name}/run/",
        "/api/notifications/",
        "/api/notifications/{name}/",
        "/api/notification-deliveries/",
        "/api/users/",
        "/api/users/{username}/",
    ):
        assert path in paths, path
