"""A notification's optional signing secret (HMAC-SHA256 of the body in X-ATP-Signature, stored
encrypted, never shown) and its "Send test" button, whose outcome reads as a sentence."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from runs import notify
from schedules.models import NotificationHook
from tests.dist import factories as f
from tests.dist.test_notify_webhook import Hook
from tests.fixtures.web import make_user

SECRET = "s3cr3t-for-the-receiver"


@pytest.fixture
def receiver(settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.1/32"]
    settings.ATP_WEBHOOK_URLS = []
    server = Hook()
    yield server
    server.close()


def _expected(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_run_result_is_signed_with_the_hook_secret(db, receiver):
    hook = NotificationHook(name="signed", url=receiver.url)
    hook.set_secret(SECRET)
    hook.save()
    assert SECRET not in hook.secret_encrypted
    run = f.run(f.revision("sig"), [f.vm(f.host("hd-a"), "vm1")], state="finished", age=5)
    assert notify.notify_run_finished(run.pk) == {receiver.url: True}
    (got,) = receiver.received
    assert got["headers"]["X-ATP-Signature"] == _expected(got["raw"])
    assert got["body"]["run_id"] == run.pk


def test_without_a_secret_there_is_no_signature(db, receiver):
    NotificationHook.objects.create(name="plain", url=receiver.url)
    run = f.run(f.revision("nosig"), [f.vm(f.host("hd-a"), "vm1")], state="finished", age=5)
    notify.notify_run_finished(run.pk)
    (got,) = receiver.received
    assert "X-ATP-Signature" not in got["headers"]


def test_the_form_sets_keeps_and_clears_the_secret_and_never_shows_it(db, client, receiver):
    client.force_login(make_user("op", "operator"))
    form = {"name": "chat", "url": receiver.url, "secret": SECRET, "enabled": "on"}
    assert client.post("/schedules/hooks/add", form).status_code == 302
    hook = NotificationHook.objects.get(name="chat")
    assert hook.get_secret() == SECRET
    edit = client.get(f"/schedules/hooks/{hook.pk}/edit").content.decode()
    assert SECRET not in edit and "a secret is set" in edit
    assert "signed" in client.get("/schedules/").content.decode()
    client.post(f"/schedules/hooks/{hook.pk}/edit", {**form, "secret": ""})
    hook.refresh_from_db()
    assert hook.get_secret() == SECRET  # empty: kept
    client.post(f"/schedules/hooks/{hook.pk}/edit", {**form, "secret": "", "clear_secret": "on"})
    hook.refresh_from_db()
    assert not hook.has_secret


def test_send_test_posts_once_signed_and_says_how_it_answered(db, client, receiver):
    hook = NotificationHook(name="chat", url=receiver.url)
    hook.set_secret(SECRET)
    hook.save()
    client.force_login(make_user("op", "operator"))
    page = client.post(f"/schedules/hooks/{hook.pk}/test", follow=True).content.decode()
    (got,) = receiver.received
    assert got["body"]["event"] == "test" and got["body"]["notification"] == "chat"
    assert got["headers"]["X-ATP-Event"] == "test"
    assert got["headers"]["X-ATP-Signature"] == _expected(got["raw"])
    assert "Test sent (signed) to http://127.0.0.1:" in page
    assert "it answered HTTP 200." in page


def test_send_test_failure_reads_as_a_sentence(db, client, settings):
    from tests.prereq import free_port

    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.1/32"]
    port = free_port()
    hook = NotificationHook.objects.create(name="down", url=f"http://127.0.0.1:{port}/x")
    client.force_login(make_user("op", "operator"))
    page = client.post(f"/schedules/hooks/{hook.pk}/test", follow=True).content.decode()
    assert f"failed: Could not connect to 127.0.0.1:{port} (connection refused)." in page
    assert "Error(" not in page and "Exception" not in page


def test_viewers_cannot_send_tests(db, client, receiver):
    hook = NotificationHook.objects.create(name="chat", url=receiver.url)
    client.force_login(make_user("watcher", "viewer"))
    assert client.post(f"/schedules/hooks/{hook.pk}/test").status_code == 403
    assert receiver.received == []
