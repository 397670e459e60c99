"""Scenarios are saved as revisions: who, when, a diff; text that does not validate is never
saved; unchanged text creates no revision. Validation is the engine's own loader."""

from __future__ import annotations

import pytest

from scenarios.models import Scenario, ScenarioRevision
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db

FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}

V1 = """\
version: 1
name: typing-demo
description: type and check
tags: [keyboard, smoke]
steps:
  - type: send_text
    text: "hello\\n"
"""
V2 = V1.replace('"hello\\n"', '"hello world\\n"') + "  - type: wait\n    duration: 1s\n"
TYPO = V1.replace("type: send_text", "type: send_txet")


@pytest.fixture
def operator_client(client):
    client.force_login(make_user("olga", "operator"))
    return client


def test_create_then_save_new_revision_with_diff(operator_client):
    created = operator_client.post("/scenarios/new", {"content": V1}, **FETCH)
    assert created.status_code == 200, created.content
    assert created.json() == {"ok": True, "url": "/scenarios/typing-demo/", "revision": 1}
    scenario = Scenario.objects.get(name="typing-demo")
    assert scenario.tags == ["keyboard", "smoke"]
    assert scenario.description == "type and check"

    saved = operator_client.post(
        "/scenarios/typing-demo/save", {"content": V2, "message": "longer text"}, **FETCH
    ).json()
    assert saved["ok"] and saved["created"] and saved["revision"] == 2
    rev2 = ScenarioRevision.objects.get(scenario=scenario, number=2)
    assert rev2.author.username == "olga" and rev2.message == "longer text"
    assert rev2.parsed["name"] == "typing-demo"
    assert '-    text: "hello\\n"' in rev2.diff
    assert '+    text: "hello world\\n"' in rev2.diff
    assert "+  - type: wait" in rev2.diff
    scenario.refresh_from_db()
    assert scenario.current_revision == rev2

    page = operator_client.get("/scenarios/typing-demo/revisions/2/").content.decode()
    assert 'class="d-add"' in page and "hello world" in page


def test_invalid_text_is_never_saved_and_issues_have_line_and_column(operator_client):
    operator_client.post("/scenarios/new", {"content": V1}, **FETCH)
    response = operator_client.post("/scenarios/typing-demo/save", {"content": TYPO}, **FETCH)
    assert response.status_code == 400
    issues = response.json()["issues"]
    assert issues, "no issue reported"
    first = issues[0]
    assert first["line"] == 6, issues  # the line of `type: send_txet`
    assert first["column"] >= 1 and first["message"]
    assert ScenarioRevision.objects.filter(scenario__name="typing-demo").count() == 1


def test_new_scenario_that_does_not_validate_is_not_created(operator_client):
    response = operator_client.post("/scenarios/new", {"content": TYPO}, **FETCH)
    assert response.status_code == 400 and response.json()["issues"]
    assert not Scenario.objects.exists()


def test_unchanged_text_creates_no_revision(operator_client):
    operator_client.post("/scenarios/new", {"content": V1}, **FETCH)
    again = operator_client.post("/scenarios/typing-demo/save", {"content": V1}, **FETCH).json()
    assert again["ok"] and again["created"] is False and again["revision"] == 1
    assert ScenarioRevision.objects.count() == 1


def test_viewer_sees_editor_read_only_and_cannot_save(client):
    make_user("olga", "operator")
    from scenarios import services

    services.create_scenario(V1, None)
    client.force_login(make_user("vera", "viewer"))
    html = client.get("/scenarios/typing-demo/").content.decode()
    assert 'data-readonly="true"' in html and "Save as new revision" not in html
    assert client.post("/scenarios/typing-demo/save", {"content": V2}).status_code == 403
