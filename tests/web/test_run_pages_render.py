"""The run pages render what the stored events say: dashboard, list, live view, report,
downloads, compare and trends."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from runs.models import Run
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def viewer_client(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    client.user = user
    return client


def test_dashboard_shows_running_recent_trend_and_hosts(viewer_client):
    sc, rev = data.scenario("demo")
    done = data.new_run(sc, rev, viewer_client.user)
    data.play(done, ("passed", "failed", "passed"))
    running = data.new_run(sc, rev, viewer_client.user)
    data.play(running, upto="step2")

    response = viewer_client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    running_box = html.split('id="running-now"')[1].split("</section>")[0]
    assert f'href="/runs/{running.pk}/"' in running_box
    assert "1/3" in running_box  # one of three steps done
    recent_box = html.split('id="recent-runs"')[1].split("</section>")[0]
    assert f'href="/runs/{done.pk}/"' in recent_box and "failed" in recent_box
    trend_box = html.split('id="pass-trend"')[1].split("</section>")[0]
    assert "<svg" in trend_box and "0/1 runs passed" in trend_box
    assert "local" in html.split('id="hosts-health"')[1]


def test_run_list_filters_and_paginates(viewer_client):
    sc, rev = data.scenario("demo")
    other_sc, other_rev = data.scenario("other")
    operator = make_user("olga", "operator")
    passed = data.new_run(sc, rev, viewer_client.user)
    data.play(passed)
    failed = data.new_run(other_sc, other_rev, operator, targets=(("far", "vm-9"),))
    data.play(failed, ("passed", "failed", "passed"))

    def ids(query):
        response = viewer_client.get(f"/runs/{query}")
        assert response.status_code == 200
        return {r.pk for r in response.context["page"].object_list}

    assert ids("") == {passed.pk, failed.pk}
    assert ids("?scenario=other") == {failed.pk}
    assert ids("?result=passed") == {passed.pk}
    assert ids("?state=finished&result=failed") == {failed.pk}
    assert ids("?host=far") == {failed.pk}
    assert ids("?user=olga") == {failed.pk}
    today = passed.created.date().isoformat()
    assert ids(f"?date={today}") == {passed.pk, failed.pk}
    assert ids("?date_to=2001-01-01") == set()
    bad = viewer_client.get("/runs/?result=nope")
    assert "result: &#x27;nope&#x27; is not one of" in bad.content.decode()

    data.bulk_runs(120, sc, rev, viewer_client.user)
    page2 = viewer_client.get("/runs/?scenario=demo&page=2")
    assert page2.context["page"].number == 2
    assert len(page2.context["page"].object_list) == 50
    assert "?scenario=demo&amp;page=3" in page2.content.decode()


def test_live_view_renders_state_and_last_seq(viewer_client):
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev, viewer_client.user)
    data.play(run, upto="step2")
    run.refresh_from_db()

    response = viewer_client.get(f"/runs/{run.pk}/")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "runs/live.html"
    html = response.content.decode()
    assert f'data-last-seq="{run.last_seq}"' in html
    # every planned step, once, with its current status
    for step_id, status in (("1", "passed"), ("2", "running"), ("3", "pending")):
        assert html.count(f'data-step="{step_id}" data-iter="-1"') == 1
        row = html.split(f'data-step="{step_id}" data-iter="-1" data-status="')[1]
        assert row.startswith(status)
    assert "agent answered" in html and "typed 5 chars" in html
    assert f"/runs/{run.pk}/targets/" in html and "screen.png" in html
    # a viewer sees no cancel button
    assert "cancel-form" not in html


def test_report_has_steps_screenshots_downloads_and_neighbours(client):
    operator = make_user("olga", "operator")
    client.force_login(operator)
    sc, rev = data.scenario("demo")
    first = data.new_run(sc, rev, operator)
    data.play(first)
    second = data.new_run(sc, rev, operator)
    data.play(second, ("passed", "failed", "passed"))

    response = client.get(f"/runs/{second.pk}/")
    assert [t.name for t in response.templates][0] == "runs/report.html"
    html = response.content.decode()
    assert "text not seen" in html
    art = second.artifacts.get()
    assert f"/runs/{second.pk}/artifacts/{art.pk}" in html
    assert "use as reference" in html  # operators get the reference shortcut
    assert 'id="prev-run"' in html and f"/runs/{first.pk}/" in html
    assert f"/runs/compare?a={first.pk}&amp;b={second.pk}" in html
    assert f'action="/runs/{second.pk}/rerun"' in html

    image = client.get(f"/runs/{second.pk}/artifacts/{art.pk}")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
    found = client.get(f"/runs/{second.pk}/artifacts/find?target=local/demo-1&step=3&name=desk.png")
    assert found.status_code == 200
    assert client.get(f"/runs/{first.pk}/artifacts/{art.pk}").status_code == 404

    report = json.loads(client.get(f"/runs/{second.pk}/report.json").content)
    assert report["result"] == "failed"
    steps = report["targets"][0]["steps"]
    assert [(s["id"], s["status"]) for s in steps] == [
        ("1", "passed"),
        ("2", "failed"),
        ("3", "passed"),
    ]
    assert steps[2]["artifacts"][0]["url"] == f"/runs/{second.pk}/artifacts/{art.pk}"

    junit = client.get(f"/runs/{second.pk}/junit.xml")
    root = ET.fromstring(junit.content)
    suite = root.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None and "text not seen" in failure.get("message")

    # first run's report links forward
    assert f"/runs/{second.pk}/" in client.get(f"/runs/{first.pk}/report").content.decode()


def test_compare_highlights_status_changes(viewer_client):
    sc, rev = data.scenario("demo")
    a = data.new_run(sc, rev, viewer_client.user)
    data.play(a, ("passed", "failed", "passed"))
    b = data.new_run(sc, rev, viewer_client.user)
    data.play(b, ("passed", "passed", "failed"))

    response = viewer_client.get(f"/runs/compare?a={a.pk}&b={b.pk}")
    assert response.status_code == 200
    changes = {r["step_id"]: r["change"] for r in response.context["rows"]}
    assert changes == {"1": "same", "2": "fixed", "3": "broke"}
    html = response.content.decode()
    assert 'class="change-broke" data-change="broke" data-step="3"' in html
    assert viewer_client.get("/runs/compare?a=x&b=1").status_code == 400
    assert viewer_client.get(f"/runs/compare?a={a.pk}&b=999999").status_code == 404


def test_trends_pass_rate_and_flaky_steps(viewer_client):
    sc, rev = data.scenario("demo")
    for statuses in (("passed",) * 3, ("passed", "failed", "passed"), ("passed",) * 3):
        run = data.new_run(sc, rev, viewer_client.user)
        data.play(run, statuses)
    response = viewer_client.get("/runs/trends?days=7&runs=10")
    assert response.status_code == 200
    per_scenario = response.context["per_scenario"]
    assert per_scenario[0]["name"] == "demo"
    assert (per_scenario[0]["passed"], per_scenario[0]["total"]) == (2, 3)
    per_host = response.context["per_host"]
    assert per_host[0]["name"] == "local" and per_host[0]["total"] == 3
    flaky = response.context["flaky"]
    assert [(f["step_id"], f["passed"], f["failed"]) for f in flaky] == [("2", 2, 1)]
    assert "type hello" in response.content.decode()


def test_polling_endpoint_resumes_after_seq(viewer_client):
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev, viewer_client.user)
    data.play(run, upto="started")
    body = viewer_client.get(f"/runs/{run.pk}/events?after=2").json()
    last = Run.objects.get(pk=run.pk).last_seq
    assert [e["seq"] for e in body["events"]] == list(range(3, last + 1))
    assert body["state"] == "running"
    assert viewer_client.get(f"/runs/{run.pk}/events?after=x").status_code == 400


def test_loop_iterations_get_their_own_rows_and_logs(viewer_client):
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev, viewer_client.user)
    data.play_loop(run, iterations=3)

    html = viewer_client.get(f"/runs/{run.pk}/").content.decode()
    # the planned row is replaced by the iteration rows: no empty "(loop)" template row
    assert 'data-step="1.1" data-iter="-1"' not in html
    assert "${loop.index}" not in html
    for i in range(3):
        assert html.count(f'data-step="1.1" data-iter="{i}"') == 1
        row = html.split(f'data-step="1.1" data-iter="{i}"')[1].split("</li>")[0]
        # one numbering: the label's number is ${loop.index} (0-based); the name is rendered
        assert f'<span class="sid">1.1 [{i}]</span> <span class="sname">echo {i}</span>' in row
        assert f"round {i}" in row and f"out {i}" in row
        assert [f"round {j}" in row for j in range(3) if j != i] == [False, False]
    finally_row = html.split('data-step="F1" data-iter="-1" data-status="')[1]
    assert finally_row.startswith("running")
