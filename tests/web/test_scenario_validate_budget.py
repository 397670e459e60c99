"""Validation from the web: bombs are answered at once, a text that spends more than the CPU
budget is stopped with a clear issue (the server stays free), and only users with a role may
validate."""

from __future__ import annotations

import pytest

from atp_core.orchestrator.budget import BudgetedWorker
from atp_core.orchestrator.yamlpos import MAX_NODES
from scenarios import engine
from tests.fixtures.web import make_user
from tests.unit.yaml_bombs import alias_bomb, merge_bomb

pytestmark = pytest.mark.django_db


def _validate(client, text: str):
    return client.post("/scenarios/validate", {"content": text})


def test_page_validate_answers_bombs(client):
    client.force_login(make_user("vera", "viewer"))
    merged = _validate(client, merge_bomb(depth=10, width=10))
    assert merged.status_code == 200 and merged.json() == {"ok": True, "issues": [], "warnings": []}
    laughs = _validate(client, alias_bomb(depth=10, width=10)).json()
    assert laughs["ok"] is False
    assert f"more than {MAX_NODES} values" in laughs["issues"][0]["message"]
    assert laughs["issues"][0]["line"] == 4


def test_api_validate_answers_bombs(client):
    client.force_login(make_user("otto", "operator"))
    response = client.post(
        "/api/scenarios/validate/",
        {"content": merge_bomb(depth=10, width=10)},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["ok"] is True


def test_saving_a_bomb_is_refused_with_the_issue(client):
    client.force_login(make_user("otto", "operator"))
    response = client.post(
        "/scenarios/new",
        {"content": alias_bomb(depth=10)},
        headers={"x-requested-with": "fetch"},
    )
    assert response.status_code == 400
    assert f"more than {MAX_NODES} values" in response.json()["issues"][0]["message"]


def test_a_validation_over_the_cpu_budget_is_stopped(client, monkeypatch):
    burner = BudgetedWorker("tests.unit.test_validation_cpu_budget:burn", cpu_seconds=1)
    monkeypatch.setattr(engine, "_worker", burner)
    client.force_login(make_user("vera", "viewer"))
    try:
        response = _validate(client, "30")  # the burner spins for 30 s of CPU
    finally:
        burner.close()
    assert response.status_code == 200
    (issue,) = response.json()["issues"]
    assert "took too long" in issue["message"]


def test_a_user_without_a_role_may_not_validate(client):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user(username="nobody", password="x")
    client.force_login(nobody)
    assert _validate(client, "name: x\nsteps: []\n").status_code == 403
    api = client.post(
        "/api/scenarios/validate/", {"content": "name: x"}, content_type="application/json"
    )
    assert api.status_code == 403
