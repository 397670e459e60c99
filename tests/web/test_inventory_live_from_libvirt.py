"""The hosts page lists the rig's VMs as libvirt reports them at that moment."""

import pytest

from hosts.models import Host

pytestmark = [pytest.mark.rig, pytest.mark.django_db]


def test_hosts_page_lists_running_rig_vm(client, admin_user, rig_vm):
    Host.objects.create(name="local", uri=rig_vm.uri)
    client.force_login(admin_user)
    html = client.get("/hosts/").content.decode()
    row_start = html.index(f'data-vm="{rig_vm.name}"')
    assert "running" in html[row_start : row_start + 400]


def test_unreachable_host_shows_error_not_traceback(client, admin_user):
    Host.objects.create(name="gone", uri="qemu+tcp://127.0.0.1:1/system")
    client.force_login(admin_user)
    response = client.get("/hosts/")
    assert response.status_code == 200
    assert "Unreachable" in response.content.decode()
