"""E-mail notifications through Django's mail backend (the test backend keeps the outbox)."""

import pytest
from django.core import mail

from runs import notify
from schedules.models import Notification, NotificationHook
from tests.dist import factories as f

pytestmark = pytest.mark.django_db


def test_finished_run_is_mailed(settings):
    settings.ATP_SITE_URL = "https://atp.example"
    settings.ATP_WEBHOOK_URLS = []
    settings.ATP_NOTIFY_EMAILS = ["ops@example.com"]
    rev = f.revision("mail-me")
    NotificationHook.objects.create(name="qa", scenario=rev.scenario, emails="qa@example.com")
    run = f.run(rev, [f.vm(f.host("hd-a"), "vm1")], state="finished", age=10, result="error")
    run.reason = "worker w1 stopped sending heartbeats at 2025-01-01 10:00:00 UTC"
    run.save()
    outcome = notify.notify_run_finished(run.pk)
    assert list(outcome.values()) == [True]
    (msg,) = mail.outbox
    assert msg.to == ["ops@example.com", "qa@example.com"]
    assert msg.subject == f"[ATP] mail-me: error (run {run.pk})"
    assert f"https://atp.example/runs/{run.pk}/" in msg.body
    assert "stopped sending heartbeats" in msg.body
    assert Notification.objects.get(run=run, channel="email").ok is True
    notify.notify_run_finished(run.pk)
    assert len(mail.outbox) == 1


def test_mail_backend_failure_is_recorded(settings):
    settings.ATP_WEBHOOK_URLS = []
    settings.ATP_NOTIFY_EMAILS = ["ops@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    run = f.run(f.revision(), [f.vm(f.host("hd-a"), "vm1")], state="finished", result="passed")
    outcome = notify.notify_run_finished(run.pk)
    assert list(outcome.values()) == [False]
    row = Notification.objects.get(run=run)
    assert row.ok is False and "Error" in row.detail
