"""Adding a host tests its connection at once; health (libvirt version, CPUs, memory, running
domains) is read from the real libvirtd; an unreachable host is a stored, readable error."""

from __future__ import annotations

import pytest

from hosts.models import Host
from tests.fixtures.web import make_user

pytestmark = [pytest.mark.rig, pytest.mark.django_db]


def test_admin_adds_local_host_and_sees_its_health(client, eager_tasks, rig_vm):
    client.force_login(make_user("adam", "admin"))
    page = client.post(
        "/hosts/add",
        {"name": "local", "uri": rig_vm.uri, "slots": 2, "tags": "lab, tcg", "enabled": "on"},
        follow=True,
    )
    html = page.content.decode()
    host = Host.objects.get(name="local")
    assert host.health == "ok", host.last_error
    assert host.tags == ["lab", "tcg"] and host.slots == 2
    assert host.libvirt_version and host.cpus >= 1 and host.memory_mib > 0
    assert host.running_domains >= 1
    assert "Added local" in html and "Sync of local queued" in html
    assert f"libvirt {host.libvirt_version}" in html  # the stored health, shown on the page
    assert f'data-vm="{rig_vm.name}"' in html


def test_unreachable_host_is_added_with_a_clear_error(client, eager_tasks):
    client.force_login(make_user("adam", "admin"))
    page = client.post(
        "/hosts/add",
        {"name": "far", "uri": "qemu+tcp://127.0.0.1:1/system", "slots": 1, "enabled": "on"},
        follow=True,
    )
    host = Host.objects.get(name="far")
    assert host.health == "down" and host.last_error
    assert "Traceback" not in host.last_error
    assert "unreachable" in page.content.decode()


def test_operator_tests_connection_but_cannot_add(client, eager_tasks, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    client.force_login(make_user("olga", "operator"))
    assert client.get("/hosts/add").status_code == 403
    answer = client.post(f"/hosts/{host.pk}/test", HTTP_X_REQUESTED_WITH="fetch")
    assert answer.status_code == 202 and answer.json()["queued"] is True
    host.refresh_from_db()
    assert host.health == "ok" and host.running_domains >= 1
    assert host.last_checked is not None


def test_invalid_host_form_shows_field_errors(client):
    client.force_login(make_user("adam", "admin"))
    response = client.post("/hosts/add", {"name": "Not A Slug", "uri": "", "slots": 0})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"name", "uri", "slots"} <= set(errors)
