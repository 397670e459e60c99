"""The capacity form offers the VMs a capacity run can copy first and preselects one: a synced
desktop guest (SPICE display, read-only disks) before the VMs not checked yet; a VM the last sync
found unfit (a VNC text guest, a writable disk) is listed greyed out with the reason, and a launch
of it, from the page or the API, is refused with the reason and what to choose instead."""

from __future__ import annotations

import re

import pytest
from rest_framework.authtoken.models import Token

from hosts.models import Host, VirtualMachine
from runs.models import CapacityRun
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client, monkeypatch):
    monkeypatch.setattr("runs.capacity_services.send_capacity", lambda run: None)
    host = Host.objects.create(name="captpl", uri="qemu:///system")
    rows = [  # as the sync stores them; (a name sorting before the desktop) first
        ("atp-demo-1", "vnc", True),
        ("atp-demo-2", "", None),  # not synced since the display was recorded
        ("atp-demo-desktop", "spice", True),
        ("atp-demo-rw", "spice", False),
    ]
    for name, display, read_only in rows:
        VirtualMachine.objects.create(
            host=host, name=name, display=display, disks_read_only=read_only
        )
    client.force_login(make_user("olga", "operator"))
    return client


def _options(html: str) -> list[str]:
    select = html.split('id="capacity-template"', 1)[1].split("</select>", 1)[0]
    return re.findall(r"<option([^>]*)>([^<]*)</option>", select)


def test_the_desktop_guest_comes_first_and_is_chosen(operator):
    html = operator.get("/capacity/").content.decode()
    options = _options(html)
    labels = [label for _attrs, label in options]
    assert labels == [
        "captpl / atp-demo-desktop",
        "captpl / atp-demo-2",
        "captpl / atp-demo-1 (VNC display)",
        "captpl / atp-demo-rw (writable disk)",
    ]
    assert " selected" in options[0][0] and all(" selected" not in a for a, _ in options[1:])
    assert all(" disabled" in a for a, _ in options[2:]) and " disabled" not in options[1][0]
    assert 'label="Desktop guests (SPICE, read-only disks)"' in html
    assert 'title="it has a VNC display; desks are typed at over SPICE"' in html
    assert "2 VMs of the inventory cannot be copied" in html


def test_a_vm_unfit_for_copies_is_refused_with_the_reason(operator):
    form = {"host": "captpl", "template": "atp-demo-1", "max_desks": "2", "keys": "4"}
    page = operator.post("/capacity/launch", form, follow=True).content.decode()
    assert "Capacity run not launched: template: atp-demo-1 cannot be copied" in page
    assert "it has a VNC display; desks are typed at over SPICE" in page
    assert "SPICE display, read-only disks such as atp-demo-desktop" in page
    token = Token.objects.create(user=make_user("otto", "operator"))
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    body = {"host": "captpl", "template": "atp-demo-rw", "max_desks": 2, "keys": 4}
    answer = operator.post("/api/capacity/", body, "application/json", **auth)
    assert answer.status_code == 400 and "a disk is writable" in answer.json()["detail"]
    assert not CapacityRun.objects.exists()
    for fit in ("atp-demo-desktop", "atp-demo-2"):  # checked and fit, or not checked yet
        assert operator.post("/capacity/launch", {**form, "template": fit}).status_code == 302
    assert CapacityRun.objects.count() == 2


def test_no_fit_vm_says_what_is_needed(operator):
    VirtualMachine.objects.exclude(name="atp-demo-1").delete()
    html = operator.get("/capacity/").content.decode()
    assert 'id="capacity-template"' not in html
    assert "No VM of the inventory can be a capacity template" in html
    assert "captpl/atp-demo-1: it has a VNC display" in html
