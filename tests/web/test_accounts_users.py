"""Admins manage users and roles; `create_user --role` scripts the same; tokens for the API."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from atp_site.permissions import user_role
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def test_admin_creates_user_with_role_and_changes_it(client):
    client.force_login(make_user("adam", "admin"))
    client.post(
        "/accounts/users/create",
        {"username": "vic", "password": "long-enough-pw-1", "role": "viewer"},
    )
    vic = get_user_model().objects.get(username="vic")
    assert user_role(vic) == "viewer" and vic.check_password("long-enough-pw-1")
    client.post(f"/accounts/users/{vic.pk}/update", {"role": "operator"})
    vic.refresh_from_db()
    assert user_role(vic) == "operator" and not vic.is_superuser
    client.post(f"/accounts/users/{vic.pk}/update", {"role": "admin"})
    vic.refresh_from_db()
    assert user_role(vic) == "admin" and vic.is_superuser
    html = client.get("/accounts/users/").content.decode()
    assert 'data-user="vic"' in html


def test_admin_cannot_demote_or_deactivate_self(client):
    adam = make_user("adam", "admin")
    client.force_login(adam)
    page = client.post(f"/accounts/users/{adam.pk}/update", {"role": "viewer"}, follow=True)
    assert "cannot take the admin role" in page.content.decode()
    client.post(f"/accounts/users/{adam.pk}/update", {"active": "0"})
    adam.refresh_from_db()
    assert adam.is_active and user_role(adam) == "admin"


def test_bad_role_and_short_password_are_clear_errors(client):
    client.force_login(make_user("adam", "admin"))
    html = client.post(
        "/accounts/users/create", {"username": "x", "password": "pw", "role": "viewer"}, follow=True
    ).content.decode()
    assert "password:" in html
    html = client.post(
        "/accounts/users/create",
        {"username": "y", "password": "long-enough-pw-1", "role": "root"},
        follow=True,
    ).content.decode()
    assert "allowed viewer, operator, admin" in html


def test_create_user_command_reads_password_from_env(monkeypatch, capsys):
    monkeypatch.setenv("NEW_PW", "long-enough-pw-2")
    call_command("create_user", "ops", "--role", "operator", "--password-env", "NEW_PW", "--token")
    out = capsys.readouterr().out
    ops = get_user_model().objects.get(username="ops")
    assert user_role(ops) == "operator" and ops.check_password("long-enough-pw-2")
    assert "long-enough-pw-2" not in out
    token = out.strip().splitlines()[-1]
    assert len(token) == 40
    with pytest.raises(CommandError, match="already taken"):
        call_command("create_user", "ops", "--role", "viewer", "--password-env", "NEW_PW")


def test_token_page_then_api_with_token(client):
    vera = make_user("vera", "viewer")
    client.force_login(vera)
    html = client.post("/accounts/token/").content.decode()
    key = html.split('id="token-key">')[1].split("<")[0]
    client.logout()
    api = client.get("/api/scenarios/", HTTP_AUTHORIZATION=f"Token {key}")
    assert api.status_code == 200
    assert client.get("/api/scenarios/", HTTP_AUTHORIZATION="Token wrong").status_code in (401, 403)
