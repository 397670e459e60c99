"""/api/users/ is for admins only: list, create with a role, change role, deactivate; an admin
cannot demote or deactivate themself; passwords are never returned."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from atp_site.permissions import user_role
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _auth(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


def test_admin_manages_users(client):
    alice = make_user("alice", "admin")
    admin = _auth(alice)
    created = client.post(
        "/api/users/",
        {"username": "bob", "password": "long-enough-pw", "role": "operator"},
        "application/json",
        **admin,
    )
    assert created.status_code == 201, created.content
    assert created.json()["role"] == "operator" and "password" not in created.json()
    bob = get_user_model().objects.get(username="bob")
    assert bob.check_password("long-enough-pw")

    listed = client.get("/api/users/", **admin).json()["results"]
    assert {u["username"]: u["role"] for u in listed} == {"alice": "admin", "bob": "operator"}

    viewer = client.patch("/api/users/bob/", {"role": "viewer"}, "application/json", **admin)
    assert viewer.json()["role"] == "viewer" and user_role(bob) == "viewer"
    off = client.patch("/api/users/bob/", {"is_active": False}, "application/json", **admin)
    assert off.status_code == 200
    bob.refresh_from_db()
    assert not bob.is_active

    me = client.patch("/api/users/alice/", {"role": "viewer"}, "application/json", **admin)
    assert me.status_code == 400 and "yourself" in me.json()["role"][0]
    me = client.patch("/api/users/alice/", {"is_active": False}, "application/json", **admin)
    assert me.status_code == 400 and "yourself" in me.json()["is_active"][0]


def test_only_admins_see_users(client):
    operator = _auth(make_user("olga", "operator"))
    assert client.get("/api/users/", **operator).status_code == 403
    assert client.post("/api/users/", {}, "application/json", **operator).status_code == 403
    assert client.get("/api/users/").status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "carl", "role": "viewer"}, "password"),
        ({"username": "carl", "password": "short", "role": "viewer"}, "password"),
        ({"username": "carl", "password": "long-enough-pw", "role": "boss"}, "role"),
        ({"username": "alice", "password": "long-enough-pw"}, "username"),
    ],
)
def test_bad_user_is_a_400(client, body, field):
    response = client.post(
        "/api/users/", body, "application/json", **_auth(make_user("alice", "admin"))
    )
    assert response.status_code == 400 and field in response.json(), response.json()
