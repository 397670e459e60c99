"""One exception handler answers invalid input across the API (atp_site/api_errors.py): an
``InvalidInput`` raised by a service is a 400 saying what, where and what is allowed, wherever
in a view it comes from; views do not catch it themselves."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError

from atp_core.errors import InvalidInput
from atp_site.api_errors import api_exception_handler
from runs.models import Run
from scenarios.services import ScenarioInvalid
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    client.force_login(make_user("olga", "operator"))
    return client


def test_the_handler_turns_each_kind_of_refusal_into_a_400():
    plain = api_exception_handler(InvalidInput("targets[0]: unknown key 'vmm'"), {})
    assert (plain.status_code, plain.data) == (400, {"detail": "targets[0]: unknown key 'vmm'"})

    issue = {"line": 4, "column": 5, "path": "steps[0]", "message": "unknown step kind"}
    scenario = api_exception_handler(ScenarioInvalid([issue]), {})
    assert scenario.status_code == 400 and scenario.data["issues"] == [issue]
    assert "line 4, column 5" in scenario.data["content"][0]

    per_field = api_exception_handler(DjangoValidationError({"uri": ["not a libvirt URI"]}), {})
    assert (per_field.status_code, per_field.data) == (400, {"uri": ["not a libvirt URI"]})

    assert api_exception_handler(RuntimeError("a bug"), {}) is None, "not input: DRF's default"


def test_a_service_refusal_reaches_the_client_with_where_and_what_is_allowed(operator, monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    revision("demo")
    response = operator.post(
        "/api/runs/",
        {"scenario": "demo", "targets": [{"vmm": "demo-1"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("targets[0]: unknown key 'vmm'") and "allowed: vm, host" in detail
    assert not Run.objects.exists()


def test_a_refused_choice_lists_the_allowed_values(operator):
    response = operator.post(
        "/api/notifications/",
        {"name": "ops", "url": "https://chat.example/hook", "results": ["green"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    (message,) = response.json()["results"]["0"]
    assert message.startswith('"green" is not allowed (allowed: passed, failed')


def test_a_malformed_events_cursor_is_a_400_naming_it(operator, monkeypatch):
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    inventory()
    from runs.services import launch_run

    run = launch_run(revision("demo"), [{"vm": "demo-1", "host": "local"}], {}, None)
    response = operator.get(f"/api/runs/{run.pk}/events/?after=soon")
    assert response.status_code == 400 and "after" in response.json()["detail"]


def test_a_scenario_that_does_not_validate_answers_its_issues_with_numbers(operator):
    revision("demo")
    text = "version: 1\nname: demo\nsteps:\n  - type: send_txet\n    text: hi\n"
    response = operator.post(
        "/api/scenarios/demo/revisions/", {"content": text}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    first = body["issues"][0]
    assert first["line"] == 4 and isinstance(first["column"], int), body
    assert "send_txet" in first["message"] and body["content"][0].startswith("scenario does not")
