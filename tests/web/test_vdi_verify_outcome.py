"""The "Verify against libvirt" button gives a verdict only when it could compare: an
unreachable libvirt host reads "could not check" (never a red "0 of 0 inconsistent"), and the
demo registers its VDI endpoint with the local libvirt host so that verify works out of the box."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from hosts import vdi
from hosts.models import Host, VdiEndpoint
from tests.fixtures.web import make_user

pytestmark = pytest.mark.django_db


def test_unreachable_libvirt_host_reads_could_not_check(client, vdisim_memory, eager_tasks):
    nowhere = Host.objects.create(name="nowhere", uri="qemu+tcp://127.0.0.1:1/system")
    endpoint = vdi.add_endpoint(
        "sim", vdisim_memory.base_url, "admin", vdisim_memory.password, libvirt_host=nowhere
    )
    client.force_login(make_user("olga", "operator"))
    response = client.post(f"/vdi/{endpoint.pk}/verify", follow=True)
    html = response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.last_verify["outcome"] == "unchecked"
    assert endpoint.last_verify["hosts_unreachable"] and not endpoint.last_verify["hosts_checked"]
    # Verify runs as a task (the request only queues it); its outcome is on the endpoint page.
    assert 'data-outcome="unchecked"' in html and "could not check" in html
    assert "inconsistent" not in html and "0 of 0" not in html
    listing = client.get("/vdi/").content.decode()
    assert "could not check" in listing and "inconsistent" not in listing


def test_reachable_host_gives_a_verdict(client, vdisim_memory, eager_tasks):
    testdrv = Host.objects.create(name="testdrv", uri="test:///default")
    endpoint = vdi.add_endpoint(
        "sim", vdisim_memory.base_url, "admin", vdisim_memory.password, libvirt_host=testdrv
    )
    client.force_login(make_user("olga", "operator"))
    html = client.post(f"/vdi/{endpoint.pk}/verify", follow=True).content.decode()
    endpoint.refresh_from_db()
    data = endpoint.last_verify
    assert data["outcome"] == "inconsistent" and data["inconsistent"] > 0
    assert f"{data['inconsistent']} of {data['total']} VM(s) inconsistent" in html


def test_demo_endpoint_is_verified_against_the_local_host(
    vdisim_libvirt, libvirt_uri, monkeypatch, settings, tmp_path
):
    from atp_site import devrunner

    settings.MEDIA_ROOT = tmp_path
    make_user("admin", "admin")
    local = Host.objects.create(name="local", uri=libvirt_uri)
    monkeypatch.setattr(devrunner, "VDISIM_PORT", urlsplit(vdisim_libvirt.base_url).port)
    devrunner.load_demo_library("admin", local)
    endpoint = VdiEndpoint.objects.get(name="demo-vdisim")
    assert endpoint.libvirt_host == local

    endpoint.name_prefix = vdisim_libvirt.prefix  # this test's simulator VMs
    endpoint.save()
    result = vdi.verify_endpoint(endpoint)
    assert result["ok"], result
    assert result["hosts_checked"] and not result["hosts_unreachable"], result
    assert result["outcome"] in ("consistent", "inconsistent", "partial")

    # a demo database from before: the endpoint gets its host on the next start
    endpoint.libvirt_host = None
    endpoint.save()
    devrunner.load_demo_library("admin", local)
    endpoint.refresh_from_db()
    assert endpoint.libvirt_host == local
