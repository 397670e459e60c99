"""Password logins (form, /api/token/) are throttled per address and per username; passwords
that are common, numeric or like the username are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts import services
from accounts.models import LoginFailure
from atp_core.errors import InvalidInput
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db
GOOD = "pw-for-tests-123"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.ATP_LOGIN_FAILURES_PER_USERNAME = 5
    settings.ATP_LOGIN_FAILURES_PER_ADDRESS = 8
    settings.ATP_LOGIN_WINDOW = 900


def _form(client, username, password, address="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _token(client, username, password, address="10.0.0.1"):
    return client.post(
        "/api/token/",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def test_a_username_is_locked_after_five_failures_from_anywhere(client):
    make_user("alice", "viewer")
    for n in range(5):
        assert _form(client, "alice", f"guess-{n}", address=f"10.0.1.{n}").status_code == 200
    refused = _form(client, "alice", GOOD, address="10.0.2.1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 800
    assert "Too many failed logins" in refused.content.decode()
    token = _token(client, "alice", GOOD, address="10.0.2.2")
    assert token.status_code == 429 and "Too many failed logins" in token.json()["detail"]
    assert "_auth_user_id" not in client.session
    # another user from one of those addresses is not affected
    make_user("bob", "viewer")
    assert _form(client, "bob", GOOD, address="10.0.1.1").status_code == 302


def test_an_address_is_locked_after_its_failures_whatever_the_usernames(client):
    make_user("carol", "viewer")
    for n in range(8):
        _token(client, f"user{n}", "nope", address="10.9.9.9")
    assert _form(client, "carol", GOOD, address="10.9.9.9").status_code == 429
    assert _token(client, "carol", GOOD, address="10.9.9.9").status_code == 429
    assert _token(client, "carol", GOOD, address="10.9.9.8").status_code == 200


def test_the_lock_ends_when_the_failures_leave_the_window(client):
    make_user("dave", "viewer")
    for n in range(5):
        _token(client, "dave", f"guess-{n}")
    assert _token(client, "dave", GOOD).status_code == 429
    LoginFailure.objects.update(at=LoginFailure.objects.first().at - timedelta(seconds=901))
    response = _token(client, "dave", GOOD)
    assert response.status_code == 200 and response.json()["token"]


def test_a_login_clears_the_failures_of_its_username(client):
    make_user("erin", "viewer")
    for n in range(4):
        _form(client, "erin", f"guess-{n}")
    assert _form(client, "erin", GOOD).status_code == 302
    assert not LoginFailure.objects.filter(username="erin").exists()


def test_refused_attempts_are_not_stored(client):
    for n in range(30):
        _token(client, "frank", f"guess-{n}")
    assert LoginFailure.objects.count() == 5


@pytest.mark.parametrize(
    "username, password, why",
    [
        ("gina", "password1234", "too common"),
        ("gina", "73829104658", "entirely numeric"),
        ("gina-marlowe", "gina-marlowe1", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused(username, password, why):
    with pytest.raises(InvalidInput, match=why):
        services.create_user(username, password, "viewer")
