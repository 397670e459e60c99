"""Validate warns, with line and column, on VM, host, reference-image and VDI-endpoint names
this installation does not know (they used to pass and fail only at run time); a warning
never blocks saving, and names built from ${variables} are left to run time."""

from __future__ import annotations

import pytest

from hosts.models import Host, VdiEndpoint, VirtualMachine
from scenarios.models import ReferenceImage, Scenario
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db

TEXT = """version: 1
name: names
targets:
  - {vm: atp-demo-9, host: local}
  - {vm: atp-demo-1, host: nowhere}
steps:
  - type: vdi_login
    endpoint: no-such-vdi
  - type: verify_screen
    reference: does-not-exist
  - type: loop
    count: 2
    steps:
      - type: wait_until
        check:
          type: verify_screen
          reference: login-screen
  - type: send_key
    key: ret
    target: atp-demo-7
  - type: verify_screen
    reference: ${ref}
"""


@pytest.fixture
def known():
    host = Host.objects.create(name="local", uri="test:///default")
    VirtualMachine.objects.create(host=host, name="atp-demo-1")
    VirtualMachine.objects.create(host=host, name="atp-demo-2")
    VdiEndpoint.objects.create(name="demo-vdisim", url="http://127.0.0.1:9", username="a")
    ReferenceImage.objects.create(name="login-screen", width=10, height=10, areas=[])


def _where(warnings):
    return {(w["line"], w["column"], w["path"]) for w in warnings}


def test_unknown_names_are_warnings_with_line_and_column(client, known):
    client.force_login(make_user("vera", "viewer"))
    body = client.post("/scenarios/validate", {"content": TEXT}).json()
    assert body["ok"] is True and body["issues"] == []
    warnings = body["warnings"]
    assert _where(warnings) == {
        (4, 10, "targets[0].vm"),
        (5, 28, "targets[1].host"),
        (8, 15, "steps[0].endpoint"),
        (10, 16, "steps[1].reference"),
        (20, 13, "steps[3].target"),
    }, warnings
    by_path = {w["path"]: w for w in warnings}
    vm = by_path["targets[0].vm"]
    assert vm["severity"] == "warning"
    assert "no VM named 'atp-demo-9'" in vm["message"] and "did you mean" in vm["message"]
    assert vm["allowed"] == ["atp-demo-1", "atp-demo-2"]
    assert "no reference image named 'does-not-exist'" in by_path["steps[1].reference"]["message"]
    assert "no VDI endpoint named 'no-such-vdi'" in by_path["steps[0].endpoint"]["message"]
    assert "no host named 'nowhere'" in by_path["targets[1].host"]["message"]
    # the API's validate answers the same
    api = client.post(
        "/api/scenarios/validate/", {"content": TEXT}, content_type="application/json"
    ).json()
    assert api["warnings"] == warnings


def test_known_names_and_variables_give_no_warning(client, known):
    client.force_login(make_user("vera", "viewer"))
    text = """version: 1
name: fine
targets: [{vm: atp-demo-1, host: local}]
variables: {which: atp-demo-9}
steps:
  - type: verify_screen
    reference: login-screen
  - type: vdi_login
    endpoint: demo-vdisim
  - type: send_key
    key: ret
    target: ${which}
"""
    body = client.post("/scenarios/validate", {"content": text}).json()
    assert body == {"ok": True, "issues": [], "warnings": []}, body


def test_a_warning_does_not_block_saving(client, known):
    client.force_login(make_user("olga", "operator"))
    saved = client.post("/scenarios/new", {"content": TEXT}, HTTP_X_REQUESTED_WITH="fetch")
    assert saved.status_code == 200 and saved.json()["ok"] is True, saved.content
    assert Scenario.objects.get(name="names").current_revision.number == 1
