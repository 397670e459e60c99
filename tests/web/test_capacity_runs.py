"""Capacity runs in the web (issue 14 §3/§5): a stored run's page draws the latency-vs-desks
curve (own SVG, numbers in data-* attributes) and the table of steps, with its verdict and stop
reason; the list and the host page link to it; the API carries its JSON; an operator launches one
from the page, the API or ``manage.py atp_capacity`` (its task lands on the host's queue), bad
input gets a clear error everywhere, and the lifecycle writes a run's end once."""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
import redis
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from hosts.models import Host, VirtualMachine
from runs import capacity_lifecycle, capacity_runner
from runs.models import CapacityRun
from tests.fixtures.web import make_user
from tests.web.capacity_data import STEPS, finished_run

pytestmark = pytest.mark.django_db

QUEUE = "host.capweb"


@pytest.fixture
def broker(redis_url):
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(QUEUE)
    yield client
    client.delete(QUEUE)


@pytest.fixture
def host():
    host = Host.objects.create(name="capweb", uri="qemu:///system")
    VirtualMachine.objects.create(host=host, name="desk-template")
    return host


def _queued(client) -> list[tuple[str, list]]:
    out = []
    for raw in client.lrange(QUEUE, 0, -1):
        message = json.loads(raw)
        args, _kw, _embed = json.loads(base64.b64decode(message["body"]))
        out.append((message["headers"]["task"], args))
    return out


def test_page_draws_the_curve_and_the_table(client, host):
    run = finished_run(host)
    client.force_login(make_user("vic", "viewer"))
    html = client.get(f"/capacity/{run.pk}/").content.decode()
    assert "capacity: 2 desks on host capweb" in html
    assert "Stopped: p95 90 ms at 3 desks is more than 15% above the baseline 60 ms" in html
    svg = html.split('id="capacity-curve-chart"')[1].split("</svg>")[0]
    points = [
        dict(re.findall(r'data-(\w+)="([^"]*)"', m))
        for m in re.findall(r'<circle class="curve-point[^"]*"([^>]*)>', svg)
    ]
    assert points == [
        {"desks": "1", "inputs": "6", "p50": "50", "p95": "60", "ratio": "1.00"},
        {"desks": "2", "inputs": "12", "p50": "52", "p95": "66", "ratio": "1.10"},
        {"desks": "3", "inputs": "18", "p50": "70", "p95": "90", "ratio": "1.50"},
    ]
    assert svg.count('class="curve-point over"') == 1, "only the step past the stop line"
    assert 'class="stop-line" data-ms="69"' in svg, "60 ms + 15 %"
    assert 'class="capacity-line" data-desks="2"' in svg
    assert "<title>3 desks: p50 70 ms, p95 90 ms (1.50 x baseline), 18 inputs</title>" in svg
    table = html.split('id="capacity-steps-table"')[1].split("</table>")[0]
    rows = re.findall(r'<tr data-desks="(\d)"( class="over")?>', table)
    assert rows == [("1", ""), ("2", ""), ("3", ' class="over"')]
    assert "<td>18</td>" in table and "1.50" in table
    assert "https://" not in svg and "<script" not in html.split("<main>")[1].split("</main>")[0]


def test_list_host_page_and_trends_lead_to_it(client, host):
    run = finished_run(host)
    other = Host.objects.create(name="elsewhere", uri="qemu:///system")
    CapacityRun.objects.create(
        host=other, host_name="elsewhere", host_uri=other.uri, template="t", max_desks=2, keys=2
    )
    client.force_login(make_user("vic", "viewer"))
    hosts = client.get("/hosts/").content.decode()
    assert 'class="button secondary capacity-link" href="/capacity/?host=capweb"' in hosts
    assert 'id="capacity-link"' in client.get("/runs/trends").content.decode()
    page = client.get("/capacity/?host=capweb").content.decode()
    rows = re.findall(r'<tr data-capacity="(\d+)">', page)
    assert rows == [str(run.pk)], "only capweb's runs"
    assert f'href="/capacity/{run.pk}/"' in page and "capacity: 2 desks on host capweb" in page
    assert 'id="capacity-launch"' not in page, "a viewer gets no launch form"
    everyone = client.get("/capacity/").content.decode()
    assert len(re.findall(r'<tr data-capacity="', everyone)) == 2


def test_api_carries_the_json(client, host):
    run = finished_run(host)
    client.force_login(make_user("vic", "viewer"))
    data = client.get(f"/api/capacity/{run.pk}/").json()
    assert data["verdict"].startswith("capacity: 2 desks on host capweb")
    assert (data["state"], data["result"], data["capacity"], data["at_least"]) == (
        "finished",
        "passed",
        2,
        False,
    )
    assert data["steps"] == STEPS and data["baseline_p95"] == 0.06
    assert data["stop_line"] == 0.069 and data["url"] == f"/capacity/{run.pk}/"
    assert data["reason"].startswith("p95 90 ms at 3 desks")
    listed = client.get("/api/capacity/?host=capweb").json()
    assert [r["id"] for r in listed["results"]] == [run.pk]
    assert client.post("/api/capacity/", {}, content_type="application/json").status_code == 403
    out = io.StringIO()
    call_command("atp_capacity", "show", str(run.pk), stdout=out)
    text = out.getvalue()
    assert (
        "capacity: 2 desks on host capweb" in text
        and "    3      18       70       90   1.50" in text
    )


