"""The REST API takes retries as a launch parameter (``POST /api/runs/`` and
``POST /api/scenarios/<name>/run/``), declared in the OpenAPI schema as 0-10; a ``run_retries``
variable or a value out of range is a 400 naming the field; a re-run keeps the retries."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db

TARGET = [{"vm": "demo-1", "host": "local"}]


@pytest.fixture
def op(monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    revision()
    token = Token.objects.create(user=make_user("olga", "operator"))
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def _post(client, op, url, body):
    return client.post(url, body, content_type="application/json", **op)


def test_runs_and_scenario_launches_take_retries(client, op):
    made = _post(client, op, "/api/runs/", {"scenario": "demo", "targets": TARGET, "retries": 2})
    assert made.status_code == 201, made.content
    assert made.json()["max_attempts"] == 3 and made.json()["variables"] == {}
    again = _post(client, op, f"/api/runs/{made.json()['id']}/rerun/", {})
    assert again.status_code == 201 and again.json()["max_attempts"] == 3

    body = {"targets": TARGET, "retries": 1, "variables": {"who": "api"}}
    other = _post(client, op, "/api/scenarios/demo/run/", body)
    assert other.status_code == 201, other.content
    run = Run.objects.get(pk=other.json()["run"])
    assert run.max_attempts == 2 and run.variables == {"who": "api"}
    plain = _post(client, op, "/api/runs/", {"scenario": "demo", "targets": TARGET})
    assert plain.json()["max_attempts"] == 1


@pytest.mark.parametrize("url", ["/api/runs/", "/api/scenarios/demo/run/"])
def test_run_retries_among_the_variables_is_a_400_naming_retries(client, op, url):
    body = {"scenario": "demo", "targets": TARGET, "variables": {"run_retries": 2}}
    answer = _post(client, op, url, body)
    assert answer.status_code == 400, answer.content
    (message,) = answer.json()["variables"]
    assert "run_retries is no longer a variable" in message and '"retries" in the API' in message
    for bad in (11, -1, "x", True):
        answer = _post(client, op, url, {"scenario": "demo", "targets": TARGET, "retries": bad})
        assert answer.status_code == 400 and "retries" in answer.json(), answer.content
    assert not Run.objects.exists()


def test_the_schema_declares_retries_0_to_10(client, op):
    schema = client.get("/api/schema/?format=json", **op).json()
    for name in ("Launch", "LaunchOptions"):
        field = schema["components"]["schemas"][name]["properties"]["retries"]
        assert (field["type"], field["minimum"], field["maximum"]) == ("integer", 0, 10)
