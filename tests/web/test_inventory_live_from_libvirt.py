"""The hosts page lists the rig's VMs as the last sync stored them (the page itself never
dials libvirt), and the stored error of a host found unreachable."""

import pytest

from hosts import services
from hosts.models import Host

pytestmark = [pytest.mark.rig, pytest.mark.django_db]


def test_hosts_page_lists_running_rig_vm(client, admin_user, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    assert services.sync_host(host, thumbnails=False)["ok"]
    client.force_login(admin_user)
    html = client.get("/hosts/").content.decode()
    row_start = html.index(f'data-vm="{rig_vm.name}"')
    assert "running" in html[row_start : row_start + 400]


def test_unreachable_host_shows_error_not_traceback(client, admin_user):
    host = Host.objects.create(name="gone", uri="qemu+tcp://127.0.0.1:1/system")
    services.test_host_connection(host)
    client.force_login(admin_user)
    response = client.get("/hosts/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unreachable" in html and "Traceback" not in html
