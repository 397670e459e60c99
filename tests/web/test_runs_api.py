"""REST API of runs with token auth: operators launch, cancel, re-run; viewers only read;
list filters; detail with targets and steps; report as JSON and JUnit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from rest_framework.authtoken.models import Token

from runs import lifecycle
from runs.event_store import record_event
from runs.models import Run
from tests.fixtures.web import make_user
from tests.web.runs_core_data import PLAN, inventory, revision

pytestmark = pytest.mark.django_db


def _auth(role: str, name: str) -> dict:
    token = Token.objects.create(user=make_user(name, role))
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("runs.services.send_run", calls.append)
    return calls


def _launch(client, auth, **body):
    body = {"scenario": "demo", "targets": [{"vm": "demo-1", "host": "local"}], **body}
    return client.post("/api/runs/", body, content_type="application/json", **auth)


def test_operator_launches_viewer_cannot(client, sent, django_capture_on_commit_callbacks):
    inventory()
    revision()
    op, viewer = _auth("operator", "olga"), _auth("viewer", "vera")
    assert _launch(client, viewer).status_code == 403
    assert client.get("/api/runs/").status_code in (401, 403), "no token, no runs"
    with django_capture_on_commit_callbacks(execute=True):
        response = _launch(client, op, variables={"x": "1"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == "queued" and data["launched_by"] == "olga"
    assert data["revision"] == 1 and data["variables"] == {"x": "1"}
    assert [t["name"] for t in data["run_targets"]] == ["local/demo-1"]
    assert [r.pk for r in sent] == [data["id"]]
    # clear errors
    bad = _launch(client, op, targets=[{"vm": "ghost"}])
    assert bad.status_code == 400 and "no VM named 'ghost'" in bad.json()["detail"]
    assert _launch(client, op, scenario="nope").status_code == 404
    assert _launch(client, op, revision=7).status_code == 404


def test_list_filters_and_detail(client, sent):
    inventory()
    rev = revision()
    from runs.services import launch_run

    a = launch_run(rev, [{"vm": "demo-1", "host": "local"}], {}, make_user("olga", "operator"))
    b = launch_run(rev, [{"vm": "demo-2", "host": "local"}], {}, None)
    Run.objects.filter(pk=b.pk).update(state="finished", result="failed")
    viewer = _auth("viewer", "vera")
    ids = lambda q: [r["id"] for r in client.get(f"/api/runs/{q}", **viewer).json()["results"]]  # noqa: E731
    assert ids("") == [b.pk, a.pk]
    assert ids("?result=failed") == [b.pk]
    assert ids("?state=queued&user=olga") == [a.pk]
    assert ids("?scenario=demo&host=local") == [b.pk, a.pk]
    assert ids("?host=elsewhere") == []
    bad = client.get("/api/runs/?state=sleeping", **viewer)
    assert bad.status_code == 400 and "not one of queued" in bad.json()["detail"]
    assert client.get("/api/runs/?date=yesterday", **viewer).status_code == 400

    record_event(a, "run_started", {"plan": PLAN}, "", "")
    record_event(a, "step_finished", {"status": "passed", "duration": 0.5}, "local/demo-1", "1")
    detail = client.get(f"/api/runs/{a.pk}/", **viewer).json()
    (target,) = detail["run_targets"]
    assert [(s["step_id"], s["status"]) for s in target["steps"]] == [
        ("1", "passed"),
        ("2", "pending"),
    ]
    assert detail["source"] == rev.content
    assert client.get("/api/runs/999999/", **viewer).status_code == 404


def test_events_polling_endpoint(client, sent):
    inventory()
    from runs.services import launch_run

    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)
    for i in range(4):
        record_event(run, "step_log", {"message": f"m{i}"}, "local/demo-1", "1")
    viewer = _auth("viewer", "vera")
    page = client.get(f"/api/runs/{run.pk}/events/?after=2", **viewer).json()
    assert [e["seq"] for e in page["events"]] == [3, 4, 5]
    assert page["events"][0]["data"] == {"message": "m1"}
    assert (page["state"], page["result"], page["last_seq"], page["more"]) == (
        "queued",
        None,
        5,
        False,
    )
    page = client.get(f"/api/runs/{run.pk}/events/?after=1&limit=2", **viewer).json()
    assert [e["seq"] for e in page["events"]] == [2, 3] and page["more"] and page["next_after"] == 3
    assert client.get(f"/api/runs/{run.pk}/events/?after=5", **viewer).json()["events"] == []
    assert client.get(f"/api/runs/{run.pk}/events/?after=x", **viewer).status_code == 400
    assert client.get(f"/api/runs/{run.pk}/events/?after=0").status_code in (401, 403)


def test_cancel_and_rerun(client, sent, django_capture_on_commit_callbacks):
    inventory()
    from runs.services import launch_run

    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {"k": "v"}, None)
    viewer, op = _auth("viewer", "vera"), _auth("operator", "olga")
    assert client.post(f"/api/runs/{run.pk}/cancel/", **viewer).status_code == 403
    response = client.post(f"/api/runs/{run.pk}/cancel/", **op)
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["result"]) == ("finished", "cancelled")
    again = client.post(f"/api/runs/{run.pk}/cancel/", **op)
    assert again.status_code == 400 and "already finished" in again.json()["detail"]
    assert client.post(f"/api/runs/{run.pk}/rerun/", **viewer).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/runs/{run.pk}/rerun/", **op)
    assert response.status_code == 201
    new = response.json()
    assert new["rerun_of"] == run.pk and new["variables"] == {"k": "v"} and new["id"] != run.pk
    assert sent[-1].pk == new["id"]


def test_report_json_and_junit(client, sent):
    inventory()
    from runs.services import launch_run

    run = launch_run(revision(), [{"vm": "demo-1", "host": "local"}], {}, None)
    record_event(run, "run_started", {"plan": PLAN})
    record_event(run, "step_finished", {"status": "passed", "duration": 0.5}, "local/demo-1", "1")
    record_event(
        run,
        "step_finished",
        {"status": "failed", "duration": 1.0, "error": "exit 3", "output": "boom"},
        "local/demo-1",
        "2",
    )
    lifecycle.finish(run, "failed", data={"totals": {"passed": 1, "failed": 1}}, close_open=False)
    viewer = _auth("viewer", "vera")
    report = client.get(f"/api/runs/{run.pk}/report/", **viewer).json()
    assert (report["result"], report["state"]) == ("failed", "finished")
    steps = report["targets"][0]["steps"]
    assert [(s["id"], s["status"], s["error"]) for s in steps] == [
        ("1", "passed", ""),
        ("2", "failed", "exit 3"),
    ]
    response = client.get(f"/api/runs/{run.pk}/report/?format=junit", **viewer)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    suite = root.find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None and failure.text == "exit 3"
    assert client.get(f"/api/runs/{run.pk}/report/?format=pdf", **viewer).status_code == 400
