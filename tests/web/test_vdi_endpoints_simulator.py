"""VDI endpoints against the real simulator over HTTP: login, sync into the inventory, errors."""

from __future__ import annotations

import pytest

from hosts import vdi
from hosts.models import VirtualMachine
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def test_add_page_tests_login_and_sync_stores_vms(client, eager_tasks, vdisim_memory):
    client.force_login(make_user("adam", "admin"))
    response = client.post(
        "/vdi/add",
        {
            "name": "sim",
            "url": vdisim_memory.base_url,
            "username": vdisim_memory.username,
            "password": vdisim_memory.password,
            "verify_tls": "on",
            "enabled": "on",
        },
        follow=True,
    )
    assert "login works" in response.content.decode()
    endpoint = response.context["endpoint"]
    assert endpoint.health == "ok"

    response = client.post(f"/vdi/{endpoint.pk}/sync", follow=True)
    html = response.content.decode()
    vms = VirtualMachine.objects.filter(vdi_endpoint=endpoint)
    assert vms.count() > 3
    assert all(vm.source == "vdi" and vm.vdi_id and vm.state for vm in vms)
    assert f'data-vm="{vms.first().name}"' in html
    endpoint.refresh_from_db()
    assert endpoint.last_synced is not None


def test_wrong_password_is_a_clear_stored_error(vdisim_memory):
    endpoint = vdi.add_endpoint("sim", vdisim_memory.base_url, "admin", "wrong-password")
    vdi.test_login(endpoint)
    endpoint.refresh_from_db()
    assert endpoint.health == "down"
    assert endpoint.last_error and "Traceback" not in endpoint.last_error
    result = vdi.sync_endpoint(endpoint)
    assert result["ok"] is False and result["vms"] == 0


def test_unreachable_platform_reports_error_not_traceback(client, eager_tasks):
    endpoint = vdi.add_endpoint("gone", "http://127.0.0.1:9", "admin", "pw-123456")
    client.force_login(make_user("olga", "operator"))
    response = client.post(f"/vdi/{endpoint.pk}/test", follow=True)
    assert response.status_code == 200
    assert "login failed" in response.content.decode()


def test_resync_marks_vanished_vms_gone(vdisim_memory):
    endpoint = vdi.add_endpoint("sim", vdisim_memory.base_url, "admin", vdisim_memory.password)
    assert vdi.sync_endpoint(endpoint)["ok"]
    ghost = VirtualMachine.objects.create(
        vdi_endpoint=endpoint, vdi_id="no-such-id", name="ghost", source="vdi", state="running"
    )
    result = vdi.sync_endpoint(endpoint)
    assert result["gone"] == 1
    ghost.refresh_from_db()
    assert ghost.state == "gone"
