"""A schedule's retries are its own field (0-10), set on the schedule form and in
/api/schedules/, shown on the Schedules page, and given to every run it launches as the launch
option; ``run_retries`` among a schedule's variables is refused where it is typed, naming the
field."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from runs.models import Run
from schedules import services
from schedules.models import Schedule
from tests.dist import factories as f
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rev(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    rev = f.revision("smoke")
    f.vm(f.host("hd-a"), "vm1")
    return rev


@pytest.fixture
def operator(client):
    client.force_login(make_user("olga", "operator"))
    return client


def _form(rev, **kw):
    data = {
        "name": "nightly",
        "scenario": rev.scenario.pk,
        "targets_text": "hd-a/vm1",
        "variables_text": "greeting=hi",
        "retries": "2",
        "kind": "interval",
        "every": "15m",
        "crontab": "",
        "enabled": "on",
    }
    return data | kw


def test_the_form_sets_retries_and_its_runs_get_them(operator, rev):
    form_page = operator.get("/schedules/add").content.decode()
    assert 'name="retries"' in form_page and "new attempts of each run" in form_page
    assert operator.post("/schedules/add", _form(rev)).status_code == 302
    schedule = Schedule.objects.get(name="nightly")
    assert schedule.retries == 2 and schedule.variables == {"greeting": "hi"}
    assert "retries 2" in operator.get("/schedules/").content.decode()
    edit = operator.get(f"/schedules/{schedule.pk}/edit").content.decode()
    assert 'name="retries" value="2"' in edit

    run = services.launch_schedule(schedule, manual=True)
    assert run.max_attempts == 3 and run.variables == {"greeting": "hi"}

    edited = operator.post(f"/schedules/{schedule.pk}/edit", _form(rev, retries=""))
    assert edited.status_code == 302
    schedule.refresh_from_db()
    assert schedule.retries == 0  # empty: no new attempt
    assert "retries 0" not in operator.get("/schedules/").content.decode()


@pytest.mark.parametrize(
    "fields, where, message",
    [
        ({"variables_text": "run_retries=2"}, "variables", "run_retries is no longer a variable"),
        ({"retries": "11"}, "retries", "less than or equal to 10"),
        ({"retries": "-1"}, "retries", "greater than or equal to 0"),
    ],
)
def test_the_form_refuses_bad_retries(operator, rev, fields, where, message):
    page = operator.post("/schedules/add", _form(rev, **fields)).content.decode()
    assert message in page
    assert not Schedule.objects.exists()


def test_the_api_sets_and_reads_retries(client, rev):
    token = Token.objects.create(user=make_user("olga", "operator"))
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    body = {
        "name": "nightly",
        "scenario": "smoke",
        "targets": [{"vm": "vm1", "host": "hd-a"}],
        "kind": "interval",
        "every_seconds": 900,
        "retries": 3,
    }
    made = client.post("/api/schedules/", body, "application/json", **auth)
    assert made.status_code == 201, made.content
    assert made.json()["retries"] == 3 and Schedule.objects.get().retries == 3
    ran = client.post("/api/schedules/nightly/run/", {}, "application/json", **auth)
    assert Run.objects.get(pk=ran.json()["run"]).max_attempts == 4

    for bad in ({"retries": 11}, {"retries": "x"}, {"variables": {"run_retries": 1}}):
        answer = client.patch("/api/schedules/nightly/", bad, "application/json", **auth)
        assert answer.status_code == 400 and set(answer.json()) == set(bad), answer.content
    assert Schedule.objects.get().retries == 3
    zero = client.patch("/api/schedules/nightly/", {"retries": 0}, "application/json", **auth)
    assert zero.status_code == 200 and zero.json()["retries"] == 0
