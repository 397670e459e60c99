"""Empty states say the truth: an unreachable host reads "host unreachable", a disabled one
"disabled", one never synced "not synced yet", a filter that matches nothing "no VM matches the
filter" (never "No domains")."""

import pytest

from hosts.models import Host, VirtualMachine
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def test_host_list_empty_states(client):
    client.force_login(make_user("vera", "viewer"))
    Host.objects.create(
        name="far", uri="qemu+tcp://127.0.0.1:9/system", reachable=False, last_error="refused"
    )
    Host.objects.create(name="new", uri="qemu+tcp://127.0.0.1:9/system")
    Host.objects.create(name="off", uri="qemu+tcp://127.0.0.1:9/system", enabled=False)
    html = client.get("/hosts/").content.decode()
    assert "No domains" not in html
    far = html.split('data-host="far"')[1].split("</section>")[0]
    assert "Host unreachable: its VMs could not be read" in far
    new = html.split('data-host="new"')[1].split("</section>")[0]
    assert "Not synced yet" in new
    off = html.split('data-host="off"')[1].split("</section>")[0]
    assert "Host disabled: its VMs are not read." in off


def test_vm_list_filter_matching_nothing(client):
    client.force_login(make_user("vera", "viewer"))
    host = Host.objects.create(name="local", uri="test:///default")
    VirtualMachine.objects.create(host=host, name="demo-1", state="running", tags=["win10"])
    html = client.get("/vms/?q=nothing-like-this&tag=linux").content.decode()
    assert "No VM matches the filter name contains “nothing-like-this” and tag linux" in html
    assert "No VMs stored yet" not in html
    assert 'data-vm="demo-1"' in client.get("/vms/?tag=win10").content.decode()
    VirtualMachine.objects.all().delete()
    assert "No VMs stored yet" in client.get("/vms/").content.decode()
