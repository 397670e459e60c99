"""A step's latency metrics travel from the engine's step_finished event to the step row, the
JSON report (per step, per target and per run: p50/p95/max per action kind), the JUnit
properties and the report page (a latency next to the step, the per-run table)."""

import json

import pytest

from runs.models import Run, StepResult
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(client):
    user = make_user("lena", "operator")
    client.force_login(user)
    client.user = user
    return client


def _finish(run, target, step_id, metrics, status="passed", error=""):
    data.emit(
        run,
        "step_finished",
        {
            "name": f"key {step_id}",
            "type": "send_key",
            "status": status,
            "duration": 0.3,
            "error": error,
            "output": "",
            "iteration": None,
            "metrics": metrics,
        },
        target,
        step_id,
    )


def test_latency_stored_reported_and_shown(operator):
    sc, rev = data.scenario("lat")
    run = data.new_run(sc, rev, operator.user)
    target = run.run_targets.get().name
    data.play(run, upto="step2")
    key = {"action": "key", "latency": 0.0834, "latency_to": "first display update"}
    _finish(run, target, "2", key)
    slow = {"action": "key", "latency": 0.31, "latency_to": "first display update"}
    slow |= {"max_latency": 0.15, "blob": "x" * 500}
    _finish(run, target, "3", slow, "failed", "latency 310 ms > max_latency 150 ms")
    data.emit(run, "run_finished", {"result": "failed", "duration": 2.0, "totals": {}})
    Run.objects.filter(pk=run.pk).update(state="finished", result="failed")

    row = StepResult.objects.get(run=run, step_id="3")
    assert row.metrics["latency"] == 0.31 and row.metrics["max_latency"] == 0.15
    assert len(row.metrics["blob"]) == 200, "stored metrics are bounded"

    report = json.loads(operator.get(f"/runs/{run.pk}/report.json").content)
    assert report["latency"]["key"] == {"count": 2, "p50": 0.1967, "p95": 0.2987, "max": 0.31}
    (t,) = report["targets"]
    assert t["latency"]["key"]["count"] == 2
    assert [s["metrics"].get("latency") for s in t["steps"] if s["id"] in ("2", "3")] == [
        0.0834,
        0.31,
    ]
    junit = operator.get(f"/runs/{run.pk}/junit.xml").content.decode()
    assert '<property name="latency" value="0.0834" />' in junit

    html = operator.get(f"/runs/{run.pk}/report").content.decode()
    table = html.split('id="latency-summary"')[1].split("</section>")[0]
    assert '<tr data-action="key"><td>key</td><td>2</td><td>197 ms</td>' in table
    assert "<td>299 ms</td><td>310 ms</td>" in table
    step3 = html.split('data-step="3" data-iter="-1"')[1].split("</li>")[0]
    assert 'class="slatency over"' in step3 and "⏱ 310 ms" in step3
    step2 = html.split('data-step="2" data-iter="-1"')[1].split("</li>")[0]
    assert 'class="slatency"' in step2 and "⏱ 83 ms" in step2
