"""A VDI endpoint's password is encrypted at rest and never rendered, returned or logged."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from hosts import vdi
from hosts.models import VdiEndpoint
from hosts.secrets import SecretUnreadable
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "S3cret-Pa55-for-tests"


def _endpoint(**kw) -> VdiEndpoint:
    return vdi.add_endpoint("lab", "http://127.0.0.1:9", "admin", PASSWORD, **kw)


def test_password_stored_encrypted_and_readable_back():
    endpoint = _endpoint()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM hosts_vdiendpoint WHERE id = %s", [endpoint.pk])
        row = cursor.fetchone()
    assert not any(PASSWORD in str(value) for value in row)
    assert VdiEndpoint.objects.get(pk=endpoint.pk).get_password() == PASSWORD
    assert PASSWORD not in repr(endpoint) and PASSWORD not in str(endpoint)


def test_changed_secret_key_gives_clear_error(settings):
    endpoint = _endpoint()
    settings.SECRET_KEY = "another-key-entirely-" + "x" * 30
    with pytest.raises(SecretUnreadable, match="enter it again"):
        VdiEndpoint.objects.get(pk=endpoint.pk).get_password()


def test_pages_never_render_the_password(client):
    endpoint = _endpoint()
    client.force_login(make_user("adam", "admin"))
    for path in ("/vdi/", f"/vdi/{endpoint.pk}/", f"/vdi/{endpoint.pk}/edit"):
        html = client.get(path).content.decode()
        assert PASSWORD not in html, path
        assert endpoint.password_encrypted not in html, path


def test_api_password_is_write_only(client):
    client.force_login(make_user("adam", "admin"))
    created = client.post(
        "/api/vdi-endpoints/",
        {"name": "lab2", "url": "http://127.0.0.1:9", "username": "admin", "password": PASSWORD},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    listed = client.get("/api/vdi-endpoints/")
    for response in (created, listed, client.get("/api/vdi-endpoints/lab2/")):
        body = response.content.decode()
        assert PASSWORD not in body
        assert "password_encrypted" not in body and '"password"' not in body
    assert created.json()["has_password"] is True
    assert VdiEndpoint.objects.get(name="lab2").get_password() == PASSWORD


def test_edit_without_password_keeps_it(client):
    endpoint = _endpoint()
    client.force_login(make_user("adam", "admin"))
    response = client.post(
        f"/vdi/{endpoint.pk}/edit",
        {"name": "lab", "url": "http://127.0.0.1:10", "username": "root", "password": ""},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "http://127.0.0.1:10" and endpoint.get_password() == PASSWORD


def test_failed_login_error_and_logs_do_not_contain_the_password(caplog):
    endpoint = _endpoint()
    with caplog.at_level(logging.DEBUG):
        vdi.test_login(endpoint)
    endpoint.refresh_from_db()
    assert endpoint.reachable is False and endpoint.last_error
    assert PASSWORD not in endpoint.last_error
    assert PASSWORD not in caplog.text
