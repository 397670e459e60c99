"""Sync stores the host's VMs with their state, display and disks, and a PNG thumbnail taken
with libvirt's screenshot; VMs that left the host are marked gone; the host and VM lists show
the thumbnails, each a link to the VM's screen at full size."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hosts import services
from hosts.models import Host, VirtualMachine
from tests.fixtures.web import make_user

pytestmark = [pytest.mark.rig, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_sync_stores_vms_and_thumbnails(client, eager_tasks, rig_vm):
    host = Host.objects.create(name="local", uri=rig_vm.uri)
    ghost = VirtualMachine.objects.create(host=host, name="atp-wa-long-gone", state="running")
    client.force_login(make_user("olga", "operator"))

    answer = client.post(f"/hosts/{host.pk}/sync", HTTP_X_REQUESTED_WITH="fetch")

    assert answer.status_code == 202 and answer.json()["queued"] is True  # ran eagerly here
    vm = VirtualMachine.objects.get(host=host, name=rig_vm.name)
    assert vm.state == "running" and vm.uuid and vm.last_seen
    assert (vm.display, vm.disks_read_only) == ("vnc", True)  # the text guest: no disk at all
    assert vm.thumbnail and vm.thumbnail_taken
    served = client.get(f"/vms/{vm.pk}/thumbnail.png")
    assert served["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert image.width == services.THUMBNAIL_WIDTH
    assert len(set(image.convert("L").getdata())) > 1, "the thumbnail is blank"
    ghost.refresh_from_db()
    assert ghost.state == "gone"

    for page in ("/hosts/", "/vms/"):
        html = client.get(page).content.decode()
        assert f'src="/vms/{vm.pk}/thumbnail.png' in html
        link = html.split(f'src="/vms/{vm.pk}/thumbnail.png')[0].rsplit("<a ", 1)[1]
        assert f'href="/vms/{vm.pk}/screen.png"' in link and "</a>" not in link, page
    full = client.get(f"/vms/{vm.pk}/screen.png")
    assert full.status_code == 200 and full["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(full.content)) as big:
        assert big.width > services.THUMBNAIL_WIDTH, "the link opens the full-size screen"


def test_sync_of_unreachable_host_reports_error(rig_vm):
    host = Host.objects.create(name="far", uri="qemu+tcp://127.0.0.1:1/system")
    result = services.sync_host(host)
    assert result["ok"] is False and result["error"]
    host.refresh_from_db()
    assert host.health == "down"
