"""Every download of a run's report is the same report: the page's report.json/junit.xml and
the API's report/?format=json|junit are built by one builder (runs.reports) from the stored
rows and written by the engine's writers; a cancelled step is skipped in JUnit, never an error,
and a loop's iterations are testcases labelled as on the page."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from rest_framework.authtoken.models import Token

from runs.models import StepResult
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db


def test_page_and_api_serve_the_same_report(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    token = Token.objects.create(user=user)
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev, user)
    data.play(run, ("passed", "failed", "passed"))
    # the third step as if the run had been cancelled while it ran
    StepResult.objects.filter(run=run, step_id="3").update(status="cancelled", error="stop")

    page_json = json.loads(client.get(f"/runs/{run.pk}/report.json").content)
    api = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    api_json = client.get(f"/api/runs/{run.pk}/report/", **api).json()
    assert page_json == api_json
    assert page_json["run_id"] == run.pk and page_json["scenario"] == "demo"
    steps = page_json["targets"][0]["steps"]
    assert [(s["id"], s["status"]) for s in steps] == [
        ("1", "passed"),
        ("2", "failed"),
        ("3", "cancelled"),
    ]

    page_xml = client.get(f"/runs/{run.pk}/junit.xml").content.decode()
    api_xml = client.get(f"/api/runs/{run.pk}/report/?format=junit", **api).content.decode()
    assert page_xml == api_xml
    root = ET.fromstring(page_xml)
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "demo [local/demo-1]"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    assert suite.get("skipped") == "1"
    cases = suite.findall("testcase")
    assert cases[1].find("failure") is not None
    assert cases[2].find("skipped").get("message") == "stop" and cases[2].find("error") is None


def test_loop_iterations_are_testcases_labelled_as_on_the_page(client):
    user = make_user("olga", "operator")
    client.force_login(user)
    sc, rev = data.scenario("loop")
    run = data.new_run(sc, rev, user)
    data.play_loop(run, iterations=2)
    root = ET.fromstring(client.get(f"/runs/{run.pk}/junit.xml").content)
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == ["1 repeat", "1.1 [0] echo 0", "1.1 [1] echo 1", "F1 cleanup"]
    report = json.loads(client.get(f"/runs/{run.pk}/report.json").content)
    iterations = [
        s["iteration"] for s in report["targets"][0]["steps"] if s["iteration"] is not None
    ]
    assert iterations == [0, 1]
