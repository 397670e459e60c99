"""Where webhooks may go (issue 11 item 4): internal address ranges are refused unless the
allow-list names them, at save and at send, against the resolved address; redirects are not
followed; only the status of the answer is kept; viewers see webhook URLs masked."""

from __future__ import annotations

import socket

import pytest

from runs import notify, webhooks
from schedules.forms import NotificationHookForm
from schedules.models import Notification, NotificationHook
from tests.dist import factories as f
from tests.dist.test_notify_webhook import Hook
from tests.fixtures.web import make_user


@pytest.fixture
def server():
    servers = []

    def make(*args, **kwargs):
        servers.append(Hook(*args, **kwargs))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:9/hook", "a loopback address"),
        ("http://localhost:9/hook", "a loopback address"),
        ("http://[::1]:9/hook", "a loopback address"),
        ("http://10.1.2.3/hook", "a private address"),
        ("http://192.168.0.10/hook", "a private address"),
        ("http://172.16.5.5/hook", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://224.0.0.1/hook", "a multicast address"),
        ("http://0.0.0.0:8000/hook", "the unspecified address"),
        ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),
    ],
)
def test_internal_addresses_are_refused(url, reason, settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = []
    with pytest.raises(webhooks.WebhookRefused) as refused:
        webhooks.check_url(url)
    assert reason in str(refused.value)
    assert "ATP_WEBHOOK_ALLOW_NETWORKS" in str(refused.value)


def test_other_schemes_and_credentials_in_the_url_are_refused(settings):
    for url, words in (
        ("ftp://example.com/x", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("https://user:pw@example.com/x", "user name or password"),
    ):
        with pytest.raises(webhooks.WebhookRefused, match=words):
            webhooks.check_url(url)


def test_a_name_is_judged_by_the_address_it_resolves_to(monkeypatch, settings):
    """A public-looking name that resolves to an internal address is refused."""
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = []
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "hooks.example.com":
            return real("10.9.8.7", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(webhooks.WebhookRefused, match="resolves to 10.9.8.7, a private address"):
        webhooks.check_url("https://hooks.example.com/T0KEN")


def test_the_allow_list_opens_a_network(settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    target = webhooks.check_url("http://127.0.0.1:9/hook?x=1")
    assert (target.address, target.port, target.path) == ("127.0.0.1", 9, "/hook?x=1")


def test_refused_at_save(db, settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = []
    form = NotificationHookForm(
        data={"name": "internal", "url": "http://127.0.0.1:8000/hook", "enabled": "on"}
    )
    assert not form.is_valid()
    assert "loopback" in form.errors["url"][0]
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.1/32"]
    form = NotificationHookForm(
        data={"name": "internal", "url": "http://127.0.0.1:8000/hook", "enabled": "on"}
    )
    assert form.is_valid(), form.errors


def test_refused_at_send_even_when_saved_before(db, server, settings):
    """A hook saved while its network was allowed is not sent to once it is no longer."""
    receiver = server()
    rev = f.revision("policy")
    run = f.run(rev, [f.vm(f.host("hd-a"), "vm1")], state="finished", age=5, result="passed")
    NotificationHook.objects.create(name="old", url=receiver.url)
    settings.ATP_WEBHOOK_URLS = []
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = []
    assert notify.notify_run_finished(run.pk) == {receiver.url: False}
    assert receiver.received == []
    row = Notification.objects.get(run=run)
    assert row.ok is False and row.attempts == 1
    assert row.detail.startswith("127.0.0.1 resolves to 127.0.0.1, a loopback address")


def test_redirects_are_not_followed(server, settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.1/32"]
    inner = server()
    outer = server(statuses=[307], location=inner.url)
    d = notify.post_webhook(outer.url, {"x": 1}, timeout=5, retries=2, backoff=0.01)
    assert (d.ok, d.attempts, d.status_code) == (False, 1, 307)
    assert d.detail == "The webhook answered HTTP 307 (Temporary Redirect)."
    assert len(outer.received) == 1 and inner.received == []


def test_only_the_status_of_the_answer_is_kept(server, settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.1/32"]
    receiver = server(statuses=[403], reply=b"internal secret page " * 50)
    d = notify.post_webhook(receiver.url, {"x": 1}, timeout=5, retries=0)
    assert d.status_code == 403
    assert d.detail == "The webhook answered HTTP 403 (Forbidden)."


def test_viewers_see_webhook_urls_masked(db, client, settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = []
    settings.ATP_WEBHOOK_URLS = ["https://chat.example/hooks/GLOBAL-TOKEN"]
    NotificationHook.objects.create(name="chat", url="https://chat.example/hooks/HOOK-TOKEN")
    run = f.run(f.revision("masked"), [f.vm(f.host("hd-a"), "vm1")], state="finished", age=5)
    Notification.objects.create(
        run=run, channel="webhook", target="https://chat.example/hooks/ROW-TOKEN", ok=False
    )
    client.force_login(make_user("watcher", "viewer"))
    page = client.get("/schedules/").content.decode()
    assert "TOKEN" not in page
    assert "https://chat.example/…" in page
    client.force_login(make_user("boss", "operator"))
    page = client.get("/schedules/").content.decode()
    assert "HOOK-TOKEN" in page and "ROW-TOKEN" in page


def test_the_api_masks_webhook_urls_to_viewers_and_refuses_internal_ones(db, client, settings):
    settings.ATP_WEBHOOK_ALLOW_NETWORKS = []
    NotificationHook.objects.create(name="chat", url="https://chat.example/hooks/HOOK-TOKEN")
    run = f.run(f.revision("api-masked"), [f.vm(f.host("hd-a"), "vm1")], state="finished", age=5)
    Notification.objects.create(
        run=run, channel="webhook", target="https://chat.example/hooks/ROW-TOKEN", ok=True
    )
    client.force_login(make_user("watcher", "viewer"))
    hooks = client.get("/api/notifications/").content.decode()
    deliveries = client.get("/api/notification-deliveries/").content.decode()
    assert "TOKEN" not in hooks + deliveries
    assert "https://chat.example/…" in hooks
    client.force_login(make_user("boss", "operator"))
    assert "HOOK-TOKEN" in client.get("/api/notifications/").content.decode()
    refused = client.post(
        "/api/notifications/",
        {"name": "inside", "url": "http://127.0.0.1:8000/x"},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "loopback" in refused.json()["url"][0]
