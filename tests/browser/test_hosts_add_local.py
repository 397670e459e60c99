"""In a real browser: an admin logs in, adds the local libvirt host, sees its health and VMs,
syncs it and sees the VM's screen thumbnail."""

from __future__ import annotations

import pytest

from hosts.models import Host
from tests.fixtures.web import browser_login, make_user

pytestmark = [pytest.mark.browser, pytest.mark.rig]


def test_add_local_host_and_sync(live_server, celery_worker_process, page, rig_vm):
    make_user("adam", "admin")
    browser_login(page, live_server, "adam")
    page.goto(live_server + "/hosts/")
    page.get_by_role("link", name="Add host").click()
    page.fill("input[name=name]", "local")
    page.fill("input[name=uri]", rig_vm.uri)
    page.fill("input[name=tags]", "lab")
    page.get_by_role("button", name="Add host").click()
    page.wait_for_url(live_server + "/hosts/")

    # the add queued a sync; its outcome arrives over the websocket (no reload)
    page.wait_for_selector('section[data-host="local"] .health-ok', timeout=60_000)
    section = page.locator('section[data-host="local"]')
    assert section.locator(".health").inner_text() == "ok"
    assert "libvirt" in section.locator(".host-facts").inner_text()
    row = section.locator(f'tr[data-vm="{rig_vm.name}"]')
    row.wait_for(timeout=60_000)
    assert row.locator(".state").inner_text() == "running"

    section.get_by_role("button", name="Sync VMs and thumbnails").click()
    page.wait_for_selector(f'section[data-host="local"] tr[data-vm="{rig_vm.name}"] img.thumb')
    thumb = page.locator(f'tr[data-vm="{rig_vm.name}"] img.thumb')
    loaded = "(img) => img.complete && img.naturalWidth > 0"
    page.wait_for_function(loaded, arg=thumb.element_handle())
    assert thumb.evaluate("(img) => img.naturalWidth") == 320
    assert Host.objects.get(name="local").reachable
