"""Scenario secrets: admins manage them (page and API), values are encrypted at rest and never
shown, and a run gets them decrypted as ${secret.NAME} with their values masked in what it
stores; ${env.NAME} comes only from the allow-list setting."""

from __future__ import annotations

import pytest

from runs.engine_runner import build_env, build_secrets
from scenarios.models import ScenarioSecret
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db
VALUE = "Vdi-Login-Pa55"


def test_admin_sets_a_secret_in_the_api_and_never_reads_it_back(client):
    client.force_login(make_user("ada", "admin"))
    created = client.post(
        "/api/secrets/",
        {"name": "vdi_password", "value": VALUE, "description": "lab login"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert VALUE not in created.content.decode() and "value" not in created.json()
    listed = client.get("/api/secrets/")
    assert VALUE not in listed.content.decode()
    assert [s["name"] for s in listed.json()["results"]] == ["vdi_password"]
    stored = ScenarioSecret.objects.get(name="vdi_password")
    assert VALUE not in stored.value_encrypted  # encrypted at rest
    assert build_secrets() == {"vdi_password": VALUE}
    replaced = client.patch(
        "/api/secrets/vdi_password/", {"value": "new-one"}, content_type="application/json"
    )
    assert replaced.status_code == 200 and build_secrets() == {"vdi_password": "new-one"}
    dup = client.post(
        "/api/secrets/", {"name": "vdi_password", "value": "x"}, content_type="application/json"
    )
    assert dup.status_code == 400 and "exists" in str(dup.json())
    bad = client.post(
        "/api/secrets/", {"name": "no spaces", "value": "x"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "secret name" in str(bad.json())
    assert client.delete("/api/secrets/vdi_password/").status_code == 204
    assert build_secrets() == {}


def test_the_page_is_for_admins_and_shows_names_only(client):
    client.force_login(make_user("otto", "operator"))
    assert client.get("/secrets/").status_code == 403
    assert client.get("/api/secrets/").status_code == 403
    client.force_login(make_user("ada", "admin"))
    saved = client.post("/secrets/", {"name": "pw", "value": VALUE}, follow=True)
    assert saved.status_code == 200
    page = saved.content.decode()
    assert "pw" in page and VALUE not in page
    refused = client.post("/secrets/", {"name": "1bad", "value": VALUE})
    assert refused.status_code == 400 and "secret name" in refused.content.decode()
    client.post("/secrets/pw/delete")
    assert not ScenarioSecret.objects.exists()


def test_env_comes_from_the_allow_list_only(settings, monkeypatch):
    monkeypatch.setenv("ATP_LAB_USER", "bob")
    monkeypatch.setenv("ATP_OTHER", "nope")
    settings.ATP_SCENARIO_ENV_ALLOW = ["ATP_LAB_USER", "ATP_MISSING"]
    assert build_env() == {"ATP_LAB_USER": "bob"}
