"""VDI runs: the endpoint is the one the run asks for, else the one the scenario's vdi_login
names (it used to be the first enabled endpoint whatever the scenario said); the run page and
the report say which; a scenario of VDI steps only runs with no VM at all."""

from __future__ import annotations

import pytest

from atp_core.errors import InvalidInput
from hosts import vdi
from hosts.models import VdiEndpoint
from runs.engine_runner import build_vdi
from runs.models import Run
from runs.services import launch_run
from runs.tasks import execute_run
from scenarios.services import create_scenario
from tests.fixtures.web import make_user
from tests.web.runs_core_data import inventory

pytestmark = pytest.mark.django_db(transaction=True)

VDI_ONLY = """version: 1
name: vdi-only
steps:
  - type: vdi_login
    endpoint: sim
  - type: wait
    duration: 0.1s
"""


@pytest.fixture
def endpoints(vdisim_memory, monkeypatch, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr("runs.services.send_run", lambda run: None)
    # the older, enabled endpoint answers nothing: a run that picks it cannot log in
    vdi.add_endpoint("decoy", "http://127.0.0.1:9", "admin", "x")
    sim = vdi.add_endpoint("sim", vdisim_memory.base_url, "admin", vdisim_memory.password)
    return sim


def test_the_scenario_endpoint_is_used_and_no_vm_is_needed(endpoints, redis_url, client):
    user = make_user("olga", "operator")
    scenario = create_scenario(VDI_ONLY, user)
    run = launch_run(scenario.current_revision, [], {}, user)
    assert run.vdi_endpoint == "sim"
    assert list(run.run_targets.values_list("name", "vm_name", "host")) == [("run", "", None)]
    assert build_vdi(run).url == endpoints.url

    assert execute_run.apply(args=[run.pk]).get() == "passed"
    run.refresh_from_db()
    assert (run.state, run.result) == ("finished", "passed"), run.reason
    finished = run.steps.filter(status="passed").values_list("step_id", flat=True)
    assert sorted(finished) == ["1", "2"]

    client.force_login(user)
    for page in (f"/runs/{run.pk}/", f"/runs/{run.pk}/report"):
        html = client.get(page).content.decode()
        assert 'VDI endpoint <span id="run-vdi-endpoint">sim</span>' in html, page
        assert "no VM (VDI platform only)" in html, page
    api = client.get(f"/api/runs/{run.pk}/").json()
    assert api["vdi_endpoint"] == "sim" and api["targets"] == []


def test_the_run_may_pick_another_endpoint(endpoints, client):
    user = make_user("olga", "operator")
    scenario = create_scenario(VDI_ONLY, user)
    run = launch_run(scenario.current_revision, [], {}, user, vdi_endpoint="decoy")
    assert run.vdi_endpoint == "decoy"
    # the Run form offers the endpoints, names the scenario's, and needs no VM
    client.force_login(user)
    html = client.get("/scenarios/vdi-only/").content.decode()
    assert 'name="vdi_endpoint"' in html and "sim (the scenario's)" in html
    assert 'id="no-vm-needed"' in html
    response = client.post(
        "/scenarios/vdi-only/run",
        {"revision": "1", "vdi_endpoint": "sim"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 200, response.content
    assert Run.objects.get(pk=response.json()["run"]).vdi_endpoint == "sim"


def test_unknown_endpoints_and_vm_less_vm_scenarios_are_refused(endpoints):
    user = make_user("olga", "operator")
    scenario = create_scenario(VDI_ONLY, user)
    with pytest.raises(InvalidInput, match="no VDI endpoint named 'nope'"):
        launch_run(scenario.current_revision, [], {}, user, vdi_endpoint="nope")
    VdiEndpoint.objects.filter(name="sim").delete()
    with pytest.raises(InvalidInput, match="vdi_login: no VDI endpoint named 'sim'"):
        launch_run(scenario.current_revision, [], {}, user)
    needs_vm = create_scenario("version: 1\nname: needs-vm\nsteps:\n  - type: guest_ping\n", user)
    with pytest.raises(InvalidInput, match="no targets"):
        launch_run(needs_vm.current_revision, [], {}, user)
    inventory()
    run = launch_run(needs_vm.current_revision, [{"vm": "demo-1", "host": "local"}], {}, user)
    assert run.vdi_endpoint == "" and run.run_targets.count() == 1
