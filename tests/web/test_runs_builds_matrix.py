"""Builds and groups: a run carries the build label it was launched with (the Run form, the API,
``atp_run launch --build``, a schedule with ``{date}``, a re-run); a bad label is refused saying
why; the runs list filters by build; the matrix page shows scenarios × builds (or × hosts) with
each cell's newest result linking to the run and the count linking to the list, in a fixed
number of queries; it is in the navigation."""

from __future__ import annotations

import datetime as dt
import html as html_text
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from atp_core.errors import InvalidInput
from runs.models import Run, RunTarget
from runs.presenters import page_matrix
from runs.selectors import recent_builds, run_list
from runs.services import clean_build, launch_run, rerun
from schedules.models import Schedule
from schedules.services import launch_schedule
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data
from tests.web.runs_core_data import inventory, revision

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr("runs.services.send_run", calls.append)
    return calls


def test_every_launch_path_labels_the_run_with_its_build(
    client, sent, django_capture_on_commit_callbacks
):
    inventory()
    rev = revision()
    olga = make_user("olga", "operator")
    client.force_login(olga)
    target = {"vm": "demo-1", "host": "local"}

    from hosts.models import VirtualMachine

    vm_id = VirtualMachine.objects.get(name="demo-1").pk
    response = client.post("/scenarios/demo/run", {"vm": [vm_id], "build": "  4.2.0-rc1  "})
    assert response.status_code == 302
    by_form = Run.objects.latest("id")
    assert by_form.build == "4.2.0-rc1"
    assert by_form.events.get(type="queued").payload["build"] == "4.2.0-rc1"

    token = Token.objects.create(user=olga)
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    response = client.post(
        "/api/runs/",
        {"scenario": "demo", "targets": [target], "build": "ci-1187"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 201, response.content
    assert response.json()["build"] == "ci-1187"
    assert Run.objects.get(pk=response.json()["id"]).build == "ci-1187"
    listed = client.get("/api/runs/", {"build": "ci-1187"}, **auth).json()
    assert [r["id"] for r in listed["results"]] == [response.json()["id"]]

    out = StringIO()
    args = ["launch", "demo", "--vm", "demo-1", "--host", "local", "--build", "4.3"]
    call_command("atp_run", *args, stdout=out)
    by_cli = Run.objects.latest("id")
    assert by_cli.build == "4.3" and out.getvalue().strip().endswith("(build 4.3)")
    out = StringIO()
    call_command("atp_run", "show", str(by_cli.pk), stdout=out)
    assert "  build 4.3" in out.getvalue()

    schedule = Schedule.objects.create(
        name="nightly", scenario=rev.scenario, targets=[target], build="nightly-{date}"
    )
    by_schedule = launch_schedule(schedule, manual=True)
    today = timezone.now().astimezone(dt.UTC).date().isoformat()
    assert by_schedule.build == f"nightly-{today}" and by_schedule.schedule_name == "nightly"

    again = rerun(by_cli, olga)
    assert again.build == "4.3" and again.rerun_of == by_cli
    assert launch_run(rev, [target], {}, olga).build == ""


@pytest.mark.parametrize(
    "value, message",
    [
        ("x" * 121, "build: 121 characters; at most 120"),
        ("4.2\nrc1", "control character '\\\\n' at position 4"),
    ],
)
def test_a_bad_build_label_is_refused_saying_why(value, message):
    with pytest.raises(InvalidInput, match=message):
        clean_build(value)


def test_bad_build_labels_on_the_form_the_api_and_a_schedule(client, sent):
    inventory()
    revision()
    olga = make_user("olga", "operator")
    client.force_login(olga)
    response = client.post("/scenarios/demo/run", {"build": "a\tb"}, follow=True)
    assert "Not launched: build: " in response.content.decode()
    token = Token.objects.create(user=olga)
    response = client.post(
        "/api/runs/",
        {"scenario": "demo", "targets": [{"vm": "demo-1"}], "build": "b" * 121},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 400 and "build" in response.json()
    response = client.post(
        "/api/schedules/",
        {
            "name": "weekly",
            "scenario": "demo",
            "kind": "interval",
            "every_seconds": 3600,
            "build": "w-{week}",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 400
    assert "the only placeholder is {date}" in response.json()["build"][0]
    assert not Run.objects.exists() and not Schedule.objects.exists()


def _runs_of_builds(user):
    """login: passed on 4.1, failed then passed on 4.2; desktop: failed on 4.2 on two hosts."""
    login, login_rev = data.scenario("login", user)
    desk, desk_rev = data.scenario("desktop", user)
    made = {}
    for key, (sc, rev, build, statuses, targets) in {
        "login-4.1": (login, login_rev, "4.1", ("passed",) * 3, (("local", "demo-1"),)),
        "login-4.2a": (login, login_rev, "4.2", ("passed", "failed", "passed"), None),
        "login-4.2b": (login, login_rev, "4.2", ("passed",) * 3, None),
        "desk-4.2": (
            desk,
            desk_rev,
            "4.2",
            ("passed", "failed", "passed"),
            (("local", "demo-1"), ("rack2", "win-1")),
        ),
    }.items():
        run = data.new_run(sc, rev, user, build=build, targets=targets or (("local", "demo-1"),))
        data.play(run, statuses=statuses)
        made[key] = run
    # the second target of the desktop run passed on its own host
    RunTarget.objects.filter(run=made["desk-4.2"], name="rack2/win-1").update(
        state="finished", result="passed", finished=timezone.now()
    )
    return made


def test_matrix_of_scenarios_by_builds_and_by_hosts(client):
    user = make_user("vera", "viewer")
    made = _runs_of_builds(user)
    data.play(data.new_run(*data.scenario("unlabelled", user), user))  # no build: not a column
    assert recent_builds() == ["4.2", "4.1"]

    matrix = page_matrix()
    assert matrix["columns"] == ["4.2", "4.1"]
    assert [r["scenario"] for r in matrix["rows"]] == ["desktop", "login"]
    login = matrix["rows"][1]["cells"]
    assert login["4.2"]["last"] == made["login-4.2b"] and login["4.2"]["total"] == 2
    assert (login["4.2"]["passed"], login["4.2"]["failed"]) == (1, 1)
    assert login["4.1"]["last"].result == "passed" and "4.1" not in matrix["rows"][0]["cells"]

    client.force_login(user)
    html = client.get("/runs/matrix").content.decode()
    assert '<a href="/runs/matrix">Matrix</a>' in html, "the navigation links the matrix"
    row = html[html.index('data-scenario="login"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/runs/{made["login-4.2b"].pk}/"' in row
    assert "?scenario=login&amp;build=4.2" in row and "2 runs: 1 passed, 1 failed" in row
    desk_row = html[html.index('data-scenario="desktop"') :]
    desk_row = desk_row[: desk_row.index("</tr>")]
    assert re.search(r'data-column="4.1">\s*<span class="hint" title="no run">—', desk_row)

    by_host = page_matrix(by="host", build="4.2")
    assert by_host["columns"] == ["local", "rack2"]
    desk = next(r for r in by_host["rows"] if r["scenario"] == "desktop")["cells"]
    assert desk["local"]["last"].result == "failed" and desk["rack2"]["last"].result == "passed"
    html = client.get("/runs/matrix", {"by": "host", "build": "4.2"}).content.decode()
    assert "?scenario=desktop&amp;host=rack2&amp;build=4.2" in html
    assert "<option selected>4.2</option>" in html
    # without a build: the last 30 days of every build (and none)
    assert "unlabelled" in [r["scenario"] for r in page_matrix(by="host")["rows"]]

    assert [r.pk for r in run_list({"build": "4.2", "scenario": "login"})] == [
        made["login-4.2b"].pk,
        made["login-4.2a"].pk,
    ]
    listed = client.get("/runs/", {"build": "4.1"}).content.decode()
    assert f'data-run="{made["login-4.1"].pk}"' in listed
    assert f'data-run="{made["login-4.2a"].pk}"' not in listed
    report = client.get(f"/runs/{made['login-4.1'].pk}/").content.decode()
    assert '<a id="run-build" href="/runs/?build=4.1">4.1</a>' in report


def test_matrix_empty_and_bad_switch(client):
    client.force_login(make_user("vera", "viewer"))
    html = client.get("/runs/matrix").content.decode()
    assert "No run carries a build label yet" in html
    response = client.get("/runs/matrix", {"by": "weather"})
    assert response.status_code == 400
    assert "by: 'weather' is not one of build, host; showing scenarios × builds" in (
        html_text.unescape(response.content.decode())
    )


def test_matrix_query_count_does_not_grow_with_runs(client):
    user = make_user("vera", "viewer")
    client.force_login(user)
    _runs_of_builds(user)

    def count(path):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return len(ctx.captured_queries)

    paths = ["/runs/matrix", "/runs/matrix?by=host", "/runs/matrix?by=host&build=4.2"]
    small = [count(p) for p in paths]
    sc, rev = data.scenario("bulk", user)
    data.bulk_runs(300, sc, rev, user)
    Run.objects.filter(scenario=sc).update(build="4.2")
    for n in range(20):
        Run.objects.filter(pk=data.new_run(sc, rev, user).pk).update(build=f"b{n}")
    assert [count(p) for p in paths] == small
    assert len(page_matrix()["columns"]) == 12, "the 12 newest builds"


def test_cli_refuses_a_bad_build(sent):
    inventory()
    revision()
    with pytest.raises(CommandError, match="build: 121 characters"):
        call_command("atp_run", "launch", "demo", "--vm", "demo-1", "--build", "z" * 121)


def test_the_schedule_form_takes_a_build_and_refuses_a_bad_one(client, sent):
    inventory()
    rev = revision()
    client.force_login(make_user("olga", "operator"))
    form = {
        "name": "nightly",
        "scenario": rev.scenario.pk,
        "targets_text": "local/demo-1",
        "kind": "interval",
        "every": "1d",
        "enabled": "on",
    }
    response = client.post("/schedules/add", {**form, "build": "n-{hour}"})
    assert response.status_code == 200
    assert "the only placeholder is {date}" in html_text.unescape(response.content.decode())
    assert not Schedule.objects.exists()
    response = client.post("/schedules/add", {**form, "build": " nightly-{date} "})
    assert response.status_code == 302, response.content.decode()[:500]
    schedule = Schedule.objects.get(name="nightly")
    assert schedule.build == "nightly-{date}"
    listed = client.get("/schedules/").content.decode()
    assert '<span class="hint schedule-build">build nightly-{date}</span>' in listed
