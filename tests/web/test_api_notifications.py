"""/api/notifications/ (hooks) and /api/notification-deliveries/: viewers read, operators
manage hooks; bad addresses or a hook with nowhere to send are a 400 naming the problem."""

import pytest
from rest_framework.authtoken.models import Token

from runs.models import Run
from schedules.models import Notification, NotificationHook
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


def _auth(role: str, name: str) -> dict:
    token = Token.objects.create(user=make_user(name, role))
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def test_operator_manages_hooks_and_viewer_reads(client, monkeypatch):
    import socket

    real = socket.getaddrinfo  # no DNS on the test machine: hooks.example is a public address

    def resolve(host, *args, **kwargs):
        return real("8.8.8.8" if host == "hooks.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    data.scenario("smoke")
    op, viewer = _auth("operator", "olga"), _auth("viewer", "vera")
    body = {
        "name": "chat",
        "scenario": "smoke",
        "url": "https://hooks.example/x",
        "emails": "a@example.com; b@example.com",
        "results": ["failed", "error"],
    }
    assert client.post("/api/notifications/", body, "application/json", **viewer).status_code == 403
    created = client.post("/api/notifications/", body, "application/json", **op)
    assert created.status_code == 201, created.content
    assert created.json()["emails"] == "a@example.com, b@example.com"
    hook = NotificationHook.objects.get(name="chat")
    assert hook.results == ["failed", "error"] and hook.scenario.name == "smoke"

    got = client.get("/api/notifications/chat/", **viewer).json()
    assert got["url"] == "https://hooks.example/…"  # masked to viewers
    got = client.get("/api/notifications/chat/", **op).json()
    assert got["url"] == "https://hooks.example/x"
    patched = client.patch("/api/notifications/chat/", {"enabled": False}, "application/json", **op)
    assert patched.status_code == 200 and not NotificationHook.objects.get().enabled
    assert client.delete("/api/notifications/chat/", **op).status_code == 204
    assert not NotificationHook.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "emails": "not-an-address"}, "emails"),
        ({"name": "x"}, "non_field_errors"),
        ({"name": "x", "url": "https://h.example", "results": ["maybe"]}, "results"),
    ],
)
def test_bad_hook_is_a_400(client, body, field):
    response = client.post(
        "/api/notifications/", body, "application/json", **_auth("operator", "olga")
    )
    assert response.status_code == 400 and field in response.json(), response.json()


def test_deliveries_are_listed_per_run(client):
    sc, rev = data.scenario("smoke")
    user = make_user("olga", "operator")
    run = data.new_run(sc, rev, user)
    Notification.objects.create(
        run=run, channel="webhook", target="https://h.example", ok=True, status_code=200, attempts=1
    )
    viewer = _auth("viewer", "vera")
    rows = client.get(f"/api/notification-deliveries/?run={run.pk}", **viewer).json()["results"]
    assert [(r["run"], r["channel"], r["ok"]) for r in rows] == [(run.pk, "webhook", True)]
    assert client.get("/api/notification-deliveries/?run=abc", **viewer).status_code == 400
    assert Run.objects.count() == 1
