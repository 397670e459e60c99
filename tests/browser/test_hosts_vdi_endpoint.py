"""In a real browser: an admin adds a VDI endpoint (the simulator over HTTP), login is tested
on save, a sync fills the VM table; the password never appears in the page."""

from __future__ import annotations

import pytest

from tests.fixtures.web import ARTIFACTS, browser_login, make_user

pytestmark = pytest.mark.browser


def test_add_vdi_endpoint_and_sync(live_server, page, vdisim_memory):
    make_user("adam", "admin")
    browser_login(page, live_server, "adam")
    page.goto(live_server + "/vdi/")
    page.get_by_role("link", name="Add endpoint").click()
    page.fill("input[name=name]", "sim")
    page.fill("input[name=url]", vdisim_memory.base_url)
    page.fill("input[name=username]", vdisim_memory.username)
    page.fill("input[name=password]", vdisim_memory.password)
    page.get_by_role("button", name="Add endpoint").click()
    page.wait_for_selector("text=login works")
    assert page.locator("h1 .health").inner_text() == "ok"

    page.get_by_role("button", name="Sync VMs").click()
    page.wait_for_selector("text=VM(s) synced")
    assert page.locator("table.vms tr[data-vm]").count() > 3
    assert vdisim_memory.password not in page.content()
    page.screenshot(path=str(ARTIFACTS / "vdi-endpoint-synced.png"), full_page=True)
    page.goto(live_server + "/vdi/1/edit".replace("1", page.url.rstrip("/").rsplit("/", 1)[-1]))
    assert page.input_value("input[name=password]") == ""
