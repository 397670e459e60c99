"""The editor's validate call, the JSON Schema and the completion model come from the engine."""

from __future__ import annotations

import pytest

from scenarios import engine
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db

GOOD = "version: 1\nname: v\nsteps:\n  - type: send_key\n    key: ret\n"
BAD_FIELD = "version: 1\nname: v\nsteps:\n  - type: send_key\n    kee: ret\n"


@pytest.fixture
def viewer_client(client):
    client.force_login(make_user("vera", "viewer"))
    return client


def test_validate_reports_line_and_column_of_the_problem(viewer_client):
    ok = viewer_client.post("/scenarios/validate", {"content": GOOD}).json()
    assert ok == {"ok": True, "issues": [], "warnings": []}
    bad = viewer_client.post("/scenarios/validate", {"content": BAD_FIELD}).json()
    assert bad["ok"] is False
    lines = {issue["line"] for issue in bad["issues"]}
    assert lines & {4, 5}, bad  # the step, or its misspelt key
    assert all(set(i) == {"line", "column", "path", "message", "allowed"} for i in bad["issues"])


def test_yaml_syntax_error_is_an_issue_not_a_500(viewer_client):
    response = viewer_client.post("/scenarios/validate", {"content": "name: [unclosed\nsteps: x"})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["issues"][0]["line"] is not None


def test_api_validate_same_answer(viewer_client):
    body = viewer_client.post(
        "/api/scenarios/validate/", {"content": BAD_FIELD}, content_type="application/json"
    ).json()
    assert body["ok"] is False and body["issues"]


def test_schema_and_completion_model(viewer_client):
    schema = viewer_client.get("/scenarios/schema.json").json()
    assert schema == viewer_client.get("/api/scenarios/schema/").json()
    model = engine.completion_model()
    assert {"name", "steps"} <= set(model["top_level"])
    for kind in ("send_text", "send_key", "exec_command", "wait", "verify_screen"):
        assert kind in model["step_types"], sorted(model["step_types"])
    assert "text" in model["step_types"]["send_text"]
    html = viewer_client.get("/scenarios/new").status_code
    assert html == 403  # viewers cannot create; the editor page itself is for operators
