"""API tokens can be revoked (own token by DELETE /api/token/ or the token page, anyone's by an
admin) and expire after ATP_API_TOKEN_TTL with a clear 401 (issue 11 item 12)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def test_own_token_revoked_by_delete(client):
    key = Token.objects.create(user=make_user("olga", "operator")).key
    assert client.get("/api/runs/", **_auth(key)).status_code == 200
    assert client.delete("/api/token/", **_auth(key)).status_code == 204
    assert client.get("/api/runs/", **_auth(key)).status_code == 401
    assert client.delete("/api/token/").status_code == 401


def test_admin_revokes_anyones_token_operator_cannot(client):
    victim = Token.objects.create(user=make_user("vic", "viewer")).key
    operator = Token.objects.create(user=make_user("op", "operator")).key
    admin = Token.objects.create(user=make_user("ada", "admin")).key
    assert client.delete("/api/users/vic/token/", **_auth(operator)).status_code == 403
    assert client.delete("/api/users/vic/token/", **_auth(admin)).status_code == 204
    assert client.get("/api/runs/", **_auth(victim)).status_code == 401
    gone = client.delete("/api/users/vic/token/", **_auth(admin))
    assert gone.status_code == 404 and "no API token" in gone.json()["detail"]


def test_expired_token_answers_401_and_a_new_one_is_issued(client, settings):
    settings.ATP_API_TOKEN_TTL = 3600
    user = make_user("eve", "operator")
    token = Token.objects.create(user=user)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(hours=2))
    answer = client.get("/api/runs/", **_auth(token.key))
    assert answer.status_code == 401
    assert "token expired" in answer.json()["detail"]
    assert "ATP_API_TOKEN_TTL" in answer.json()["detail"]
    fresh = client.post(
        "/api/token/", {"username": "eve", "password": "pw-for-tests-123"}, "application/json"
    )
    assert fresh.status_code == 200 and fresh.json()["token"] != token.key
    assert fresh.json()["expires"]
    assert client.get("/api/runs/", **_auth(fresh.json()["token"])).status_code == 200


def test_token_page_revokes(client):
    user = make_user("pat", "viewer")
    key = Token.objects.create(user=user).key
    client.force_login(user)
    page = client.get("/accounts/token/")
    assert b"token-revoke" in page.content and b"expires on" in page.content
    client.post("/accounts/token/", {"action": "revoke"})
    assert not Token.objects.filter(key=key).exists()
    assert b"token-revoke" not in client.get("/accounts/token/").content
