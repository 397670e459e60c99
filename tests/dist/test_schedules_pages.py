"""Schedule pages: operators add, edit, enable, disable and remove schedules (each backed by a
django-celery-beat PeriodicTask); viewers only read; bad input is a clear error."""

import json

import pytest
from django_celery_beat.models import PeriodicTask

from schedules.models import NotificationHook, Schedule
from tests.dist import factories as f
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(make_user("olga", "operator"))
    return client


@pytest.fixture
def rev():
    rev = f.revision("smoke")
    f.vm(f.host("hd-a"), "vm1")
    return rev


def form(rev, **kw):
    data = {
        "name": "nightly",
        "scenario": rev.scenario.pk,
        "targets_text": "hd-a/vm1",
        "variables_text": "greeting=hi",
        "retries": "1",
        "kind": "interval",
        "every": "15m",
        "crontab": "",
        "enabled": "on",
    }
    return data | kw


def test_operator_adds_an_interval_schedule(operator, rev):
    resp = operator.post("/schedules/add", form(rev))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    s = Schedule.objects.get(name="nightly")
    assert s.targets == [{"vm": "vm1", "host": "hd-a"}]
    assert s.variables == {"greeting": "hi"} and s.retries == 1
    assert (s.kind, s.every_seconds, s.enabled) == ("interval", 900, True)
    task = s.periodic_task
    assert task.task == "schedules.launch" and task.enabled
    assert json.loads(task.kwargs) == {"schedule_id": s.pk}
    assert task.interval.every == 900 and task.crontab is None
    page = operator.get("/schedules/").content.decode()
    assert "nightly" in page and "every 15m" in page


def test_crontab_schedule_and_edit_to_interval(operator, rev):
    operator.post("/schedules/add", form(rev, kind="crontab", crontab="*/5 3 * * 1-5", every=""))
    s = Schedule.objects.get(name="nightly")
    cron = s.periodic_task.crontab
    assert (cron.minute, cron.hour, cron.day_of_week) == ("*/5", "3", "1-5")
    resp = operator.post(f"/schedules/{s.pk}/edit", form(rev, every="2h"))
    assert resp.status_code == 302
    s.refresh_from_db()
    assert s.kind == "interval" and s.every_seconds == 7200 and s.crontab == ""
    task = PeriodicTask.objects.get(pk=s.periodic_task_id)
    assert task.interval.every == 7200 and task.crontab is None
    assert PeriodicTask.objects.filter(task="schedules.launch").count() == 1


def test_disable_enable_and_delete(operator, rev):
    operator.post("/schedules/add", form(rev))
    s = Schedule.objects.get(name="nightly")
    operator.post(f"/schedules/{s.pk}/disable")
    s.refresh_from_db()
    assert not s.enabled and not s.periodic_task.enabled
    operator.post(f"/schedules/{s.pk}/enable")
    s.refresh_from_db()
    assert s.enabled and PeriodicTask.objects.get(pk=s.periodic_task_id).enabled
    task_id = s.periodic_task_id
    operator.post(f"/schedules/{s.pk}/delete")
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.filter(pk=task_id).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"every": "5s"}, "every", "too short"),
        ({"every": "soon"}, "every", "is not a duration"),
        ({"kind": "crontab", "crontab": "* * *"}, "crontab", "has 3 fields"),
        ({"kind": "crontab", "crontab": "99 * * * *"}, "crontab", "crontab minute"),
        ({"targets_text": "hd-a/nope"}, "targets_text", ""),
        ({"targets_text": "hd-zz/vm1"}, "targets_text", "no host named 'hd-zz'"),
        ({"variables_text": "bad name=1"}, "variables_text", "not a valid name"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(operator, rev, changes, field, message):
    resp = operator.post("/schedules/add", form(rev, **changes))
    if field == "targets_text" and not message:  # a VM not synced yet on a known host: allowed
        assert resp.status_code == 302
        return
    assert resp.status_code == 200
    errors = resp.context["form"].errors
    assert field in errors and message in errors[field][0], errors
    assert not Schedule.objects.exists() and not PeriodicTask.objects.exists()


def test_viewer_reads_but_cannot_manage(client, rev):
    client.force_login(make_user("vic", "viewer"))
    assert client.get("/schedules/").status_code == 200
    assert client.get("/schedules/add").status_code == 403
    assert client.post("/schedules/add", form(rev)).status_code == 403
    assert client.post("/schedules/hooks/add", {"name": "x", "url": "http://h/"}).status_code == 403
    assert not Schedule.objects.exists()


def test_operator_adds_a_notification_hook(operator, rev, monkeypatch):
    import socket

    real = socket.getaddrinfo  # no DNS on the test machine: chat.example is a public address

    def resolve(host, *args, **kwargs):
        return real("8.8.8.8" if host == "chat.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    resp = operator.post(
        "/schedules/hooks/add",
        {
            "name": "chat",
            "scenario": rev.scenario.pk,
            "url": "https://chat.example/hook",
            "emails": "a@example.com; b@example.com",
            "results": ["failed", "error"],
            "enabled": "on",
        },
    )
    assert resp.status_code == 302
    hook = NotificationHook.objects.get(name="chat")
    assert hook.results == ["failed", "error"]
    assert hook.email_list == ["a@example.com", "b@example.com"]
    bad = operator.post("/schedules/hooks/add", {"name": "empty", "enabled": "on"})
    assert "give a webhook URL, e-mail addresses, or both" in bad.content.decode()
    bad = operator.post("/schedules/hooks/add", {"name": "m", "emails": "not-an-address"})
    assert "is not an e-mail address" in bad.content.decode()


def test_nav_links_to_schedules(operator):
    assert 'href="/schedules/"' in operator.get("/schedules/").content.decode()
