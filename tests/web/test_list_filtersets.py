"""One FilterSet per list (django-filter) serves the page, the API and the OpenAPI schema: the
same query picks the same rows on the page and in the API, every filter is an OpenAPI
parameter of the list, and a bad value is a 400 naming it (``{"detail": ...}`` from the one
exception handler) in the API and a visible message on the page, never a 500."""

from __future__ import annotations

import pytest

from hosts.models import Host, VirtualMachine
from scenarios.models import Scenario
from scenarios.services import set_tags
from tests.fixtures.web import make_user
from tests.web import run_pages_data as data

pytestmark = pytest.mark.django_db

# list -> (page, API path, its FilterSet's parameters, a bad query, what the message says)
LISTS = {
    "runs": (
        "/runs/",
        "/api/runs/",
        [
            "scenario",
            "state",
            "result",
            "host",
            "user",
            "build",
            "date",
            "date_from",
            "date_to",
            "q",
        ],
        "state=sleeping",
        "state: 'sleeping' is not one of queued, running, finished",
    ),
    "scenarios": (
        "/scenarios/",
        "/api/scenarios/",
        ["q", "tag", "archived"],
        "archived=maybe",
        "archived: 'maybe' is not one of 1, true, on, yes, 0, false, off, no",
    ),
    "references": (
        "/references/",
        "/api/references/",
        ["q", "tag"],
        "tag=" + "x" * 65,
        "has 65 characters (at most 64)",
    ),
    "capacity": (
        "/capacity/",
        "/api/capacity/",
        ["host"],
        "host=" + "h" * 65,
        "host: 65 characters; at most 64",
    ),
    "vms": (
        "/vms/",
        "/api/vms/",
        ["q", "tag", "host", "name", "source"],
        "source=cloud",
        "source: 'cloud' is not one of libvirt, vdi",
    ),
}


@pytest.fixture
def viewer(client):
    client.force_login(make_user("vera", "viewer"))
    return client


def _page_names(response, key: str) -> set[str]:
    rows = response.context[key]
    rows = getattr(rows, "object_list", rows)
    return {r.name for r in rows}


def _api_names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {r["name"] for r in response.json()["results"]}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_filter_is_an_openapi_parameter_of_its_list(viewer, name):
    _, api, params, _, _ = LISTS[name]
    schema = viewer.get("/api/schema/?format=json").json()
    listed = {p["name"] for p in schema["paths"][api]["get"]["parameters"]}
    assert set(params) <= listed, f"{api}: {sorted(set(params) - listed)} missing"


def test_openapi_types_come_from_the_filterset(viewer):
    paths = viewer.get("/api/schema/?format=json").json()["paths"]
    runs = {p["name"]: p for p in paths["/api/runs/"]["get"]["parameters"]}
    assert runs["date_from"]["schema"] == {"type": "string", "format": "date"}
    assert set(runs["state"]["schema"]["enum"]) == {"queued", "running", "finished"}
    tag = {p["name"]: p for p in paths["/api/scenarios/"]["get"]["parameters"]}["tag"]
    assert tag["schema"] == {"type": "array", "items": {"type": "string"}}
    assert tag["explode"] is True  # ?tag=a&tag=b
    vms = {p["name"]: p for p in paths["/api/vms/"]["get"]["parameters"]}
    assert set(vms["source"]["schema"]["enum"]) == {"libvirt", "vdi"}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_bad_value_is_a_400_in_the_api_and_a_message_on_the_page(viewer, name):
    page, api, _, bad, message = LISTS[name]
    answer = viewer.get(f"{api}?{bad}")
    assert answer.status_code == 400
    assert set(answer.json()) == {"detail"} and message in answer.json()["detail"]
    shown = viewer.get(f"{page}?{bad}")
    assert shown.status_code == 400
    errors = shown.content.decode().split('id="filter-errors"')[1].split("</ul>")[0]
    assert message.replace("'", "&#x27;") in errors and "not applied" in errors


def test_notification_deliveries_filter_by_run_id(viewer):
    schema = viewer.get("/api/schema/?format=json").json()
    params = schema["paths"]["/api/notification-deliveries/"]["get"]["parameters"]
    assert {"name": "run", "type": "integer"} in [
        {"name": p["name"], "type": p["schema"]["type"]} for p in params
    ]
    for bad in ("abc", "-1", "0", "9" * 30):
        answer = viewer.get(f"/api/notification-deliveries/?run={bad}")
        assert answer.status_code == 400
        assert answer.json() == {"detail": f"run: {bad!r} is not a run id"}
    assert viewer.get("/api/notification-deliveries/?run=12").json()["results"] == []