def test_operator_launches_from_page_api_and_command(
    client, host, broker, django_capture_on_commit_callbacks
):
    olga = make_user("olga", "operator")
    client.force_login(olga)
    form = client.get("/capacity/").content.decode()
    assert 'data-host="capweb" data-vm="desk-template"' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/capacity/launch",
            {"host": "capweb", "template": "desk-template", "max_desks": "2", "keys": "4"},
        )
    run = CapacityRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/capacity/{run.pk}/"
    assert (run.state, run.max_desks, run.keys, run.threshold, run.launched_by) == (
        "queued",
        2,
        4,
        0.15,
        olga,
    )
    assert _queued(broker) == [("runs.execute_capacity", [run.pk])]
    queued_page = client.get(f"/capacity/{run.pk}/").content.decode()
    assert 'http-equiv="refresh"' in queued_page and 'id="capacity-curve-empty"' in queued_page

    with django_capture_on_commit_callbacks(execute=True):
        api = client.post(
            "/api/capacity/",
            {"host": "capweb", "template": "desk-template", "max_desks": 3, "keys": 5},
            content_type="application/json",
        )
    assert api.status_code == 201 and api.json()["state"] == "queued"
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "atp_capacity", "launch", "--host", "capweb", "--template", "desk-template",
            "--max-desks", "1", "--keys", "2", "--threshold", "20%", stdout=out,
        )  # fmt: skip
    assert re.match(r"capacity run \d+ queued on host.capweb", out.getvalue())
    assert CapacityRun.objects.order_by("-pk").first().threshold == 0.2
    assert [t for t, _ in _queued(broker)] == ["runs.execute_capacity"] * 3

    cancelled = client.post(f"/capacity/{run.pk}/cancel")
    run.refresh_from_db()
    assert cancelled.status_code == 302 and (run.state, run.result) == ("finished", "cancelled")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_desks": "0"}, "max_desks: 0 is out of range (1-12)"),
        ({"max_desks": "many"}, "max_desks: 'many' is not a whole number (1-12)"),
        ({"keys": "41"}, "keys: 41 is out of range (1-40)"),
        ({"threshold": "2"}, "threshold: '2' is out of range"),
        ({"host": "nope"}, "host: no host named 'nope' (known: capweb)"),
        ({"template": "ghost"}, "template: no VM 'ghost' on host capweb"),
    ],
)
def test_bad_input_is_refused_clearly(client, host, fields, message):
    client.force_login(make_user("olga", "operator"))
    data = {"host": "capweb", "template": "desk-template", "max_desks": "2", "keys": "4", **fields}
    page = client.post("/capacity/launch", data, follow=True)
    assert page.status_code == 200 and message in page.content.decode().replace("&#x27;", "'")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command(
            "atp_capacity", "launch", "--host", data["host"], "--template", data["template"],
            "--max-desks", data["max_desks"], "--keys", data["keys"],
            "--threshold", data.get("threshold", "0.15"),
        )  # fmt: skip
    assert not CapacityRun.objects.exists()


def test_api_refuses_out_of_range_and_wrong_types(client, host):
    client.force_login(make_user("olga", "operator"))
    base = {"host": "capweb", "template": "desk-template", "max_desks": 2, "keys": 4}
    for field, value in (("max_desks", 13), ("keys", 0), ("threshold", True), ("host", 5)):
        response = client.post(
            "/api/capacity/", {**base, field: value}, content_type="application/json"
        )
        assert response.status_code == 400 and field in response.json(), (field, response.json())
    response = client.post(
        "/api/capacity/", {**base, "template": "ghost"}, content_type="application/json"
    )
    assert response.status_code == 400 and "no VM 'ghost'" in json.dumps(response.json())
    assert not CapacityRun.objects.exists()


def test_lifecycle_ends_a_run_once_and_the_runner_reports_a_missing_template(host):
    run = finished_run(host)
    assert not capacity_lifecycle.finish(run.pk, "error", "late worker")
    assert not capacity_lifecycle.record_step(run.pk, STEPS[0])
    assert not capacity_lifecycle.claim(run.pk)
    run.refresh_from_db()
    assert (run.result, len(run.steps), run.finished <= timezone.now()) == ("passed", 3, True)

    missing = CapacityRun.objects.create(
        host=host, host_name="capweb", host_uri="qemu:///system", template="atp-h-no-such-vm",
        max_desks=1, keys=1,
    )  # fmt: skip
    assert capacity_runner.execute(missing.pk, worker="w") == "error"
    missing.refresh_from_db()
    assert (missing.state, missing.result, missing.capacity) == ("finished", "error", None)
    assert missing.reason.startswith("template atp-h-no-such-vm: not found on qemu:///system")
    assert capacity_runner.execute(missing.pk) == "stale", "a finished run is not run again"
