"""The report's experience charts (own SVG) and exports: latency per step (a dot per input, the
p50/p95 marks, the max_latency line), p50/p95/max per action kind, the logon phases per target;
an empty state when the run measured nothing; the JSON report, the API and JUnit carry every
metric, and ``manage.py atp_run show`` prints the summary."""

import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command

from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db

INPUTS = [
    ("2", "key", [0.080, 0.100, 0.120, 0.300], 0.25),
    ("3", "click", [0.045], None),
]
LOGONS = [
    {"power_on": 2.0, "agent": 3.0, "login_screen": 1.0, "credentials": 0.5, "desktop": 4.0},
    {"power_on": 1.0, "agent": 2.0, "login_screen": 1.5, "credentials": 0.5, "desktop": 2.0},
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def viewer(client):
    client.force_login(make_user("vic", "viewer"))
    return client


def _attrs(svg: str, cls: str) -> list[dict]:
    return [
        dict(re.findall(r'data-(\w+)="([^"]*)"', m))
        for m in re.findall(rf'<g class="{cls}[^"]*"([^>]*)>', svg)
    ]


def test_report_draws_latency_and_logon_charts(viewer):
    run = data.measured_run("charts", vms=("d1", "d2"), inputs=INPUTS, logons=LOGONS)
    html = viewer.get(f"/runs/{run.pk}/report").content.decode()
    assert 'id="metrics-empty"' not in html
    section = html.split('id="latency-summary"')[1].split("</section>")[0]

    kinds = section.split('id="latency-kinds-chart"')[1].split("</svg>")[0]
    by_kind = {a["kind"]: a for a in _attrs(kinds, "lat-kind")}
    # p50 of 80/100/120/300 ms is 110, p95 273 (linear between closest ranks), max 300
    assert by_kind["key"] == {"kind": "key", "count": "4", "p50": "110", "p95": "273", "max": "300"}
    assert by_kind["click"]["p95"] == "45"
    assert "<title>key p95 273 ms</title>" in kinds

    steps = section.split('id="latency-steps-chart"')[1].split("</svg>")[0]
    rows = _attrs(steps, "lat-step")
    assert [(r["step"], r["kind"], r["count"]) for r in rows] == [
        ("2", "key", "4"),
        ("3", "click", "1"),
    ]
    key_row = steps.split('data-step="2"')[1].split("</g>")[0]
    assert key_row.count('class="sample"') == 4 and "<title>300 ms</title>" in key_row
    assert "<title>max_latency 250 ms</title>" in key_row, "the step's limit is drawn"
    assert '<g class="lat-step over" data-target="local/d1" data-step="2"' in steps
    assert '<g class="lat-step" data-target="local/d1" data-step="3"' in steps
    assert "p50 110 · p95 273 · max 300 ms (n=4)" in key_row
    assert 'class="limit"' not in steps.split('data-step="3"')[1]

    logon = html.split('id="logon-summary"')[1].split("</section>")[0]
    bars = re.findall(r'<div class="logon-row" data-target="([^"]+)"', logon)
    assert bars == ["local/d1", "local/d2"], "one stacked bar per target"
    first = logon.split('data-target="local/d1"')[1].split("</svg>")[0]
    assert first.count("<rect") == 5 and "10.5 s</text>" in first
    assert "<title>desktop: 4.00 s</title>" in first
    # median of the two desktop phases (4.0, 2.0) is 3.0; p95 3.9
    assert '<tr data-phase="desktop"><td>desktop</td><td>2</td><td>3.00 s</td><td>3.90 s</td>' in (
        logon
    )


def test_report_of_a_run_without_metrics_says_so(viewer):
    run = data.measured_run("plain")
    html = viewer.get(f"/runs/{run.pk}/report").content.decode()
    assert 'id="latency-summary"' not in html and 'id="logon-summary"' not in html
    empty = html.split('id="metrics-empty"')[1].split("</section>")[0]
    assert "measured no input-to-display latency and no logon time" in empty


def test_json_api_and_junit_carry_every_metric(viewer):
    run = data.measured_run("exports", vms=("d1", "d2"), inputs=INPUTS, logons=LOGONS)
    report = json.loads(viewer.get(f"/runs/{run.pk}/report.json").content)
    assert report["latency"]["key"] == {"count": 4, "p50": 0.11, "p95": 0.273, "max": 0.3}
    assert report["logon"]["desktop"] == {"count": 2, "median": 3.0, "p95": 3.9}
    assert report["logon"]["total"]["median"] == 8.75
    d1, d2 = report["targets"]
    assert d1["latency"]["click"]["count"] == 1 and d1["logon"]["total"]["median"] == 10.5
    assert d2["latency"] == {} and d2["logon"]["agent"]["median"] == 2.0
    latencies = [s["metrics"]["latency"] for s in d1["steps"] if s["id"] == "2"]
    assert latencies == [0.08, 0.1, 0.12, 0.3]
    assert [s["metrics"]["max_latency"] for s in d1["steps"] if s["id"] == "2"] == [0.25] * 4

    api = viewer.get(f"/api/runs/{run.pk}/report/")
    assert api.status_code == 200
    assert api.json()["latency"] == report["latency"] and api.json()["logon"] == report["logon"]

    root = ET.fromstring(viewer.get(f"/runs/{run.pk}/junit.xml").content)
    suites = {s.get("name").split("[")[1].rstrip("]"): s for s in root.iter("testsuite")}

    def props(el):
        return {p.get("name"): p.get("value") for p in el.find("properties")}

    one = props(suites["local/d1"])
    assert one["latency.key.p95"] == "0.273" and one["latency.click.max"] == "0.045"
    assert one["logon.desktop.median"] == "4.0" and one["logon.total.count"] == "1"
    assert props(suites["local/d2"])["logon.agent.p95"] == "2.0"
    case = next(c for c in suites["local/d1"].iter("testcase") if c.get("name").startswith("2 [3]"))
    assert props(case)["latency"] == "0.3" and props(case)["max_latency"] == "0.25"
    logon_case = next(c for c in suites["local/d2"].iter("testcase") if "log on" in c.get("name"))
    assert props(logon_case)["logon.desktop"] == "2.0"


def test_atp_run_show_prints_the_latency_summary():
    run = data.measured_run("cli", inputs=INPUTS, logons=LOGONS[:1])
    out = io.StringIO()
    call_command("atp_run", "show", str(run.pk), stdout=out)
    text = out.getvalue()
    assert "input-to-display latency (ms):  action  inputs  p50  p95  max" in text
    assert re.search(r"key\s+4  110  273  300", text), text
    assert re.search(r"click\s+1  45  45  45", text), text
    assert re.search(r"desktop\s+1  4.00  4.00", text), text


def test_per_step_chart_keeps_the_slowest_steps_when_there_are_many(viewer, monkeypatch):
    from runs import presenters

    monkeypatch.setattr(presenters, "CHART_STEP_ROWS", 2)
    inputs = [("2", "key", [0.05], None), ("3", "key", [0.4], None), ("4", "key", [0.2], None)]
    run = data.measured_run("many", inputs=inputs)
    html = viewer.get(f"/runs/{run.pk}/report").content.decode()
    steps = html.split('id="latency-steps-chart"')[1].split("</svg>")[0]
    assert [r["step"] for r in _attrs(steps, "lat-step")] == ["3", "4"]
    assert "2 of 3 input steps drawn: the slowest by p95" in html
    table = html.split('id="latency-summary"')[1].split("</table>")[0]
    assert '<tr data-action="key"><td>key</td><td>3</td>' in table, "the table counts them all"
