"""REST API of the inventory: token auth, roles (admins manage hosts), validation errors."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from hosts.models import Host, VirtualMachine
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def _auth(role: str, name: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=make_user(name, role)).key}"}


def test_token_endpoint_issues_token(client):
    make_user("adam", "admin")
    response = client.post("/api/token/", {"username": "adam", "password": "pw-for-tests-123"})
    assert response.status_code == 200 and len(response.json()["token"]) == 40
    bad = client.post("/api/token/", {"username": "adam", "password": "nope"})
    assert bad.status_code == 400


def test_admin_creates_updates_deletes_host(client):
    admin = _auth("admin", "adam")
    created = client.post(
        "/api/hosts/",
        {"name": "lab-1", "uri": "qemu+ssh://root@lab-1/system", "tags": ["win10"], "slots": 2},
        content_type="application/json",
        **admin,
    )
    assert created.status_code == 201, created.content
    assert created.json()["health"] == "unknown"
    patched = client.patch(
        "/api/hosts/lab-1/", {"slots": 6}, content_type="application/json", **admin
    )
    assert patched.json()["slots"] == 6
    assert client.delete("/api/hosts/lab-1/", **admin).status_code == 204
    assert not Host.objects.filter(name="lab-1").exists()


def test_operator_cannot_create_host_and_viewer_reads(client):
    operator, viewer = _auth("operator", "olga"), _auth("viewer", "vera")
    response = client.post(
        "/api/hosts/",
        {"name": "x", "uri": "qemu:///system"},
        content_type="application/json",
        **operator,
    )
    assert response.status_code == 403
    Host.objects.create(name="h", uri="test:///default")
    listed = client.get("/api/hosts/", **viewer).json()
    assert [h["name"] for h in listed["results"]] == ["h"]


def test_invalid_host_is_400_with_field_errors(client):
    response = client.post(
        "/api/hosts/",
        {"name": "Bad Name", "slots": -1},
        content_type="application/json",
        **_auth("admin", "adam"),
    )
    assert response.status_code == 400
    body = response.json()
    assert {"name", "uri", "slots"} <= set(body)


def test_vm_filters_and_tag_edit(client):
    host = Host.objects.create(name="h", uri="test:///default")
    VirtualMachine.objects.create(host=host, name="a", tags=["win10"])
    VirtualMachine.objects.create(host=host, name="b", tags=["linux"])
    viewer, operator = _auth("viewer", "vera"), _auth("operator", "olga")
    names = [vm["name"] for vm in client.get("/api/vms/?tag=win10", **viewer).json()["results"]]
    assert names == ["a"]
    vm_b = VirtualMachine.objects.get(name="b")
    response = client.patch(
        f"/api/vms/{vm_b.pk}/",
        {"tags": ["linux", "smoke"], "state": "x"},
        content_type="application/json",
        **operator,
    )
    assert response.status_code == 200
    vm_b.refresh_from_db()
    assert vm_b.tags == ["linux", "smoke"] and vm_b.state == ""
    assert (
        client.patch(
            f"/api/vms/{vm_b.pk}/", {"tags": []}, content_type="application/json", **viewer
        ).status_code
        == 403
    )


def test_openapi_schema_is_valid_and_needs_login(client):
    from drf_spectacular.validation import validate_schema

    assert client.get("/api/schema/").status_code in (401, 403)
    response = client.get("/api/schema/?format=json", **_auth("viewer", "vera"))
    assert response.status_code == 200
    schema = response.json()
    validate_schema(schema)  # against the OpenAPI 3 meta-schema
    for path in ("/api/hosts/", "/api/vdi-endpoints/", "/api/scenarios/validate/", "/api/vms/"):
        assert path in schema["paths"], path
    endpoint = schema["components"]["schemas"]["VdiEndpoint"]
    assert endpoint["properties"]["password"].get("writeOnly") is True
    docs = client.get("/api/docs/", **_auth("viewer", "vic"))
    assert docs.status_code == 200 and b"vendor/swagger-ui" in docs.content
