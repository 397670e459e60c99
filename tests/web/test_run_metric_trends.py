"""Latency and logon trends across runs (/runs/trends/metrics, linked from the trends page):
per scenario, host and desk pool the window's p50/p95 per action kind and median/p95 per logon
phase, one chart point per run; the scenario/host/pool selectors narrow it; runs outside the
window, unfinished runs and unmeasured steps are left out; an empty selection says so."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from hosts.models import VirtualMachine
from runs import presenters
from runs.models import Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs():
    now = timezone.now()
    ago = lambda h: now - dt.timedelta(hours=h)  # noqa: E731
    a1 = data.measured_run("desk", inputs=[("2", "key", [0.1, 0.2], None)], finished=ago(30),
                           logons=[{"agent": 3.0, "desktop": 4.0}])  # fmt: skip
    a2 = data.measured_run("desk", inputs=[("2", "key", [0.3], None), ("3", "click", [0.05], None)],
                           finished=ago(5), logons=[{"agent": 5.0, "desktop": 6.0}])  # fmt: skip
    other_host = data.measured_run("desk", host="far", inputs=[("2", "key", [0.9], None)])
    other = data.measured_run("office", inputs=[("2", "key", [0.04], None)])
    old = data.measured_run("desk", inputs=[("2", "key", [5.0], None)], finished=ago(24 * 40))
    running = data.measured_run("desk", inputs=[("2", "key", [7.0], None)])
    Run.objects.filter(pk=running.pk).update(state="running", finished=None)
    VirtualMachine.objects.filter(name="demo-1").update(desk_pool="win11")
    plain = data.measured_run("desk", vms=("bare-1",))  # no metrics: not a point
    return {"a1": a1, "a2": a2, "far": other_host, "office": other, "old": old, "plain": plain}


def test_groups_aggregate_per_scenario_host_and_pool(runs):
    out = presenters.metric_trends({}, days=30)
    keys = [(g["scenario"], g["host"], g["pool"]) for g in out["groups"]]
    assert keys == [
        ("desk", "far", "win11"),
        ("desk", "local", "win11"),
        ("office", "local", "win11"),
    ]
    desk = out["groups"][1]
    assert [p["run_id"] for p in desk["run_points"]] == [runs["a1"].pk, runs["a2"].pk]
    (click, key) = desk["latency"]  # kinds in name order
    # 100, 200 and 300 ms over two runs: p50 200, p95 290
    assert key == {"kind": "key", "runs": 2, "count": 3, "p50": 200.0, "p95": 290.0}
    assert click["runs"] == 1 and click["p95"] == 50.0
    assert desk["run_points"][0]["latency"]["key"] == {"count": 2, "p50": 150.0, "p95": 195.0}
    phases = {r["phase"]: r for r in desk["logon"]}
    assert phases["desktop"]["median"] == 5.0 and phases["desktop"]["p95"] == 5.9
    assert phases["total"]["median"] == 9.0
    assert out["choices"] == {"scenario": ["desk", "office"], "host": ["far", "local"],
                              "pool": ["win11"]}  # fmt: skip


def test_selectors_narrow_the_groups(runs):
    assert [g["host"] for g in presenters.metric_trends({"host": "far"})["groups"]] == ["far"]
    office = presenters.metric_trends({"scenario": "office", "host": "local"})["groups"]
    assert [(g["scenario"], g["latency"][0]["p50"]) for g in office] == [("office", 40.0)]
    assert presenters.metric_trends({"pool": "win10"})["groups"] == []
    # a longer window takes the old run in
    wide = presenters.metric_trends({"scenario": "desk", "host": "local"}, days=60)["groups"][0]
    assert len(wide["run_points"]) == 3 and wide["latency"][1]["count"] == 4


def test_page_draws_the_trend_charts_and_is_linked(client, runs):
    client.force_login(make_user("vic", "viewer"))
    assert 'href="/runs/trends/metrics"' in client.get("/runs/trends").content.decode()
    html = client.get("/runs/trends/metrics?scenario=desk&host=local").content.decode()
    group = html.split('class="card metric-group"')[1].split("</section>")[0]
    points = re.findall(r'class="trend-point" data-kind="key" data-run="(\d+)" '
                        r'data-p50="(\d+)" data-p95="(\d+)"', group)  # fmt: skip
    assert points == [(str(runs["a1"].pk), "150", "195"), (str(runs["a2"].pk), "300", "300")]
    assert group.count('class="trend-p95" data-kind="key"') == 1, "a line through the runs"
    row = '<tr data-kind="key"><td>key</td><td>2</td><td>3</td><td>200 ms</td><td>290 ms</td>'
    assert row in group
    columns = re.findall(r'<g class="logon-run" data-run="(\d+)" data-total="([\d.]+)"', group)
    assert columns == [(str(runs["a1"].pk), "7.00"), (str(runs["a2"].pk), "11.00")]
    assert '<option value="desk" selected>' in html

    empty = client.get("/runs/trends/metrics?scenario=nothing").content.decode()
    assert "No finished run of this selection measured latency or logon time" in empty
    assert client.get("/runs/trends/metrics?days=abc").status_code == 200


def test_api_answers_the_same_trends_and_refuses_a_bad_window(client, runs):
    client.force_login(make_user("vic", "viewer"))
    response = client.get("/api/runs/metric-trends/?scenario=desk&host=local")
    assert response.status_code == 200
    body = response.json()
    (group,) = body["groups"]
    assert [p["run_id"] for p in group["run_points"]] == [runs["a1"].pk, runs["a2"].pk]
    assert group["latency"][1] == {"kind": "key", "runs": 2, "count": 3, "p50": 200.0, "p95": 290.0}
    assert {r["phase"]: r["median"] for r in group["logon"]}["desktop"] == 5.0
    assert body["filters"] == {"scenario": "desk", "host": "local", "pool": ""}
    bad = client.get("/api/runs/metric-trends/?days=abc")
    assert bad.status_code == 400, bad.content
    assert "not a whole number" in str(bad.json()["days"]), bad.json()
    assert client.get("/api/runs/metric-trends/?days=0").status_code == 400


def test_a_group_draws_its_newest_runs_and_counts_them_all(runs, monkeypatch):
    monkeypatch.setattr(presenters, "METRIC_TREND_POINTS", 1)
    (group,) = presenters.metric_trends({"scenario": "desk", "host": "local"})["groups"]
    assert [p["run_id"] for p in group["run_points"]] == [runs["a2"].pk]
    assert group["runs_total"] == 2 and group["latency"][1]["count"] == 3


def test_input_steps_without_a_measured_latency_make_no_group(runs):
    """The hypervisor display path stores an input step's action with no latency: such a run
    is not a trend point, and a scenario with only those is no (empty) group."""
    data.measured_run("console-only", inputs=[("2", "key", [None], None)])
    out = presenters.metric_trends({}, days=30)
    assert "console-only" not in [g["scenario"] for g in out["groups"]]