def test_the_api_names_every_bad_value_at_once(viewer):
    answer = viewer.get("/api/runs/?state=sleeping&date=tomorrow&result=nope")
    detail = answer.json()["detail"]
    assert answer.status_code == 400
    assert "state: 'sleeping'" in detail and "result: 'nope'" in detail
    assert "date: 'tomorrow' is not a date (use YYYY-MM-DD)" in detail


def test_a_detail_url_is_not_narrowed_by_the_lists_filters(viewer):
    sc, rev = data.scenario("demo")
    run = data.new_run(sc, rev, make_user("olga", "operator"))
    assert viewer.get(f"/api/runs/{run.pk}/?state=sleeping").status_code == 200
    assert viewer.get("/api/scenarios/demo/?tag=none-has-it").status_code == 200


def test_runs_page_and_api_pick_the_same_runs(viewer):
    operator = make_user("olga", "operator")
    sc, rev = data.scenario("login-smoke")
    other, other_rev = data.scenario("printing")
    a = data.new_run(sc, rev, operator, build="4.2")
    data.play(a)
    b = data.new_run(other, other_rev, operator, targets=(("far", "vm-9"),))
    data.play(b, ("passed", "failed", "passed"))
    today = a.created.date().isoformat()
    for query, expected in [
        ("scenario=printing", {b.pk}),
        (f"scenario={sc.pk}", {a.pk}),
        ("result=failed", {b.pk}),
        ("host=far", {b.pk}),
        ("build=4.2", {a.pk}),
        ("q=login", {a.pk}),
        (f"date={today}&user=olga", {a.pk, b.pk}),
        (f"date_from={today}&date_to={today}", {a.pk, b.pk}),
        ("date_to=2001-01-01", set()),
    ]:
        page = viewer.get(f"/runs/?{query}")
        assert page.status_code == 200
        assert {r.pk for r in page.context["page"].object_list} == expected, query
        api = viewer.get(f"/api/runs/?{query}")
        assert {r["id"] for r in api.json()["results"]} == expected, query


def test_scenarios_page_and_api_pick_the_same_scenarios(viewer):
    for name, tags, archived in [
        ("login-win10", ["win10", "smoke"], False),
        ("notepad", ["win10"], False),
        ("old", ["smoke"], True),
    ]:
        set_tags(Scenario.objects.create(name=name, archived=archived), tags)
    for query, expected in [
        ("tag=win10", {"login-win10", "notepad"}),
        ("tag=win10&tag=smoke", {"login-win10"}),
        ("tag=smoke&archived=1", {"login-win10", "old"}),
        ("q=note", {"notepad"}),
        ("archived=0", {"login-win10", "notepad"}),
    ]:
        assert _page_names(viewer.get(f"/scenarios/?{query}"), "scenarios") == expected, query
        assert _api_names(viewer.get(f"/api/scenarios/?{query}")) == expected, query


def test_vms_page_and_api_pick_the_same_vms(viewer):
    host = Host.objects.create(name="rack1", uri="test:///default")
    other = Host.objects.create(name="rack2", uri="test:///default")
    VirtualMachine.objects.create(host=host, name="win-1", tags=["win10", "prod"])
    VirtualMachine.objects.create(host=host, name="win-2", tags=["win10"])
    VirtualMachine.objects.create(host=other, name="deb-1", tags=["linux"])
    for query, expected in [
        ("tag=win10", {"win-1", "win-2"}),
        ("tag=win10&tag=prod", {"win-1"}),
        ("q=win", {"win-1", "win-2"}),
        ("host=rack2", {"deb-1"}),
        ("name=win-2", {"win-2"}),
        ("source=libvirt&host=rack1", {"win-1", "win-2"}),
    ]:
        assert _page_names(viewer.get(f"/vms/?{query}"), "vms") == expected, query
        assert _api_names(viewer.get(f"/api/vms/?{query}")) == expected, query
    pager = viewer.get("/vms/?tag=win10&tag=prod&host=rack1").context["filter_query"]
    assert pager == "tag=win10&tag=prod&host=rack1"  # the pager's links keep every filter
